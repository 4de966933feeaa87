"""ABC-SMC calibration of the behaviour levers with pyabc.

How it is put together, and why:

* **pyabc does the inference** (``pyabc.ABCSMC``: priors, perturbation kernels, adaptive
  median-quantile thresholds, importance weights) and keeps its own resumable SQLite history
  (``DIR/abc.sqlite``). Our own files are TOML, CSV, JSON, PNG and markdown only.
* **Distance**: ``pyabc.distance.PNormDistance(p=2)`` with fixed weights 1 / (the target's
  tolerance on its scale), so one unit of distance per target is one tolerance. A run that gives
  no value for a target (e.g. no job created, so no cost per job) counts as
  :data:`NAN_PENALTY` tolerances away.
* **Executors**: the calibration runs on the experiment runner's executors
  (:func:`ecosystem_sim.experiments.runner.dask_executor` for ``--scheduler``, a fresh-process
  ``ProcessPoolExecutor`` from the runner's start method otherwise) through pyabc's
  ``ConcurrentFutureSampler``, which takes any ``concurrent.futures`` executor. pyabc's own
  multicore and Dask samplers re-seed every worker from the operating system, so their results
  change from one call to the next; the sampler here (:class:`SeededSampler`) is pyabc's
  ``ConcurrentFutureSampler`` with one change: job *j* of generation *t* seeds numpy from
  ``SeedSequence([seed, t + 1, j])``. pyabc keeps the first *n* accepted particles **by job
  number**, not by finishing order, so the particles are the same whatever the number of workers.
* **Model seeds** are derived from the root seed and the parameter values of the particle, so a
  simulation is a deterministic function of what is simulated.
* **Progress**: one tqdm bar over generations; each generation is one ``ABCSMC.run`` call
  (pyabc allows repeated calls), which is also what makes an interrupted calibration resumable
  at the last finished generation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..observables import OBSERVABLES
from ..scenario import from_dict
from .targets import Calibration, Parameter, Target

NAN_PENALTY = 10.0
"""Distance (in tolerances) of a target for which a run gives no value."""

DB_NAME = "abc.sqlite"
STATE_NAME = "calibration.json"
PREDICTIVE_STREAM = 7_000_001
"""Seed-stream tag of the predictive-check runs (kept apart from the ABC runs)."""


class CalibrationError(Exception):
    """A calibration that cannot go on (e.g. a folder holding a different calibration)."""


# ----------------------------------------------------------------------------- simulation
def run_seed(root: int, values: dict[str, float], stream: int = 0) -> int:
    """A 32-bit model seed from the root seed and the parameter values (order-independent)."""
    text = json.dumps({k: float(v) for k, v in sorted(values.items())})
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([root, stream, digest]).generate_state(1)[0])


class TargetModel:
    """The simulator pyabc calls: parameter coordinates -> one statistic per target.

    Holds plain data only (picklable for any executor). ``values(...)`` gives the raw quantities
    (for reports); ``__call__`` the statistics on the distance's scale."""

    def __init__(self, cal: Calibration):
        self.root = cal.seed
        self.parameters = list(cal.parameters)
        self.targets = list(cal.targets)
        self.scenarios = {name: cal.run_scenario(name).to_dict() for name in cal.used_scenarios()}

    def lever_values(self, coordinates: dict) -> dict[str, float]:
        return {p.name: p.value(float(coordinates[p.coordinate])) for p in self.parameters}

    def values(self, levers: dict[str, float], seed: int) -> dict[str, float]:
        """Run each scenario once with these lever values and seed; every target's quantity."""
        from ..run import simulate

        out = {}
        for name, data in self.scenarios.items():
            sc = from_dict(data, where="calibration").with_overrides(levers, where="calibration")
            measures = simulate(sc, seed).measures_frame()
            for t in self.targets:
                if t.scenario == name:
                    try:
                        out[t.name] = OBSERVABLES[t.quantity](measures, sc, **t.args)
                    except ZeroDivisionError:
                        out[t.name] = math.nan
        return out

    def statistics(self, values: dict[str, float]) -> dict[str, float]:
        out = {}
        for t in self.targets:
            s = t.statistic(values[t.name])
            out[t.name] = s if math.isfinite(s) else t.observed_statistic + NAN_PENALTY * t.scale
        return out

    def __call__(self, coordinates: dict) -> dict[str, float]:
        levers = self.lever_values(coordinates)
        return self.statistics(self.values(levers, run_seed(self.root, levers)))


def predictive_task(args: tuple) -> dict:
    """Worker entry point of a predictive-check run (top level: picklable)."""
    model, kind, draw, levers, seed = args
    values = model.values(levers, seed)
    return {"kind": kind, "draw": draw, "seed": seed, **{f"param.{k}": v for k, v in levers.items()},
            **{f"target.{k}": v for k, v in values.items()}}


# ----------------------------------------------------------------------------- pyabc glue
def _seeded_batch(root: int, generation: int, simulate_one_pickle: bytes, batch_size: int, job_ids: list) -> list:
    """pyabc's batch function with one change: numpy and random seeded by (root, generation, job)."""
    import cloudpickle

    # The bytes are pyabc's own sampling closure, pickled in memory by the parent process of this
    # calibration (pyabc's ConcurrentFutureSampler protocol); no file or user input is unpickled.
    simulate_one = cloudpickle.loads(simulate_one_pickle)
    out = []
    for j in range(batch_size):
        seed = int(np.random.SeedSequence([root, generation + 1, job_ids[j]]).generate_state(1)[0])
        random.seed(seed)
        np.random.seed(seed)
        result = simulate_one()
        out.append((result, result.accepted, job_ids[j]))
    return out


class _SeededExecutor:
    """Wraps an executor so pyabc's submissions run :func:`_seeded_batch`."""

    def __init__(self, inner: Executor, root: int):
        self.inner, self.root, self.generation = inner, root, 0

    def submit(self, fn, simulate_one_pickle, batch_size, job_ids):
        return self.inner.submit(_seeded_batch, self.root, self.generation, simulate_one_pickle, batch_size, job_ids)


def seeded_sampler(executor: Executor, root: int, max_jobs: int):
    """pyabc's ``ConcurrentFutureSampler`` on ``executor`` with per-job seeds (see module doc)."""
    from pyabc.sampler import ConcurrentFutureSampler

    class SeededSampler(ConcurrentFutureSampler):
        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            self.client.generation = int(t)
            return super().sample_until_n_accepted(n, simulate_one, t, **kwargs)

    return SeededSampler(_SeededExecutor(executor, root), client_max_jobs=max_jobs, default_pickle=True, batch_size=1)


def priors(parameters: list[Parameter]):
    """pyabc prior: uniform on each parameter's sampled coordinate (value or log10 value)."""
    import pyabc

    return pyabc.Distribution(**{p.coordinate: pyabc.RV("uniform", p.bounds()[0], p.bounds()[1] - p.bounds()[0])
                                 for p in parameters})


def distance(targets: list[Target]):
    """Euclidean distance in tolerance units over the fitted targets (pyabc's weighted p-norm,
    fixed weights; a target with ``fit = false`` has weight 0)."""
    from pyabc.distance import PNormDistance

    return PNormDistance(p=2, fixed_weights={t.name: 1.0 / t.scale if t.fitted else 0.0 for t in targets})


def open_executor(workers: int, scheduler: str | None):
    """The experiment runner's executors: Dask (``scheduler``) or fresh local processes that end
    with this one (kill -9 included, ``guards.worker_guard``)."""
    import os

    from .. import guards
    from ..experiments.runner import _mp_context, dask_executor

    if scheduler:
        return dask_executor(scheduler, workers)
    pool = ProcessPoolExecutor(workers, mp_context=_mp_context(), initializer=guards.worker_guard,
                               initargs=(os.getpid(),))
    return pool, lambda: pool.shutdown(cancel_futures=True)


# ----------------------------------------------------------------------------- the calibration
def calibrate(cal: Calibration, out: str | Path, workers: int = 1, scheduler: str | None = None,
              population: int | None = None, generations: int | None = None, progress: bool = True,
              report: bool = True) -> dict:
    """Run (or continue) the ABC-SMC calibration into ``out``; write tables, figures and report.

    Returns a dict with ``generations`` (done), ``runs`` (simulations in the ABC), ``seconds``
    (wall time of this call), ``converged`` and the paths written.
    """
    import pyabc
    from tqdm.auto import tqdm

    from ..fingerprint import model_fingerprint
    from ..run import provenance

    logging.getLogger("ABC").setLevel(logging.WARNING)
    for name in ("ABC.Sampler", "ABC.Distance", "ABC.Epsilon", "ABC.History", "ABC.Population"):
        logging.getLogger(name).setLevel(logging.WARNING)
    out = Path(out)
    population = population or cal.population
    generations = generations or cal.generations
    fingerprint = cal.fingerprint(population, generations)
    db = out / DB_NAME
    state_path = out / STATE_NAME
    state = json.loads(state_path.read_text()) if state_path.is_file() else None
    if db.exists() and (state is None or state.get("fingerprint") != fingerprint):
        raise CalibrationError(f"{out}: holds a different calibration (other targets, parameters, run settings or "
                               f"population); use another --out or delete {out}")
    # Generations of one calibration must come from one model: a stored run of an edited or
    # upgraded model (another model fingerprint, or none recorded) is not continued.
    this_model = model_fingerprint()
    if db.exists() and state.get("provenance", {}).get("model_fingerprint") != this_model:
        stored = state.get("provenance", {}).get("model_fingerprint", "not recorded")
        raise CalibrationError(f"{out}: holds a calibration of another model version (model fingerprint {stored}, "
                               f"this model {this_model}); use another --out or delete {out}")
    t_start = time.perf_counter()
    pool, close = open_executor(workers, scheduler)
    try:
        model = TargetModel(cal)
        sampler = seeded_sampler(pool, cal.seed, max_jobs=max(workers, 1) if not scheduler else max(4 * workers, 8))

        def smc():
            return pyabc.ABCSMC(model, priors(cal.parameters), distance(cal.targets), population_size=population,
                                sampler=sampler)

        db_url = f"sqlite:///{db.resolve()}"
        out.mkdir(parents=True, exist_ok=True)
        if not db.exists():
            state = {"fingerprint": fingerprint, "calibration": cal.name, "source": Path(cal.source).name,
                     "population": population, "sessions": [], "provenance": provenance()}
            state_path.write_text(json.dumps(state, indent=1))
            smc().new(db_url, {t.name: t.observed_statistic for t in cal.targets})
        history = pyabc.History(db_url)
        done = history.max_t + 1
        converged = _converged(history, cal.min_eps_drop)
        bar = tqdm(total=generations, initial=min(done, generations), desc=f"ABC-SMC {cal.name}", unit="generation",
                   disable=not progress)
        runs_before = int(history.total_nr_simulations)
        try:
            while done < generations and not converged:
                # One generation per ABCSMC object, loaded from the history: exactly what a resumed
                # calibration does. (Calling run() again on the same object would keep the first
                # generation's cached threshold sample in pyabc 0.13, and the threshold would not fall.)
                abc = smc()
                history = abc.load(db_url, 1)
                abc.run(max_nr_populations=1)
                done = history.max_t + 1
                converged = _converged(history, cal.min_eps_drop)
                pops = history.get_all_populations()
                bar.set_postfix(eps=f"{pops.epsilon.iloc[-1]:.3g}", runs=int(history.total_nr_simulations))
                bar.update(1)
        finally:
            bar.close()
            state["sessions"].append({"seconds": round(time.perf_counter() - t_start, 1),
                                      "runs": int(history.total_nr_simulations) - runs_before,
                                      "workers": workers, "scheduler": scheduler or "processes",
                                      "generations_after": int(history.max_t + 1)})
            state["converged"] = bool(converged)
            state_path.write_text(json.dumps(state, indent=1))
        tables = write_tables(cal, history, out)
        predictive = predictive_checks(cal, model, tables["posterior"], out, pool, progress)
    finally:
        close()
    paths = {}
    if report:
        from .report import write_report

        paths = write_report(cal, out, tables, predictive, state)
    return {"generations": int(history.max_t + 1), "runs": int(history.total_nr_simulations),
            "seconds": time.perf_counter() - t_start, "converged": bool(converged), "paths": paths, "tables": tables,
            "predictive": predictive}


def _converged(history, min_drop: float) -> bool:
    """True when the acceptance threshold fell by less than ``min_drop`` (share) in the last generation."""
    if history.max_t < 1:
        return False
    eps = history.get_all_populations().set_index("t").epsilon
    prev, last = float(eps.loc[history.max_t - 1]), float(eps.loc[history.max_t])
    return prev > 0 and (prev - last) / prev < min_drop


def write_tables(cal: Calibration, history, out: Path) -> dict[str, pd.DataFrame]:
    """``particles.csv`` (weighted particles of every generation, lever values), ``posterior.csv``
    (the last generation), ``generations.csv`` (threshold, runs, acceptance per generation)."""
    rows = []
    for t in range(history.max_t + 1):
        df, w = history.get_distribution(m=0, t=t)
        for i, (_, row) in enumerate(df.iterrows()):
            levers = {p.name: p.value(float(row[p.coordinate])) for p in cal.parameters}
            rows.append({"generation": t, "particle": i, "weight": float(w[i]), **levers})
    particles = pd.DataFrame(rows)
    particles.to_csv(out / "particles.csv", index=False)
    posterior = particles[particles.generation == history.max_t].drop(columns="generation").reset_index(drop=True)
    posterior.to_csv(out / "posterior.csv", index=False)
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    gens = pd.DataFrame({"generation": pops.t.astype(int), "epsilon": pops.epsilon.astype(float),
                         "runs": pops.samples.astype(int), "particles": pops.particles.astype(int)})
    gens["acceptance_rate"] = gens.particles / gens.runs
    gens["epsilon_drop"] = -gens.epsilon.pct_change()
    gens.to_csv(out / "generations.csv", index=False)
    summary = []
    for p in cal.parameters:
        q = weighted_quantiles(posterior[p.name].to_numpy(), posterior.weight.to_numpy(), [0.05, 0.5, 0.95])
        summary.append({"parameter": p.name, "unit": p.unit, "prior": p.prior, "low": p.low, "high": p.high,
                        "q05": q[0], "median": q[1], "q95": q[2], "planted": p.planted})
    summary = pd.DataFrame(summary)
    summary.to_csv(out / "parameters.csv", index=False)
    write_calibrated_scenario(cal, summary, out / "calibrated.toml")
    return {"particles": particles, "posterior": posterior, "generations": gens, "parameters": summary}


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Quantiles of a weighted sample (numpy's inverted-CDF rule with weights)."""
    return [float(np.quantile(values, q, weights=weights, method="inverted_cdf")) for q in qs]


def write_calibrated_scenario(cal: Calibration, summary: pd.DataFrame, path: Path) -> None:
    """The posterior median as a scenario file (``[behaviour]`` only: combine with any preset)."""
    from ..levers import LEVERS

    lines = ['name = "calibrated"',
             f'description = "Posterior median of the behaviour levers from the calibration {cal.name!s} '
             f'({Path(cal.source).name}); policy and region levers at their defaults."', "", "[behaviour]"]
    for _, r in summary.iterrows():
        v = r["median"]
        text = str(int(round(v))) if LEVERS[r.parameter].integer else repr(float(v))
        lines.append(f"{r.parameter} = {text}    # {r.unit}; 90 % interval [{r.q05:.4g}, {r.q95:.4g}]")
    path.write_text("\n".join(lines) + "\n")


def predictive_checks(cal: Calibration, model: TargetModel, posterior: pd.DataFrame, out: Path,
                      pool: Executor, progress: bool = True) -> pd.DataFrame:
    """Prior and posterior predictive runs (``predictive.csv``): ``predictive_draws`` parameter sets
    from the prior box and from the final posterior (resampled by weight), each run on a fresh seed
    (a stream the ABC runs never use). Reused when the posterior has not changed."""
    from tqdm.auto import tqdm

    path = out / "predictive.csv"
    key = hashlib.sha256(posterior.to_csv(index=False).encode()).hexdigest()[:16]
    key_path = out / "predictive.key"
    if path.is_file() and key_path.is_file() and key_path.read_text() == key:
        return pd.read_csv(path)
    n = cal.predictive_draws
    rng = np.random.default_rng(np.random.SeedSequence([cal.seed, PREDICTIVE_STREAM]))
    w = posterior.weight.to_numpy()
    picks = rng.choice(len(posterior), size=n, p=w / w.sum())
    tasks = []
    for i in range(n):
        prior = {p.name: p.value(rng.uniform(*p.bounds())) for p in cal.parameters}
        tasks.append((model, "prior", i, prior, int(rng.integers(2**32))))
        post = {p.name: float(posterior.iloc[picks[i]][p.name]) for p in cal.parameters}
        tasks.append((model, "posterior", i, post, int(rng.integers(2**32))))
    rows = list(tqdm(pool.map(predictive_task, tasks), total=len(tasks), desc="predictive checks", unit="run",
                     disable=not progress))
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    key_path.write_text(key)
    return df
