"""A region that behaves the same at any size (issue 8, item 3).

The citizen_led and job_creation presets are run at 2,000, 10,000 and 40,000 citizens with the
same ``citizens_per_community`` (1,000), for 240 months (the presets' own length). Per-capita
outcomes, means of the last 12 months, must agree within noise. Fewer seeds are run at the
larger sizes (a 40,000-citizen run costs about twenty 2,000-citizen ones; a larger region also
averages over more communities, so its runs vary less); the runs go two at a time.

Stated before looking at any result: for each preset and measure, the sizes agree when

* a Kruskal-Wallis test of equal distributions over the three sizes (``scipy.stats.kruskal``)
  gives p > 0.01, and
* every size's mean is within +-30 % of the mean of all runs of that preset (a band of about two
  standard errors of a 6-seed mean at 2,000 citizens, whose seed-to-seed spread is largest).

Intermediaries must have staff (``jobs_intermediary`` > 0) at every size from 1,000 citizens.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import load_scenario

pytestmark = pytest.mark.slow

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
PRESETS = ("citizen_led", "job_creation")
SEEDS_BY_SIZE = {2_000: list(range(9001, 9007)), 10_000: list(range(9101, 9105)), 40_000: [9201, 9202]}
STAFF_SIZES = {1_000: [9301, 9302]}  # only the intermediaries' staff are checked at this size
STEPS = 240
P_MIN = 0.01
BAND = 0.30

PER_CAPITA = ("jobs_per_1000", "orgs_per_1000", "need_met_share", "adopters_per_citizen", "participation")


def per_capita(task: tuple[str, int, int]) -> dict:
    """One run of a preset at a size; per-capita means of the last 12 months."""
    preset, n, seed = task
    sc = load_scenario(SCENARIOS / f"{preset}.toml", {"n_citizens": n, "steps": STEPS})
    model = EcosystemModel(sc, rng=seed)
    model.run()
    tail = model.measures_frame().iloc[-12:].mean()
    return dict(preset=preset, n=n, seed=seed,
                jobs_per_1000=tail["jobs_total"] / n * 1000, orgs_per_1000=tail["orgs_alive"] / n * 1000,
                need_met_share=tail["need_met_share"], adopters_per_citizen=tail["adopters"] / n,
                participation=tail["participation"], jobs_intermediary=tail["jobs_intermediary"],
                jobs_intermediary_min=model.measures_frame()["jobs_intermediary"].iloc[12:].min())


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    sizes = {**SEEDS_BY_SIZE, **STAFF_SIZES}
    # Largest runs first, so the two workers finish together.
    tasks = [(p, n, s) for n in sorted(sizes, reverse=True) for p in PRESETS for s in sizes[n]]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(per_capita, tasks, chunksize=1))
    table = pd.DataFrame(rows)
    print("\n" + table.groupby(["preset", "n"])[list(PER_CAPITA) + ["jobs_intermediary"]].agg(["mean", "std"])
          .round(4).to_string())
    return table


NOT_SCALE_FREE: dict[tuple[str, str], str] = {
}
"""Per-capita outcomes found to depend on region size: a finding of issue 8 (measured with this
file's seeds), reported, not tuned away. Strict: when the model becomes scale-free the XPASS says so.

Empty since 2026-11-30 (a later session). Until then job creation's needs served and adopters per
citizen were listed (0.0 / 0.0053 / 0.0082 at 2,000 / 10,000 / 40,000 citizens, Kruskal-Wallis
p = 0.008). A diagnostic on development seeds (``scripts/call_size_diagnostic.py``; ODD 10 rows
8 and 22) traced it to the shortlist size, rounded to nearest: at about 2 issues a year a small
region shortlisted more issues per citizen, spread its uniform pot over more proposals and made
smaller grants that succeeded less often. With the size rounded stochastically (its expectation
the same at every size) this file's seeds and rule, unchanged, give job creation 0.0060 / 0.0048 /
0.0069 (p = 0.39) and adopters per citizen 0.017 / 0.012 / 0.017 (p = 0.42); the fix was found by
diagnosing this test's failure, which is why it is said here."""


@pytest.mark.parametrize("preset, measure", [
    pytest.param(p, m, marks=pytest.mark.xfail(strict=True, reason=NOT_SCALE_FREE[p, m])) if (p, m) in NOT_SCALE_FREE
    else (p, m) for m in PER_CAPITA for p in PRESETS])
def test_per_capita_outcomes_agree_across_sizes(runs, preset, measure):
    t = runs[(runs.preset == preset) & runs.n.isin(SEEDS_BY_SIZE)]
    groups = [t[t.n == n][measure].to_numpy() for n in SEEDS_BY_SIZE]
    means = {n: float(g.mean()) for n, g in zip(SEEDS_BY_SIZE, groups)}
    pooled = float(t[measure].mean())
    p = stats.kruskal(*groups).pvalue if len({float(x) for g in groups for x in g}) > 1 else 1.0
    rel = {n: m / pooled - 1.0 if pooled else 0.0 for n, m in means.items()}
    report = f"{preset} {measure}: means by size {means}, relative to all runs {rel}, Kruskal-Wallis p = {p:.4f}"
    print(report)
    assert p > P_MIN, report
    assert all(abs(r) <= BAND for r in rel.values()), report


@pytest.mark.parametrize("preset", PRESETS)
def test_intermediaries_have_staff_at_every_size(runs, preset):
    t = runs[runs.preset == preset]
    assert set(t.n) == set(SEEDS_BY_SIZE) | set(STAFF_SIZES)
    assert (t.jobs_intermediary_min > 0).all(), t[["n", "seed", "jobs_intermediary_min"]].to_string()
