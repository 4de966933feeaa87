"""Clean failure on every fault: one line naming what and where, a non-zero exit, no leftovers.
(docs/guarantees.md, "Faults")"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecosystem_sim.cli import main
from ecosystem_sim.experiments import load_experiment, sweep
from ecosystem_sim.experiments.analysis import load_results
from ecosystem_sim.experiments.runner import FAIL_ENV
from ecosystem_sim.experiments.store import Store

from fault_helpers import ECOSIM, HAS_USERNS, SCENARIOS, SMALL, assert_one_line, ecosim, in_mounted_tmpfs, run_in_process as run

JOB = SCENARIOS / "job_creation.toml"
CIT = SCENARIOS / "citizen_led.toml"
TINY = f"""
name = "tiny"
presets = ["{JOB}", "{CIT}"]
replications = 2
seed = 11
steps = 12
measures = ["jobs_total", "orgs_alive"]
[overrides]
n_citizens = 400
citizens_per_community = 100
[levers.safety_net]
values = [0.0, 1.0]
[[shocks]]
kind = "budget_cut"
step = 6
"""


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path




# ------------------------------------------------------------------ full disk, read-only folder
needs_userns = pytest.mark.skipif(not HAS_USERNS, reason="user namespaces (unshare -rm) are not allowed here, "
                                  "so no private tmpfs can be mounted; see test_full_disk_by_file_size_limit")


@needs_userns
def test_run_on_a_full_disk_fails_in_one_line_and_leaves_nothing(tmp_path):
    # a real 64 KB file system: the figures do not fit (ENOSPC); the disk estimate is bypassed
    rc, err, left = in_mounted_tmpfs(tmp_path / "mnt", "size=64k", ["run", JOB, "--steps", 12, *SMALL, "--out",
                                     tmp_path / "mnt" / "out"], env={"ECOSIM_MAX_DISK_GB": "1"})
    assert rc == 1
    assert_one_line(err, str(tmp_path / "mnt" / "out"), "No space left on device")
    assert left == []


@needs_userns
def test_run_on_a_small_disk_is_refused_by_the_estimate(tmp_path):
    rc, err, left = in_mounted_tmpfs(tmp_path / "mnt", "size=64k", ["run", JOB, "--steps", 12, *SMALL, "--out",
                                     tmp_path / "mnt" / "out"])
    assert rc == 2 and left == []
    assert_one_line(err, "of disk", "ECOSIM_MAX_DISK_GB")


@needs_userns
def test_sweep_on_a_full_disk_keeps_what_it_stored_and_says_so(tmp_path, tiny):
    rc, err, left = in_mounted_tmpfs(tmp_path / "mnt", "size=96k", ["sweep", tiny, "--out", tmp_path / "mnt" / "o",
                                     "--quiet"], env={"ECOSIM_MAX_DISK_GB": "1"})
    assert rc in (1, 2), err
    assert_one_line(err, str(tmp_path / "mnt" / "o"))
    assert not [n for n in left if n.startswith(".ecosim-tmp")]


@pytest.mark.parametrize("command", ["run", "sweep", "compare"])
def test_a_read_only_folder_fails_in_one_line(tmp_path, tiny, command):
    args = {"run": ["run", JOB, "--steps", 6, *SMALL], "sweep": ["sweep", tiny, "--quiet"],
            "compare": ["compare", JOB, CIT, "--steps", 6, *SMALL, "--replicates", 2]}[command]
    if HAS_USERNS:   # a read-only tmpfs: EROFS whoever we are
        rc, err, left = in_mounted_tmpfs(tmp_path / "mnt", "ro,size=64k", [*args, "--out", tmp_path / "mnt" / "o"],
                                         env={"ECOSIM_MAX_DISK_GB": "1"})
        assert left == []
        assert_one_line(err, str(tmp_path / "mnt"), "Read-only file system")
    elif os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        try:
            proc = ecosim(*args, "--out", ro / "o", cwd=tmp_path, env={"ECOSIM_MAX_DISK_GB": "1"})
        finally:
            ro.chmod(0o755)
        rc, err = proc.returncode, proc.stderr
        assert list(ro.iterdir()) == []
        assert_one_line(err, str(ro), "Permission denied")
    else:
        pytest.skip("running as root without user namespaces: chmod does not stop root, and no read-only "
                    "file system can be mounted")
    assert rc == 1


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no RLIMIT_FSIZE on this system")
def test_full_disk_by_file_size_limit(tmp_path):
    """Where no tmpfs can be mounted: RLIMIT_FSIZE makes every write past 20 KB fail (EFBIG)."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "out"
    proc = ecosim("run", JOB, "--steps", 12, *SMALL, "--out", out, cwd=tmp_path, preexec_fn=limit)
    assert proc.returncode == 1
    assert_one_line(proc.stderr, str(out), "File too large")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ stores
def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _foreign(path: Path) -> None:
    path.unlink()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    con.commit()
    con.close()


def _no_runs_table(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("DROP TABLE diffusion")
    con.commit()
    con.close()


@pytest.mark.parametrize("damage", [_garbage, _truncated, _foreign, _no_runs_table],
                         ids=["garbage", "truncated", "foreign", "missing_table"])
def test_a_damaged_store_is_refused_in_one_line_and_not_touched(tmp_path, tiny, capsys, damage):
    out = tmp_path / "out"
    sweep(load_experiment(tiny), out, progress=False, evaluate=None) if damage is _truncated else None
    if damage is not _truncated:
        Store(out, __import__("ecosystem_sim.experiments", fromlist=["build_design"]).build_design(
            load_experiment(tiny)), {}).close()
    db = out / "results.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    damage(db)
    before = db.read_bytes()
    for argv in (["sweep", tiny, "--out", out, "--quiet"], ["analyze", out]):
        code, stdout, err = run(argv, capsys)
        assert code == 2, err
        assert_one_line(err, str(db))
    assert db.read_bytes() == before


def test_analyze_on_a_store_without_runs_says_so(tmp_path, tiny, capsys):
    from ecosystem_sim.experiments import build_design

    out = tmp_path / "out"
    Store(out, build_design(load_experiment(tiny)), {}).close()
    code, _, err = run(["analyze", out], capsys)
    assert code == 2
    assert_one_line(err, "no successful run to analyse yet", "8 of 8 not run")
    assert not (out / "report.md").exists() and not (out / "tables").exists()


def test_a_sweep_whose_runs_all_failed_exits_non_zero(tmp_path, tiny):
    proc = ecosim("sweep", tiny, "--out", tmp_path / "o", "--quiet", cwd=tmp_path,
                  env={FAIL_ENV: ",".join(map(str, range(8)))})
    assert proc.returncode == 1
    assert_one_line(proc.stderr, "all 8 runs failed", "injected failure")


def test_paths_with_question_marks_hashes_and_percents(tmp_path, tiny):
    out = tmp_path / "we?ird#name%20here"
    sweep(load_experiment(tiny), out, progress=False)
    (out / "tables").mkdir()
    (out / "tables" / "mine.csv").write_text("the user's own table")
    proc = ecosim("analyze", out, "--no-figures", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.md").is_file() and (out / "tables" / "outcomes.csv").is_file()
    assert (out / "tables" / "mine.csv").read_text() == "the user's own table"
    assert not [p for p in out.iterdir() if p.name.startswith(".ecosim-tmp")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml", out.name]   # no stray files
    assert len(load_results(out).runs) == 8


def test_timeseries_measure_names_cannot_inject_sql(tmp_path, tiny):
    out = tmp_path / "o"
    sweep(load_experiment(tiny), out, progress=False)
    res = load_results(out)
    assert list(res.timeseries(["jobs_total"]).columns) == ["run_id", "step", "jobs_total"]
    with pytest.raises(KeyError, match="not kept"):
        res.timeseries(['jobs_total", sql AS "x'])
    with pytest.raises(KeyError):
        res.timeseries(["run_id"])


# ------------------------------------------------------------------ concurrency and processes
def test_a_second_sweep_on_the_same_folder_refuses_in_one_line(tmp_path, tiny):
    tiny.write_text(TINY.replace("replications = 2", "replications = 8").replace("steps = 12", "steps = 60"))
    out = tmp_path / "o"
    first = subprocess.Popen([*ECOSIM, "sweep", str(tiny), "--out", str(out), "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (out / ".ecosim.lock").exists() and time.time() < deadline:
            time.sleep(0.05)
        assert first.poll() is None, "the first sweep ended before the second could start"
        second = ecosim("sweep", tiny, "--out", out, "--quiet", cwd=tmp_path)
        assert first.poll() is None, "the first sweep ended while the second ran: no overlap was tested"
        assert second.returncode == 2
        assert_one_line(second.stderr, str(out), "in use by another ecosim sweep", f"process {first.pid}")
    finally:
        stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert "32 run now" in stdout
    again = ecosim("sweep", tiny, "--out", out, "--quiet", cwd=tmp_path)   # the lock went with the first
    assert again.returncode == 0 and "32 already stored" in again.stdout


def test_a_second_run_on_the_same_out_refuses_in_one_line(tmp_path):
    out = tmp_path / "o"
    args = ["run", str(JOB), "--steps", "60", *SMALL, "--out", str(out)]
    first = subprocess.Popen([*ECOSIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path)
    try:
        deadline = time.time() + 120
        while not (tmp_path / ".ecosim.lock-o").exists() and time.time() < deadline and first.poll() is None:
            time.sleep(0.02)
        # hold the first one where it is (lock taken, run not finished), whatever the machine's speed
        os.kill(first.pid, signal.SIGSTOP)
        assert first.poll() is None and (tmp_path / ".ecosim.lock-o").exists(), "the first run never took the lock"
        second = ecosim(*args, cwd=tmp_path)
        assert second.returncode == 2
        assert_one_line(second.stderr, str(out), "in use by another ecosim run", f"process {first.pid}")
    finally:
        os.kill(first.pid, signal.SIGCONT)
        stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]    # no lock file, no temporary folder
    again = ecosim(*args[:-2], "--steps", "6", "--out", out, cwd=tmp_path)   # the lock went with the first
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(d.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
@pytest.mark.parametrize("command", ["sweep", "compare", "sweep-dask"])
def test_workers_end_when_their_parent_is_killed(tmp_path, tiny, command):
    if command == "sweep-dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed")
    tiny.write_text(TINY.replace("replications = 2", "replications = 8").replace("steps = 12", "steps = 120")
                    .replace("n_citizens = 400", "n_citizens = 2000"))
    args = {"sweep": ["sweep", str(tiny), "--out", str(tmp_path / "o"), "--quiet"],
            "sweep-dask": ["sweep", str(tiny), "--out", str(tmp_path / "o"), "--quiet", "--scheduler", "local"],
            "compare": ["compare", str(JOB), str(CIT), "--set", "n_citizens=2000", "--steps", "120",
                        "--replicates", "8", "--out", str(tmp_path / "o")]}[command]
    parent = subprocess.Popen([*ECOSIM, *args, "--workers", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # parent, forkserver and 2 workers; with Dask: parent, resource tracker and 2 worker processes
        deadline = time.time() + 90
        while len(_group(parent.pid)) < 4 and time.time() < deadline:
            time.sleep(0.1)
        assert len(_group(parent.pid)) >= 4, "the workers did not start"
        os.kill(parent.pid, signal.SIGKILL)      # the parent only, as a crash or the OOM killer would
        parent.wait()
        deadline = time.time() + 20
        while _group(parent.pid) and time.time() < deadline:
            time.sleep(0.2)
        left = _group(parent.pid)
        assert left == [], f"orphaned processes still alive: {left}"
    finally:
        for pid in _group(parent.pid):
            os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ hostile input
def test_bad_scheduler_address(tmp_path, tiny, capsys):
    out = tmp_path / "o"
    code, _, err = run(["sweep", tiny, "--out", out, "--scheduler", "foo bar", "--quiet"], capsys)
    assert code == 2
    assert_one_line(err, "--scheduler 'foo bar'", "cannot connect")
    assert not out.exists()


def test_deep_nesting_and_long_inheritance_chains(tmp_path, capsys):
    deep = tmp_path / "deep.toml"
    deep.write_text("description = " + "[" * 5000 + "]" * 5000 + "\n")
    code, _, err = run(["run", deep], capsys)
    assert code == 2 and assert_one_line(err, "deep.toml", "deeper than")
    exp = tmp_path / "deep_exp.toml"
    exp.write_text("[analysis]\noutputs = " + "[" * 2000 + "]" * 2000 + "\n")
    code, _, err = run(["sweep", exp, "--out", tmp_path / "o"], capsys)
    assert code == 2 and assert_one_line(err, "deep_exp.toml", "deeper than")
    for i in range(2000):
        (tmp_path / f"c{i}.toml").write_text(f'inherits = "c{i + 1}.toml"\n')
    (tmp_path / "c2000.toml").write_text("")
    code, _, err = run(["run", tmp_path / "c0.toml"], capsys)
    assert code == 2 and assert_one_line(err, "c0.toml", "inheritance chain is longer than")
    assert not (tmp_path / "o").exists() and not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv, fragment", [
    (["run", JOB, "--set", "shocks=1"], "--shock KIND@STEP"),
    (["compare", JOB, CIT, "--set", "shocks=1"], "--shock KIND@STEP"),
    (["run", JOB, "--seed", str(2**64)], "2**63-1"),
])
def test_hostile_arguments(tmp_path, capsys, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(argv, capsys)
    assert code == 2 and fragment in err.strip().splitlines()[-1] and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_experiment_seed_above_2_63(tmp_path, tiny, capsys):
    tiny.write_text(TINY.replace("seed = 11", f"seed = {2**64}"))
    code, _, err = run(["sweep", tiny, "--out", tmp_path / "o"], capsys)
    assert code == 2 and assert_one_line(err, "seed", "2**63-1")
    assert not (tmp_path / "o").exists()
