"""``ecosim decompose`` as a user meets it: files written, provenance, and bad input refused with
one line, exit status 2, no traceback and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ecosystem_sim.experiments.screening import HEADLINE

from scenario_pairs import pair

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
TINY = ["--population", "300", "--steps", "24", "--replicates", "2", "--quiet"]


def ecosim(*args, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecosystem_sim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def assert_refused(proc, *fragments):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    # one line; argparse's own checks (e.g. --replicates -3) put its usage line before it
    assert len(lines) == 1 or (len(lines) == 2 and lines[0].startswith("usage:")) or (
        lines[0].startswith("usage:") and all(l.startswith(" ") for l in lines[1:-1])), proc.stderr
    assert lines[-1].startswith("ecosim decompose: error:"), proc.stderr
    for f in fragments:
        assert f in lines[-1], (f, lines[-1])


def test_writes_both_ends_and_provenance_and_replaces_its_own_output(tmp_path):
    a, b = pair(tmp_path)
    out = tmp_path / "res" / "dec"
    proc = ecosim("decompose", a, b, *TINY, "--seed", 5, "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [".ecosim-output.json", "decomposition.csv",
                                                     "decomposition.md", "summary.json"]
    assert [p.name for p in out.parent.iterdir()] == ["dec"]  # the finished runs kept while working are gone
    table = pd.read_csv(out / "decomposition.csv")
    assert list(table.lever.unique()) == ["share_wage_subsidy", "share_education"]
    assert len(table) == 2 * len(HEADLINE)

    text = (out / "decomposition.md").read_text()
    assert "switched alone from A (a)" in text and "switched alone from B (b)" in text
    assert "within seed noise at 6 replicates" in text

    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [5, 6] and summary["replicates"] == 2
    assert summary["scenario_a"]["name"] == "a" and summary["scenario_b"]["name"] == "b"
    assert summary["scenario_b"]["params"]["share_wage_subsidy"] == 0.5
    assert summary["scenario_a"]["params"]["share_wage_subsidy"] == 0.05   # from citizen_led.toml
    assert summary["scenario_a"]["params"]["n_citizens"] == 300       # --population
    assert summary["levers"] == ["share_wage_subsidy", "share_education"]
    assert summary["command"].startswith("ecosim decompose ") and "--seed 5" in summary["command"]
    assert {"ecosystem_sim", "mesa", "numpy"} <= set(summary["provenance"]["versions"])
    assert summary["provenance"]["commit"]

    # the same command again replaces its own output (marker) and gives the same table
    again = ecosim("decompose", a, b, *TINY, "--seed", 5, "--out", out, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(pd.read_csv(out / "decomposition.csv"), table)
    # ... but not when someone put a file of their own in it
    (out / "notes.txt").write_text("mine")
    third = ecosim("decompose", a, b, *TINY, "--out", out, cwd=tmp_path)
    assert_refused(third, "notes.txt", "--overwrite")
    assert (out / "notes.txt").read_text() == "mine"


def test_missing_scenario_file(tmp_path):
    a, _ = pair(tmp_path)
    out = tmp_path / "out"
    proc = ecosim("decompose", a, tmp_path / "nope.toml", *TINY, "--out", out, cwd=tmp_path)
    assert_refused(proc, "nope.toml")
    assert not out.exists()


@pytest.mark.parametrize("option, value", [("--replicates", "-3"), ("--seed", "-1")])  # seed: as compare
def test_negative_number_is_refused(tmp_path, option, value):
    a, b = pair(tmp_path)
    out = tmp_path / "out"
    proc = ecosim("decompose", a, b, option, value, "--out", out, cwd=tmp_path)
    assert_refused(proc, option, value)
    assert not out.exists()


def test_non_empty_foreign_out_is_left_alone(tmp_path):
    a, b = pair(tmp_path)
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("precious")
    proc = ecosim("decompose", a, b, *TINY, "--out", out, cwd=tmp_path)
    assert_refused(proc, str(out), "not an output of `ecosim decompose`", "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == ["chapter1.tex"]
    assert (out / "chapter1.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "b.toml", "thesis"]  # no lock or stage left


def test_run_budget_as_the_other_commands(tmp_path):
    a, b = pair(tmp_path)
    out = tmp_path / "out"
    # 2 levers × 2 ends + A and B = 6 runs per replicate, 12 runs
    proc = ecosim("decompose", a, b, *TINY, "--max-runs", 11, "--out", out, cwd=tmp_path)
    assert_refused(proc, "12 runs", "11", "--max-runs")
    env = {**__import__("os").environ, "ECOSIM_MAX_RUNS": "11"}
    proc = ecosim("decompose", a, b, *TINY, "--out", out, cwd=tmp_path, env=env)
    assert_refused(proc, "12 runs", "ECOSIM_MAX_RUNS")
    assert not out.exists()


def test_no_differing_policy_lever(tmp_path):
    a, _ = pair(tmp_path)
    out = tmp_path / "out"
    proc = ecosim("decompose", a, a, *TINY, "--out", out, cwd=tmp_path)
    assert_refused(proc, "no policy lever differs")
    assert not out.exists()
