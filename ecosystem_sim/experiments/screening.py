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

    ecosim decompose A.toml B.toml [--replicates N] [--population N] [--steps N] [--workers N] [--out DIR]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..levers import LEVERS, by_group
from ..scenario import Scenario, from_dict

HEADLINE = ("need_met_share", "jobs_self_sustaining", "jobs_total", "orgs_alive", "participation",
            "solutions_created", "adopters", "capacity_mean")
"""The headline measures of the mechanisms issue (mean of the last 12 months of a run)."""


def final_means(task: tuple[dict, int]) -> dict[str, float]:
    """Run one scenario (as a dict) with one seed; mean of each headline measure over the last year."""
    from ..model import EcosystemModel

    data, seed = task
    model = EcosystemModel(from_dict(data, where="screening"), rng=seed)
    model.run()
    tail = model.measures_frame()[list(HEADLINE)].iloc[-12:]
    return {k: float(v) for k, v in tail.mean().items()}


def _run_all(tasks: list[tuple[dict, int]], workers: int) -> list[dict[str, float]]:
    if workers <= 1:
        return [final_means(t) for t in tasks]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(final_means, tasks, chunksize=1))


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


def moved(table: pd.DataFrame, threshold: float = 0.10, alpha: float | None = None) -> pd.DataFrame:
    """Per lever and measure: mean relative change (high vs low, paired by seed), the p-value of
    an exact two-sided Wilcoxon signed-rank test of the paired differences, and whether the
    lever *moves* the measure.

    With ``alpha`` None a lever moves a measure when the relative change is at least
    ``threshold`` in the same direction on every seed (a rule for a handful of seeds). With
    ``alpha`` given, when the mean relative change is at least ``threshold`` in magnitude and
    the Wilcoxon p-value is below ``alpha`` divided by the number of headline measures
    (Bonferroni), which needs about ten seeds.
    """
    out = []
    for (lever, measure), _ in pd.MultiIndex.from_product([table.lever.unique(), HEADLINE]).to_frame().groupby(level=[0, 1]):
        d = table[table.lever == lever].pivot(index="seed", columns="side", values=measure)
        rel = (d["high"] - d["low"]) / np.maximum(np.abs(d["low"]), 1e-9)
        diff = (d["high"] - d["low"]).to_numpy()
        p = float(stats.wilcoxon(diff).pvalue) if np.count_nonzero(diff) else 1.0
        if alpha is None:
            moves = bool((rel >= threshold).all() or (rel <= -threshold).all())
        else:
            moves = bool(abs(rel.mean()) >= threshold and p < alpha / len(HEADLINE))
        out.append(dict(lever=lever, measure=measure, low=d["low"].mean(), high=d["high"].mean(),
                        rel_change=float(rel.mean()), p_wilcoxon=p, moves=moves))
    return pd.DataFrame(out)


def decompose(a: Scenario, b: Scenario, seeds: list[int], workers: int = 1) -> pd.DataFrame:
    """The gap B - A in every headline measure, and each differing policy lever's share of it
    when switched alone from A's value to B's (``from_a``) and from B's to A's (``from_b``)."""
    differing = [lv.name for lv in by_group("policy") if getattr(a, lv.name) != getattr(b, lv.name)]
    runs: list[tuple[str, Scenario]] = [("A", a), ("B", b)]
    for name in differing:
        runs.append((f"A+{name}", a.with_overrides({name: getattr(b, name)}, where="decompose")))
        runs.append((f"B-{name}", b.with_overrides({name: getattr(a, name)}, where="decompose")))
    tasks = [(sc.to_dict(), seed) for _, sc in runs for seed in seeds]
    results = _run_all(tasks, workers)
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
def register(subparsers) -> None:
    from ..cli import _positive

    d = subparsers.add_parser("decompose", help="which policy levers carry the gap between two presets",
                              description="Switch each policy lever that differs between A and B alone, from "
                                          "each end, on the same seeds; report each lever's share of the gap.")
    d.add_argument("a", help="scenario A (e.g. scenarios/job_creation.toml)")
    d.add_argument("b", help="scenario B (e.g. scenarios/citizen_led.toml)")
    d.add_argument("--replicates", type=_positive("--replicates"), default=5)
    d.add_argument("--population", type=_positive("--population"), default=None, help="n_citizens for every run")
    d.add_argument("--steps", type=_positive("--steps"), default=None)
    d.add_argument("--workers", type=_positive("--workers"), default=1)
    d.add_argument("--seed", type=int, default=0, help="first seed (the runs use seed .. seed+replicates-1)")
    d.add_argument("--out", default="results/decompose")
    d.set_defaults(func=cmd_decompose)


def cmd_decompose(args: argparse.Namespace) -> int:
    from ..scenario import load_scenario

    over = {}
    if args.population:
        over["n_citizens"] = args.population
    if args.steps:
        over["steps"] = args.steps
    a = load_scenario(args.a, over or None)
    b = load_scenario(args.b, over or None)
    table = decompose(a, b, list(range(args.seed, args.seed + args.replicates)), workers=args.workers)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "decomposition.csv", index=False)
    wide = table.pivot_table(index="lever", columns="measure", values="share_from_a")[list(HEADLINE)]
    text = (f"# Gap {b.name} - {a.name}: each lever's share, switched alone from {a.name}\n\n"
            + wide.round(2).to_markdown() + "\n")
    (out / "decomposition.md").write_text(text)
    print(text)
    return 0
