"""The ``ecosim`` command as a user meets it: a separate process, exit status, stdout/stderr
and the files it writes (or does not write)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

from ecosystem_sim import cli
from ecosystem_sim.levers import LEVERS
from ecosystem_sim.measures import MEASURES

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
CITIZEN_LED = str(SCENARIOS / "citizen_led.toml")
JOB_CREATION = str(SCENARIOS / "job_creation.toml")
SMALL = ["--set", "n_citizens=600", "--set", "citizens_per_community=100"]


def ecosim(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecosystem_sim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_clean_usage_error(proc, *fragments):
    """Exit status 2, a one-line message on stderr naming what was wrong, nothing on stdout."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def assert_argparse_error(proc, *fragments):
    """argparse's own errors: usage line plus one error line, exit status 2."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ecosim run: error:")
    for f in fragments:
        assert f in last, (f, last)


# ------------------------------------------------------------------ a good run
def test_run_writes_measures_summary_and_figures(tmp_path):
    out = tmp_path / "out"
    proc = ecosim("run", CITIZEN_LED, "--steps", 24, "--seed", 7, "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "measures.csv" in proc.stdout

    df = pd.read_csv(out / "measures.csv", index_col="step")
    assert list(df.index) == list(range(25))
    assert list(df.columns) == list(MEASURES)
    assert not df.isna().any().any()

    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["steps"] == 24
    assert summary["scenario"]["name"] == "citizen_led"
    assert summary["scenario"]["params"]["steps"] == 24
    assert summary["scenario"]["params"]["safety_net"] == 0.7      # from the file
    assert summary["final"]["orgs_alive"] == df["orgs_alive"].iloc[-1]
    prov = summary["provenance"]
    assert prov["versions"]["mesa"] == mesa.__version__
    assert prov["versions"]["numpy"] == np.__version__
    assert prov["versions"]["pandas"] == pd.__version__
    assert {"ecosystem_sim", "scipy"} <= set(prov["versions"])
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", prov["commit"])
    assert prov["commit"].split("+")[0] == head
    assert prov["python"] == ".".join(map(str, sys.version_info[:3]))

    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 3
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000
    assert not (out / "twin_measures.csv").exists()            # no shocks, no twin
    assert not list(tmp_path.glob(".ecosim-*"))                # no temporary folder left behind


def test_run_with_a_shock_writes_the_twin_and_resilience(tmp_path):
    out = tmp_path / "shocked"
    proc = ecosim("run", CITIZEN_LED, "--steps", 24, *SMALL, "--shock", "budget_cut@6:0.5", "--out", out,
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "measures.csv", index_col="step")
    twin = pd.read_csv(out / "twin_measures.csv", index_col="step")
    pd.testing.assert_frame_equal(df.loc[:5], twin.loc[:5])
    assert df.loc[6, "budget_in"] == pytest.approx(0.5 * twin.loc[6, "budget_in"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"]["shocks"][0]["kind"] == "budget_cut"
    assert summary["scenario"]["shocks"][0]["strength"] == 0.5
    kinds = {r["kind"] for r in summary["resilience"]}
    assert kinds == {"budget_cut"}
    assert all(r["step"] == 6 for r in summary["resilience"])


def test_same_seed_same_file_and_only_our_own_output_is_replaced(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    b.mkdir()
    (b / "notes.txt").write_text("the user's own notes")
    args = ("run", JOB_CREATION, "--steps", 12, *SMALL, "--seed", 3)
    for _ in range(2):  # the second time --out holds the first run's output: it is replaced
        proc = ecosim(*args, "--out", a, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    # a folder the program did not write is refused, and left exactly as it was
    proc = ecosim(*args, "--out", b, cwd=tmp_path)
    assert_clean_usage_error(proc, str(b), "not empty", "--overwrite")
    assert sorted(p.name for p in b.iterdir()) == ["notes.txt"]
    proc = ecosim(*args, "--out", b, "--overwrite", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (a / "measures.csv").read_bytes() == (b / "measures.csv").read_bytes()
    assert not (b / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]   # no temporary folder left


def test_installed_entry_point(tmp_path):
    exe = Path(sys.executable).parent / "ecosim"
    if not exe.exists():
        pytest.skip(f"no ecosim script next to {sys.executable} (package not installed with its entry point)")
    proc = subprocess.run([str(exe), "levers"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert names == list(LEVERS)


# ------------------------------------------------------------------ bad scenario files
BAD_FILES = {
    # id: (text, fragments the one-line message must contain)
    "unknown_key": ("[policy]\nsafety_nett = 0.5\n", ["policy.safety_nett", "0.5", "unknown lever"]),
    "wrong_type": ("[policy]\nsafety_net = \"high\"\n", ["policy.safety_net", "'high'", "[0, 1]"]),
    "out_of_range": ("[policy]\nprogramme_length = 500\n", ["policy.programme_length", "500", "[6, 120]"]),
    "shock_after_end": ("[region]\nsteps = 24\n[[shocks]]\nkind = 'downturn'\nstep = 40\n",
                        ["shocks[0].step", "40", "before the end of the run"]),
    "bad_toml": ("[policy]\nsafety_net = = 0.5\n", ["not valid TOML"]),
    "unknown_section": ("[polcy]\nsafety_net = 0.5\n", ["polcy", "unknown key", "policy, region, behaviour"]),
    "bad_shock_kind": ("[[shocks]]\nkind = 'meteor'\nstep = 5\n", ["shocks[0].kind", "'meteor'", "programme_end"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_run_with_a_bad_file_fails_cleanly_and_writes_nothing(tmp_path, case):
    text, fragments = BAD_FILES[case]
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    proc = ecosim("run", bad, "--out", out, cwd=tmp_path)
    assert_clean_usage_error(proc, "bad.toml", *fragments)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_run_with_a_missing_file(tmp_path):
    out = tmp_path / "out"
    proc = ecosim("run", tmp_path / "missing.toml", "--out", out, cwd=tmp_path)
    assert_clean_usage_error(proc, "missing.toml", "no such scenario file")
    assert not out.exists()


def test_run_with_an_inheritance_loop(tmp_path):
    (tmp_path / "a.toml").write_text("inherits = 'b.toml'\n")
    (tmp_path / "b.toml").write_text("inherits = 'a.toml'\n")
    out = tmp_path / "out"
    proc = ecosim("run", tmp_path / "a.toml", "--out", out, cwd=tmp_path)
    assert_clean_usage_error(proc, "a.toml", "inherits", "loops back")
    assert not out.exists()


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("args, fragments", [
    (["--steps", "0"], ["--steps", "'0'", "positive integer"]),
    (["--seed", "-1"], ["--seed", "'-1'", "non-negative"]),
], ids=["steps0", "seed_negative"])
def test_run_with_bad_numbers_is_refused_by_argparse(tmp_path, args, fragments):
    out = tmp_path / "out"
    proc = ecosim("run", CITIZEN_LED, *args, "--out", out, cwd=tmp_path)
    assert_argparse_error(proc, *fragments)
    assert not out.exists()


@pytest.mark.parametrize("args, fragments", [
    (["--set", "nonsense"], ["--set", "'nonsense'", "LEVER=VALUE"]),
    (["--shock", "bogus@x"], ["--shock", "'bogus@x'", "KIND@STEP"]),
], ids=["set_no_equals", "shock_kind"])
def test_run_with_bad_options_fails_cleanly_and_writes_nothing(tmp_path, args, fragments):
    out = tmp_path / "out"
    proc = ecosim("run", CITIZEN_LED, *args, "--out", out, cwd=tmp_path)
    assert_clean_usage_error(proc, *fragments)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# The same checks in-process (the parser and error path are the same code; a separate
# process per case would only add seconds of start-up each).
def main_in_process(argv, capsys):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:    # argparse's own errors
        code = e.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("args, fragments", [
    (["--set", "safety_net=lots"], ["--set", "'lots'", "not a number"]),
    (["--set", "safety_net=2"], ["safety_net", "2", "[0, 1]"]),
    (["--set", "bogus=1"], ["bogus", "unknown lever"]),
    (["--set", "n_citizens=1500.5"], ["n_citizens", "integer"]),
    (["--shock", "downturn@soon"], ["--shock", "STEP must be an integer"]),
    (["--shock", "downturn"], ["--shock", "KIND@STEP"]),
    (["--shock", "downturn@5:2"], ["shocks[0].strength", "[0, 1]"]),
    (["--shock", "downturn@0"], ["shocks[0].step", "integer month >= 1"]),
    (["--steps", "24", "--shock", "downturn@30"], ["shocks[0].step", "30", "before the end"]),
    (["--steps", "5000"], ["--steps", "5000", "[1, 1200]"]),
], ids=["set_not_number", "set_out_of_range", "set_unknown", "set_not_integer", "shock_step_text", "shock_no_step",
        "shock_strength", "shock_step_zero", "shock_after_end", "steps_too_many"])
def test_more_bad_options(tmp_path, capsys, args, fragments):
    out = tmp_path / "out"
    code, stdout, stderr = main_in_process(["run", CITIZEN_LED, *args, "--out", out], capsys)
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecosim run: error:")
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert not out.exists()


@pytest.mark.parametrize("args, fragment", [
    (["--steps", "ten"], "--steps"),
    (["--seed", "x"], "--seed"),
    (["--steps", "-3"], "--steps"),
])
def test_more_bad_numbers(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    code, _, stderr = main_in_process(["run", CITIZEN_LED, *args, "--out", out], capsys)
    assert code == 2 and fragment in stderr.strip().splitlines()[-1]
    assert not out.exists()


# ------------------------------------------------------------------ compare
def test_compare_two_tiny_scenarios(tmp_path):
    out = tmp_path / "cmp"
    args = ("compare", CITIZEN_LED, JOB_CREATION, "--set", "n_citizens=500", "--steps", 24, "--replicates", 3,
            "--out", out)
    proc = ecosim(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "report.md" in proc.stdout

    table = pd.read_csv(out / "table.csv")
    for name in ("citizen_led", "job_creation", "difference"):
        for suffix in ("_mean", "_ci_low", "_ci_high"):
            assert name + suffix in table.columns
    table = table.set_index("measure")
    assert set(MEASURES) <= set(table.index)
    for name in ("citizen_led", "job_creation", "difference"):
        lo, mean, hi = (table[f"{name}_{s}"] for s in ("ci_low", "mean", "ci_high"))
        ok = lo.isna() | ((lo <= mean + 1e-9) & (mean <= hi + 1e-9))
        assert ok.all(), name

    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2 * 3 * 25
    assert set(runs["scenario"]) == {"citizen_led", "job_creation"}
    # every replicate of both scenarios ran on the same three seeds (common random numbers)
    seeds = runs.groupby("scenario")["seed"].apply(lambda s: tuple(sorted(set(s))))
    assert seeds["citizen_led"] == seeds["job_creation"] and len(seeds["citizen_led"]) == 3
    # the table's means: per run the mean over the last 12 months, then the mean over replicates
    last = runs[runs["step"] > 24 - 12]
    for measure in ("orgs_alive", "need_met_share", "jobs_subsidised"):
        per_run = last.groupby(["scenario", "replicate"])[measure].mean()
        for name in ("citizen_led", "job_creation"):
            assert table.loc[measure, f"{name}_mean"] == pytest.approx(per_run[name].mean())
        diff = (per_run["job_creation"] - per_run["citizen_led"]).mean()
        assert table.loc[measure, "difference_mean"] == pytest.approx(diff)

    report = (out / "report.md").read_text()
    assert "citizen_led" in report and "job_creation" in report
    assert "Provenance" in report and mesa.__version__ in report
    manifest = json.loads((out / "summary.json").read_text())
    assert manifest["replicates"] == 3 and len(set(manifest["seeds"])) == 3
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"

    # running the same command again reuses the finished runs and gives the same table
    before = (out / "table.csv").read_bytes()
    proc = ecosim(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "table.csv").read_bytes() == before


@pytest.mark.parametrize("files, fragment", [
    ([CITIZEN_LED, CITIZEN_LED], "names must differ"),
    ([CITIZEN_LED], "at least two"),
])
def test_compare_needs_two_differently_named_scenarios(tmp_path, capsys, files, fragment):
    out = tmp_path / "cmp"
    code, stdout, stderr = main_in_process(["compare", *files, "--steps", 12, "--out", out], capsys)
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and fragment in stderr
    assert not out.exists()


def test_compare_with_a_bad_file_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nsafety_net = -1\n")
    out = tmp_path / "cmp"
    proc = ecosim("compare", CITIZEN_LED, bad, "--out", out, cwd=tmp_path)
    assert_clean_usage_error(proc, "bad.toml", "policy.safety_net", "-1")
    assert not out.exists()


# ------------------------------------------------------------------ in-process: the rest of the parser
def test_levers_listing_and_markdown(capsys):
    assert cli.main(["levers"]) == 0
    listing = capsys.readouterr().out
    assert [line.split()[0] for line in listing.splitlines()] == list(LEVERS)
    assert cli.main(["levers", "--markdown"]) == 0
    md = capsys.readouterr().out.splitlines()
    assert md[0].startswith("| name |") and len(md) == 2 + len(LEVERS)


@pytest.mark.parametrize("argv", [[], ["fly"], ["run"], ["compare"]])
def test_missing_or_unknown_command_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2


@pytest.mark.parametrize("argv, fragment", [
    (["compare", "a.toml", "b.toml", "--replicates", "0"], "--replicates"),
    (["compare", "a.toml", "b.toml", "--workers", "-2"], "--workers"),
])
def test_compare_bad_numbers(argv, fragment, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert fragment in capsys.readouterr().err


# ------------------------------------------------------------------ issue 10's small ones
def test_set_without_equals_sign_gets_a_specific_message(tmp_path):
    proc = ecosim("run", CITIZEN_LED, "--set", "safety_net", "0.3", "--out", tmp_path / "x", cwd=tmp_path)
    assert_clean_usage_error(proc, "--set safety_net 0.3", "LEVER=VALUE as one word", "--set safety_net=0.3")
    assert not (tmp_path / "x").exists()


def test_other_stray_arguments_are_still_argparse_errors(tmp_path):
    proc = ecosim("run", CITIZEN_LED, "--bogus", cwd=tmp_path)
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr


@pytest.mark.parametrize("command, argv, said", [
    ("dashboard", ["dashboard"], "dashboard stopped"),
    ("run", ["run", CITIZEN_LED], "nothing was written"),
])
def test_ctrl_c_says_what_this_command_leaves_behind(monkeypatch, capsys, command, argv, said):
    def interrupted(args):
        raise KeyboardInterrupt

    if command == "dashboard":
        from ecosystem_sim.viz import dashboard_cli
        monkeypatch.setattr(dashboard_cli, "cmd_dashboard", interrupted)
    else:
        monkeypatch.setattr(cli, "cmd_run", interrupted)
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert said in err and "finished runs are kept" not in err
