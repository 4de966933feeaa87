"""Which levers move what: one-at-a-time screening and the decomposition of a regime gap.

* :func:`screen` moves each lever from the low to the high end of its range (everything
  else at a base scenario) on the same seeds, and reports the change in the headline
  measures (mean of the last year). A lever "moves" a measure when it changes it by at
  least a threshold in the same direction on every seed, or (:func:`moved` with ``alpha``)
  on average with a paired Wilcoxon test significant after a Bonferroni correction.
* :func:`decompose` explains the gap between two presets lever by lever: starting from
  preset A, switch one policy lever to B's value (and, from B, one lever to A's value);
  the change in each measure, over the gap B - A, is that lever's share seen from each
  end. Interactions show as shares that do not add up to one.

    ecosim decompose A.toml B.toml [--replicates N] [--seed N] [--population N] [--steps N]
                     [--workers N] [--out DIR] [--overwrite] [--max-runs N] [--quiet]

The command writes ``decomposition.csv``, ``decomposition.md`` (shares from both ends) and
``summary.json`` (scenarios A and B, seeds, command line, package versions and commit). Like
``ecosim run`` it checks ``--out`` before any work (new, empty, or an earlier ``decompose``
output unless ``--overwrite``), locks it, writes into a new folder beside it and moves that into
place, so nothing partial is left by a failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .. import guards
from ..cliargs import MAX_SEED, positive
from ..cliargs import seed as seed_arg
from ..levers import LEVERS, by_group
from ..scenario import Scenario, from_dict

HEADLINE = ("need_met_share", "jobs_self_sustaining", "jobs_total", "orgs_alive", "participation",
            "solutions_created", "adopters", "capacity_mean")
"""The headline measures of the mechanisms issue (mean of the last 12 months of a run)."""

PROGRAMME_MEASURES = ("adopters_rd_only",)
"""Outcomes of a programme's own results that the region's headline measures can hide: users of
solutions developed without follow-up money, i.e. the R&D results of 001 talk 2 (a national R&D
call's solutions are all of this kind). Screened with the headline measures; a lever of such a
programme is judged on both (:func:`moved` with ``measures``)."""

SCREENED = HEADLINE + PROGRAMME_MEASURES
"""Every measure :func:`final_means` returns."""


def final_means(task: tuple[dict, int]) -> dict[str, float]:
    """Run one scenario (as a dict) with one seed; mean of each screened measure (:data:`SCREENED`)
    over the last year."""
    from ..model import EcosystemModel

    data, seed = task
    model = EcosystemModel(from_dict(data, where="screening"), rng=seed)
    model.run()
    tail = model.measures_frame()[list(SCREENED)].iloc[-12:]
    return {k: float(v) for k, v in tail.mean().items()}


def _task_key(task: tuple[dict, int]) -> str:
    """Name of a cached run: a hash of the scenario (every lever value), the seed, the model
    fingerprint and the measures kept, so a run of another model (package upgraded or edited),
    or one that kept other measures, is not found again."""
    from .. import fingerprint

    blob = json.dumps({"task": task, "model": fingerprint.model_fingerprint(), "measures": list(SCREENED)},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _run_all(tasks: list[tuple[dict, int]], workers: int, progress: bool = False,
             cache: Path | None = None) -> list[dict[str, float]]:
    """:func:`final_means` of every task, in order; ``workers`` is capped as every command caps it
    (:func:`~ecosystem_sim.guards.cap_workers`). Results do not depend on the number of workers.

    With ``cache`` (a folder), each finished run is kept there as one JSON file named by a hash
    of its scenario, seed and the model fingerprint (:func:`_task_key`), and runs already there
    are not run again: an interrupted job loses nothing (floats round-trip exactly through JSON),
    and a run of another model is never reused (it is not found; the cache is removed when the
    job completes)."""
    from tqdm.auto import tqdm

    done: dict[int, dict[str, float]] = {}
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for i, t in enumerate(tasks):
            f = cache / f"{_task_key(t)}.json"
            if f.exists():
                done[i] = json.loads(f.read_text(encoding="utf-8"))
    todo = [i for i in range(len(tasks)) if i not in done]

    def keep(i: int, r: dict[str, float]) -> None:
        done[i] = r
        if cache is not None:
            f = cache / f"{_task_key(tasks[i])}.json"
            tmp = f.with_suffix(".tmp")
            tmp.write_text(json.dumps(r), encoding="utf-8")
            tmp.replace(f)  # a run is in the cache whole or not at all

    n = 1
    if workers > 1 and len(todo) > 1:
        n = guards.cap_workers(workers, len(todo), max(int(tasks[i][0]["params"].get("n_citizens", 0)) for i in todo))
    with tqdm(total=len(tasks), initial=len(done), desc="runs", unit="run", disable=not progress) as bar:
        if n <= 1:
            for i in todo:
                keep(i, final_means(tasks[i]))
                bar.update(1)
        else:
            pool = ProcessPoolExecutor(n, mp_context=guards.mp_context(), initializer=guards.worker_guard,
                                       initargs=(os.getpid(),))
            try:
                for i, r in zip(todo, pool.map(final_means, [tasks[i] for i in todo], chunksize=1)):
                    keep(i, r)
                    bar.update(1)
            finally:
                pool.shutdown(cancel_futures=True)  # Ctrl-C: queued runs are dropped, workers end
    return [done[i] for i in range(len(tasks))]


def screen(base: Scenario, levers: list[str], seeds: list[int], workers: int = 1,
           settings: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Headline measures with each lever at its low and high setting (tidy: lever, side, seed, measures).

    ``settings`` overrides the (low, high) pair of a lever (default: its range in the lever table).
    """
    settings = settings or {}
    tasks, keys = [], []
    for name in levers:
        lo, hi = settings.get(name, (LEVERS[name].low, LEVERS[name].high))
        for side, value in (("low", lo), ("high", hi)):
            sc = base.with_overrides({name: value}, where="screening")
            for seed in seeds:
                tasks.append((sc.to_dict(), seed))
                keys.append((name, side, value, seed))
    rows = _run_all(tasks, workers)
    return pd.DataFrame([dict(lever=n, side=s, value=v, seed=sd, **r) for (n, s, v, sd), r in zip(keys, rows)])


def moved(table: pd.DataFrame, threshold: float = 0.10, alpha: float | None = None,
          measures: tuple[str, ...] = HEADLINE) -> pd.DataFrame:
    """Per lever and measure: mean relative change (high vs low, paired by seed), the p-value of
    an exact two-sided Wilcoxon signed-rank test of the paired differences, and whether the
    lever *moves* the measure.

    With ``alpha`` None a lever moves a measure when the relative change is at least
    ``threshold`` in the same direction on every seed (a rule for a handful of seeds). With
    ``alpha`` given, when the mean relative change is at least ``threshold`` in magnitude and
    the Wilcoxon p-value is below ``alpha`` divided by the number of ``measures`` judged
    (Bonferroni), which needs about ten seeds.
    """
    out = []
    for (lever, measure), _ in pd.MultiIndex.from_product([table.lever.unique(), measures]).to_frame().groupby(level=[0, 1]):
        d = table[table.lever == lever].pivot(index="seed", columns="side", values=measure)
        rel = (d["high"] - d["low"]) / np.maximum(np.abs(d["low"]), 1e-9)
        diff = (d["high"] - d["low"]).to_numpy()
        p = float(stats.wilcoxon(diff).pvalue) if np.count_nonzero(diff) else 1.0
        if alpha is None:
            moves = bool((rel >= threshold).all() or (rel <= -threshold).all())
        else:
            moves = bool(abs(rel.mean()) >= threshold and p < alpha / len(measures))
        out.append(dict(lever=lever, measure=measure, low=d["low"].mean(), high=d["high"].mean(),
                        rel_change=float(rel.mean()), p_wilcoxon=p, moves=moves))
    return pd.DataFrame(out)


def differing_levers(a: Scenario, b: Scenario) -> list[str]:
    """The policy levers whose values differ between ``a`` and ``b`` (lever-table order)."""
    return [lv.name for lv in by_group("policy") if getattr(a, lv.name) != getattr(b, lv.name)]


def decompose(a: Scenario, b: Scenario, seeds: list[int], workers: int = 1, progress: bool = False,
              cache: Path | None = None) -> pd.DataFrame:
    """The gap B - A in every headline measure, and each differing policy lever's share of it
    when switched alone from A's value to B's (``from_a``) and from B's to A's (``from_b``)."""
    differing = differing_levers(a, b)
    runs: list[tuple[str, Scenario]] = [("A", a), ("B", b)]
    for name in differing:
        runs.append((f"A+{name}", a.with_overrides({name: getattr(b, name)}, where="decompose")))
        runs.append((f"B-{name}", b.with_overrides({name: getattr(a, name)}, where="decompose")))
    tasks = [(sc.to_dict(), seed) for _, sc in runs for seed in seeds]
    results = _run_all(tasks, workers, progress, cache)
    labels = [(label, seed) for label, _ in runs for seed in seeds]
    frame = pd.DataFrame([dict(run=label, seed=seed, **r) for (label, seed), r in zip(labels, results)])
    means = frame.groupby("run")[list(HEADLINE)].mean()
    gap = means.loc["B"] - means.loc["A"]
    rows = []
    for name in differing:
        for m in HEADLINE:
            g = gap[m]
            from_a = means.loc[f"A+{name}", m] - means.loc["A", m]
            from_b = means.loc["B", m] - means.loc[f"B-{name}", m]
            rows.append(dict(lever=name, measure=m, a_value=getattr(a, name), b_value=getattr(b, name),
                             gap=g, effect_from_a=from_a, effect_from_b=from_b,
                             share_from_a=from_a / g if abs(g) > 1e-12 else np.nan,
                             share_from_b=from_b / g if abs(g) > 1e-12 else np.nan))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ command line
OUTPUT = "decompose"
"""The command name recorded in the output folder's marker."""

NOISE_SHARE = 0.1
"""Shares below this (in magnitude) are within seed noise at 6 replicates on the default region
(README, "Which levers carry the gap"); said in every decomposition.md."""


def register(subparsers) -> None:
    d = subparsers.add_parser("decompose", help="which policy levers carry the gap between two presets",
                              description="Switch each policy lever that differs between A and B alone, from "
                                          "each end, on the same seeds; report each lever's share of the gap.")
    d.add_argument("a", help="scenario A (e.g. scenarios/job_creation.toml)")
    d.add_argument("b", help="scenario B (e.g. scenarios/citizen_led.toml)")
    d.add_argument("--replicates", type=positive("--replicates"), default=5)
    d.add_argument("--population", type=positive("--population"), default=None, help="n_citizens for every run")
    d.add_argument("--steps", type=positive("--steps"), default=None, help="months (default: the scenarios' steps)")
    d.add_argument("--workers", type=positive("--workers"), default=1)
    d.add_argument("--seed", type=seed_arg, default=0, help="first seed (the runs use seed .. seed+replicates-1)")
    d.add_argument("--out", default="results/decompose")
    d.add_argument("--overwrite", action="store_true",
                   help="replace --out even if it holds files ecosim decompose did not write")
    d.add_argument("--max-runs", type=positive("--max-runs"), default=None,
                   help=f"refuse more runs than this (default {guards.DEFAULT_MAX_RUNS:,} or ${guards.ENV_MAX_RUNS})")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_decompose)


def cmd_decompose(args: argparse.Namespace) -> int:
    from ..cli import UsageError
    from ..scenario import load_scenario

    over = {}
    if args.population:
        over["n_citizens"] = args.population
    if args.steps:
        over["steps"] = args.steps
    a = load_scenario(args.a, over or None)
    b = load_scenario(args.b, over or None)
    last_seed = args.seed + args.replicates - 1
    if last_seed > MAX_SEED:
        raise UsageError(f"--seed {args.seed} with --replicates {args.replicates}: the last seed {last_seed} is "
                         "above 2**63-1; choose a smaller --seed")
    differing = differing_levers(a, b)
    if not differing:
        raise UsageError(f"{args.a} and {args.b}: no policy lever differs between them, so there is no gap to "
                         "decompose (`ecosim levers` lists the policy levers)")
    seeds = list(range(args.seed, last_seed + 1))
    out = Path(args.out)
    n_runs = (2 + 2 * len(differing)) * len(seeds)
    guards.check_budget(f"ecosim decompose ({len(differing)} levers × 2 ends + A and B, × {len(seeds):,} replicates)",
                        n_runs, max(int(a.steps), int(b.steps)), max(int(a.n_citizens), int(b.n_citizens)),
                        disk_bytes=len(differing) * len(HEADLINE) * 300 + 1e6, folder=out.parent,
                        limit_runs=args.max_runs)
    guards.prepare_output(out, OUTPUT, overwrite=args.overwrite)  # refuse before the runs, not after
    with guards.output_lock(out, OUTPUT):
        guards.prepare_output(out, OUTPUT, overwrite=args.overwrite)  # again, now that no one else writes
        # Finished runs wait beside --out until the job completes, so an interrupted job resumes.
        cache = out.parent / f".ecosim-decompose-runs-{out.name}"
        table = decompose(a, b, seeds, workers=args.workers, progress=not args.quiet, cache=cache)
        manifest = _manifest(a, b, seeds, differing, getattr(args, "command_line", None))
        text = report(table, a, b, manifest)
        # a new folder beside --out, moved into place when complete: nothing partial is ever left
        with guards.staged_folder(out, OUTPUT) as tmp:
            table.to_csv(tmp / "decomposition.csv", index=False)
            (tmp / "decomposition.md").write_text(text, encoding="utf-8")
            (tmp / "summary.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        shutil.rmtree(cache, ignore_errors=True)
    print(text)
    print(f"wrote {out}/decomposition.csv, decomposition.md and summary.json")
    return 0


def _manifest(a: Scenario, b: Scenario, seeds: list[int], differing: list[str], command_line) -> dict:
    from ..run import provenance

    return {"scenario_a": a.to_dict(), "scenario_b": b.to_dict(), "levers": differing,
            "seeds": seeds, "replicates": len(seeds),
            "command": shlex.join(command_line) if command_line else None, "provenance": provenance()}


def report(table: pd.DataFrame, a: Scenario, b: Scenario, manifest: dict) -> str:
    """``decomposition.md``: the gap, and each lever's share of it from A and from B."""
    from ..reporting import md_table

    n = manifest["replicates"]
    gap = table.drop_duplicates("measure").set_index("measure")["gap"].reindex(list(HEADLINE))
    lines = [f"# The gap {b.name} − {a.name}, lever by lever", "",
             f"A = {a.name}, B = {b.name}: {len(manifest['levers'])} policy levers differ. Every run is scored "
             f"by the mean of each headline measure over its last 12 months, averaged over {n} replicate "
             f"seed{'s' if n != 1 else ''} (the same seeds for every run). A lever's **share from A** is the "
             "change when that lever alone is switched from A's value to B's, starting from A, divided by the "
             "gap B − A; its **share from B** is the change lost when that lever alone is switched back from "
             "B's value to A's, starting from B, over the same gap. 1 means the lever alone carries the whole "
             "gap, 0 none of it, a negative share that the lever alone moves the measure away from B. If the "
             "levers acted independently the two ends would agree and each column would sum to one; where they "
             "do not, levers interact. An empty cell: the gap in that measure is zero. Shares below about "
             f"{NOISE_SHARE} in magnitude are within seed noise at 6 replicates on the default region (fewer "
             "replicates or a smaller region are noisier).", "",
             "## The gap B − A", "", md_table(gap.rename("gap B − A").reset_index()), ""]
    for end, col, start in (("A", "share_from_a", a.name), ("B", "share_from_b", b.name)):
        wide = table.pivot_table(index="lever", columns="measure", values=col, dropna=False, sort=False)
        wide = wide.reindex(index=manifest["levers"], columns=list(HEADLINE)).round(2) + 0.0  # no "-0"
        wide.loc["sum of single-lever shares"] = wide.sum(min_count=1).round(2)
        lines += [f"## Share of the gap, each lever switched alone from {end} ({start})", "",
                  md_table(wide.reset_index()), ""]
    p = manifest["provenance"]
    lines += ["## Provenance", "", f"- ecosystem_sim {p['versions']['ecosystem_sim']}, commit {p['commit']}",
              f"- mesa {p['versions']['mesa']}, numpy {p['versions']['numpy']}, Python {p['python']}",
              f"- model fingerprint {p['model_fingerprint']} (every run here was made by this model)",
              f"- seeds: {manifest['seeds']}"]
    if manifest.get("command"):
        lines.append(f"- command: `{manifest['command']}`")
    return "\n".join(lines) + "\n"
