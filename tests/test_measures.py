"""Measures: resilience on hand-made series, Bass diffusion on synthetic curves, and the
per-step snapshot on hand-set model states. Every expected value is worked out in the test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ecosystem_sim.innovation import Solution
from ecosystem_sim.levers import DOMAINS, ORG_KINDS
from ecosystem_sim.measures import MEASURES, bass_cumulative, diffusion, partnership_measures, resilience, snapshot
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import default_scenario


def series(values, start=0):
    return pd.Series(np.asarray(values, dtype=float), index=np.arange(start, start + len(values)))


# ------------------------------------------------------------------ resilience
def test_resilience_of_a_dip_and_recovery():
    base = series([10.0] * 20)
    shocked = series([10.0] * 5 + [5.0, 7.0, 9.0, 9.8] + [10.0] * 11)
    r = resilience(shocked, base, shock_step=5)
    # ratios from month 5: 0.5, 0.7, 0.9, 0.98, then eleven 1.0 (15 months)
    assert r["resistance"] == pytest.approx(0.5)
    assert r["recovery_time"] == 3.0                       # 0.98 is within 5 % of 1
    assert r["integrated_loss"] == pytest.approx((0.5 + 0.3 + 0.1 + 0.02) / 15)
    assert r["permanent_shift"] == pytest.approx((0.98 + 11 * 1.0) / 12 - 1)
    assert r["collapsed"] == 0.0


def test_resilience_tolerance_sets_recovery():
    base = series([10.0] * 12)
    shocked = series([10.0, 10.0, 6.0, 8.0, 8.5, 9.2, 9.7, 10.0, 10.0, 10.0, 10.0, 10.0])
    # ratios from month 2: .6 .8 .85 .92 .97 1 ...
    assert resilience(shocked, base, 2)["recovery_time"] == 4.0              # first within 5 %: 0.97
    assert resilience(shocked, base, 2, tolerance=0.1)["recovery_time"] == 3.0   # 0.92 is within 10 %
    assert resilience(shocked, base, 2, tolerance=0.5)["recovery_time"] == 0.0


def test_recovery_must_last():
    base = series([4.0] * 10)
    shocked = series([4.0, 2.0, 4.0, 4.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0])
    assert resilience(shocked, base, 1)["recovery_time"] == 4.0   # the relapse at month 4 counts


def test_resilience_never_recovering_collapse():
    base = series([10.0] * 30)
    shocked = series([10.0] * 6 + [4.0] * 24)
    r = resilience(shocked, base, 6)
    assert r["resistance"] == pytest.approx(0.4)
    assert math.isnan(r["recovery_time"])
    assert r["integrated_loss"] == pytest.approx(0.6)
    assert r["permanent_shift"] == pytest.approx(-0.6)
    assert r["collapsed"] == 1.0
    assert resilience(shocked, base, 6, collapse_below=0.3)["collapsed"] == 0.0


def test_resilience_against_a_moving_baseline():
    """The twin grows; the shocked run grows from a lower level: the ratio, not the level, counts."""
    t = np.arange(20, dtype=float)
    base = series(10 + t)
    shocked = series(np.where(t < 10, 10 + t, 0.5 * (10 + t)))
    r = resilience(shocked, base, 10)
    assert r["resistance"] == pytest.approx(0.5)
    assert r["integrated_loss"] == pytest.approx(0.5)
    assert r["permanent_shift"] == pytest.approx(-0.5)


def test_resilience_with_zero_baseline():
    zeros = series([0.0] * 10)
    r = resilience(zeros, zeros, 3)
    assert r == {"resistance": 1.0, "recovery_time": 0.0, "integrated_loss": 0.0, "permanent_shift": 0.0,
                 "collapsed": 0.0}
    grown = series([0.0] * 3 + [1.0] * 7)
    assert resilience(grown, zeros, 3)["integrated_loss"] == 0.0   # more than nothing is no loss


def test_resilience_unaffected_run():
    base = series(np.linspace(1, 5, 24))
    r = resilience(base.copy(), base, 8)
    assert r["resistance"] == 1.0 and r["recovery_time"] == 0.0 and r["integrated_loss"] == 0.0


def test_resilience_shock_after_the_end():
    with pytest.raises(ValueError, match="after the end"):
        resilience(series([1.0] * 5), series([1.0] * 5), 10)


def test_resilience_uses_the_step_index_not_positions():
    base = series([10.0] * 10, start=100)
    shocked = series([10.0] * 4 + [5.0] * 6, start=100)
    assert resilience(shocked, base, 104)["resistance"] == pytest.approx(0.5)


# ------------------------------------------------------------------ Bass diffusion
def bass_time(level, p, q, m):
    """Exact time at which m * F(t) reaches ``level`` (solved from the closed form by hand)."""
    f = level / m
    if f >= 1:
        return math.inf
    x = (1 - f) / (1 + f * q / p)
    return -math.log(x) / (p + q)


def test_bass_cumulative_solves_the_bass_equation():
    p, q, m = 0.03, 0.38, 0.8
    assert bass_cumulative(np.array([0.0]), p, q, m)[0] == pytest.approx(0.0, abs=1e-15)
    assert bass_cumulative(np.array([500.0]), p, q, m)[0] == pytest.approx(m)
    t = np.linspace(0.5, 40, 80)
    h = 1e-5
    dF = (bass_cumulative(t + h, p, q, m) - bass_cumulative(t - h, p, q, m)) / (2 * h)
    F = bass_cumulative(t, p, q, m)
    np.testing.assert_allclose(dF, (p + q * F / m) * (m - F), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("p, q, m", [(0.03, 0.38, 0.8), (0.01, 0.5, 0.6), (0.05, 0.2, 1.0)])
def test_diffusion_recovers_bass_p_and_q(p, q, m):
    t = np.arange(0, 61, dtype=float)              # launch at step 0, monthly observations
    out = diffusion(pd.Series(bass_cumulative(t, p, q, m)))
    assert out["bass_p"] == pytest.approx(p, rel=0.15)
    assert out["bass_q"] == pytest.approx(q, rel=0.15)
    assert out["bass_m"] == pytest.approx(m, rel=0.02)


@pytest.mark.parametrize("p, q, m", [(0.03, 0.38, 0.8), (0.01, 0.5, 0.6), (0.05, 0.2, 1.0)])
def test_diffusion_times_and_market_size(p, q, m):
    t = np.arange(0, 61, dtype=float)
    out = diffusion(pd.Series(bass_cumulative(t, p, q, m)))
    assert out["final_share"] == pytest.approx(bass_cumulative(np.array([60.0]), p, q, m)[0])
    assert out["bass_m"] == pytest.approx(m, rel=0.02)
    first = 1  # step 0 is the launch (share 0); adoption is first seen at step 1
    for level in (10, 50, 90):
        exact = bass_time(level / 100, p, q, m)
        expected = math.nan if exact > 60 else float(math.ceil(exact) - first)
        got = out[f"t{level}"]
        assert (math.isnan(got) and math.isnan(expected)) or got == expected, (level, got, expected)


def test_diffusion_with_late_launch_counts_from_first_adoption():
    y = np.concatenate([np.zeros(10), [0.05, 0.1, 0.2, 0.4, 0.55, 0.6, 0.6, 0.6]])
    out = diffusion(pd.Series(y))
    assert out["t10"] == 1.0 and out["t50"] == 4.0 and math.isnan(out["t90"])
    assert out["final_share"] == 0.6


def test_diffusion_of_nothing():
    out = diffusion(pd.Series(np.zeros(30)))
    assert out["final_share"] == 0.0
    assert all(math.isnan(out[k]) for k in ("t10", "t50", "t90", "bass_p", "bass_q", "bass_m"))


def test_diffusion_too_short_to_fit():
    out = diffusion(pd.Series([0.0, 0.1, 0.2, 0.3]))
    assert out["t10"] == 0.0
    assert math.isnan(out["bass_p"]) and math.isnan(out["bass_q"])


# ------------------------------------------------------------------ snapshot
def small_model(seed=0, **over):
    levers = {"n_citizens": 600, "citizens_per_community": 100, "steps": 24, **over}
    return EcosystemModel(default_scenario().with_overrides(levers), rng=seed)


def test_measures_table_matches_snapshot_and_frame():
    m = small_model()
    m.run(2)
    assert set(snapshot(m)) == set(MEASURES)
    assert list(m.measures_frame().columns) == list(MEASURES)


def test_organisation_counts_and_diversity():
    m = small_model(seed=1, firms_per_1000=10, intermediaries_per_10000=50)
    kinds = [o.kind for o in m.organisations()]
    snap = snapshot(m)
    for k in ORG_KINDS:
        assert snap[f"orgs_{k}"] == kinds.count(k)
    assert snap["orgs_alive"] == len(kinds)
    shares = [kinds.count(k) / len(kinds) for k in set(kinds)]
    assert snap["org_diversity"] == pytest.approx(-sum(s * math.log(s) for s in shares))
    jobs = sum(o.jobs for o in m.organisations())
    assert snap["jobs_total"] == pytest.approx(jobs)
    assert snap["jobs_total"] == pytest.approx(snap["jobs_subsidised"] + snap["jobs_self_sustaining"]
                                               + snap["jobs_intermediary"] + snap["jobs_project"])


def test_need_met_and_adoption_shares_on_a_hand_set_state():
    m = small_model(seed=2, need_threshold=0.3)
    pop = m.population
    pop.need[:] = 0.0
    pop.adopted[:] = -1
    pop.need[:10, 0] = 0.9          # ten people need health/welfare help
    pop.adopted[:5, 0] = 0          # five of them use a solution
    pop.adopted[20, 1] = 1          # one uses a lifelong-education solution without (any longer) needing it
    snap = snapshot(m)
    assert snap["need_met_share"] == pytest.approx(6 / 11)
    assert snap[f"adoption_{DOMAINS[0]}"] == pytest.approx(5 / 10)
    assert snap[f"adoption_{DOMAINS[1]}"] == pytest.approx(1.0)
    assert snap[f"adoption_{DOMAINS[2]}"] == 0.0
    assert snap["adopters"] == 6
    assert snap["unmet_need"] == pytest.approx(10 * 0.9 / (pop.n * len(DOMAINS)))


def test_participation_capacity_and_money_measures():
    m = small_model(seed=3)
    pop = m.population
    pop.participating[:] = False
    pop.participating[: pop.n // 4] = True
    pop.capacity[:] = 0.5
    snap = snapshot(m)
    assert snap["participation"] == pytest.approx(0.25)
    assert snap["capacity_mean"] == pytest.approx(0.5)
    assert snap["capacity_gini"] == pytest.approx(0.0)
    assert snap["org_cash"] == pytest.approx(sum(o.cash for o in m.organisations()))
    assert snap["money_total"] == pytest.approx(m.money_total())


def test_subsidy_dependence():
    m = small_model(seed=4)
    firms = m.firms()
    for f in m.organisations():
        f.last_income = f.last_subsidy = 0.0
    assert snapshot(m)["subsidy_dependence"] == 0.0
    firms[0].last_income, firms[0].last_subsidy = 3.0, 1.0
    firms[1].last_subsidy = 4.0
    assert snapshot(m)["subsidy_dependence"] == pytest.approx(5.0 / 8.0)


def test_partnership_network_measures():
    m = small_model(seed=5, firms_per_1000=10)
    orgs = m.organisations()
    n = len(orgs)
    assert partnership_measures(m, orgs) == (0.0, 0.0, pytest.approx(1 / n))
    a, b, c, d = orgs[:4]
    m.link(a, b)
    m.link(b, c)
    m.link(b, a)                     # the same partnership again
    density, mean_degree, giant = partnership_measures(m, orgs)
    assert density == pytest.approx(2 * 2 / (n * (n - 1)))
    assert mean_degree == pytest.approx(4 / n)
    assert giant == pytest.approx(3 / n)
    c.close()                        # partnerships with a closed organisation no longer count
    orgs = m.organisations()
    _, _, giant = partnership_measures(m, orgs)
    assert giant == pytest.approx(2 / (n - 1))


def test_solutions_counted_alive_only():
    m = small_model(seed=6)
    f = m.firms()[0]
    m.solutions = [Solution(id=i, domain=0, fit=0.5, provider=f, open=True, created=0, communities={0})
                   for i in range(3)]
    m.solutions[1].alive = False
    assert snapshot(m)["solutions_active"] == 2


def test_project_staff_waiting_teams_loans_and_rd_only_adopters():
    from ecosystem_sim.innovation import Project, Team

    m = small_model(seed=7)
    f, g = m.firms()[:2]
    members = m.population.members(f.community)
    p = Project(lead=f, partners=[], domain=0, community=f.community, participants=members[:3], scope=10.0,
                grant_dev=10.0, followup=0.0, plan_dev=10.0, duration=5, lab_months=0, deadline=99, start=0)
    p.staff = [m.hire(f.community) for _ in range(4)]
    m.projects = [p]
    m.waiting_teams = [Team(g, [], 1, g.community, members[3:5], attempt=1)]
    for o in m.organisations():
        o.loan = 0.0
    f.loan, g.loan = 3.0, 4.5
    m.solutions = [Solution(id=i, domain=0, fit=0.5, provider=f, open=True, created=0, communities={0})
                   for i in range(2)]
    m.rd_only_solutions = {1}
    pop = m.population
    pop.adopted[:] = -1
    pop.adopted[:7, 0] = 1
    pop.adopted[7:10, 0] = 0
    snap = snapshot(m)
    assert snap["jobs_project"] == 4
    assert snap["jobs_total"] == pytest.approx(snap["jobs_subsidised"] + snap["jobs_self_sustaining"]
                                               + snap["jobs_intermediary"] + 4)
    assert snap["teams_waiting"] == 1
    assert snap["loans_outstanding"] == pytest.approx(7.5)
    assert snap["adopters_rd_only"] == 7 and snap["adopters"] == 10


def test_funnel_measures_are_this_months_call():
    quiet = small_model(seed=8, issues_per_10000=200.0, call_interval=12)
    quiet.step()                                     # month 1: no call
    assert all(quiet.current[f"funnel_{k}"] == 0 for k in ("issues", "shortlisted", "proposals", "labs", "funded"))
    m = small_model(seed=8, issues_per_10000=200.0, call_interval=1, shortlist_share=0.5)
    m.step()                                         # a call every month
    snap = m.current
    assert snap["funnel_issues"] > 0
    assert snap["funnel_shortlisted"] == round(0.5 * snap["funnel_issues"])   # no kept teams yet
    assert snap["funnel_funded"] == snap["grants_awarded"]
