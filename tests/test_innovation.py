"""The innovation cycle, one mechanism at a time, on small models whose state is set by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ecosystem_sim import innovation
from ecosystem_sim.innovation import Project, Solution
from ecosystem_sim.levers import DOMAINS
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import default_scenario


def small_model(seed=0, **over) -> EcosystemModel:
    levers = {"n_citizens": 600, "citizens_per_community": 100, "steps": 60, **over}
    return EcosystemModel(default_scenario().with_overrides(levers), rng=seed)


def a_firm(m):
    return m.firms()[0]


def hand_project(m, lead, *, duration=10, deadline_in=36, scope=100.0, grant_dev=40.0, followup=10.0,
                 domain=0, partners=(), n_participants=6) -> Project:
    members = m.population.members(lead.community)
    return Project(lead=lead, partners=list(partners), domain=domain, community=lead.community, by_citizens=True,
                   participants=members[:n_participants].copy(), scope=scope, grant_dev=grant_dev,
                   followup=followup, duration=duration, deadline=m.steps + deadline_in, start=m.steps)


def money_gap(m) -> float:
    return m.money_total() - m.ledger.net


def develop_until_settled(m, project, months=40):
    """Run development month by month (as the model's step does) until the project leaves the list."""
    for _ in range(months):
        innovation.develop(m)
        if project not in m.projects:
            return
        m.steps += 1
    raise AssertionError("project never settled")


# ------------------------------------------------------------------ programme length
def test_development_longer_than_the_programme_fails(monkeypatch):
    monkeypatch.setattr(innovation, "success_chance", lambda model, p: 1.0)  # only the deadline can stop it
    m = small_model()
    m.projects = []
    p = hand_project(m, a_firm(m), duration=10, deadline_in=6)
    m.projects.append(p)
    created, failed = m.counters["solutions_created"], m.counters["projects_failed"]
    develop_until_settled(m, p)
    assert m.counters["projects_failed"] == failed + 1
    assert m.counters["solutions_created"] == created
    assert m.solutions == []
    assert p.months < p.duration


def test_development_within_the_programme_can_succeed(monkeypatch):
    monkeypatch.setattr(innovation, "success_chance", lambda model, p: 1.0)
    m = small_model()
    m.projects = []
    p = hand_project(m, a_firm(m), duration=6, deadline_in=6)
    m.projects.append(p)
    develop_until_settled(m, p)
    assert m.counters["solutions_created"] == 1
    assert p.months == 6


def test_development_one_month_longer_than_the_programme_fails(monkeypatch):
    monkeypatch.setattr(innovation, "success_chance", lambda model, p: 1.0)
    m = small_model()
    m.projects = []
    p = hand_project(m, a_firm(m), duration=7, deadline_in=6)  # programme of 6 months, 7 needed
    m.projects.append(p)
    develop_until_settled(m, p)
    assert m.counters["solutions_created"] == 0
    assert p.months <= 6


@pytest.mark.parametrize("length, expect_success", [(6, False), (120, True)])
def test_programme_length_lever_decides_whether_a_started_project_can_finish(monkeypatch, length, expect_success):
    """Through start_project: dev_months = 20 cannot finish in a 6-month programme."""
    monkeypatch.setattr(innovation, "success_chance", lambda model, p: 1.0)
    m = small_model(programme_length=length, dev_months=20)
    m.projects = []
    m.government.project_account = 200.0
    innovation.start_project(m, a_firm(m), 0, a_firm(m).community, True, grant=200.0)
    (p,) = m.projects
    assert p.duration >= 20
    develop_until_settled(m, p, months=80)
    assert (m.counters["solutions_created"] == 1) is expect_success


# ------------------------------------------------------------------ safety net
@pytest.mark.parametrize("net, expected_refund", [(0.0, 0.0), (0.5, 30.0), (1.0, 60.0)])
def test_safety_net_refunds_part_of_the_leads_own_spending(net, expected_refund):
    """scope 100 fully developed, 40 of it paid by the grant: the lead spent 60 of its own."""
    m = small_model(seed=1, safety_net=net)
    gov = m.government
    gov.project_account = 500.0
    lead = a_firm(m)
    p = hand_project(m, lead, duration=10, scope=100.0, grant_dev=40.0, followup=10.0)
    p.months = 10
    m.projects = [p]
    gap = money_gap(m)
    cash, account = lead.cash, gov.project_account
    m.projects = []  # fail() settles a project that develop() has taken off the list
    innovation.fail(m, p)
    assert lead.cash - cash == pytest.approx(expected_refund)
    # the follow-up money goes back to the programme, less the refund
    assert gov.project_account == pytest.approx(account + 10.0 - expected_refund)
    assert money_gap(m) == pytest.approx(gap, abs=1e-9)


def test_safety_net_does_not_refund_grant_money():
    """Failing after 3 of 10 months: 30 spent, all from the 40 grant; nothing of the lead's own to refund."""
    m = small_model(seed=1, safety_net=1.0)
    m.government.project_account = 500.0
    lead = a_firm(m)
    p = hand_project(m, lead, duration=10, scope=100.0, grant_dev=40.0)
    p.months = 3
    cash = lead.cash
    innovation.fail(m, p)
    assert lead.cash == cash


def test_safety_net_refund_is_limited_by_the_programmes_money():
    m = small_model(seed=1, safety_net=1.0)
    m.government.project_account = 0.0
    lead = a_firm(m)
    p = hand_project(m, lead, duration=10, scope=100.0, grant_dev=40.0, followup=10.0)
    p.months = 10
    cash = lead.cash
    innovation.fail(m, p)
    assert lead.cash - cash == pytest.approx(10.0)
    assert m.government.project_account == pytest.approx(0.0, abs=1e-12)


def test_safety_net_keeps_learning_and_trust_after_failure():
    results = {}
    for net in (0.0, 1.0):
        m = small_model(seed=2, safety_net=net)
        lead = a_firm(m)
        p = hand_project(m, lead, duration=10, n_participants=8)
        p.months = 10
        trust0 = m.population.trust[p.participants].copy()
        cap0 = lead.capability
        innovation.fail(m, p)
        results[net] = (m.population.trust[p.participants] - trust0, lead.capability - cap0)
    (trust_no, learn_no), (trust_yes, learn_yes) = results[0.0], results[1.0]
    assert (trust_no < 0).all()        # failure without a net costs residents' trust
    assert (trust_yes >= 0).all()      # with a full net their trust is kept
    assert (trust_yes > trust_no).all()
    assert learn_no == 0.0 and learn_yes > 0.0  # and the team keeps (some of) the learning


# ------------------------------------------------------------------ team formation
def _broker_community(m):
    broker = m.intermediaries()[0]
    return broker, int(broker.communities[0])


def test_intermediary_matching_adds_partners_and_participants():
    sizes, partners, links = {}, {}, {}
    for with_broker in (True, False):
        m = small_model(seed=4, intermediaries_per_10000=50, local_cocreation=0.5)
        broker, c = _broker_community(m)
        assert broker.strength > 0
        if not with_broker:
            m._broker_of = {}  # the same region with no intermediary serving the community
        lead = next(o for o in m.organisations() if o.kind != "intermediary")
        m.projects = []
        innovation.start_project(m, lead, 1, c, True, grant=50.0)
        (p,) = m.projects
        sizes[with_broker] = p.participants.size
        partners[with_broker] = p.partners
        links[with_broker] = len(m.partnerships)
        if with_broker:
            assert broker in p.partners and broker.matches == 1
            assert lead not in p.partners
            assert all((min(lead.unique_id, o.unique_id), max(lead.unique_id, o.unique_id)) in m.partnerships
                       for o in p.partners)
    assert partners[False] == []
    assert len(partners[True]) == 3            # two organisations found by the broker, and the broker
    assert sizes[True] == 2 * sizes[False]     # living-lab recruitment doubles the residents taking part
    assert sizes[False] == round(2 + 10 * 0.5)
    assert links[True] == 3 and links[False] == 0


def test_an_exhausted_intermediary_matches_no_more():
    m = small_model(seed=4, intermediaries_per_10000=50)
    broker, c = _broker_community(m)
    broker.matches = int(2 * broker.strength)
    m.projects = []
    innovation.start_project(m, a_firm(m), 1, c, True, grant=50.0)
    assert m.projects[0].partners == []


def test_participants_come_from_the_topics_community():
    m = small_model(seed=5, local_cocreation=1.0)
    m.projects = []
    innovation.start_project(m, a_firm(m), 2, 3, True, grant=50.0)
    p = m.projects[0]
    assert (m.population.community[p.participants] == 3).all()
    assert np.unique(p.participants).size == p.participants.size


def test_start_project_moves_the_grant_and_conserves_money():
    m = small_model(seed=5, followup_share=0.25)
    m.government.project_account = 80.0
    m.ledger.source("test", 80.0)
    lead = a_firm(m)
    gap, cash = money_gap(m), lead.cash
    m.projects = []
    innovation.start_project(m, lead, 0, lead.community, False, grant=80.0)
    p = m.projects[0]
    assert lead.cash - cash == pytest.approx(60.0)
    assert p.followup == pytest.approx(20.0)
    assert m.government.project_account == pytest.approx(0.0)
    assert money_gap(m) == pytest.approx(gap, abs=1e-9)


def test_underfunded_projects_take_longer():
    m = small_model(seed=6, local_cocreation=0.0, dev_months=8, followup_share=0.0)
    a, b = m.firms()[:2]
    a.cash = b.cash = 0.0  # nothing of their own to add
    m.projects = []
    innovation.start_project(m, a, 0, a.community, False, grant=100.0)   # fully costed
    innovation.start_project(m, b, 0, b.community, False, grant=20.0)    # a fifth of the cost
    full, thin = m.projects
    assert full.scope == pytest.approx(100.0) and thin.scope == pytest.approx(20.0)
    assert full.duration == 8
    assert thin.duration > full.duration


# ------------------------------------------------------------------ success and fit
def test_success_chance_rises_with_capability_funding_and_commons():
    m = small_model(seed=7)
    lead = a_firm(m)
    p = hand_project(m, lead, scope=50.0)

    def chance(capability=0.5, scope=50.0, commons=0.0):
        lead.capability = capability
        p.scope = scope
        m.commons_stock = commons
        return innovation.success_chance(m, p)

    assert chance(capability=0.9) > chance(capability=0.1)
    assert chance(scope=100.0) > chance(scope=10.0)
    assert chance(commons=50.0) > chance(commons=0.0)
    for c in (chance(0.0, 1.0, 0.0), chance(1.0, 100.0, 1e6)):
        assert 0.02 <= c <= 0.95


def test_co_created_citizen_defined_solutions_fit_better_than_imported_ones():
    fits = {}
    for cocreation, by_citizens in ((0.0, False), (1.0, True)):
        m = small_model(seed=8, local_cocreation=cocreation)
        p = hand_project(m, a_firm(m))
        p.by_citizens = by_citizens
        fits[cocreation] = np.array([innovation.solution_fit(m, p) for _ in range(200)])
    assert fits[1.0].mean() > fits[0.0].mean() + 0.3
    for f in fits.values():
        assert f.min() >= 0.05 and f.max() <= 1.0


def test_success_creates_a_solution_its_co_creators_use():
    m = small_model(seed=9, commons_share=1.0)
    lead = a_firm(m)
    p = hand_project(m, lead, n_participants=10, domain=2)
    pop = m.population
    pop.need[p.participants, 2] = 0.9        # every co-creator has the need
    cap0, commons0 = lead.capability, m.commons_stock
    innovation.succeed(m, p)
    (sol,) = m.solutions
    assert sol.domain == 2 and sol.provider is lead and sol.open
    assert sol.communities == {lead.community}
    assert sol.followup == p.followup
    assert (pop.adopted[p.participants, 2] == sol.id).all()
    assert lead.capability > cap0                    # the maker learns
    assert m.commons_stock > commons0                # an open result adds to the commons
    assert m.counters["solutions_created"] == 1


def test_proprietary_results_add_nothing_to_the_commons():
    m = small_model(seed=9, commons_share=0.0)
    p = hand_project(m, a_firm(m))
    innovation.succeed(m, p)
    assert m.commons_stock == 0.0
    assert not m.solutions[0].open


# ------------------------------------------------------------------ the call
def test_merit_allocation_funds_fully_costed_projects():
    m = small_model(seed=10, allocation_by_merit=1.0, project_cost=100.0)
    m.projects = []
    m.government.project_account = 350.0
    innovation.call_for_projects(m)
    assert len(m.projects) == 3                                   # 350 // 100
    for p in m.projects:
        assert p.grant_dev + p.followup == pytest.approx(350.0 / 3)
    assert m.government.project_account == pytest.approx(0.0, abs=1e-9)
    assert len({id(p.lead) for p in m.projects}) == 3             # three different leads


def test_uniform_allocation_spreads_the_pot_over_every_applicant():
    m = small_model(seed=10, allocation_by_merit=0.0)
    m.projects = []
    m.government.project_account = 350.0
    applicants = [o for o in m.organisations() if o.kind != "intermediary"]
    innovation.call_for_projects(m)
    assert len(m.projects) == len(applicants)
    assert {id(p.lead) for p in m.projects} == {id(o) for o in applicants}
    for p in m.projects:
        assert p.grant_dev + p.followup == pytest.approx(350.0 / len(applicants))


def test_no_call_without_money():
    m = small_model(seed=10)
    m.projects = []
    m.government.project_account = 0.5
    innovation.call_for_projects(m)
    assert m.projects == []


def test_citizens_define_topics_by_their_voiced_need():
    m = small_model(seed=11, citizen_problem_definition=1.0)
    pop = m.population
    pop.need[:] = 0.0
    pop.need[pop.community == 2, 3] = 0.8      # the only need voiced: domain 3 in community 2
    topics = innovation.choose_topics(m, 40)
    assert all(t == (3, 2, True) for t in topics)


def test_officials_pick_topics_by_their_agenda():
    m = small_model(seed=11, citizen_problem_definition=0.0)
    m.government.agenda = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    m.population.need[:] = 0.0
    m.population.need[:, 4] = 0.9              # whatever citizens need...
    topics = innovation.choose_topics(m, 40)
    assert all(d == 2 and not by_cit for d, _, by_cit in topics)   # ...officials fund their agenda
    assert len({c for _, c, _ in topics}) > 1                      # spread over communities by size


# ------------------------------------------------------------------ closure, scale-out, retirement
def _solution(m, sid, provider, domain, *, open_, fit=0.8, communities=None):
    sol = Solution(id=sid, domain=domain, fit=fit, provider=provider, open=open_, created=m.steps,
                   communities=set(communities if communities is not None else {provider.community}))
    m.solutions.append(sol)
    provider.solutions.append(sol)
    return sol


def test_open_solutions_survive_their_providers_closure_and_proprietary_ones_are_withdrawn():
    m = small_model(seed=12, intermediaries_per_10000=50)
    pop = m.population
    provider = a_firm(m)
    d_open, d_prop = provider.domain, (provider.domain + 1) % len(DOMAINS)
    m.solutions = []
    commons = _solution(m, 0, provider, d_open, open_=True)
    owned = _solution(m, 1, provider, d_prop, open_=False)
    users = pop.members(provider.community)[:20]
    pop.adopted[users, d_open] = 0
    pop.adopted[users, d_prop] = 1
    provider.close()
    assert not provider.alive
    assert commons.alive
    assert commons.provider is not None and commons.provider is not provider and commons.provider.alive
    assert commons.provider.domain == d_open or commons.provider.kind == "intermediary"
    assert commons in commons.provider.solutions
    assert (pop.adopted[users, d_open] == 0).all()          # users keep the commons solution
    assert not owned.alive
    assert (pop.adopted[users, d_prop] == -1).all()         # and lose the proprietary one


def test_closing_removes_the_organisation_and_its_partnerships():
    m = small_model(seed=12)
    a, b, c = m.organisations()[:3]
    m.link(a, b)
    m.link(b, c)
    jobs = [x for x in a.staff if x >= 0]
    a.close()
    assert a not in m.organisations()
    assert m.partnerships == {(min(b.unique_id, c.unique_id), max(b.unique_id, c.unique_id))}
    assert all(m.population.employment[x] == 0 for x in jobs)   # its staff are unemployed
    assert m.counters["closed"] == 1


def test_commons_solutions_scale_out_without_a_capable_owner_proprietary_ones_do_not():
    m = small_model(seed=13)
    pop = m.population
    provider = a_firm(m)
    provider.capability = 0.0            # a proprietary maker with no capability cannot push
    home = provider.community
    m.solutions = []
    commons = _solution(m, 0, provider, 0, open_=True, fit=1.0)
    owned = _solution(m, 1, provider, 1, open_=False, fit=1.0)
    members = pop.members(home)
    users = np.zeros((2, pop.n_communities), dtype=np.int64)
    users[:, home] = members.size        # everybody at home uses both
    for _ in range(60):
        m.users_by_solution_community = users
        innovation.scale_out(m)
    assert len(commons.communities) > 1
    assert owned.communities == {home}


def test_unused_solutions_never_scale_out():
    m = small_model(seed=13)
    m.solutions = []
    sol = _solution(m, 0, a_firm(m), 0, open_=True, fit=1.0)
    for _ in range(60):
        m.users_by_solution_community = np.zeros((1, m.population.n_communities), dtype=np.int64)
        innovation.scale_out(m)
    assert len(sol.communities) == 1


def test_solutions_nobody_uses_are_retired():
    m = small_model(seed=14)
    m.solutions = []
    idle = _solution(m, 0, a_firm(m), 0, open_=True)
    used = _solution(m, 1, a_firm(m), 1, open_=True)
    users = np.zeros((2, m.population.n_communities), dtype=np.int64)
    users[1, used.provider.community] = 5
    m.users_by_solution_community = users
    m.users_by_solution = users.sum(axis=1)     # both are kept by diffusion.relieve_and_pay
    m.steps = innovation.RETIRE_AFTER           # not yet
    innovation.retire(m)
    assert idle.alive
    m.steps = innovation.RETIRE_AFTER + 1
    innovation.retire(m)
    assert not idle.alive
    assert used.alive and used.last_used == m.steps


def test_a_project_dies_with_its_lead_and_its_follow_up_money_returns():
    m = small_model(seed=15)
    lead = a_firm(m)
    p = hand_project(m, lead, followup=12.0)
    m.projects = [p]
    account = m.government.project_account
    lead.close()
    innovation.develop(m)
    assert m.projects == []
    assert m.government.project_account == pytest.approx(account + 12.0)
    assert m.counters["projects_failed"] == 1
