"""Killing a sweep loses nothing; a run that raises is recorded and the rest finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecosystem_sim.experiments import load_experiment, sweep
from ecosystem_sim.experiments.runner import FAIL_ENV

from exp_helpers import read

ECOSIM = [sys.executable, "-m", "ecosystem_sim.cli"]


def _count(folder: Path) -> int:
    db = folder / "results.sqlite"
    if not db.exists():
        return 0
    try:
        return int(read(folder, "SELECT COUNT(*) AS n FROM runs").n.iloc[0])
    except Exception:  # noqa: BLE001 - manifest not written yet
        return 0


def test_kill_9_then_resume_runs_only_what_is_missing(tiny_file, tmp_path):
    text = tiny_file.read_text().replace("replications = 2", "replications = 6")
    tiny_file.write_text(text)
    total = 24
    out = tmp_path / "out"
    cmd = [*ECOSIM, "sweep", str(tiny_file), "--out", str(out), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while _count(out) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "sweep finished before it could be killed; make it longer"
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-way
    proc.wait()
    before = _count(out)
    assert 0 < before < total
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{before} already stored, {total - before} run now" in done.stdout
    runs = read(out, "SELECT run_id, status FROM runs")
    assert sorted(runs.run_id) == list(range(total))
    assert (runs.status == "ok").all()
    ts = read(out, "SELECT run_id, COUNT(*) AS n FROM timeseries GROUP BY run_id")
    assert len(ts) == total and (ts.n == 31).all()   # steps 0..30, no duplicated or partial run
    sessions = read(out, "SELECT todo FROM sessions ORDER BY session")
    assert list(sessions.todo) == [total, total - before]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and f"{total} already stored, 0 run now" in again.stdout


def test_failed_run_is_recorded_and_the_rest_finish(tiny_file, tmp_path, monkeypatch):
    monkeypatch.setenv(FAIL_ENV, "2,5")
    exp = load_experiment(tiny_file)
    counts = sweep(exp, tmp_path / "out", workers=2, progress=False)
    assert counts == {**counts, "total": 8, "ran": 8, "failed": 2}
    runs = read(tmp_path / "out", "SELECT run_id, status, error FROM runs ORDER BY run_id")
    assert list(runs.status) == ["ok", "ok", "failed", "ok", "ok", "failed", "ok", "ok"]
    assert runs.error[2].startswith("RuntimeError: injected failure for run 2")
    assert read(tmp_path / "out", "SELECT COUNT(*) AS n FROM timeseries WHERE run_id IN (2, 5)").n[0] == 0
    # a failed run is not run again unless asked
    monkeypatch.delenv(FAIL_ENV)
    assert sweep(exp, tmp_path / "out", progress=False)["ran"] == 0
    again = sweep(exp, tmp_path / "out", progress=False, retry_failed=True)
    assert again["ran"] == 2 and again["failed"] == 0
    assert (read(tmp_path / "out", "SELECT status FROM runs").status == "ok").all()


def test_a_changed_design_is_refused(tiny_file, tmp_path):
    out = tmp_path / "out"
    assert subprocess.run([*ECOSIM, "sweep", str(tiny_file), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300).returncode == 0
    tiny_file.write_text(tiny_file.read_text().replace("seed = 11", "seed = 12"))
    r = subprocess.run([*ECOSIM, "sweep", str(tiny_file), "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "different design" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _count(out) == 8


def test_analyze_writes_report_tables_and_figures(tiny_file, tmp_path):
    out = tmp_path / "out"
    sweep(load_experiment(tiny_file), out, workers=1, progress=False)
    r = subprocess.run([*ECOSIM, "analyze", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    report = (out / "report.md").read_text()
    for text in ("Which regime is more resilient", "design hash", "root seed 11", "Cliff", "PRIM"):
        assert text in report
    for name in ("contrasts", "resilience", "diffusion", "points", "outcomes"):
        assert (out / "tables" / f"{name}.csv").is_file()
    pngs = {p.name for p in (out / "figures").glob("*.png")}
    assert "resilience.png" in pngs and any(p.startswith("timeseries") for p in pngs)


def test_a_run_is_never_stored_twice(tmp_path):
    from ecosystem_sim.experiments import Experiment, Factor, build_design
    from ecosystem_sim.experiments.runner import execute
    from ecosystem_sim.experiments.store import Store

    exp = Experiment(name="f", factors=[Factor("a", 0.0, 1.0, (0.0, 1.0))], replications=2, measures=())
    design = build_design(exp)
    store = Store(tmp_path, design, {})
    result = execute(design.task(design.runs[1]), evaluate=_constant)
    assert store.record(result) is True
    assert store.record(result) is False        # e.g. a second sweep on the same folder
    store.close()
    assert list(read(tmp_path, "SELECT run_id FROM runs").run_id) == [1]
    counts = sweep(exp, tmp_path, progress=False, evaluate=_constant)
    assert counts["already"] == 1 and counts["ran"] == 3
    assert sorted(read(tmp_path, "SELECT run_id FROM runs").run_id) == [0, 1, 2, 3]


def _constant(task: dict) -> dict:
    return {"summary": {"final": {"y": task["params"]["a"]}}, "timeseries": None}
