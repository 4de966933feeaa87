"""The runner: run what the store does not have yet, through any ``concurrent.futures.Executor``.

* Seeds are fixed by the design (see :mod:`.design`), so results are identical whatever the
  number of workers, the executor, or the order in which runs finish.
* Work goes to a local ``ProcessPoolExecutor`` by default, to a Dask cluster when a scheduler
  address (or ``"local"`` for a ``LocalCluster``) is given, or to any executor passed in.
* Each run is written to the store by this (parent) process as soon as it returns. A run that
  raises is recorded as ``failed`` with its error; the sweep goes on.
* Test hook: the environment variable ``ECOSIM_SWEEP_FAIL_RUNS`` (comma-separated run_ids), read by
  :func:`sweep` in the parent, makes those runs raise ``RuntimeError`` inside the worker, before the
  model is built. It exists so the
  tests can check failure handling without a special case in the model.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from concurrent.futures import Executor, FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable

from .. import guards
from .design import Design, build_design
from .spec import Experiment
from .store import DB_NAME, Store, check_store, is_store

FAIL_ENV = "ECOSIM_SWEEP_FAIL_RUNS"


class SweepError(Exception):
    """The sweep cannot go on (e.g. the worker pool died); finished runs are kept."""


# ---------------------------------------------------------------------------- worker side
_PROVENANCE_PATCHED = False


def _quiet_provenance() -> None:
    """``run.summarise`` asks git for the commit on every run; the store keeps provenance once in
    its manifest, so in workers the answer is computed once per process (no model change)."""
    global _PROVENANCE_PATCHED
    if _PROVENANCE_PATCHED:
        return
    from .. import fingerprint
    from .. import run as run_mod

    cached = run_mod.provenance()
    # the fingerprint is looked up on every call (it is cached where it is defined), so a run
    # always records the model that made it, even in a process that swept before
    run_mod.provenance = lambda: {**cached, "model_fingerprint": fingerprint.model_fingerprint()}
    _PROVENANCE_PATCHED = True


def evaluate_model(task: dict) -> dict:
    """Run one design point of the ecosystem model; returns summary and kept time series."""
    from ..run import run_one
    from ..scenario import from_dict

    _quiet_provenance()
    scenario = from_dict(task["scenario"], where=f"run {task['run_id']}")
    result = run_one(scenario, task["seed"])
    summary = {k: v for k, v in result.summary.items() if k not in ("scenario", "provenance")}
    every = int(task.get("every", 1))
    m = result.measures
    keep = m.index[(m.index % every == 0) | (m.index == m.index[-1])]
    sub = m.loc[keep, task["measures"]]
    ts = {"step": [int(s) for s in sub.index]}
    for c in task["measures"]:
        ts[c] = [None if v != v else float(v) for v in sub[c].to_numpy()]
    return {"summary": summary, "timeseries": ts}


def execute(task: dict, evaluate: Callable[[dict], dict] | None = None) -> dict:
    """Worker entry point: never raises; a failure comes back as ``status = 'failed'``."""
    t0 = time.perf_counter()
    try:
        if task.get("inject_failure"):
            raise RuntimeError(f"injected failure for run {task['run_id']} ({FAIL_ENV})")
        out = (evaluate or evaluate_model)(task)
        out.update(run_id=task["run_id"], status="ok", error=None)
    except Exception as err:  # noqa: BLE001 - recorded, the sweep goes on
        tb = traceback.format_exception(err)
        out = {"run_id": task["run_id"], "status": "failed",
               "error": f"{type(err).__name__}: {err}\n" + "".join(tb[-3:])}
    out["duration"] = time.perf_counter() - t0
    return out


# ---------------------------------------------------------------------------- parent side
def dask_executor(scheduler: str, workers: int):
    """A ``concurrent.futures`` executor on a Dask cluster and a function that closes it."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError("--scheduler needs Dask: pip install -e '.[dask]' (dask[distributed])") from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(scheduler, timeout="20s")
        except Exception as err:  # noqa: BLE001 - a bad address raises ValueError, TypeError, OSError...
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise SweepError(f"--scheduler {scheduler!r}: cannot connect to a Dask scheduler ({text}); "
                             "give an address like tcp://host:8786, or 'local'") from None

    def close():
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(pure=False), close


_mp_context = guards.mp_context


def sweep(experiment: Experiment | Design, out: str | Path, workers: int = 1, scheduler: str | None = None,
          executor: Executor | None = None, progress: bool = True, retry_failed: bool = False,
          evaluate: Callable[[dict], dict] | None = None, max_in_flight: int | None = None,
          overwrite: bool = False, max_runs: int | None = None, parameter_draws: dict | None = None) -> dict:
    """Run every run of the design that ``out/results.sqlite`` does not hold yet.

    Args:
        experiment: an :class:`Experiment` (or an already built :class:`Design`).
        out: folder of the store (created).
        workers: local worker processes (or LocalCluster workers with ``scheduler="local"``).
        scheduler: ``None`` (processes), ``"local"`` (Dask LocalCluster) or a Dask scheduler address.
        executor: any ``concurrent.futures.Executor`` to use instead (not shut down here).
        retry_failed: run again the runs recorded as failed.
        evaluate: function(task) -> {"summary", "timeseries"} replacing the model (must be picklable
            for process executors); used for Ishigami checks of the pipeline.
        overwrite: use a non-empty ``out`` that is not an earlier sweep's folder.
        max_runs: the run-count limit (default ``ECOSIM_MAX_RUNS`` or 100,000).
        parameter_draws: what ``evaluate`` draws per run besides the design (plain JSON data, e.g. a
            calibration posterior's file, digest and levers). Its ``digest`` (or, without one, all
            of it) is folded into the design hash and the experiment identity, so a store is never
            continued with other draws (or none); all of it is recorded in the store's provenance.
    Returns counts: ``total``, ``already``, ``ran``, ``failed`` (this session), ``seconds``,
    ``first_error`` (of this session's failed runs, or None) and ``extended`` (stored runs carried
    into a design that extends the stored one, else None).
    Raises :class:`~.store.DesignMismatch` when ``out`` holds a different design,
    :class:`~ecosystem_sim.guards.Refused` when ``out`` is in use by another sweep, holds something
    else, or the design is above a limit, :class:`~.store.StoreError` for a corrupted store.
    """
    out = Path(out)
    exp = experiment.experiment if isinstance(experiment, Design) else experiment
    from .design import budget

    budget(exp, workers=1 if (executor or scheduler) else workers, folder=out, max_runs=max_runs)
    db = out / DB_NAME
    if db.is_file() and db.stat().st_size > 0:
        check_store(db, allow_empty=True)   # a damaged or foreign store: say so, and touch nothing
    guards.prepare_output(out, "sweep", overwrite=overwrite, recognise=is_store)
    design = experiment if isinstance(experiment, Design) else build_design(experiment, max_runs=max_runs)
    if parameter_draws is not None:
        design = _with_parameter_draws(design, parameter_draws)
    made = guards._make_parents(out)
    try:
        with guards.folder_lock(out, "sweep"):
            if guards.read_marker(out) is None:
                guards.write_marker(out, "sweep", [guards.MARKER])
            return _sweep(design, out, workers, scheduler, executor, progress, retry_failed, evaluate, max_in_flight,
                          parameter_draws)
    except BaseException:
        # a sweep that stored nothing leaves no folder behind
        for p in reversed(made):
            try:
                if {f.name for f in p.iterdir()} <= {guards.MARKER, guards.LOCK}:
                    shutil.rmtree(p, ignore_errors=True)
            except OSError:
                pass
        raise


def _with_parameter_draws(design: Design, parameter_draws: dict) -> Design:
    """``design`` with hash and identity that also name how runs draw their parameters."""
    import dataclasses
    import hashlib
    import json

    tag = parameter_draws.get("digest") or json.dumps(parameter_draws, sort_keys=True)
    salted = lambda h: hashlib.sha256(f"{h}+draws:{tag}".encode()).hexdigest()  # noqa: E731
    return dataclasses.replace(design, hash=salted(design.hash), identity=salted(design.identity))


def _sweep(design, out, workers, scheduler, executor, progress, retry_failed, evaluate, max_in_flight,
           parameter_draws=None) -> dict:
    from tqdm.auto import tqdm

    from ..run import provenance

    prov = provenance()
    if parameter_draws is not None:
        prov = {**prov, "parameter_draws": parameter_draws}
    t_start = time.perf_counter()
    failed = ran = 0
    first_error = None
    close = None
    pool = executor
    if pool is None and scheduler:
        pool, close = dask_executor(scheduler, workers)  # before the store: a bad address writes nothing
    try:
        store = Store(out, design, prov)
    except BaseException:
        if close is not None:
            close()
        raise
    try:
        if retry_failed:
            store.drop_failed()
        done = store.done_ids()
        todo = [r for r in design.runs if r.run_id not in done]
        store.add_session(workers, scheduler or ("executor" if executor else "processes"), len(todo), prov)
        total = len(design.runs)
        bar = tqdm(total=total, initial=total - len(todo), desc=design.experiment.name, unit="run",
                   disable=not progress, smoothing=0.1, dynamic_ncols=True)
        bar.set_postfix(failed=0)
        if not todo:
            bar.close()
            return {"total": total, "already": total, "ran": 0, "failed": 0, "seconds": 0.0, "first_error": None,
                    "extended": store.extended}
        if pool is None and workers > 1 and len(todo) > 1:
            citizens = max(int((design.points[r.point_id].scenario or {}).get("params", {}).get("n_citizens", 0))
                           for r in todo[:1000])
            n = guards.cap_workers(workers, len(todo), citizens, warn=lambda t: tqdm.write(t, file=sys.stderr))
            if n > 1:
                pool = ProcessPoolExecutor(n, mp_context=_mp_context(), initializer=guards.worker_guard,
                                           initargs=(os.getpid(),))
                close = lambda: pool.shutdown(cancel_futures=True)  # noqa: E731
                workers = n
        inject = {s.strip() for s in os.environ.get(FAIL_ENV, "").split(",") if s.strip()}
        tasks = ({**design.task(r), "inject_failure": str(r.run_id) in inject} for r in todo)
        try:
            def done(result: dict) -> None:
                nonlocal ran, failed, first_error
                store.record(result)
                ran += 1
                if result["status"] == "failed":
                    failed += 1
                    first_error = first_error or (result.get("error") or "").split("\n")[0]
                bar.update(1)
                bar.set_postfix(failed=failed)

            if pool is None:
                for task in tasks:
                    done(execute(task, evaluate))
            else:
                limit = max_in_flight or max(4 * workers, 8)
                pending = set()
                exhausted = False
                while pending or not exhausted:
                    while not exhausted and len(pending) < limit:
                        task = next(tasks, None)
                        if task is None:
                            exhausted = True
                            break
                        fut = pool.submit(execute, task, evaluate) if evaluate else pool.submit(execute, task)
                        fut.run_id = task["run_id"]
                        pending.add(fut)
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        try:
                            result = fut.result()
                        except BrokenProcessPool as err:
                            raise SweepError(f"the worker pool died ({err}); finished runs are kept: "
                                             "run the same command again to resume") from None
                        except Exception as err:  # noqa: BLE001 - e.g. a Dask worker lost the task
                            result = {"run_id": fut.run_id, "status": "failed",
                                      "error": f"{type(err).__name__}: {err} (raised by the executor)",
                                      "duration": None}
                        done(result)
        finally:
            bar.close()
    finally:
        if close is not None:
            close()
        store.close()
    return {"total": len(design.runs), "already": len(design.runs) - len(todo), "ran": ran, "failed": failed,
            "seconds": time.perf_counter() - t_start, "first_error": first_error, "extended": store.extended}
