"""Patterns from the sources that must EMERGE from the mechanisms (pattern-oriented modelling).

Each test runs at least 10 seeds and applies a one-sided statistical test on paired
(same-seed) or independent samples. Nothing in the model branches on a regime's name: the
scenarios differ only in lever values. If a pattern stopped emerging, the test would fail and
the result would be reported, not forced (see docs/ODD.md, 'Results of the pattern tests').
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy import stats

from ecosystem_sim.run import run_one
from ecosystem_sim.scenario import load_scenario

SEEDS = list(range(12))
ALPHA = 0.01


def _map(fn, items):
    # The pattern runs are independent; two processes keep the suite quick on two cores.
    # spawn, not fork: the pytest-xdist worker that runs this has threads of its own.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, items))


def _programme_end(seed: int) -> dict:
    sc = load_scenario("scenarios/job_creation_programme_end.toml", {"steps": 150})
    r = run_one(sc, seed)
    end = sc.shocks[0].step
    return {
        "subsidised_before_programme": r.measures.jobs_subsidised[0],
        "subsidised_during": r.measures.jobs_subsidised[12:end].mean(),
        "subsidised_after": r.measures.jobs_subsidised[end + 24:].mean(),
        "orgs_after": r.measures.orgs_alive[end + 12:end + 48].mean(),
        "orgs_after_twin": r.twin.orgs_alive[end + 12:end + 48].mean(),
    }


def test_job_creation_subsidised_jobs_rise_then_organisations_exit_after_the_programme():
    rows = _map(_programme_end, SEEDS)
    during = np.array([r["subsidised_during"] for r in rows])
    before = np.array([r["subsidised_before_programme"] for r in rows])
    after = np.array([r["subsidised_after"] for r in rows])
    assert stats.wilcoxon(during, before, alternative="greater").pvalue < ALPHA
    assert stats.wilcoxon(during, after, alternative="greater").pvalue < ALPHA
    # Organisations alive in the three years after the end, against the no-shock twin (same seed).
    shocked = np.array([r["orgs_after"] for r in rows])
    twin = np.array([r["orgs_after_twin"] for r in rows])
    assert stats.wilcoxon(twin, shocked, alternative="greater").pvalue < ALPHA


def _rd(seed: int) -> dict:
    out = {}
    for name in ("rd_only", "rd_with_followup"):
        m = run_one(load_scenario(f"scenarios/{name}.toml", {"steps": 180}), seed).measures
        out[name] = m.need_met_share.iloc[-12:].mean()
        out[name + "_per_solution"] = m.adopters.iloc[-1] / max(m.solutions_created.iloc[-1], 1)
    return out


def test_rd_without_followup_or_citizen_problem_definition_is_rarely_adopted():
    rows = _map(_rd, SEEDS)
    only = np.array([r["rd_only"] for r in rows])
    full = np.array([r["rd_with_followup"] for r in rows])
    assert stats.wilcoxon(full, only, alternative="greater").pvalue < ALPHA
    per_only = np.array([r["rd_only_per_solution"] for r in rows])
    per_full = np.array([r["rd_with_followup_per_solution"] for r in rows])
    assert stats.wilcoxon(per_full, per_only, alternative="greater").pvalue < ALPHA
    # 'Rarely': R&D alone serves well under a third of the needs that follow-up reaches.
    assert only.mean() < full.mean() / 3 + 1e-12 or pytest.fail(
        f"R&D only serves {only.mean():.3f} of needs vs {full.mean():.3f} with follow-up")


def _budget_cut(seed: int) -> dict:
    out = {}
    for name in ("job_creation", "citizen_led"):
        sc = load_scenario(f"scenarios/{name}.toml",
                           {"steps": 180, "shocks": [{"kind": "budget_cut", "step": 100, "strength": 0.5}]})
        for row in run_one(sc, seed).summary["resilience"]:
            out[(name, row["measure"])] = row["integrated_loss"]
    return out


# Asserted for total jobs and organisations alive. Not asserted, and reported in docs/ODD.md §1.5:
# needs served (citizen-led loses less on average, but job creation serves so few needs that its
# ratio to the twin is noisy: p = 0.2 over these 12 seeds) and self-sustaining jobs (citizen-led
# loses MORE of them: its firms' income depends more on the budget, through procurement and the
# sales that budget-funded outreach brings; job creation's firms earn in outside markets).
@pytest.mark.parametrize("measure", ["jobs_total", "orgs_alive"])
def test_citizen_led_keeps_more_function_after_the_same_funding_shock(measure, budget_cut_rows):
    jc = np.array([r[("job_creation", measure)] for r in budget_cut_rows])
    cl = np.array([r[("citizen_led", measure)] for r in budget_cut_rows])
    assert stats.mannwhitneyu(jc, cl, alternative="greater").pvalue < 0.05


@pytest.fixture(scope="module")
def budget_cut_rows():
    return _map(_budget_cut, SEEDS)


def _bass(seed: int) -> list[tuple[float, float]]:
    r = run_one(load_scenario("scenarios/citizen_led.toml", {"steps": 180}), seed, twin=False)
    return [(d["bass_p"], d["bass_q"]) for d in r.summary["diffusion"].values() if d["bass_p"] is not None]


def test_adoption_follows_an_s_curve_driven_by_imitation():
    """Bass fits of the per-domain adoption curves: imitation (q) dominates innovation (p), as in
    the meta-analysis of Sultan, Farley & Lehmann (1990); annualised q falls within the wide
    spread seen across products (0.1-2 per year)."""
    fits = [f for rows in _map(_bass, SEEDS) for f in rows]
    assert len(fits) >= len(SEEDS) * 3, "most domains should diffuse far enough to fit"
    p = np.array([f[0] for f in fits])
    q = np.array([f[1] for f in fits])
    assert stats.wilcoxon(q, p, alternative="greater").pvalue < ALPHA
    annual_q = 12 * np.median(q)
    assert 0.1 < annual_q < 2.0, f"median annual q = {annual_q:.2f}"
