"""Shocks: each changes exactly the state it names, at the month it is scheduled, and
temporary ones end on time. Expected values are worked out by hand from the lever values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecosystem_sim import shocks
from ecosystem_sim.levers import DOMAINS
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.population import ECOSYSTEM, MAINSTREAM, UNEMPLOYED
from ecosystem_sim.scenario import Shock, default_scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

REGION = {"n_citizens": 1000, "citizens_per_community": 100, "steps": 24}


def model(seed=0, shock_list=(), base=None, **over) -> EcosystemModel:
    sc = (base or default_scenario()).with_overrides({**REGION, **over, "shocks": list(shock_list)})
    return EcosystemModel(sc, rng=seed)


def run(seed=0, shock_list=(), steps=24, **over):
    m = model(seed, shock_list, **over)
    m.run(steps)
    return m, m.measures_frame()


# ------------------------------------------------------------------ budget cut
def test_budget_cut_lowers_the_budget_by_its_strength_for_its_duration():
    # budget 5 M KRW / month / 1,000 citizens x 1,000 citizens = 5 M KRW a month
    _, df = run(shock_list=[{"kind": "budget_cut", "step": 3, "strength": 0.4, "duration": 5}],
                budget_per_1000=5.0)
    b = df["budget_in"]
    assert b.loc[1:2].tolist() == pytest.approx([5.0, 5.0])
    assert b.loc[3:7].tolist() == pytest.approx([3.0] * 5)        # months 3..7: 60 %
    assert b.loc[8:].tolist() == pytest.approx([5.0] * (24 - 7))  # back to full from month 8


def test_permanent_budget_cut_stays():
    _, df = run(shock_list=[{"kind": "budget_cut", "step": 2, "strength": 0.25}], budget_per_1000=8.0)
    assert df["budget_in"].loc[2:].tolist() == pytest.approx([6.0] * 23)


def test_total_budget_cut_and_its_end():
    _, df = run(shock_list=[{"kind": "budget_cut", "step": 4, "strength": 1.0, "duration": 3}], budget_per_1000=5.0)
    assert df["budget_in"].loc[4:6].tolist() == [0.0, 0.0, 0.0]
    assert df["budget_in"].loc[7:].tolist() == pytest.approx([5.0] * 18)


def test_overlapping_budget_cuts_compound():
    _, df = run(shock_list=[{"kind": "budget_cut", "step": 2, "strength": 0.5, "duration": 10},
                            {"kind": "budget_cut", "step": 4, "strength": 0.5, "duration": 2}], budget_per_1000=4.0)
    b = df["budget_in"]
    assert b.loc[2:3].tolist() == pytest.approx([2.0, 2.0])
    assert b.loc[4:5].tolist() == pytest.approx([1.0, 1.0])
    assert b.loc[6:11].tolist() == pytest.approx([2.0] * 6)
    assert b.loc[12:].tolist() == pytest.approx([4.0] * 13)


# ------------------------------------------------------------------ programme end
def test_programme_end_stops_wage_subsidies_and_project_funding_for_good():
    base = load_scenario(SCENARIOS / "job_creation.toml")
    m = model(seed=1, base=base, budget_per_1000=20.0,
              shock_list=[{"kind": "programme_end", "step": 6}])
    m.run(24)
    df = m.measures_frame()
    split = base.budget_split
    budget = 20.0 * 1000 / 1000
    assert df["budget_in"].loc[1:5].tolist() == pytest.approx([budget] * 5)
    left = budget * (1 - split["share_wage_subsidy"] - split["share_project_funding"])
    assert df["budget_in"].loc[6:].tolist() == pytest.approx([left] * 19)
    assert df["jobs_subsidised"].loc[1:5].min() > 0
    assert (df["jobs_subsidised"].loc[6:] == 0).all()
    assert not m.government.programme_active


# ------------------------------------------------------------------ downturn
def test_downturn_lowers_the_economy_and_mainstream_employment():
    m = model(seed=2, mainstream_employment=0.8)
    pop = m.population
    mainstream = (pop.employment == MAINSTREAM).sum()
    eco = pop.employment == ECOSYSTEM
    shocks.fire(m, Shock(kind="downturn", step=1, strength=0.5))
    assert m.economy == pytest.approx(0.5)
    after = (pop.employment == MAINSTREAM).sum()
    # each mainstream job is lost with chance 0.3 x strength = 15 %
    assert 0.80 * mainstream < after < 0.90 * mainstream
    np.testing.assert_array_equal(pop.employment == ECOSYSTEM, eco)   # ecosystem jobs untouched here
    assert set(np.unique(pop.employment)) <= {UNEMPLOYED, MAINSTREAM, ECOSYSTEM}


def test_temporary_downturn_ends_and_mainstream_jobs_come_back():
    m = model(seed=3, shock_list=[{"kind": "downturn", "step": 5, "strength": 0.6, "duration": 6}], steps=60)
    pop = m.population
    share = []
    for _ in range(60):
        m.step()
        share.append((pop.employment == MAINSTREAM).mean())
    df = m.measures_frame()
    assert df["economy"].loc[:4].tolist() == [1.0] * 5
    assert df["economy"].loc[5:10].tolist() == pytest.approx([0.4] * 6)
    assert df["economy"].loc[11:].tolist() == pytest.approx([1.0] * 50)
    lowest = min(share[4:12])
    assert lowest < share[3] - 0.05                   # the shock cost mainstream jobs
    assert share[-1] > lowest + 0.5 * (share[3] - lowest)   # at least half of them came back


def test_total_downturn_ends_back_at_normal():
    _, df = run(seed=4, shock_list=[{"kind": "downturn", "step": 2, "strength": 1.0, "duration": 3}])
    assert df["economy"].loc[2:4].tolist() == [0.0, 0.0, 0.0]
    assert df["economy"].loc[5:].tolist() == [1.0] * 20


def test_downturn_lowers_household_spending_on_solutions():
    _, base = run(seed=5, steps=24)
    _, hit = run(seed=5, steps=24, shock_list=[{"kind": "downturn", "step": 1, "strength": 0.9}])
    assert hit["economy"].iloc[-1] == pytest.approx(0.1)
    # firms earn outside revenue in proportion to the economy: their cash suffers
    assert hit["org_cash"].iloc[-1] < base["org_cash"].iloc[-1]


# ------------------------------------------------------------------ keystone loss
def _region_with_hubs(seed=6):
    m = model(seed=seed, intermediaries_per_10000=50, firms_per_1000=20)   # 10 communities, 5 brokers, 20 firms
    brokers = m.intermediaries()
    others = [o for o in m.organisations() if o.kind != "intermediary"]
    hub_broker, minor_broker = brokers[1], brokers[3]
    hub_firm = others[2]
    for o in others[5:8]:
        m.link(hub_broker, o)                    # 3 partners
    m.link(minor_broker, others[9])              # 1 partner
    for o in others[10:14]:
        m.link(hub_firm, o)                      # 4 partners
    return m, hub_broker, minor_broker, hub_firm


def test_keystone_loss_removes_the_most_central_organisation_of_the_target_kind():
    m, hub_broker, minor_broker, hub_firm = _region_with_hubs()
    n_orgs = len(m.organisations())
    shocks.fire(m, Shock(kind="keystone_loss", step=1, target="intermediary", count=1))
    assert not hub_broker.alive and hub_broker not in m.organisations()
    assert minor_broker.alive and hub_firm.alive      # a firm is not an intermediary, however central
    assert len(m.organisations()) == n_orgs - 1
    assert all(hub_broker.unique_id not in e for e in m.partnerships)


def test_a_closed_intermediary_no_longer_serves_its_communities():
    m, hub_broker, _, _ = _region_with_hubs()
    shocks.fire(m, Shock(kind="keystone_loss", step=1, target="intermediary", count=1))
    assert not hub_broker.alive
    assert all(m.intermediary_for(c) is not hub_broker for c in hub_broker.communities)


def test_keystone_loss_of_any_kind_takes_the_most_partnered_first():
    m, hub_broker, minor_broker, hub_firm = _region_with_hubs()
    shocks.fire(m, Shock(kind="keystone_loss", step=1, target="any", count=2))
    assert not hub_firm.alive and not hub_broker.alive   # 4 and 3 partners
    assert minor_broker.alive


def test_keystone_loss_in_a_run_closes_one_intermediary_at_the_scheduled_month():
    over = {"intermediaries_per_10000": 50}
    twin, tdf = run(seed=7, **over)
    shocked, sdf = run(seed=7, shock_list=[{"kind": "keystone_loss", "step": 10}], **over)
    assert shocked.shock_log == [(10, "keystone_loss")]
    assert twin.shock_log == []
    assert sdf.loc[:9].equals(tdf.loc[:9])               # identical until the shock
    assert sdf.loc[10, "orgs_intermediary"] == tdf.loc[10, "orgs_intermediary"] - 1
    assert shocked.counters["closed_intermediary"] == twin.counters["closed_intermediary"] + 1


# ------------------------------------------------------------------ need surge
@pytest.mark.parametrize("domain", ["health_welfare", "migration"])
def test_need_surge_raises_need_in_its_domain_only(domain):
    m = model(seed=8)
    pop = m.population
    pop.need[:5] = 0.95                               # some already near the top
    before = pop.need.copy()
    shocks.fire(m, Shock(kind="need_surge", step=1, domain=domain, strength=0.3))
    d = DOMAINS.index(domain)
    np.testing.assert_allclose(pop.need[:, d], np.minimum(1.0, before[:, d] + 0.3))
    assert (pop.need[:5, d] == 1.0).all()
    others = [k for k in range(len(DOMAINS)) if k != d]
    np.testing.assert_array_equal(pop.need[:, others], before[:, others])


def test_need_surge_shows_in_unmet_need():
    _, base = run(seed=9, steps=12)
    _, hit = run(seed=9, steps=12, shock_list=[{"kind": "need_surge", "step": 6, "strength": 0.5}])
    assert hit["unmet_need"].loc[:5].equals(base["unmet_need"].loc[:5])
    assert hit.loc[6, "unmet_need"] > base.loc[6, "unmet_need"] + 0.05


# ------------------------------------------------------------------ schedule
def test_shocks_fire_at_their_month_in_order():
    m, _ = run(seed=10, shock_list=[{"kind": "downturn", "step": 7, "strength": 0.1},
                                    {"kind": "budget_cut", "step": 3, "strength": 0.1},
                                    {"kind": "need_surge", "step": 7, "strength": 0.1}])
    assert m.shock_log == [(3, "budget_cut"), (7, "downturn"), (7, "need_surge")]


def test_a_run_without_shocks_is_untouched():
    m, df = run(seed=11)
    assert m.shock_log == []
    assert (df["economy"] == 1.0).all()
    assert m.government.budget_factor == 1.0 and m.government.programme_active


@pytest.mark.parametrize("kind, column, normal", [("downturn", "economy", 1.0), ("budget_cut", "budget_in", 5.0)])
def test_overlapping_temporary_shocks_with_a_total_one_end_back_at_normal(kind, column, normal):
    _, df = run(seed=12, budget_per_1000=5.0,
                shock_list=[{"kind": kind, "step": 2, "strength": 0.5, "duration": 10},
                            {"kind": kind, "step": 4, "strength": 1.0, "duration": 2}])
    assert df[column].loc[6:11].tolist() == pytest.approx([0.5 * normal] * 6)   # the first is still running
    assert df[column].loc[12:].tolist() == pytest.approx([normal] * 13)         # and then all is back to normal
