"""Adoption (outreach, imitation on the network, fit), need relief and payment, need growth.

Each test sets the state by hand on a small model: which solution is on offer where, who
needs it, who already uses it; then calls one mechanism and compares against a twin.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecosystem_sim import diffusion
from ecosystem_sim.innovation import Solution
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import default_scenario


def small_model(seed=0, **over) -> EcosystemModel:
    levers = {"n_citizens": 1000, "citizens_per_community": 100, "steps": 60, **over}
    return EcosystemModel(default_scenario().with_overrides(levers), rng=seed)


def offer_everywhere(m, fit, domain=0, seed_share=0.05, need=0.9, capacity=None) -> Solution:
    """One solution offered in every community; everybody needs it and would accept any fit;
    the share ``seed_share`` of citizens (evenly spread by number, the same in twin models) already use it.
    Its service capacity is everybody (``capacity`` None) unless given."""
    pop = m.population
    provider = m.firms()[0]
    sol = Solution(id=0, domain=domain, fit=fit, provider=provider, open=True, created=m.steps,
                   communities=set(range(pop.n_communities)),
                   capacity=float(pop.n) if capacity is None else float(capacity))
    m.solutions = [sol]
    provider.solutions.append(sol)
    pop.need[:, domain] = need
    pop.fit_required[:] = 0.0
    pop.adopted[:] = -1
    first = np.unique(np.linspace(0, pop.n - 1, int(round(seed_share * pop.n))).astype(int))
    pop.adopted[first, domain] = sol.id  # spread evenly over the region
    m.users_by_solution = np.array([first.size])
    return sol


def users(m, domain=0) -> int:
    return int((m.population.adopted[:, domain] >= 0).sum())


def no_reach(m):
    return np.zeros((m.population.n_communities, 5))


# ------------------------------------------------------------------ adoption
def test_better_fitting_solution_spreads_faster_on_the_same_network():
    counts = {}
    for fit in (0.3, 0.9):
        m = small_model(seed=1)
        offer_everywhere(m, fit)
        start = users(m)
        path = []
        for _ in range(12):
            diffusion.adopt(m, no_reach(m))
            path.append(users(m))
        counts[fit] = (start, path)
    (s_lo, lo), (s_hi, hi) = counts[0.3], counts[0.9]
    assert s_lo == s_hi
    assert hi[2] > lo[2] and hi[-1] > lo[-1]
    assert hi[-1] - s_hi > 2 * (lo[-1] - s_lo)


def test_imitation_spreads_along_ties():
    """With no outreach, new users are mostly neighbours of users; without imitation hardly anyone adopts."""
    gained = {}
    for imitation in (0.0, 1.5):
        m = small_model(seed=2, imitation=imitation)
        offer_everywhere(m, 1.0, seed_share=0.1)
        pop = m.population
        before = pop.adopted[:, 0] >= 0
        exposed = (pop.ties @ before.astype(float)) > 0
        diffusion.adopt(m, no_reach(m))
        new = (pop.adopted[:, 0] >= 0) & ~before
        gained[imitation] = new.sum()
        if imitation > 0:
            assert new.sum() > 50
            # a citizen with a using neighbour is far likelier to adopt than one without
            rate_exposed = new[exposed & ~before].mean()
            rate_unexposed = new[~exposed & ~before].mean() if (~exposed & ~before).any() else 0.0
            assert rate_exposed > 5 * rate_unexposed
    # only the rare spontaneous finds (fit x 0.2 % a month of ~900 eligible) without imitation
    assert gained[0.0] <= 10
    assert gained[1.5] > 10 * max(gained[0.0], 1)


def test_outreach_reaches_the_community_it_is_spent_in():
    m = small_model(seed=3, imitation=0.0)
    offer_everywhere(m, 1.0, seed_share=0.0)
    pop = m.population
    reach = no_reach(m)
    reach[4, 0] = 10_000.0  # far more than the eligible residents of community 4
    diffusion.adopt(m, reach)
    adopted = pop.adopted[:, 0] >= 0
    in4 = pop.community == 4
    # awareness 1 and hazard fit * (0.5 + 0.5 trust) >= 0.5 for every resident of community 4
    assert adopted[in4].mean() > 0.5
    assert adopted[~in4].mean() < 0.02


def test_citizens_who_require_more_fit_do_not_adopt():
    m = small_model(seed=4)
    offer_everywhere(m, 0.5, seed_share=0.0)
    pop = m.population
    picky = np.arange(pop.n) % 2 == 0
    pop.fit_required[picky] = 0.6
    reach = np.full((pop.n_communities, 5), 10_000.0)
    for _ in range(6):
        diffusion.adopt(m, reach)
    adopted = pop.adopted[:, 0] >= 0
    assert not adopted[picky].any()
    assert adopted[~picky].mean() > 0.5


def test_citizens_below_the_need_threshold_do_not_adopt():
    m = small_model(seed=5, need_threshold=0.3)
    offer_everywhere(m, 1.0, seed_share=0.0)
    pop = m.population
    low = np.arange(pop.n) % 3 == 0
    pop.need[low, 0] = 0.29
    reach = np.full((pop.n_communities, 5), 10_000.0)
    for _ in range(6):
        diffusion.adopt(m, reach)
    adopted = pop.adopted[:, 0] >= 0
    assert not adopted[low].any()
    assert adopted[~low].mean() > 0.5


def test_nobody_adopts_where_nothing_is_offered():
    m = small_model(seed=6)
    sol = offer_everywhere(m, 1.0, seed_share=0.0)
    sol.communities = {0}
    pop = m.population
    diffusion.adopt(m, np.full((pop.n_communities, 5), 10_000.0))
    adopted = pop.adopted[:, 0] >= 0
    assert adopted[pop.community == 0].any()
    assert not adopted[pop.community != 0].any()


def test_users_of_poorly_fitting_solutions_give_them_up():
    kept = {}
    for fit in (0.05, 1.0):
        m = small_model(seed=7, imitation=0.0)
        offer_everywhere(m, fit, seed_share=0.5)
        m.population.need[:, 0] = 0.0      # nobody new adopts; only churn acts
        for _ in range(12):
            diffusion.adopt(m, no_reach(m))
        kept[fit] = users(m)
    assert kept[1.0] == 500            # a perfect fit is never given up
    assert kept[0.05] < 450            # ~3 % a month leave a bad one


def test_best_fitting_offer_wins():
    m = small_model(seed=8)
    offer_everywhere(m, 0.4, seed_share=0.0)
    provider = m.firms()[1]
    better = Solution(id=1, domain=0, fit=0.9, provider=provider, open=False, created=0, communities={0, 1},
                      capacity=10.0)
    m.users_by_solution = np.array([0, 0])
    m.solutions.append(better)
    best_fit, best_sol = diffusion.offer(m)
    assert best_sol[0, 0] == 1 and best_fit[0, 0] == 0.9
    assert best_sol[2, 0] == 0 and best_fit[2, 0] == 0.4
    assert (best_sol[:, 1:] == -1).all() and (best_fit[:, 1:] == 0).all()
    better.alive = False
    _, best_sol = diffusion.offer(m)
    assert best_sol[0, 0] == 0
    better.alive = True
    m.users_by_solution = np.array([0, 10])                 # the better one is full: the other is offered
    _, best_sol = diffusion.offer(m)
    assert best_sol[0, 0] == 0


# ------------------------------------------------------------------ relief and payment
def test_users_need_falls_with_fit_and_non_users_need_does_not():
    m = small_model(seed=9)
    sol = offer_everywhere(m, 0.8, seed_share=0.3)
    pop = m.population
    before = pop.need.copy()
    using = pop.adopted[:, 0] >= 0
    diffusion.relieve_and_pay(m)
    # a solution of fit f removes the share relief * f of its user's need each month
    np.testing.assert_allclose(pop.need[using, 0], before[using, 0] * (1 - m.spec.relief * sol.fit))
    assert (pop.need[using, 0] < before[using, 0]).all()
    np.testing.assert_array_equal(pop.need[~using, 0], before[~using, 0])
    np.testing.assert_array_equal(pop.need[:, 1:], before[:, 1:])


@pytest.mark.parametrize("open_, markup", [(True, 1.0), (False, 1.5)])
def test_users_pay_their_provider_who_reinvests_in_capacity(open_, markup):
    m = small_model(seed=10, price=0.01, price_capital_slope=1.0, proprietary_markup=0.5, reinvest_share=0.2,
                    deploy_cost_per_user=0.5)
    sol = offer_everywhere(m, 0.8, seed_share=0.2)
    sol.open = open_
    pop = m.population
    using = np.nonzero(pop.adopted[:, 0] >= 0)[0]
    mean = m.spec.capital_mean
    sales = markup * sum(0.01 * (1.0 + (pop.capital[i] - mean)) for i in using)
    cash, ledger_sales, gap = sol.provider.cash, m.ledger.sources["sales"], m.money_total() - m.ledger.net
    capacity = sol.capacity
    diffusion.relieve_and_pay(m)
    assert m.ledger.sources["sales"] - ledger_sales == pytest.approx(sales)
    assert sol.provider.cash - cash == pytest.approx(0.8 * sales)          # a fifth is reinvested
    assert sol.capacity - capacity == pytest.approx(0.2 * sales / 0.5)
    assert m.money_total() - m.ledger.net == pytest.approx(gap, abs=1e-9)
    np.testing.assert_array_equal(m.users_by_solution, [using.size])


def test_spending_follows_the_economy():
    revenue = {}
    for economy in (1.0, 0.5):
        m = small_model(seed=11)
        sol = offer_everywhere(m, 0.8, seed_share=0.2)
        m.economy = economy
        cash = sol.provider.cash
        diffusion.relieve_and_pay(m)
        revenue[economy] = sol.provider.cash - cash
    assert revenue[0.5] == pytest.approx(0.5 * revenue[1.0])


def test_nobody_pays_a_solution_without_provider():
    m = small_model(seed=12)
    sol = offer_everywhere(m, 0.8, seed_share=0.2)
    sol.provider = None
    sales = m.ledger.sources["sales"]
    diffusion.relieve_and_pay(m)
    assert m.ledger.sources["sales"] == sales


def test_withdrawn_solution_loses_its_users_only():
    m = small_model(seed=13)
    sol = offer_everywhere(m, 0.8, seed_share=0.2)
    pop = m.population
    pop.adopted[:10, 1] = 0  # same id in another domain is a different slot; must stay
    diffusion.withdraw(m, sol)
    assert not sol.alive
    assert (pop.adopted[:, 0] == -1).all()
    assert (pop.adopted[:10, 1] == 0).all()


# ------------------------------------------------------------------ need growth
def test_need_grows_under_structural_pressure():
    grown = {}
    for growth in (0.0, 0.02):
        m = small_model(seed=14, need_growth=growth, need_resolution=0.0)
        before = m.population.need.copy()
        m._citizens()
        grown[growth] = (before, m.population.need.copy())
    before0, after0 = grown[0.0]
    np.testing.assert_array_equal(after0, before0)            # no pressure, no resolution: no change
    before, after = grown[0.02]
    room = (before < 1.0) & (m.population.situation > 0)
    assert (after[room] > before[room]).all()
    assert after.max() <= 1.0


def test_need_passes_at_the_resolution_rate_without_new_need():
    m = small_model(seed=14, need_growth=0.0, need_resolution=0.03)
    before = m.population.need.copy()
    m._citizens()
    np.testing.assert_allclose(m.population.need, before * 0.97, rtol=1e-12)


def test_unserved_need_settles_where_arising_and_passing_balance():
    """need_growth x pressure x situation / need_resolution, per citizen and domain."""
    m = small_model(seed=14, need_growth=0.002, need_resolution=0.05, need_spread=0.2)
    for _ in range(600):
        m._citizens()
    level = 0.002 * m.pressure[None, :] * m.population.situation / 0.05
    inside = level < 0.95  # cells whose level is below the cap of 1
    assert inside.mean() > 0.9
    np.testing.assert_allclose(m.population.need[inside], level[inside], rtol=1e-6)


def test_need_is_capped_at_one():
    m = small_model(seed=15, need_growth=0.05)
    m.population.need[:] = 0.999
    for _ in range(5):
        m._citizens()
    assert m.population.need.max() == 1.0


def test_in_a_run_need_rises_without_solutions_and_falls_with_a_fitting_one():
    """No budget, no innovation: need rises toward its settling level (need_growth 0.01 is above the default need_resolution x initial need). A perfectly fitting solution used by everyone turns it down."""
    m = small_model(seed=16, budget_per_1000=0.0, need_growth=0.01)
    start = m.population.need.mean()
    m.run(12)
    assert m.population.need.mean() > start

    m2 = small_model(seed=16, budget_per_1000=0.0, need_growth=0.01)
    offer_everywhere(m2, 1.0, seed_share=1.0, need=0.8)
    m2.solutions[0].open = True
    before = m2.population.need[:, 0].mean()
    m2.run(12)
    assert m2.population.need[:, 0].mean() < before


# ------------------------------------------------------------------ service capacity
def test_a_pilot_gets_no_more_users_than_its_capacity():
    """001 talk 2: R&D alone reaches almost no users. A pilot with capacity for its 5 users and no
    follow-up, procurement, loans or sales to deploy more stays at 5 users however much outreach."""
    m = small_model(seed=17, price=0.0, budget_per_1000=0.0)
    sol = offer_everywhere(m, 1.0, seed_share=0.005, capacity=5)
    assert users(m) == 5
    reach = np.full((m.population.n_communities, 5), 10_000.0)
    for _ in range(12):
        diffusion.adopt(m, reach)
        diffusion.relieve_and_pay(m)
        assert users(m) <= 5
    assert sol.capacity == 5.0


def test_free_capacity_caps_new_users_and_more_capacity_brings_more():
    gained = {}
    for capacity in (60, 600):
        m = small_model(seed=18, churn=0.0)
        offer_everywhere(m, 1.0, seed_share=0.05, capacity=capacity)
        start = users(m)
        diffusion.adopt(m, np.full((m.population.n_communities, 5), 10_000.0))
        gained[capacity] = users(m) - start
    assert gained[60] == 60 - 50                              # exactly the free places
    assert gained[600] > 5 * gained[60]


def test_within_capacity_keeps_each_solutions_free_places():
    m = small_model(seed=19)
    provider = m.firms()[0]
    m.solutions = [Solution(id=i, domain=0, fit=1.0, provider=provider, open=True, created=0, communities={0},
                            capacity=c) for i, c in enumerate((3.0, 10.0, 2.5))]
    m.users_by_solution = np.array([1, 0, 0])
    ids = np.array([0] * 5 + [1] * 4 + [2] * 5)
    keep = diffusion._within_capacity(m, ids, np.random.default_rng(0))
    assert keep[ids == 0].sum() == 2 and keep[ids == 1].sum() == 4 and keep[ids == 2].sum() == 2


def test_follow_up_money_raises_capacity_and_users():
    """The same pilot with and without follow-up money over a year: follow-up deploys capacity
    and pays outreach, so more residents use it."""
    from ecosystem_sim import innovation

    result = {}
    for followup in (0.0, 30.0):
        m = small_model(seed=20, price=0.0, budget_per_1000=0.0, imitation=0.0)
        sol = offer_everywhere(m, 1.0, seed_share=0.005, capacity=5)
        sol.followup, sol.followup_until = followup, m.steps + 11
        for _ in range(12):
            reach = np.zeros((m.population.n_communities, 5))
            innovation.follow_up(m, reach)
            diffusion.adopt(m, reach)
            diffusion.relieve_and_pay(m)
            m.steps += 1
        result[followup] = (sol.capacity, users(m))
    assert result[0.0] == (5.0, 5)
    assert result[30.0][0] > 20 and result[30.0][1] > 20
