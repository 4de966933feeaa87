"""The innovation cycle, one mechanism at a time, on small models whose state is set by hand:
officials' lagged view of need and the topic rules, the call funnel and its allocation rules,
team formation (participants, matching, project staff), development (knowledge, success,
deadline), the safety net and retries, follow-up after the pilot, scale-out and retirement.

Expected values are worked out from the lever values (``model.spec``), never read back from
the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ecosystem_sim import innovation
from ecosystem_sim.innovation import Project, Solution, Team
from ecosystem_sim.levers import DOMAINS
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.population import ECOSYSTEM, UNEMPLOYED
from ecosystem_sim.scenario import default_scenario

N_DOM = len(DOMAINS)


def small_model(seed=0, **over) -> EcosystemModel:
    levers = {"n_citizens": 600, "citizens_per_community": 100, "steps": 60, **over}
    return EcosystemModel(default_scenario().with_overrides(levers), rng=seed)


def a_firm(m, i=0):
    return m.firms()[i]


def hand_project(m, lead, *, duration=10, deadline_in=36, scope=100.0, plan_dev=100.0, grant_dev=40.0,
                 followup=10.0, domain=0, partners=(), n_participants=6, lab_months=0, attempt=1) -> Project:
    members = m.population.members(lead.community)
    return Project(lead=lead, partners=list(partners), domain=domain, community=lead.community,
                   participants=members[:n_participants].copy(), scope=scope, grant_dev=grant_dev,
                   followup=followup, plan_dev=plan_dev, duration=duration, lab_months=lab_months,
                   deadline=m.steps + deadline_in, start=m.steps, attempt=attempt)


def candidate(lead, community, domain, *, voiced=True, lab=False, attempt=1, partners=None, participants=None):
    """A proposal as the call builds it (what ``start_project`` receives)."""
    return dict(lead=lead, partners=partners, domain=domain, community=community, participants=participants,
                attempt=attempt, lab=lab, others=[lead], voiced=voiced)


def local(m):
    return m.programmes[0]


def money_gap(m) -> float:
    return m.money_total() - m.ledger.net


def develop_until_settled(m, project, months=80):
    for _ in range(months):
        innovation.develop(m)
        if project not in m.projects:
            return
        m.steps += 1
    raise AssertionError("project never settled")


CALL = {"issues_per_10000": 200.0, "shortlist_share": 1.0, "firms_per_1000": 20.0, "nonprofits_per_1000": 5.0,
        "community_size_concentration": 100.0, "min_grant_share": 0.0}
"""A call with many issues and proposers (an organisation proposes for one issue per call)."""


@pytest.fixture
def granted(monkeypatch):
    """Record every grant a call makes instead of starting the project: (proposal, lead, grant)."""
    calls = []
    monkeypatch.setattr(innovation, "start_project",
                        lambda model, c, lead, grant, programme, pool=None: calls.append((c, lead, grant)))
    return calls


# ------------------------------------------------------------------ officials and topics
def test_officials_perceived_need_lags_behind_visible_need():
    m = small_model(seed=1, official_lag=12.0, complaint_floor=1.0)  # everybody equally visible
    pop, gov = m.population, m.government
    old = gov.perceived_need.copy()
    pop.need[:, 2] = 0.9                                  # a surge of need in one domain
    visible = pop.community_mean(pop.need)
    innovation.perceive(m)
    np.testing.assert_allclose(gov.perceived_need, old + (visible - old) / 12.0)
    for _ in range(11):
        innovation.perceive(m)
    gap = np.abs(visible - gov.perceived_need)[:, 2]
    # after a year officials have seen (1 - (11/12)^12) ~ 65 % of the surge, not all of it
    np.testing.assert_allclose(gap, np.abs(visible - old)[:, 2] * (11 / 12) ** 12)
    assert (gap > 0.1).all()


def test_with_no_lag_officials_see_the_visible_need_at_once():
    m = small_model(seed=1, official_lag=1.0, complaint_floor=1.0)
    m.population.need[:, 2] = 0.9
    innovation.perceive(m)
    np.testing.assert_allclose(m.government.perceived_need, m.population.community_mean(m.population.need))


def test_visible_need_leans_to_residents_with_capital():
    m = small_model(seed=2, official_lag=1.0, complaint_floor=0.0)
    pop = m.population
    pop.need[:] = 0.0
    rich = pop.capital > np.median(pop.capital)
    pop.need[rich, 0] = 0.5
    pop.need[~rich, 1] = 0.5                       # the same need, among the poorer half
    innovation.perceive(m)
    seen = m.government.perceived_need.sum(axis=0)
    assert seen[0] > 1.5 * seen[1]


def test_residents_topics_follow_voiced_need_and_officials_follow_their_view():
    m = small_model(seed=3, official_noise=0.0)
    pop = m.population
    pop.need[:] = 0.0
    pop.need[pop.community == 2, 3] = 0.8          # residents voice one need only
    m.government.perceived_need[:] = 0.0
    m.government.perceived_need[4, 1] = 0.5        # officials see another
    officials, residents = innovation.topic_weights(m, local(m))
    assert residents[2, 3] == pytest.approx(1.0) and officials[4, 1] == pytest.approx(1.0)


def test_salience_noise_spreads_officials_topics():
    m = small_model(seed=3, official_noise=2.0)
    m.government.perceived_need[:] = 0.1
    m.government.perceived_need[4, 1] = 0.5
    programme = innovation.Programme("local", "project_account", 0.0, 0.0, 2.0)
    officials, _ = innovation.topic_weights(m, programme)
    assert officials[4, 1] < 0.9 and officials.sum() == pytest.approx(1.0)


def _log_salience_over_calls(halflife: float, calls: int, seed: int = 5) -> np.ndarray:
    """Officials' log salience of every cell at each of ``calls`` calls: (calls, cells)."""
    m = small_model(seed=seed, n_citizens=6000, citizens_per_community=100)
    programme = innovation.Programme("local", "project_account", 0.0, 0.0, 1.5, salience_halflife=halflife)
    out = []
    for _ in range(calls):
        innovation.topic_weights(m, programme)
        out.append(np.log(programme.salience).ravel())
    return np.array(out)


@pytest.mark.parametrize("halflife", [12.0, 48.0, 240.0])
def test_officials_salience_persists_with_its_half_life(halflife):
    """An agenda outlives a call: the correlation of a cell's log salience between consecutive
    calls is 0.5 ** (call interval / half-life), and its spread stays the lever's log-sd (the
    AR(1) starts from its stationary law). About 300 cells x 40 calls; Fisher-z 99.9 % interval,
    doubled because pairs within one cell's chain are not independent."""
    logs = _log_salience_over_calls(halflife, calls=40)
    rho = 0.5 ** (12 / halflife)
    r = np.corrcoef(logs[:-1].ravel(), logs[1:].ravel())[0, 1]
    n_pairs = logs[:-1].size
    half_width = 2 * 3.29 / np.sqrt(n_pairs - 3)
    assert abs(np.arctanh(r) - np.arctanh(rho)) < half_width, (r, rho)
    assert logs.std() == pytest.approx(1.5, rel=0.15)


def test_officials_salience_without_half_life_is_drawn_afresh_at_each_call():
    logs = _log_salience_over_calls(0.0, calls=40)
    r = np.corrcoef(logs[:-1].ravel(), logs[1:].ravel())[0, 1]
    assert abs(r) < 3.29 / np.sqrt(logs[:-1].size - 3), r


# ------------------------------------------------------------------ the call funnel
def test_the_call_goes_through_the_funnel_stages(granted):
    m = small_model(seed=4, issues_per_10000=200.0, shortlist_share=0.5, proposals_per_issue=2.0)
    m.government.project_account = 1e5
    innovation.call_for_projects(m, local(m))
    f = m.funnel
    expected_issues = 200.0 * 600 / 10_000 * m.spec.call_interval / 12  # Poisson mean
    assert 0.5 * expected_issues <= f["issues"] <= 1.6 * expected_issues
    assert f["shortlisted"] in (int(0.5 * f["issues"]), int(0.5 * f["issues"]) + 1)  # rounded either way
    assert 0 < f["proposals"] and f["labs"] <= f["shortlisted"]
    assert f["funded"] == len(granted) > 0
    # every proposal comes from a shortlisted issue: (community, domain) cells of the region
    for c, _, _ in granted:
        assert 0 <= c["community"] < m.population.n_communities and 0 <= c["domain"] < N_DOM


def test_the_shortlist_keeps_its_share_of_issues_in_a_small_region(granted):
    """Stochastic rounding: with about 1.5 issues a call (a region of 2,000 citizens), calls
    shortlist shortlist_share x issues on average. Rounding to nearest would shortlist ~14 % more
    (none of 1 issue, one of 2). Over 2,000 calls the total is compared with its expectation given
    the issues, within 4 standard deviations of the rounding draws."""
    share = 0.26
    m = small_model(seed=11, issues_per_10000=25.0, shortlist_share=share)
    m.government.project_account = 0.0           # no grants: the call stops after the shortlist
    issues, shortlisted = [], []
    for _ in range(2000):
        m.funnel = dict.fromkeys(innovation.FUNNEL_STAGES, 0)
        innovation.call_for_projects(m, local(m))
        issues.append(m.funnel["issues"])
        shortlisted.append(m.funnel["shortlisted"])
    x = share * np.array(issues, dtype=float)
    frac = x - np.floor(x)
    expected, sd = x.sum(), np.sqrt((frac * (1 - frac)).sum())
    assert 1.2 < np.mean(issues) < 1.8
    assert abs(sum(shortlisted) - expected) < 4 * sd, (sum(shortlisted), expected, sd)


def test_no_issues_no_projects(granted):
    m = small_model(seed=4, issues_per_10000=0.0)
    m.government.project_account = 1e5
    innovation.call_for_projects(m, local(m))
    assert granted == [] and m.funnel["issues"] == 0


def test_no_call_without_money(granted):
    m = small_model(seed=4, issues_per_10000=200.0)
    m.government.project_account = 0.0
    innovation.call_for_projects(m, local(m))
    assert granted == [] and m.funnel["funded"] == 0


def test_living_labs_need_intermediary_staff(granted):
    labs = {}
    for per_fte in (0.0, 5.0):
        m = small_model(seed=5, issues_per_10000=200.0, shortlist_share=1.0, labs_per_fte=per_fte,
                        intermediaries_per_10000=50, firms_per_1000=20.0, nonprofits_per_1000=5.0)
        m.run(3)  # intermediaries take on staff from their grants
        assert sum(b.fte for b in m.intermediaries()) > 0
        m.government.project_account = 1e5
        for _ in range(3):  # lab capacity builds up over call rounds (EcosystemModel.step opens it)
            for b in m.intermediaries():
                b.open_labs()
        innovation.call_for_projects(m, local(m))
        labs[per_fte] = m.funnel["labs"]
    assert labs[0.0] == 0 and labs[5.0] > 0


def test_merit_allocation_funds_the_best_proposal_at_its_plan_cost(granted):
    m = small_model(seed=6, **CALL, allocation_by_merit=1.0)
    plan = innovation.plan_cost(m, 0)
    pot = 1.5 * max(innovation.plan_cost(m, c) for c in range(m.population.n_communities))
    m.government.project_account = pot
    innovation.call_for_projects(m, local(m))
    full = [(c, g) for c, _, g in granted if g == pytest.approx(c["plan"])]
    rest = [(c, g) for c, _, g in granted if g != pytest.approx(c["plan"])]
    assert len(full) == 1                                   # one plan fits the pot, at its full cost
    (best, grant), = full
    assert grant == pytest.approx(innovation.plan_cost(m, best["community"]))
    assert plan > 0
    # With all the money on merit, nothing is split evenly: what no whole plan can use stays in
    # the account for a later call.
    assert not rest
    assert m.government.project_account == pytest.approx(pot - grant)


def test_uniform_part_is_split_evenly_and_merit_leftover_is_kept(granted):
    m = small_model(seed=6, **CALL, allocation_by_merit=0.5)
    pot = 1.5 * max(innovation.plan_cost(m, c) for c in range(m.population.n_communities))
    m.government.project_account = pot
    innovation.call_for_projects(m, local(m))
    full = [(c, g) for c, _, g in granted if g == pytest.approx(c["plan"])]
    rest = [(c, g) for c, _, g in granted if g != pytest.approx(c["plan"])]
    merit_spent = sum(g for _, g in full)
    assert merit_spent <= 0.5 * pot + 1e-9
    assert rest, "the uniform half is split evenly over the other proposals"
    assert len({round(g, 9) for _, g in rest}) == 1
    assert sum(g for _, g in rest) == pytest.approx(0.5 * pot)
    assert m.government.project_account == pytest.approx(0.5 * pot - merit_spent)


def test_uniform_allocation_splits_the_pot_over_every_proposal(granted):
    m = small_model(seed=6, **CALL, allocation_by_merit=0.0)
    pot = m.government.project_account = 0.5 * innovation.plan_cost(m, 0)  # less than any one plan
    innovation.call_for_projects(m, local(m))
    proposals = {id(c) for c, _, _ in granted}
    n = sum(len(c["others"]) for c in (next(c for c, _, _ in granted if id(c) == i) for i in proposals))
    assert len(granted) == n > 1                           # every proposer gets a grant
    assert all(g == pytest.approx(pot / n) for _, _, g in granted)
    assert all(g < c["plan"] for c, _, g in granted)        # ... too small for any plan


def test_uniform_grants_below_the_smallest_worthwhile_share_are_not_made(granted):
    m = small_model(seed=6, **{**CALL, "min_grant_share": 1.0}, allocation_by_merit=0.0)
    m.government.project_account = 0.5 * innovation.plan_cost(m, 0)  # an even share is below every plan
    innovation.call_for_projects(m, local(m))
    assert m.funnel["proposals"] > 1 and granted == []


def test_kept_teams_come_back_to_the_next_call_with_one_more_attempt(granted):
    m = small_model(seed=7, issues_per_10000=0.0, allocation_by_merit=1.0)
    lead = a_firm(m)
    members = m.population.members(lead.community)[:5]
    m.waiting_teams = [Team(lead, [], 2, lead.community, members, attempt=1)]
    m.government.project_account = 10 * innovation.plan_cost(m, lead.community)
    innovation.call_for_projects(m, local(m))
    (c, who, grant), = granted
    assert who is lead and c["attempt"] == 2 and c["domain"] == 2
    assert c["participants"] is members                     # the same residents stay on the team
    assert m.waiting_teams == []
    assert m.funnel["issues"] == 1 and m.funnel["funded"] == 1


@pytest.mark.parametrize("voiced", [True, False])
def test_a_kept_team_keeps_whether_residents_raised_its_issue(granted, voiced):
    """The residents who raised an issue stay with its team through a failure and the retry
    (001 talk 2: residents across the whole cycle), so the retried project is still theirs."""
    m = small_model(seed=7, issues_per_10000=0.0, allocation_by_merit=1.0, safety_net=1.0)
    lead = a_firm(m)
    p = hand_project(m, lead, domain=2)
    p.voiced = voiced
    innovation.fail(m, p)
    (team,) = m.waiting_teams
    m.government.project_account = 10 * innovation.plan_cost(m, lead.community)
    innovation.call_for_projects(m, local(m))
    (c, who, _), = granted
    assert who is lead and c["voiced"] is voiced


@pytest.mark.parametrize("account", [0.0, 0.5])  # empty, or less than the team's plan (merit funds whole plans)
@pytest.mark.parametrize("patience", [0, 2])
def test_a_kept_team_passed_over_waits_for_later_calls_then_disbands(granted, patience, account):
    m = small_model(seed=7, issues_per_10000=0.0, allocation_by_merit=1.0, team_patience_calls=patience,
                    trust_failure=0.06)
    lead = a_firm(m)
    members = m.population.members(lead.community)[:5]
    m.population.trust[members] = 0.5
    team = Team(lead, [], 2, lead.community, members, attempt=1)
    m.waiting_teams = [team]
    m.government.project_account = account * innovation.plan_cost(m, lead.community)

    def call():
        m.funnel = dict.fromkeys(innovation.FUNNEL_STAGES, 0)  # as every month starts
        innovation.call_for_projects(m, local(m))

    for missed in range(1, patience + 1):                   # passed over: it waits, trust unchanged
        call()
        assert m.waiting_teams == [team] and team.calls_missed == missed
        assert m.funnel["issues"] == 1 and m.funnel["funded"] == 0
        np.testing.assert_allclose(m.population.trust[members], 0.5)
    call()                                    # passed over once more: it disbands
    assert granted == [] and m.waiting_teams == []
    np.testing.assert_allclose(m.population.trust[members], 0.44)
    assert m.counters["teams_disbanded"] == 1
    call()                                    # and is gone
    assert m.funnel["issues"] == 0


def test_a_kept_team_passed_over_once_is_funded_at_a_later_call(granted):
    m = small_model(seed=7, issues_per_10000=0.0, allocation_by_merit=1.0, team_patience_calls=2)
    lead = a_firm(m)
    members = m.population.members(lead.community)[:5]
    m.waiting_teams = [Team(lead, [], 2, lead.community, members, attempt=1)]
    m.government.project_account = 0.0
    innovation.call_for_projects(m, local(m))
    assert granted == [] and len(m.waiting_teams) == 1
    m.government.project_account = 10 * innovation.plan_cost(m, lead.community)
    innovation.call_for_projects(m, local(m))
    (c, who, _), = granted
    assert who is lead and c["attempt"] == 2 and c["participants"] is members
    assert m.waiting_teams == [] and m.counters["teams_disbanded"] == 0


def test_the_national_call_needs_local_matching(granted):
    m = small_model(seed=8, **CALL, national_budget_per_1000=10.0, national_local_match=0.5,
                    allocation_by_merit=0.0)
    (national,) = [p for p in m.programmes if p.account == "national_rd_account"]
    m.government.national_rd_account = 100.0
    m.government.project_account = 0.0
    innovation.call_for_projects(m, national)
    assert granted == []                                    # no match, no project
    m.government.project_account = 1e6
    m.waiting_teams = []
    innovation.call_for_projects(m, national)
    total = sum(g for _, _, g in granted)                   # a project gets the grant and its match
    assert total == pytest.approx(1.5 * 100.0)
    assert m.government.national_rd_account == pytest.approx(0.0, abs=1e-9)
    assert m.government.project_account == pytest.approx(1e6 - 0.5 * 100.0)


def test_there_is_a_national_programme_only_with_a_national_budget():
    assert [p.account for p in small_model().programmes] == ["project_account"]
    m = small_model(national_budget_per_1000=5.0)
    assert [p.account for p in m.programmes] == ["project_account", "national_rd_account"]
    assert m.programmes[1].followup_share == 0.0           # R&D money pays no follow-up


def _duplicating_model(**over):
    """A region whose national programme copies every issue from the one funded cell (3, 1)."""
    levers = dict(CALL, national_budget_per_1000=10.0, national_duplication=1.0,
                  allocation_by_merit=0.0, proposals_per_issue=20.0)
    m = small_model(seed=9, **{**levers, **over})
    holder = a_firm(m)
    m.funded_cells = {3 * N_DOM + 1: holder}
    m.government.project_account = 1e6
    return m, holder


def test_a_duplicated_grant_pays_its_holder_again_and_develops_nothing(granted):
    """001 talk 1: similar applications to several ministries, funded twice (중복지원). The copy
    is the holder's application; its grant (and the local match) goes to the holder's cash and
    no project starts."""
    m, holder = _duplicating_model()
    match = m.spec.national_local_match
    m.government.national_rd_account = 1.0      # below any plan: the whole pot is the grant
    cash, projects, gap = holder.cash, len(m.projects), money_gap(m)
    innovation.call_for_projects(m, m.programmes[1])
    assert m.funnel["issues"] > 1 and m.funnel["shortlisted"] == 1   # the copies merge into one issue
    assert m.funnel["proposals"] == 1 and m.funnel["funded"] == 1
    assert granted == [] and len(m.projects) == projects             # nothing new is developed
    assert holder.cash - cash == pytest.approx(1.0 * (1.0 + match))
    assert m.counters["grants_duplicated"] == 1
    assert m.government.national_rd_account == pytest.approx(0.0, abs=1e-12)
    assert money_gap(m) == pytest.approx(gap, abs=1e-9)


def test_without_duplication_nothing_is_paid_twice(granted):
    m, holder = _duplicating_model(national_duplication=0.0)
    m.government.national_rd_account = 100.0
    innovation.call_for_projects(m, m.programmes[1])
    assert m.counters["grants_duplicated"] == 0 and granted
    assert not all((c["community"], c["domain"]) == (3, 1) for c, _, _ in granted)


def test_a_copied_topic_whose_holder_closed_goes_to_a_new_team(granted):
    """With its holder gone, the copy is an ordinary issue: new proposers develop the same topic
    again (duplicated research rather than double support)."""
    m, holder = _duplicating_model()
    holder.close()
    m.government.national_rd_account = 100.0
    innovation.call_for_projects(m, m.programmes[1])
    assert granted and all((c["community"], c["domain"]) == (3, 1) for c, _, _ in granted)
    assert all(lead is not holder for _, lead, _ in granted)
    assert m.counters["grants_duplicated"] == 0


def test_copied_topics_count_as_officials_not_as_residents(granted):
    """A duplicated programme's copy of a funded topic comes from another programme: even when
    residents set every topic, the copied issue is not theirs (no monitors after a success)."""
    m, holder = _duplicating_model(national_citizen_topics=1.0)
    holder.close()
    m.government.national_rd_account = 100.0
    innovation.call_for_projects(m, m.programmes[1])
    assert granted and not any(c["voiced"] for c, _, _ in granted)


@pytest.mark.parametrize("citizen_topics", [0.0, 0.5, 1.0])
def test_residents_who_set_topics_vote_and_take_part(granted, citizen_topics):
    """001 talk 1: citizens propose and vote on topics. Expected voters: turnout x the
    programme's citizen-topic weight x residents; voters lean to the active."""
    turnout = 0.1
    m = small_model(seed=12, n_citizens=10_000, **CALL, topic_vote_turnout=turnout,
                    citizen_problem_definition=citizen_topics)
    pop = m.population
    pop.participating[:] = False
    innovation.call_for_projects(m, local(m))
    voters = int(pop.participating.sum())
    expected = turnout * citizen_topics * pop.n
    # A sum of independent Bernoulli draws: variance below its mean; 5 sd either side.
    assert abs(voters - expected) <= 5 * np.sqrt(expected) + 1e-9, (voters, expected)
    if citizen_topics > 0:
        assert pop.activeness[pop.participating].mean() > pop.activeness.mean() + 0.02


# ------------------------------------------------------------------ team formation
def test_participants_are_those_who_voiced_the_issue():
    needs = {}
    for voiced in (True, False):
        m = small_model(seed=10, local_cocreation=1.0, participants_cocreated=20)
        lead = a_firm(m)
        m.projects = []
        innovation.start_project(m, candidate(lead, 3, 2, voiced=voiced), lead, 50.0, local(m))
        p = m.projects[-1]
        pop = m.population
        assert (pop.community[p.participants] == 3).all() and p.participants.size == 20
        assert np.unique(p.participants).size == 20
        needs[voiced] = pop.need[p.participants, 2].mean() - pop.need[pop.members(3), 2].mean()
    assert needs[True] > 0.02 and needs[True] > needs[False]


def test_co_creation_brings_more_participants_and_lab_months():
    sizes, labs = {}, {}
    for cocreation in (0.0, 1.0):
        m = small_model(seed=11, local_cocreation=cocreation, participants_consulted=3, participants_cocreated=30,
                        cocreation_months=6)
        lead = a_firm(m)
        m.projects = []
        innovation.start_project(m, candidate(lead, lead.community, 0, lab=True), lead, 50.0, local(m))
        p = m.projects[-1]
        sizes[cocreation], labs[cocreation] = p.participants.size, p.lab_months
    assert sizes == {0.0: 3, 1.0: 30}
    assert labs[0.0] == 0 and labs[1.0] == min(6, labs[1.0]) > 0


def test_an_intermediary_with_staff_matches_partners_one_without_does_not():
    partners = {}
    for fte in (0.0, 20.0):
        m = small_model(seed=12, intermediaries_per_10000=50, partners_per_fte=2.0)
        broker = m.intermediaries()[0]
        broker.fte = fte
        c = int(broker.communities[0])
        lead = next(o for o in m.organisations() if o.kind != "intermediary")
        m.projects = []
        innovation.start_project(m, candidate(lead, c, 1), lead, 50.0, local(m))
        partners[fte] = m.projects[-1].partners
        if fte:
            assert broker in partners[fte] and lead not in partners[fte]
            assert all(tuple(sorted((lead.unique_id, o.unique_id))) in m.partnerships for o in partners[fte])
    assert partners[0.0] == []
    assert len(partners[20.0]) > 2


def test_start_project_pays_development_keeps_follow_up_and_conserves_money():
    m = small_model(seed=13, followup_share=0.25)
    lead = a_firm(m)
    lead.earned = 0.0                                        # no income, no project loan
    m.projects = []
    gov = m.government
    gov.project_account = 80.0
    m.ledger.source("test", 80.0)
    gap, cash = money_gap(m), lead.cash
    gov.project_account -= 80.0                              # the call takes the grant from the account
    innovation.start_project(m, candidate(lead, lead.community, 0), lead, 80.0, local(m))
    p = m.projects[-1]
    assert lead.cash - cash == pytest.approx(60.0) and lead.loan == 0.0
    assert p.grant_dev == pytest.approx(60.0) and p.followup == pytest.approx(20.0)
    assert money_gap(m) == pytest.approx(gap, abs=1e-9)


def test_project_staff_are_hired_from_development_money_and_released_on_failure():
    m = small_model(seed=14, project_wage_share=0.5, wage=2.5, followup_share=0.0)
    lead = a_firm(m)
    lead.cash = 0.0
    m.projects = []
    plan = innovation.plan_cost(m, lead.community)
    innovation.start_project(m, candidate(lead, lead.community, 0), lead, plan, local(m))
    p = m.projects[-1]
    assert p.scope == pytest.approx(plan)
    assert len(p.staff) == int(0.5 * plan / (2.5 * p.duration)) > 0
    hired = [c for c in p.staff if c >= 0]
    assert (m.population.employment[hired] == ECOSYSTEM).all()
    m.projects = []
    innovation.fail(m, p)
    assert (m.population.employment[hired] == UNEMPLOYED).all() and p.staff == []


def test_underfunded_projects_take_longer_and_succeed_less():
    m = small_model(seed=15, local_cocreation=0.0, followup_share=0.0, dev_shape=100.0, underfunding_delay=1.0)
    a, b = m.firms()[:2]
    a.cash = b.cash = 0.0
    a.earned = b.earned = 0.0  # no own money and no loan
    plan = innovation.plan_cost(m, a.community)
    m.projects = []
    innovation.start_project(m, candidate(a, a.community, 0), a, plan, local(m))
    innovation.start_project(m, candidate(b, a.community, 0), b, 0.2 * plan, local(m))
    full, thin = m.projects[-2:]
    assert thin.scope == pytest.approx(0.2 * full.scope)
    assert thin.duration > 1.5 * full.duration             # mean 1 + 0.8 x delay longer
    assert innovation.success_chance(m, thin) < innovation.success_chance(m, full)


# ------------------------------------------------------------------ knowledge, success and fit
def test_knowledge_grows_with_lab_months_and_participants_need():
    m = small_model(seed=16, commons_knowledge=0.0)
    p = hand_project(m, a_firm(m), n_participants=10)
    pop = m.population
    pop.capacity[p.participants] = 0.5
    pop.need[p.participants, 0] = 0.8
    k0 = innovation.knowledge(m, p)
    s = m.spec
    assert k0 == pytest.approx(1 - np.exp(-10 * 0.5 * 0.8 * s.consultation_months / s.knowledge_for_fit))
    p.lab_months = 6
    assert innovation.knowledge(m, p) > k0
    pop.need[p.participants, 0] = 0.0
    assert innovation.knowledge(m, p) == 0.0                  # residents without the need know nothing of it


def test_success_chance_follows_the_team_its_knowledge_and_funding():
    m = small_model(seed=17, funding_elasticity=2.0, success_max=1.0, local_cocreation=1.0)
    lead = a_firm(m)
    p = hand_project(m, lead, scope=100.0, plan_dev=100.0)
    lead.capability = 0.2
    low = innovation.success_chance(m, p)
    lead.capability = 0.9
    high = innovation.success_chance(m, p)
    assert high > low
    p.scope = 50.0                                            # half the plan's money: a quarter of the chance
    assert innovation.success_chance(m, p) == pytest.approx(high * 0.25)
    p.scope = 100.0
    m.population.need[p.participants, p.domain] = 1.0
    m.population.capacity[p.participants] = 1.0
    p.lab_months = 12
    assert innovation.success_chance(m, p) > high            # knowing residents' situation helps


def test_a_kept_team_retries_with_a_higher_chance():
    m = small_model(seed=18, success_retry=0.1, success_max=1.0)
    p = hand_project(m, a_firm(m))
    first = innovation.success_chance(m, p)
    p.attempt = 3
    assert innovation.success_chance(m, p) == pytest.approx(first + 2 * 0.1)


def test_fit_follows_what_the_team_knows_not_who_chose_the_topic():
    fits = {}
    for lab_months, need in ((0, 0.0), (12, 0.9)):
        m = small_model(seed=19, fit_noise=0.0, commons_knowledge=0.0, imported_fit=0.35)
        p = hand_project(m, a_firm(m), n_participants=20, lab_months=lab_months)
        m.population.need[p.participants, 0] = need
        m.population.capacity[p.participants] = 0.6
        fits[lab_months] = innovation.solution_fit(m, p)
    assert fits[0] == pytest.approx(0.35)                     # an imported design's generic fit
    assert fits[12] > 0.8


def test_the_commons_raises_knowledge_and_lowers_plan_cost():
    m = small_model(seed=20, commons_knowledge=0.5, commons_cost_cut=0.3)
    p = hand_project(m, a_firm(m))
    m.population.need[p.participants, 0] = 0.0
    cost0 = innovation.plan_cost(m, p.community)
    assert innovation.knowledge(m, p) == 0.0
    m.commons_stock = 1e9                                    # a saturated commons
    assert innovation.knowledge(m, p) == pytest.approx(0.5, rel=1e-6)
    assert innovation.plan_cost(m, p.community) == pytest.approx(0.7 * cost0, rel=1e-6)


# ------------------------------------------------------------------ development, success, failure
def test_development_longer_than_the_programme_fails(monkeypatch):
    monkeypatch.setattr(innovation, "success_chance", lambda model, p: 1.0)
    m = small_model()
    m.projects = []
    p = hand_project(m, a_firm(m), duration=10, deadline_in=6)
    m.projects.append(p)
    develop_until_settled(m, p)
    assert m.counters["projects_failed"] == 1 and m.solutions == [] and p.months < p.duration


def test_development_within_the_programme_can_succeed(monkeypatch):
    monkeypatch.setattr(innovation, "success_chance", lambda model, p: 1.0)
    m = small_model()
    m.projects = []
    p = hand_project(m, a_firm(m), duration=6, deadline_in=7)
    m.projects.append(p)
    develop_until_settled(m, p)
    assert m.counters["solutions_created"] == 1 and p.months == 6


def test_success_makes_a_pilot_that_serves_its_co_creators_only():
    m = small_model(seed=21, commons_share=1.0, pilot_need_share=0.5, need_threshold=0.3)
    lead = a_firm(m)
    p = hand_project(m, lead, n_participants=10, domain=2, followup=0.0)
    pop = m.population
    pop.need[p.participants, 2] = 0.9
    pop.need[p.participants[:3], 2] = 0.1                    # below half the threshold: not a pilot user
    cap0, commons0 = lead.capability, m.commons_stock
    innovation.succeed(m, p)
    (sol,) = m.solutions
    assert sol.domain == 2 and sol.provider is lead and sol.open and sol.communities == {lead.community}
    assert sol.capacity == 7.0                               # the pilot serves its 7 users, no more
    assert (pop.adopted[p.participants[3:], 2] == sol.id).all()
    assert (pop.adopted[p.participants[:3], 2] == -1).all()
    assert lead.capability == pytest.approx(min(1.0, cap0 + m.spec.learning_success))
    assert m.commons_stock == pytest.approx(commons0 + sol.fit)
    assert sol.id in m.rd_only_solutions                     # no follow-up money: R&D alone


@pytest.mark.parametrize("voiced", [True, False])
def test_residents_who_raised_the_issue_stay_on_as_monitors(voiced):
    m = small_model(seed=21)
    lead = a_firm(m)
    p = hand_project(m, lead, n_participants=10, domain=2)
    p.voiced = voiced
    innovation.succeed(m, p)
    (sol,) = m.solutions
    assert sorted(sol.monitors.tolist()) == (sorted(p.participants.tolist()) if voiced else [])


def test_monitors_fit_the_solution_and_tell_their_neighbours_without_follow_up_money():
    m = small_model(seed=25, monitoring_feedback=0.1, feedback_users=10.0, monitor_outreach=2.0, monitor_dropout=0.0)
    m.solutions = []
    sol = _solution(m, 0, a_firm(m), 1, fit=0.5, capacity=10.0, followup=0.0, until=m.steps)
    pop = m.population
    sol.monitors = np.concatenate([pop.members(0)[:6], pop.members(2)[:4]]).astype(np.int64)
    reach = np.zeros((pop.n_communities, N_DOM))
    innovation.monitor(m, reach)
    assert sol.fit == pytest.approx(0.5 + 0.1 * 10 / 20 * 0.5)
    assert reach[0, 1] == pytest.approx(6 * 2.0) and reach[2, 1] == pytest.approx(4 * 2.0)
    assert reach.sum() == pytest.approx(10 * 2.0)


def test_monitors_stop_at_the_dropout_rate_and_leave_with_the_solution():
    m = small_model(seed=26, monitor_dropout=0.25)
    m.solutions = []
    sol = _solution(m, 0, a_firm(m), 1, fit=0.5, capacity=10.0, followup=0.0, until=m.steps)
    sol.monitors = np.arange(4000, dtype=np.int64) % m.population.n
    reach = np.zeros((m.population.n_communities, N_DOM))
    innovation.monitor(m, reach)
    # Binomial(4000, 0.75): sd about 27; 5 sd either side.
    assert abs(sol.monitors.size - 3000) < 5 * np.sqrt(4000 * 0.25 * 0.75)
    sol.alive = False
    fit = sol.fit
    innovation.monitor(m, reach)
    assert sol.monitors.size == 0 and sol.fit == fit


def test_proprietary_results_add_nothing_to_the_commons():
    m = small_model(seed=21, commons_share=0.0)
    innovation.succeed(m, hand_project(m, a_firm(m)))
    assert m.commons_stock == 0.0 and not m.solutions[0].open


@pytest.mark.parametrize("net", [0.0, 1.0])
def test_safety_net_keeps_the_team_or_it_disbands_and_trust_falls(net):
    m = small_model(seed=22, safety_net=net, trust_failure=0.06, learning_failure=0.05)
    lead = a_firm(m)
    p = hand_project(m, lead, duration=10, n_participants=8, attempt=2)
    p.months = 10
    pop = m.population
    pop.trust[p.participants] = 0.5
    cap0 = lead.capability
    innovation.fail(m, p)
    if net:
        (team,) = m.waiting_teams
        assert team.lead is lead and team.attempt == 2 and team.participants is p.participants
        assert lead.capability == pytest.approx(cap0 + 0.05)
        np.testing.assert_allclose(pop.trust[p.participants], 0.5)
    else:
        assert m.waiting_teams == []
        assert lead.capability == cap0
        np.testing.assert_allclose(pop.trust[p.participants], 0.44)
    assert m.counters["projects_failed"] == 1


@pytest.mark.parametrize("net, refund", [(0.0, 0.0), (0.5, 30.0), (1.0, 60.0)])
def test_safety_net_refunds_part_of_the_leads_own_spending(net, refund):
    """Scope 100 fully developed, 40 of it from the grant: the lead spent 60 of its own."""
    m = small_model(seed=23, safety_net=net)
    gov = m.government
    gov.project_account = 500.0
    lead = a_firm(m)
    p = hand_project(m, lead, duration=10, scope=100.0, grant_dev=40.0, followup=10.0)
    p.months = 10
    m.projects = [p]
    gap, cash, account = money_gap(m), lead.cash, gov.project_account
    m.projects = []  # develop() takes a settled project off the list before fail() settles it
    innovation.fail(m, p)
    assert lead.cash - cash == pytest.approx(refund)
    assert gov.project_account == pytest.approx(account + 10.0 - refund)
    assert money_gap(m) == pytest.approx(gap, abs=1e-9)


def test_a_project_dies_with_its_lead_and_its_follow_up_money_returns():
    m = small_model(seed=24)
    lead = a_firm(m)
    p = hand_project(m, lead, followup=12.0)
    m.projects = [p]
    account = m.government.project_account
    lead.close()
    innovation.develop(m)
    assert m.projects == [] and m.counters["projects_failed"] == 1
    assert m.government.project_account == pytest.approx(account + 12.0)


# ------------------------------------------------------------------ after the pilot
def _solution(m, sid, provider, domain, *, open_=True, fit=0.8, communities=None, capacity=0.0, followup=0.0,
              until=0):
    sol = Solution(id=sid, domain=domain, fit=fit, provider=provider, open=open_, created=m.steps,
                   communities=set(communities if communities is not None else {provider.community}),
                   capacity=capacity, followup=followup, followup_until=until)
    m.solutions.append(sol)
    provider.solutions.append(sol)
    return sol


def test_follow_up_money_deploys_capacity_fits_and_pays_outreach():
    m = small_model(seed=25, followup_deploy_share=0.5, deploy_cost_per_user=0.5, feedback_rate=0.1,
                    feedback_users=10.0, outreach_per_mkrw=20.0)
    m.solutions = []
    sol = _solution(m, 0, a_firm(m), 1, fit=0.5, capacity=10.0, followup=30.0, until=m.steps + 2)
    m.users_by_solution = np.array([10])
    reach = np.zeros((m.population.n_communities, N_DOM))
    gap = money_gap(m)
    innovation.follow_up(m, reach)
    spend = 30.0 / 3                                          # spread over the 3 months left
    assert sol.followup == pytest.approx(20.0)
    assert sol.capacity == pytest.approx(10.0 + 0.5 * spend / 0.5)
    assert sol.fit == pytest.approx(0.5 + 0.1 * 10 / 20 * 0.5)
    assert reach[:, 1].sum() == pytest.approx(0.5 * spend * 20.0)
    assert money_gap(m) == pytest.approx(gap, abs=1e-9)


def test_follow_up_left_when_support_ends_returns_to_the_programme():
    m = small_model(seed=25)
    m.solutions = []
    sol = _solution(m, 0, a_firm(m), 1, followup=7.0, until=m.steps - 1)
    account = m.government.project_account
    innovation.follow_up(m, np.zeros((m.population.n_communities, N_DOM)))
    assert sol.followup == 0.0 and m.government.project_account == pytest.approx(account + 7.0)


def test_commons_solutions_scale_out_without_a_capable_owner_proprietary_ones_do_not():
    m = small_model(seed=26, intermediaries_per_10000=50, scale_out_rate=5.0, scale_out_max=1.0)
    m.run(2)
    provider = a_firm(m)
    provider.capability = 0.0
    provider.cash = 1e6
    home = provider.community
    m.solutions = []
    commons = _solution(m, 0, provider, 0, open_=True, fit=1.0, capacity=1e6)
    owned = _solution(m, 1, provider, 1, open_=False, fit=1.0, capacity=1e6)
    size = int(m.population.community_size[home])
    for _ in range(30):
        m.users_by_solution = np.array([size, size])
        innovation.scale_out(m)
    assert len(commons.communities) > 1 and owned.communities == {home}
    assert commons.capacity > 1e6                            # each step out deploys a pilot's worth


def test_unused_solutions_never_scale_out():
    m = small_model(seed=26)
    m.solutions = []
    sol = _solution(m, 0, a_firm(m), 0, fit=1.0)
    for _ in range(30):
        m.users_by_solution = np.array([0])
        innovation.scale_out(m)
    assert len(sol.communities) == 1


def test_solutions_nobody_uses_are_retired_after_the_lever_months():
    m = small_model(seed=27, retire_after=24)
    m.solutions = []
    idle = _solution(m, 0, a_firm(m), 0)
    used = _solution(m, 1, a_firm(m), 1)
    m.users_by_solution = np.array([0, 5])
    m.steps = idle.created + 24
    innovation.retire(m)
    assert idle.alive
    m.steps += 1
    innovation.retire(m)
    assert not idle.alive and used.alive and used.last_used == m.steps


def test_with_a_national_programme_the_call_order_is_drawn_each_round(monkeypatch):
    """Neither programme has a standing claim on the round's living-lab room: over 60 call
    rounds each calls first about half the time (binomial test, two-sided, alpha 0.001). (With
    the local programme alone nothing is drawn for the order: tests/test_reference.py pins those
    runs bit for bit.)"""
    firsts = []
    real = innovation.call_for_projects

    def record(model, programme):
        if not firsts or firsts[-1][0] != model.steps:
            firsts.append((model.steps, programme.account))
        return real(model, programme)

    monkeypatch.setattr(innovation, "call_for_projects", record)
    m = small_model(seed=3, national_budget_per_1000=10.0, call_interval=1, steps=60)
    for _ in range(60):
        m.step()
    national_first = sum(account == "national_rd_account" for _, account in firsts)
    assert len(firsts) == 60
    assert stats.binomtest(national_first, 60, 0.5).pvalue > 0.001, national_first
    assert 0 < national_first < 60
