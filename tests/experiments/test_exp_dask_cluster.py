"""A sweep on a Dask cluster reached by its address, set up the way a cluster is (docs/performance.md).

The scheduler and the workers are separate processes started with Dask's own ``dask scheduler``
and ``dask worker`` commands and a shared scheduler file, as on a Slurm/PBS allocation; the sweep
goes through ``ecosim sweep --scheduler tcp://HOST:PORT``. Its store must hold exactly what a
1-process sweep of the same experiment stores, and running it again must find every run done.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ecosystem_sim.cli import main
from ecosystem_sim.experiments import load_experiment, sweep

from exp_helpers import read

pytest.importorskip("distributed")

DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")


def _content(folder):
    runs = read(folder, "SELECT * FROM runs ORDER BY run_id").drop(columns=["duration", "finished_utc"])
    ts = read(folder, "SELECT * FROM timeseries ORDER BY run_id, step")
    return runs, ts


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and one worker process with 2 single-threaded workers on this machine; yields
    the scheduler's address. Both are stopped (by their process ids) at the end."""
    if DASK is None:
        pytest.skip("the `dask` command (dask[distributed]) is not installed")
    sched_file = tmp_path / "scheduler.json"
    common = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], **common)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sched_file.is_file(), "the Dask scheduler did not start within 60 s"
        procs.append(subprocess.Popen([DASK, "worker", "--scheduler-file", str(sched_file), "--nworkers", "2",
                                       "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"], **common))
        address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_sweep_on_a_cluster_by_address_matches_one_process(tiny_file, tmp_path, cluster, capsys):
    exp = load_experiment(tiny_file)
    sweep(exp, tmp_path / "local", workers=1, progress=False)
    code = main(["sweep", str(tiny_file), "--out", str(tmp_path / "cluster"), "--scheduler", cluster, "--quiet"])
    assert code == 0, capsys.readouterr().err
    ref, got = _content(tmp_path / "local"), _content(tmp_path / "cluster")
    assert len(ref[0]) == 8 and (ref[0].status == "ok").all()
    for a, b in zip(ref, got):
        pd.testing.assert_frame_equal(a, b)
    sessions = read(tmp_path / "cluster", "SELECT scheduler FROM sessions")
    assert (sessions.scheduler == cluster).any()  # the store records where the runs were done
    # Run again on the same store: every run is found done, none is repeated.
    again = sweep(exp, tmp_path / "cluster", scheduler=cluster, progress=False)
    assert again["already"] == again["total"] == 8 and again["ran"] == 0
