"""``ecosim bench``: throughput and scaling of the model, against Mesa's own Boltzmann example.

    ecosim bench [--quick] [--steps N] [--sizes 1000,10000,...] [--repeat N] [--workers N]
                 [--sweep-runs N] [--json PATH]
    python -m ecosystem_sim.bench [same options]

Prints one figure per line as ``name: value unit`` (parseable with
``line.split(": ")`` and ``value.split(" ", 1)``); the last line is always
``ratio_model_to_boltzmann: R x``. Figures:

* ``model_10k_citizen_steps_per_s``: the full model (default scenario, all five kinds of
  actors, ``EcosystemModel(default_scenario(), rng=seed)``) at 10,000 citizens for
  ``--steps`` months (240 by default), citizens x steps / wall seconds of ``step()``;
* ``boltzmann_10k_agent_steps_per_s``: Mesa 3.5's bundled ``BoltzmannWealth`` example
  (``mesa.examples``: grid, DataCollector and DataRecorder, as shipped) with 10,000
  agents on a 100 x 100 grid (one agent per cell, the example's own density) for the same
  number of steps, in the same process;
* ``size_N_*``: construction time, time per step, cost per citizen-step and peak resident
  memory (``ru_maxrss``) of the model at N citizens, each size in a fresh subprocess so
  that the peak memory is that size's own;
* ``sweep_*``: runs of the default region (10,000 citizens, no shocks) through the experiment
  runner (``ecosim sweep``: process pool of ``--workers`` (2), SQLite store, summaries), pool
  start-up included;
* ``main_job_*`` (full mode): the README's main job, ``ecosim compare`` of the two presets with 20
  replicates, a budget cut in month 120 and each run's no-shock twin, on ``--workers`` processes;
* ``profile_10k_*``: where the month goes, CPU seconds of each part of ``EcosystemModel.step``
  (:data:`MONTH_PARTS`: government, calls, citizens, adoption, organisations, snapshot...) over
  the run at 10,000 citizens, largest first, with its share of the month; ``profile_10k_rest``
  is what no part covers. A target not met comes with the profile that explains it;
* ``target_*``: the performance targets of issue 11, each as ``value unit (goal ..., met|NOT met)``:
  ratio to Boltzmann >= 20, >= 10,000 runs of the default region per core-hour through the
  sweep runner, 1,000,000 citizens x 240 months in < 60 s and < 1 GiB, cost per citizen-step at
  1,000,000 within 1.5x of that at 10,000, the main job in < 60 s (the 1M and main-job targets
  only when those figures were measured).

The benchmark is a layer above the model: it imports the experiment runner and ``compare``
(inside the functions that time them); the model never imports it.

Timed figures are the best of ``--repeat`` (2) runs, since the machine may be shared: the
``load_average_1min`` line says how busy it was, and the ``*_cpu_*`` figures (process
CPU time instead of wall time) show what contention did to the wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
FULL_STEPS = 240
QUICK_STEPS = 24
HEADLINE_N = 10_000
FULL_SWEEP_RUNS = 40
"""Runs of the sweep figure in full mode: enough that the two workers' start-up (imports, about
2 s each) weighs in a batch about as it does in a sweep or a calibration, where a pool runs
thousands of runs (with 8 runs, until 2026-11-30, start-up was half of the wall time)."""


# --------------------------------------------------------------------- measurements
def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB).

    ``VmHWM`` from ``/proc/self/status`` where available: ``ru_maxrss`` of a process
    started by ``subprocess`` also counts its parent's memory at the fork (Linux keeps the
    larger value across ``exec``), so it would overstate a small size's peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_model(n: int, steps: int, seed: int = 1) -> dict:
    """Build the default-scenario model at ``n`` citizens and run ``steps`` months."""
    from .model import EcosystemModel
    from .scenario import default_scenario

    sc = default_scenario()
    if n != sc.n_citizens:
        sc = sc.with_overrides({"n_citizens": n}, where="bench")
    rss0 = _peak_rss_mib()
    w0, c0 = time.perf_counter(), time.process_time()
    model = EcosystemModel(sc, rng=seed)
    w1, c1 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.step()
    w2, c2 = time.perf_counter(), time.process_time()
    return {"n": n, "steps": steps, "build_s": w1 - w0, "build_cpu_s": c1 - c0,
            "run_s": w2 - w1, "run_cpu_s": c2 - c1, "rss_before_mib": rss0,
            "peak_rss_mib": _peak_rss_mib(), "solutions": len(model.solutions),
            "organisations": len(model.organisations())}


MONTH_PARTS = (
    ("government", "agents", "Government", "step"),
    ("perceive", "innovation", None, "perceive"),
    ("call_for_projects", "innovation", None, "call_for_projects"),
    ("develop", "innovation", None, "develop"),
    ("citizens", "model", "EcosystemModel", "_citizens"),
    ("follow_up_and_monitor", "innovation", None, "follow_up", "monitor"),
    ("adopt", "diffusion", None, "adopt"),
    ("relieve_and_pay", "diffusion", None, "relieve_and_pay"),
    ("firms", "agents", "Firm", "step"),
    ("nonprofits", "agents", "NonProfit", "step"),
    ("intermediaries", "agents", "Intermediary", "step"),
    ("founding_and_loans", "model", "EcosystemModel", "_found", "_growth_loans"),
    ("scale_out_and_retire", "innovation", None, "scale_out", "retire"),
    ("snapshot", "model", None, "snapshot"),
)
"""Parts of the month (``EcosystemModel.step``, in its order) timed by :func:`profile_month`:
(name, module, class or None, function names...). Each part includes what it calls."""


def profile_month(n: int, steps: int, seed: int = 1) -> dict:
    """CPU seconds of each part of the month (:data:`MONTH_PARTS`) over ``steps`` months of the
    default scenario at ``n`` citizens, and of the whole month; ``rest`` is what no part covers
    (shocks, the call's labs, the intermediary map, the commons, community means, Mesa's
    collector). Timing wrappers are put in place for the run and removed after it; they cost
    about 1 us a call, so the parts are slightly overstated against an unwrapped run."""
    import importlib

    from .model import EcosystemModel
    from .scenario import default_scenario

    spent = {part[0]: 0.0 for part in MONTH_PARTS}
    patched = []

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.process_time() - t
        return wrapper

    for name, module, cls, *functions in MONTH_PARTS:
        owner = importlib.import_module(f"ecosystem_sim.{module}")
        owner = getattr(owner, cls) if cls else owner
        for f in functions:
            patched.append((owner, f, owner.__dict__[f] if cls else getattr(owner, f)))
            setattr(owner, f, timed(name, getattr(owner, f)))
    try:
        sc = default_scenario()
        if n != sc.n_citizens:
            sc = sc.with_overrides({"n_citizens": n}, where="bench")
        model = EcosystemModel(sc, rng=seed)
        t0 = time.process_time()
        for _ in range(steps):
            model.step()
        total = time.process_time() - t0
    finally:
        for owner, f, original in reversed(patched):
            setattr(owner, f, original)
    return {"n": n, "steps": steps, "month_cpu_s": total, "parts_cpu_s": spent,
            "rest_cpu_s": total - sum(spent.values())}


def time_boltzmann(n: int, steps: int, seed: int = 1) -> dict:
    """Mesa's bundled Boltzmann wealth example, as shipped, ``n`` agents on a square grid
    with one agent per cell (the example's own density: 100 agents on 10 x 10)."""
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

    side = max(1, round(n ** 0.5))
    w0 = time.perf_counter()
    model = BoltzmannWealth(BoltzmannScenario(n=n, width=side, height=side, rng=seed))
    w1, c1 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.step()
    w2, c2 = time.perf_counter(), time.process_time()
    return {"n": n, "steps": steps, "build_s": w1 - w0, "run_s": w2 - w1, "run_cpu_s": c2 - c1}


def time_size_subprocess(n: int, steps: int, seed: int = 1, timeout: float | None = None) -> dict:
    """:func:`time_model` in a fresh interpreter, so peak memory is this size's own."""
    cmd = [sys.executable, "-m", "ecosystem_sim.bench", "--size-worker", str(n), str(steps), str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"size {n} failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _bench_experiment(folder, runs: int, steps: int, n_citizens: int = HEADLINE_N) -> str:
    """An experiment file of ``runs`` replicates of the default region (every lever at its
    default, no shocks, so no twin runs), written into ``folder``; returns its path."""
    from .levers import LEVERS

    lever = LEVERS["safety_net"]
    text = (f'name = "bench"\nreplications = {runs}\nseed = 1\nsteps = {steps}\n'
            f'measures = ["jobs_total"]\n\n[overrides]\nn_citizens = {n_citizens}\n\n'
            f'[levers.safety_net]\nvalues = [{lever.default!r}]\n')
    path = os.path.join(folder, "bench.toml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


def time_sweep(runs: int, workers: int, steps: int, scheduler: str | None = None) -> dict:
    """Runs of the default region (10,000 citizens) through the experiment runner
    (``ecosim sweep``: process pool or Dask, SQLite store, summaries), pool start-up included.

    The runner is a layer above the model; it is imported here, in the benchmark only."""
    import tempfile

    from .experiments import load_experiment, sweep

    with tempfile.TemporaryDirectory(prefix="ecosim-bench-") as tmp:
        exp = load_experiment(_bench_experiment(tmp, runs, steps))
        w0 = time.perf_counter()
        counts = sweep(exp, os.path.join(tmp, "out"), workers=workers, scheduler=scheduler, progress=False)
        wall = time.perf_counter() - w0
    if counts["failed"]:
        raise RuntimeError(f"benchmark sweep: {counts['failed']} runs failed: {counts['first_error']}")
    done = counts["ran"]
    return {"runs": done, "workers": workers, "steps": steps, "wall_s": wall,
            "runs_per_minute": 60.0 * done / wall, "runs_per_core_hour": 3600.0 * done / (wall * workers)}


MAIN_JOB_PRESETS = ("job_creation", "citizen_led")


def time_main_job(replicates: int, workers: int) -> dict | None:
    """The README's main job: ``ecosim compare job_creation citizen_led --replicates 20
    --shock budget_cut@120:0.5 --workers 2`` (each run with its no-shock twin), timed from the
    start of the runs to the last table written, in a temporary folder. None when the
    scenario files are not beside the package (an installed wheel)."""
    import tempfile

    from .compare import compare
    from .scenario import load_scenario

    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scenarios")
    paths = [os.path.join(folder, f"{name}.toml") for name in MAIN_JOB_PRESETS]
    if not all(os.path.isfile(p) for p in paths):
        return None
    shock = {"shocks": [{"kind": "budget_cut", "step": 120, "strength": 0.5}]}
    scenarios = [load_scenario(p, shock) for p in paths]
    with tempfile.TemporaryDirectory(prefix="ecosim-bench-") as tmp:
        w0 = time.perf_counter()
        compare(scenarios, replicates, os.path.join(tmp, "regimes"), workers=workers, progress=False)
        wall = time.perf_counter() - w0
    return {"replicates": replicates, "workers": workers, "runs": 2 * len(scenarios) * replicates, "wall_s": wall}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = float("nan")
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "mem_gib": mem_gib, "load_1min": load}


# --------------------------------------------------------------------- reference
REFERENCE_SCENARIOS = ("job_creation", "citizen_led")
REFERENCE_SEEDS = (0, 1)
REFERENCE_N = 2000
REFERENCE_STEPS = 120


def reference_summary(scenario_path, seed: int, n_citizens: int = REFERENCE_N,
                      steps: int = REFERENCE_STEPS) -> dict:
    """What ``tests/test_reference.py`` pins: the final-step measures of one run (floats kept
    at full precision by JSON's shortest round-trip repr) and a SHA-256 of the whole
    per-step measures frame, so any change of a single bit anywhere in the run shows."""
    import hashlib

    import numpy as np

    from .model import EcosystemModel
    from .scenario import load_scenario

    sc = load_scenario(str(scenario_path), {"n_citizens": n_citizens, "steps": steps})
    model = EcosystemModel(sc, rng=seed)
    model.run(steps)
    frame = model.measures_frame()
    digest = hashlib.sha256()
    digest.update(json.dumps(list(map(str, frame.columns))).encode())
    digest.update(np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes())
    final = {str(k): (v.item() if hasattr(v, "item") else v) for k, v in frame.iloc[-1].items()}
    return {"seed": seed, "steps": steps, "n_citizens": n_citizens, "final": final,
            "frame_sha256": digest.hexdigest()}


# --------------------------------------------------------------------- reporting
def _line(name: str, value, unit: str, results: list) -> None:
    if isinstance(value, float):
        text = f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"
    else:
        text = str(value)
    print(f"{name}: {text} {unit}", flush=True)
    results.append({"name": name, "value": value, "unit": unit})


def _best(fn, repeat: int, key: str):
    runs = [fn() for _ in range(max(1, repeat))]
    return min(runs, key=lambda r: r[key])


def run_bench(args) -> int:
    quick = args.quick
    steps = args.steps or (QUICK_STEPS if quick else FULL_STEPS)
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if quick else FULL_SIZES))
    repeat = args.repeat if args.repeat is not None else (1 if quick else 2)
    sweep_runs = args.sweep_runs or (2 if quick else FULL_SWEEP_RUNS)
    results: list[dict] = []

    m = machine()
    _line("machine_cpus", m["cpus"], "cores", results)
    print(f"machine_cpu_model: {m['cpu_model'].replace(' ', '_')} -", flush=True)
    _line("machine_memory", round(m["mem_gib"], 1), "GiB", results)
    _line("load_average_1min", round(m["load_1min"], 2), "runnable", results)
    _line("steps", steps, "months", results)

    # Headline: model vs Mesa's Boltzmann example, same process, same steps.
    time_model(1_000, 2)  # warm-up: imports and first-call costs are not throughput
    model = _best(lambda: time_model(HEADLINE_N, steps), repeat, "run_s")
    model_rate = HEADLINE_N * steps / model["run_s"]
    _line("model_10k_citizen_steps_per_s", model_rate, "citizen-steps/s", results)
    _line("model_10k_cpu_citizen_steps_per_s", HEADLINE_N * steps / model["run_cpu_s"], "citizen-steps/s", results)
    _line("model_10k_step", 1e3 * model["run_s"] / steps, "ms", results)
    boltz = _best(lambda: time_boltzmann(HEADLINE_N, steps), repeat, "run_s")
    boltz_rate = HEADLINE_N * steps / boltz["run_s"]
    _line("boltzmann_10k_agent_steps_per_s", boltz_rate, "agent-steps/s", results)
    _line("boltzmann_10k_cpu_agent_steps_per_s", HEADLINE_N * steps / boltz["run_cpu_s"], "agent-steps/s", results)

    # Scaling: each size in a fresh process (peak memory per size).
    scaling = []
    for n in sizes:
        r = _best(lambda n=n: time_size_subprocess(n, steps, timeout=args.timeout), 1 if n >= 1_000_000 else repeat,
                  "run_s")
        scaling.append(r)
        _line(f"size_{n}_construction", r["build_s"], "s", results)
        _line(f"size_{n}_step", 1e3 * r["run_s"] / steps, "ms", results)
        _line(f"size_{n}_run", r["run_s"] + r["build_s"], "s", results)
        _line(f"size_{n}_cost_per_citizen_step", 1e9 * r["run_s"] / (n * steps), "ns", results)
        _line(f"size_{n}_cpu_cost_per_citizen_step", 1e9 * r["run_cpu_s"] / (n * steps), "ns", results)
        _line(f"size_{n}_peak_rss", r["peak_rss_mib"], "MiB", results)
        _line(f"size_{n}_rss_after_imports", r["rss_before_mib"], "MiB", results)

    sweep = time_sweep(sweep_runs, args.workers, steps)
    _line("sweep_runs", sweep["runs"], "runs", results)
    _line("sweep_workers", sweep["workers"], "processes", results)
    _line("sweep_wall", sweep["wall_s"], "s", results)
    _line("sweep_runs_per_minute", sweep["runs_per_minute"], "runs/min", results)

    main_job = None
    if not quick and args.main_job_replicates > 0 and steps > 120:
        main_job = time_main_job(args.main_job_replicates, args.workers)
        if main_job is not None:
            _line("main_job_model_runs", main_job["runs"], "runs", results)
            _line("main_job_wall", main_job["wall_s"], "s", results)

    # The targets, each with whether it is met (full figures: 240 months, idle machine).
    def target(name, value, unit, goal_text, met):
        verdict = ("met" if met else "NOT met") if steps == FULL_STEPS else f"not judged: {steps} months, not {FULL_STEPS}"
        _line(f"target_{name}", value, f"{unit} (goal {goal_text}, {verdict})", results)

    ratio = model_rate / boltz_rate
    target("ratio_to_boltzmann", ratio, "x", ">= 20", ratio >= 20)
    target("runs_per_core_hour", sweep["runs_per_core_hour"], "runs/core-hour",
           f">= 10000, default region through the sweep runner with {args.workers} workers incl. start-up",
           sweep["runs_per_core_hour"] >= 10_000)
    by_size = {r["n"]: r for r in scaling}
    if 1_000_000 in by_size:
        big = by_size[1_000_000]
        target("1m_run_time", big["run_s"] + big["build_s"], "s", "< 60", big["run_s"] + big["build_s"] < 60)
        target("1m_peak_memory", big["peak_rss_mib"], "MiB", "< 1024", big["peak_rss_mib"] < 1024)
        if HEADLINE_N in by_size:
            cost = lambda r: r["run_s"] / (r["n"] * r["steps"])  # noqa: E731
            growth = cost(big) / cost(by_size[HEADLINE_N])
            target("cost_per_citizen_step_1m_over_10k", growth, "x", "<= 1.5", growth <= 1.5)
    if main_job is not None:
        target("main_job_time", main_job["wall_s"], "s",
               f"< 60, {main_job['replicates']} replicates x 2 presets with twins on {args.workers} cores",
               main_job["wall_s"] < 60)

    # Where the month's time goes, so that a target not met comes with the profile that explains it.
    profile = profile_month(HEADLINE_N, steps)
    for part, cpu in sorted({**profile["parts_cpu_s"], "rest": profile["rest_cpu_s"]}.items(),
                            key=lambda kv: -kv[1]):
        _line(f"profile_10k_{part}", round(cpu, 4),
              f"CPU s ({100 * cpu / profile['month_cpu_s']:.1f} % of {steps} months)", results)

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": m, "figures": results, "model": model, "boltzmann": boltz, "sweep": sweep,
                       "scaling": scaling, "main_job": main_job, "profile": profile}, fh, indent=1)
    # Last line, always: the ratio to Mesa's example.
    _line("ratio_model_to_boltzmann", ratio, "x", results)
    return 0


# --------------------------------------------------------------------- command line
def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help=f"CI mode: {QUICK_STEPS} steps, sizes {','.join(map(str, QUICK_SIZES))}, one repeat")
    p.add_argument("--steps", type=int, default=None, help=f"months per run (default {FULL_STEPS})")
    p.add_argument("--sizes", default=None, help="comma-separated citizen counts for the scaling figures")
    p.add_argument("--repeat", type=int, default=None, help="repeats of each timed figure, best kept (default 2)")
    p.add_argument("--workers", type=int, default=2, help="processes of the sweep (default 2)")
    p.add_argument("--sweep-runs", type=int, default=None, help=f"runs in the sweep (default {FULL_SWEEP_RUNS}, quick 2)")
    p.add_argument("--main-job-replicates", type=int, default=20,
                   help="replicates of the README's main job to time (full mode only; 0 skips it)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per size subprocess")
    p.add_argument("--json", default=None, help="also write all figures to this JSON file")


def register(subparsers) -> None:
    """Add ``ecosim bench`` to the ``ecosim`` command (see :mod:`ecosystem_sim.cli`)."""
    b = subparsers.add_parser("bench", help="measure throughput and scaling (vs Mesa's Boltzmann example)")
    _add_arguments(b)
    b.set_defaults(func=run_bench)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--size-worker"]:
        n, steps, seed = (int(x) for x in argv[1:4])
        print(json.dumps(time_model(n, steps, seed)))
        return 0
    p = argparse.ArgumentParser(prog="python -m ecosystem_sim.bench", description=__doc__.split("\n")[0])
    _add_arguments(p)
    return run_bench(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
