"""Patterns from the sources that must EMERGE from the mechanisms (pattern-oriented modelling).

Honest-test rules (issues 8 and 9):

* **Fresh seeds.** ``SEEDS`` (1000-1011) were never used while the mechanisms were developed
  or their defaults chosen (development used seeds 0-20).
* **Thresholds stated before looking.** Every effect-size bound below was written from the
  sources' claim before these seeds were run; none was changed after.
* **Paired data, paired tests.** Runs of two settings on the same seed are compared with the
  Wilcoxon signed-rank test; a shocked run is compared with its no-shock twin.
* **Multiple comparisons.** Four primary patterns are tested; each uses Bonferroni's
  ``ALPHA = 0.05 / 4`` so that the family-wise error is at most 5 %.
* **A pattern that does not emerge is reported, not forced**: it is marked
  ``xfail(strict=True)`` with the measured numbers, so it fails loudly the day it starts to
  emerge (and docs/ODD.md §1.5 must then be updated).
* P1's check is also run with the mechanism it depends on switched off, and must then fail.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy import stats

from ecosystem_sim.run import run_one
from ecosystem_sim.scenario import load_scenario

pytestmark = pytest.mark.slow

SEEDS = list(range(1000, 1012))
ALPHA = 0.05 / 4


def _map(fn, items):
    # Independent runs on two processes; spawn, not fork (the xdist worker has threads).
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, items))


# ---------------------------------------------------------------- P1: support that ends when the money ends
def _programme_end(args: tuple[int, dict]) -> dict:
    seed, over = args
    sc = load_scenario("scenarios/job_creation_programme_end.toml", {"steps": 168, **over})
    r = run_one(sc, seed)
    end = sc.shocks[0].step
    return {
        "orgs_after": r.measures.orgs_alive[end + 12:end + 48].mean(),
        "orgs_after_twin": r.twin.orgs_alive[end + 12:end + 48].mean(),
        "subsidised_during": r.measures.jobs_subsidised[12:end].mean(),
        "subsidised_after": r.measures.jobs_subsidised[end + 24:].mean(),
    }


def p1_holds(over: dict) -> tuple[bool, str]:
    """000: 'support and benefit' ends when the money ends. After the job-creation programme
    ends, at least 10 % fewer organisations are alive (years 1-4 after) than in the no-shock
    twin, on the paired test at ALPHA."""
    rows = _map(_programme_end, [(s, over) for s in SEEDS])
    shocked = np.array([r["orgs_after"] for r in rows])
    twin = np.array([r["orgs_after_twin"] for r in rows])
    p = stats.wilcoxon(twin, shocked, alternative="greater").pvalue if np.any(twin != shocked) else 1.0
    drop = 1.0 - shocked.mean() / twin.mean()
    return bool(p < ALPHA and drop >= 0.10), f"p = {p:.4g}, drop = {drop:.3f}"


def test_p1_organisations_exit_when_the_subsidy_programme_ends():
    ok, why = p1_holds({})
    assert ok, why


def test_p1_fails_without_subsidy_seeking_entry():
    """The mechanism P1 rests on: social enterprises set up to capture wage subsidies. With
    that entry switched off and no wage subsidies to hold jobs, P1's check must not pass."""
    ok, why = p1_holds({"subsidy_entry_rate": 0.0, "share_wage_subsidy": 0.0})
    assert not ok, f"P1 still 'holds' with its mechanism off ({why}): the test cannot tell"


# ---------------------------------------------------------------- P2: R&D without follow-up is not distributed
def _rd(seed: int) -> dict:
    # Problem definition held fixed: both runs are rd_only's levers except follow-up and procurement.
    out = {}
    for label, over in (("rd_only", {}), ("followup", {"followup_share": 0.4, "share_procurement": 0.15})):
        m = run_one(load_scenario("scenarios/rd_only.toml", {"steps": 180, **over}), seed, twin=False).measures
        out[label] = m.adopters.iloc[-12:].mean() / max(m.solutions_created.iloc[-1], 1)
    return out


def test_p2_followup_after_rd_multiplies_users_per_solution():
    """001 talk 2: an R&D result with no local adoption budget reaches almost no users. Users
    per solution created with follow-up and procurement are at least twice those of R&D alone
    (ratio of means), on the paired test at ALPHA."""
    rows = _map(_rd, SEEDS)
    only = np.array([r["rd_only"] for r in rows])
    follow = np.array([r["followup"] for r in rows])
    p = stats.wilcoxon(follow, only, alternative="greater").pvalue
    ratio = follow.mean() / max(only.mean(), 1e-12)
    assert p < ALPHA and ratio >= 2.0, f"p = {p:.4g}, users per solution {follow.mean():.1f} vs {only.mean():.1f}"


# ---------------------------------------------------------------- P3: riding through a budget cut
def _budget_cut(seed: int) -> dict:
    out = {}
    for name in ("job_creation", "citizen_led"):
        sc = load_scenario(f"scenarios/{name}.toml",
                           {"steps": 180, "shocks": [{"kind": "budget_cut", "step": 100, "strength": 0.5}]})
        for row in run_one(sc, seed).summary["resilience"]:
            out[(name, row["measure"])] = row["integrated_loss"]
    return out


@pytest.fixture(scope="module")
def budget_cut_rows():
    return _map(_budget_cut, SEEDS)


def test_p3_citizen_led_loses_less_of_its_needs_served_after_a_budget_cut(budget_cut_rows):
    """000: an endogenous ecosystem with a safety net rides through shocks. After the same 50 %
    budget cut, the citizen-led preset's integrated loss of needs served (against its twin) is
    lower than job creation's on the paired test at ALPHA.

    History: on the models up to 2026-11-30 (persistent salience) this did not emerge on these
    seeds (job creation 0.207, citizen-led 0.091, p = 0.088) and the test was a strict xfail. On
    the model with the stochastic shortlist (ODD 10 row 22), a change made for region size, not
    for this pattern, it holds: 0.300 against 0.077, p = 0.003 (docs/ODD.md 1.5)."""
    jc = np.array([r[("job_creation", "need_met_share")] for r in budget_cut_rows])
    cl = np.array([r[("citizen_led", "need_met_share")] for r in budget_cut_rows])
    p = stats.wilcoxon(jc, cl, alternative="greater").pvalue if np.any(jc != cl) else 1.0
    assert p < ALPHA, f"p = {p:.4g}; mean integrated loss: job creation {jc.mean():.4f}, citizen-led {cl.mean():.4f}"


# ---------------------------------------------------------------- P4: S-shaped diffusion driven by imitation
def _bass(seed: int) -> list[tuple[float, float]]:
    r = run_one(load_scenario("scenarios/citizen_led.toml", {"steps": 180}), seed, twin=False)
    return [(d["bass_p"], d["bass_q"]) for d in r.summary["diffusion"].values() if d["bass_p"] is not None]


def test_p4_adoption_follows_an_s_curve_driven_by_imitation():
    """Bass fits of the per-domain adoption curves: imitation (q) exceeds innovation (p) on the
    paired test at ALPHA, and the median annual q lies within the spread across products
    (0.1-2 per year; Sultan, Farley & Lehmann 1990: mean 0.38)."""
    fits = [f for rows in _map(_bass, SEEDS) for f in rows if np.isfinite(f[0]) and np.isfinite(f[1])]
    assert len(fits) >= len(SEEDS) * 2, f"only {len(fits)} domain curves diffused far enough to fit"
    p = np.array([f[0] for f in fits])
    q = np.array([f[1] for f in fits])
    assert stats.wilcoxon(q, p, alternative="greater").pvalue < ALPHA
    annual_q = 12 * np.median(q)
    assert 0.1 < annual_q < 2.0, f"median annual q = {annual_q:.2f}"
