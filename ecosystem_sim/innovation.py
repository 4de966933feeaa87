"""The innovation cycle: need → problem definition → call funnel → team → development → pilot.

A *programme* (the local government's project funding, and optionally a national R&D
programme) holds a call every ``call_interval`` months. The call runs the funnel of 001
talk 2: issues are submitted (drawn by the programme's topic rule: officials' lagged, noisy
view of visible need, or residents' voiced need), a share is shortlisted, organisations
propose, living labs run where intermediaries have capacity, and proposals are funded by
the allocation rule (uniform "equal fairness" over every proposal, or by need and merit at
the cost each plan needs). Funded projects develop for a random time; the chance of
success and the fit of the result follow from what the team has: capability, money,
residents' local knowledge gathered in the living lab, earlier attempts, and the commons.
A success becomes a :class:`Solution` whose *service capacity* (users it can serve) is its
pilot; only follow-up money, procurement, loans and its provider's reinvested sales
deploy it further (001 talk 2: R&D alone was never distributed). A failure is cushioned by
the safety net: the team stays together and tries again, or disbands.

Every strength is a lever (:mod:`ecosystem_sim.levers`); ``docs/ODD.md`` §7 gives each
mechanism with its equation and source passage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .levers import DOMAINS, MONTHS_PER_YEAR

if TYPE_CHECKING:
    from .agents import Organisation
    from .model import EcosystemModel

N_DOMAINS = len(DOMAINS)
FUNNEL_STAGES = ("issues", "shortlisted", "proposals", "labs", "funded")
"""Stages of a call (001 talk 2: 82 issues → 21 shortlisted → 77 proposals → 13 living labs → 10 funded)."""


@dataclass(eq=False)
class Solution:
    """A working solution to one domain's need.

    Attributes:
        fit         0-1, how well it matches residents' situation; scales adoption and need relief.
        open        held as a commons: survives its maker, any organisation may deploy it elsewhere.
        communities communities where it is offered.
        capacity    users it can serve (deployed units, staff time): pilot users at first.
        followup    M KRW left for deployment, fitting and outreach.
        followup_until  month the follow-up support ends.
        monitors    residents who raised the issue and keep monitoring the solution (citizen
                    indices; empty when officials chose the topic).
    """

    id: int
    domain: int
    fit: float
    provider: "Organisation | None"
    open: bool
    created: int
    communities: set[int] = field(default_factory=set)
    capacity: float = 0.0
    followup: float = 0.0
    followup_until: int = 0
    alive: bool = True
    last_used: int = 0
    monitors: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(eq=False)
class Programme:
    """A source of project money and its rules (local government or a national ministry).

    Attributes:
        name            "local" or "national" (bookkeeping only: no mechanism reads it).
        account         attribute of the government holding the pot.
        citizen_topics  0-1 weight of residents' voiced need in choosing topics.
        followup_share  share of each grant kept for follow-up after a pilot.
        perception_noise  lognormal sigma of officials' salience (political agenda, fashion) on
                        the need they see.
        match_rate      share of each grant the local government must add from its project account.
        duplication     share of submitted issues that copy a topic already funded elsewhere.
        salience_halflife  months over which officials' salience of a topic halves its pull
                        toward the new call's draw (0 = drawn afresh at every call).
        salience        (communities, domains) officials' current salience multipliers (state:
                        None before the first call).
    """

    name: str
    account: str
    citizen_topics: float
    followup_share: float
    perception_noise: float
    match_rate: float = 0.0
    duplication: float = 0.0
    salience_halflife: float = 0.0
    salience: np.ndarray | None = field(default=None, repr=False)


@dataclass(eq=False)
class Project:
    """One funded project in development."""

    lead: "Organisation"
    partners: list
    domain: int
    community: int
    participants: np.ndarray
    scope: float          # M KRW of development work the project will do
    grant_dev: float      # M KRW of the grant for development (paid to the lead up front)
    followup: float       # M KRW of the grant held for follow-up after a pilot
    plan_dev: float       # M KRW the plan needs for development (scope / plan_dev = adequacy)
    duration: int         # months of development needed
    lab_months: int       # months of it spent in a living lab with residents
    deadline: int         # month the grant (programme) ends
    start: int
    attempt: int = 1      # 1 + earlier failed attempts of the same team
    voiced: bool = False  # residents raised the issue (they stay on as monitors after a success)
    staff: list = field(default_factory=list)  # citizens hired for the project
    months: int = 0


@dataclass(eq=False)
class Team:
    """A team kept together by the safety net after a failure, waiting for a call that funds it
    (it disbands after more than ``team_patience_calls`` calls that do not)."""

    lead: "Organisation"
    partners: list
    domain: int
    community: int
    participants: np.ndarray
    attempt: int
    calls_missed: int = 0  # calls since its failure that did not fund it
    voiced: bool = False   # residents raised its issue (they keep taking part in the retry)


# ------------------------------------------------------------------------ topics
def perceive(model: "EcosystemModel") -> None:
    """Officials' view of need moves toward the *visible* need with a lag: residents with
    more socio-economic capital complain more, so visible need leans toward them (001 talk 1:
    topics chosen by ministries, residents consulted once)."""
    s = model.spec
    pop = model.population
    # ``loud`` depends on fixed capital only: computed once per complaint floor.
    cached = model.__dict__.get("_loudness")
    if cached is None or cached[0] != s.complaint_floor:
        loud = s.complaint_floor + (1.0 - s.complaint_floor) * pop.capital
        cached = model._loudness = (s.complaint_floor, loud[:, None])
    visible = pop.community_mean(pop.need * cached[1])
    gov = model.government
    gov.perceived_need += (visible - gov.perceived_need) / s.official_lag


def topic_weights(model: "EcosystemModel", programme: Programme) -> tuple[np.ndarray, np.ndarray]:
    """Weights of every (community, domain) cell as a topic of this programme's call, as
    (officials', residents') pair, each summing to 1.

    Officials: their lagged view of visible need times the salience of each topic to them
    (political agenda, fashion). Salience is lognormal with log-sd ``perception_noise`` and
    persists from call to call: an agenda outlives a call (001 talk 1: topics chosen by
    ministries), so officials' misses do not average out over the years. Its log follows an
    AR(1) whose correlation between calls is 2 ** -(call interval / ``salience_halflife``),
    started from its stationary law; half-life 0 draws it afresh at every call.
    Residents: the need they voice (need × activeness × capacity, per resident).
    """
    pop = model.population
    shape = model.government.perceived_need.shape
    kept = programme.salience
    if kept is None or programme.salience_halflife <= 0:
        salience = model.rng.lognormal(0.0, programme.perception_noise, shape)
    else:
        rho = np.exp2(-model.spec.call_interval / programme.salience_halflife)  # halves every half-life
        salience = kept ** rho * model.rng.lognormal(0.0, programme.perception_noise * np.sqrt(1.0 - rho * rho), shape)
    programme.salience = salience
    officials = model.government.perceived_need * salience
    citizens = pop.community_mean(pop.need * (pop.activeness * pop.capacity)[:, None])
    return shares_or_equal(officials), shares_or_equal(citizens)


def shares_or_equal(w: np.ndarray) -> np.ndarray:
    """``w`` normalised to sum 1; equal shares where nothing is weighed at all (no need seen)."""
    total = w.sum()
    return w / total if total > 0 else np.full(w.shape, 1.0 / w.size)


def need_served(model: "EcosystemModel", community: int, domain: int) -> int:
    """Residents of ``community`` whose need in ``domain`` is above the threshold and unserved."""
    pop = model.population
    members = pop.members(community)
    return int(np.count_nonzero((pop.need[members, domain] > model.spec.need_threshold)
                                & (pop.adopted[members, domain] < 0)))


# ------------------------------------------------------------------------ the call
def call_for_projects(model: "EcosystemModel", programme: Programme) -> None:
    """One call of ``programme``: submission → shortlist → proposals → living labs → funding."""
    s = model.spec
    gov = model.government
    rng = model.rng
    pop = model.population
    pot = getattr(gov, programme.account)
    # An organisation leads one project at a time: those busy with one do not propose.
    busy = {id(p.lead) for p in model.projects} | {id(t.lead) for t in model.waiting_teams}
    applicants = [o for o in model.organisations() if o.kind != "intermediary" and id(o) not in busy]
    funnel = dict.fromkeys(FUNNEL_STAGES, 0)
    # 1. Issues submitted: teams kept by the safety net come back first, then new issues.
    retries = [t for t in model.waiting_teams if t.lead.alive]
    model.waiting_teams = []
    n_issues = int(rng.poisson(s.issues_per_10000 * pop.n / 10_000 * s.call_interval / MONTHS_PER_YEAR))
    w_off, w_cit = (w.reshape(-1) for w in topic_weights(model, programme))
    by_citizens = rng.random(n_issues) < programme.citizen_topics
    cells = np.where(by_citizens, rng.choice(w_cit.size, size=n_issues, p=w_cit),
                     rng.choice(w_off.size, size=n_issues, p=w_off)) if n_issues else np.empty(0, int)
    weights = programme.citizen_topics * w_cit + (1.0 - programme.citizen_topics) * w_off
    copies = np.zeros(n_issues, dtype=bool)
    if programme.duplication > 0 and model.funded_cells and n_issues:
        # Duplicated programmes (001 talk 1, "유사 내용 중복 신청"): some applications repeat, under
        # this programme, a topic another call already funded, sent in by the organisation that
        # holds that grant. The programme does not see the other's portfolio and ranks the copy
        # like any issue.
        copies = rng.random(n_issues) < programme.duplication
        funded = np.array(sorted(model.funded_cells))
        cells = np.where(copies, funded[rng.integers(funded.size, size=n_issues)], cells)
        by_citizens &= ~copies  # a copied topic comes from another programme, not from residents
    funnel["issues"] = n_issues + len(retries)
    # Where residents set topics they propose and vote on them, and taking part is participation
    # (capacity, trust) for the voters, drawn by activeness (001 talk 1).
    turnout = s.topic_vote_turnout * programme.citizen_topics
    if turnout > 0:
        p_vote = np.minimum(1.0, turnout * pop.n * pop.activeness / max(pop.activeness.sum(), 1e-300))
        pop.participating |= rng.random(pop.n) < p_vote
    # 2. Shortlist: the panel merges issues raised more than once (one issue, more voices; it
    # counts as voiced by residents if any of them raised it) and keeps the ones its topic rule
    # weighs most.
    distinct, first = np.unique(cells, return_index=True)
    voiced_cells = np.zeros(w_off.size, dtype=bool)
    voiced_cells[cells[by_citizens]] = True
    raised_afresh = np.zeros(w_off.size, dtype=bool)  # some issue other than a copy raised it
    raised_afresh[cells[~copies]] = True
    # Stochastic rounding keeps the expected shortlist at shortlist_share x issues at any region
    # size: rounding to nearest shortlisted none of 1 issue and one of 2 (+17 % at 2 issues a
    # year), so small regions spread their uniform pot over more proposals.
    expected_short = s.shortlist_share * n_issues
    k_short = int(expected_short)
    k_short = min(k_short + int(rng.random() < expected_short - k_short), distinct.size)
    order = np.lexsort((first, -weights[distinct]))[:k_short]  # ties: first raised first
    shortlist = distinct[order]
    shortlist_by_citizens = voiced_cells[shortlist]
    shortlist_copied = ~raised_afresh[shortlist]
    funnel["shortlisted"] = k_short + len(retries)
    # 3. Proposals: organisations that know the domain and place propose.
    candidates: list[dict] = []
    for t in retries:
        broker = model.intermediary_for(t.community)
        lab = broker is not None and broker.labs_open >= 1.0
        if lab:
            broker.labs_open -= 1.0
            funnel["labs"] += 1
        candidates.append(dict(lead=t.lead, partners=t.partners, domain=t.domain, community=t.community,
                               participants=t.participants, attempt=t.attempt + 1, lab=lab,
                               others=[t.lead], voiced=t.voiced, team=t))
    if applicants:
        cap = np.array([o.capability for o in applicants])
        doms = np.array([o.domain for o in applicants])
        homes = np.array([o.community for o in applicants])
    for cell, voiced, copied in zip(shortlist, shortlist_by_citizens, shortlist_copied):
        community, domain = divmod(int(cell), N_DOMAINS)
        holder = model.funded_cells.get(int(cell)) if copied else None
        if holder is not None and holder.alive:
            # The copy's proposal is the holder's, for work another programme already pays
            # for: no new team, no living lab. (Holding a project does not stop it applying.)
            busy.add(id(holder))
            funnel["proposals"] += 1
            candidates.append(dict(lead=holder, partners=None, domain=domain, community=community,
                                   participants=None, attempt=1, lab=False, others=[holder],
                                   voiced=False, duplicate=True))
            continue
        if not applicants:
            continue
        affinity = cap * (1.0 + s.domain_affinity * (doms == domain)) * (1.0 + s.place_affinity * (homes == community))
        # Organisations with no capability at all do not propose.
        n_prop = min(int(rng.poisson(s.proposals_per_issue)), int(np.count_nonzero(affinity)))
        if n_prop == 0:
            continue
        picks = rng.choice(len(applicants), size=n_prop, replace=False, p=affinity / affinity.sum())
        funnel["proposals"] += n_prop
        # 4. A living lab where an intermediary has room: residents and officials pick the
        # proposer, weighing its roots in the community; elsewhere officials pick the most
        # capable on paper.
        broker = model.intermediary_for(community)
        lab = broker is not None and broker.labs_open >= 1.0
        if lab:
            broker.labs_open -= 1.0
            funnel["labs"] += 1
        props = [applicants[i] for i in picks if id(applicants[i]) not in busy]
        if not props:
            continue
        busy.update(id(o) for o in props)
        rooted = s.place_affinity if lab else 0.0
        best = max(props, key=lambda o: (o.capability * (1.0 + rooted * (o.community == community)),
                                         -o.unique_id))
        candidates.append(dict(lead=best, partners=None, domain=domain, community=community,
                               participants=None, attempt=1, lab=lab, others=props, voiced=bool(voiced)))
    if not candidates or pot <= 0:
        _wait_or_disband(model, candidates)
        model.record_funnel(funnel)
        return
    # 5. Funding by the allocation rule.
    for c in candidates:
        c["plan"] = plan_cost(model, c["community"])
        c["score"] = (need_served(model, c["community"], c["domain"]) + 1.0) * c["lead"].capability * c["attempt"]
    merit_pot = s.allocation_by_merit * pot
    grants: list[tuple[dict, "Organisation", float]] = []
    left = []
    for c in sorted(candidates, key=lambda c: (-c["score"], c["lead"].unique_id)):
        if c["plan"] <= merit_pot:
            merit_pot -= c["plan"]
            grants.append((c, c["lead"], c["plan"]))
        else:
            left.append(c)
    # Equal fairness: the uniform part is split evenly over every remaining proposal (each a
    # project). Merit money no whole plan could use stays in the account for a later call, so a
    # small region saves up for a whole plan instead of spreading it thinly.
    uniform_pot = (1.0 - s.allocation_by_merit) * pot
    applicants_left = [(c, o) for c in left for o in c["others"]]
    if applicants_left and uniform_pot > 0:
        each = uniform_pot / len(applicants_left)
        # A grant below the smallest plan anyone could carry out is not worth making; none
        # exceeds its own plan (what is left stays in the account).
        if each >= s.min_grant_share * min(c["plan"] for c in left):
            grants += [(c, o, min(each, c["plan"])) for c, o in applicants_left]
    # What no project start changes, built once for the call's projects (see partner_pool).
    _fund(model, programme, grants, funnel, partner_pool(model) if grants else None)
    _wait_or_disband(model, candidates)
    model.record_funnel(funnel)


def _wait_or_disband(model: "EcosystemModel", candidates: list[dict]) -> None:
    """Kept teams this call did not fund wait for a later call, up to ``team_patience_calls``
    calls after the first that passed them over; then they disband (000: a safety net, so
    failure is not the end, but not a queue without end)."""
    for c in candidates:
        team = c.get("team")
        if team is None or c.get("funded"):
            continue
        team.calls_missed += 1
        if team.calls_missed > model.spec.team_patience_calls:
            disband(model, team.participants)
        else:
            model.waiting_teams.append(team)


def _fund(model: "EcosystemModel", programme: Programme, grants: list, funnel: dict, pool) -> None:
    """Make a call's grants: match, pay and start each project (partners from ``pool``); a
    duplicated application's grant pays its holder instead (§7.20). Both count as programme
    spending and granted money."""
    gov = model.government
    for c, lead, grant in grants:
        match = programme.match_rate * grant
        if match > gov.project_account:
            continue  # the local government cannot match this national grant
        gov.project_account -= match
        setattr(gov, programme.account, getattr(gov, programme.account) - grant)
        c["funded"] = True
        funnel["funded"] += 1
        paid = grant + match
        if c.get("duplicate"):
            # Double support (001 talk 1, "여러 부처의 중복지원"): the grant pays its holder again
            # for work already funded; it starts no project and develops nothing new. The
            # money is the holder's to spend (wages, reserves) like any other income.
            lead.cash += paid
            model.counters["grants_duplicated"] += 1
        else:
            start_project(model, c, lead, paid, programme, pool)
            model.funded_cells[c["community"] * N_DOMAINS + c["domain"]] = lead
        model.counters["grant_amount"] += paid
        model.counters["programme_spend"] += paid


def plan_cost(model: "EcosystemModel", community: int) -> float:
    """What a project plan for ``community`` needs (M KRW): a cost per resident served,
    lowered by the commons (open results re-used instead of rebuilt)."""
    s = model.spec
    size = float(model.population.community_size[community])
    return s.plan_cost_per_resident * size * (1.0 - s.commons_cost_cut * model.commons_level())


def partner_pool(model: "EcosystemModel") -> tuple[list, np.ndarray, np.ndarray, dict]:
    """The organisations an intermediary can match as partners (all but intermediaries, in
    creation order), their capabilities and domains as arrays, and each one's position. Starting
    a project changes none of these, so a call builds the pool once for all its projects (one
    pass over the organisations per call instead of one per project)."""
    orgs = [o for o in model.organisations() if o.kind != "intermediary"]
    caps = np.fromiter((o.capability for o in orgs), np.float64, len(orgs))
    doms = np.fromiter((o.domain for o in orgs), np.int64, len(orgs))
    return orgs, caps, doms, {id(o): i for i, o in enumerate(orgs)}


def start_project(model: "EcosystemModel", c: dict, lead: "Organisation", grant: float,
                  programme: Programme, pool: tuple | None = None) -> None:
    """Form the team (an intermediary matches partners if it has staff) and start development.
    Partners come from ``pool`` (the call's :func:`partner_pool`, built once for all its grants),
    else from a fresh one."""
    s = model.spec
    gov = model.government
    rng = model.rng
    pop = model.population
    community, domain = c["community"], c["domain"]
    partners = list(c["partners"] or [])
    participants = c["participants"]
    broker = model.intermediary_for(community)
    if c["partners"] is None and broker is not None:
        # Matching: the intermediary brings partners that know the domain, as its staff allow.
        n_match = int(rng.poisson(s.partners_per_fte * broker.fte_for(community)))
        orgs, caps, doms, position = pool if pool is not None else partner_pool(model)
        others = np.arange(len(orgs))
        if id(lead) in position:
            others = np.delete(others, position[id(lead)])
        if others.size and n_match:
            aff = caps[others] * (1.0 + s.domain_affinity * (doms[others] == domain))
            n_match = min(n_match, int(np.count_nonzero(aff)))  # no partner without any capability
        if others.size and n_match:
            picks = rng.choice(others.size, size=n_match, replace=False, p=aff / aff.sum())
            partners = [orgs[others[i]] for i in picks] + [broker]
    for p in partners:
        model.link(lead, p)
    lab_months = int(round(s.local_cocreation * s.cocreation_months)) if c["lab"] else 0
    if participants is None:
        members = pop.members(community)
        n_part = s.participants_consulted + s.local_cocreation * (s.participants_cocreated - s.participants_consulted)
        n_part = min(int(round(n_part)), members.size)
        # Residents who voiced the issue take part with their need; officials consult the
        # active residents they can reach, whatever their need.
        w = pop.activeness[members] * (pop.need[members, domain] * pop.capacity[members] if c["voiced"] else 1.0)
        w = w + 1e-12
        participants = rng.choice(members, size=n_part, replace=False, p=w / w.sum())
    # What the lead can add from its own cash when the grant does not cover the plan.
    plan = plan_cost(model, community)
    own = max(0.0, s.own_funds_share * (lead.cash - s.reserve_months * s.wage * max(lead.jobs, 1)))
    followup_share = programme.followup_share
    grant_dev = grant * (1.0 - followup_share)
    gap = max(0.0, plan * (1.0 - followup_share) - grant_dev - own)
    loan = model.lend(lead, gap, purpose="project") if gap > 0 else 0.0
    scope = min(plan * (1.0 - followup_share), grant_dev + own + loan)
    adequacy = scope / max(plan * (1.0 - followup_share), 1e-12)
    mean_months = s.dev_months * (1.0 + s.underfunding_delay * (1.0 - adequacy)) + lab_months
    duration = max(1, int(np.ceil(rng.gamma(s.dev_shape, mean_months / s.dev_shape))))
    lead.cash += grant_dev
    project = Project(lead=lead, partners=partners, domain=domain, community=community,
                      participants=participants, scope=scope, grant_dev=grant_dev,
                      followup=grant - grant_dev, plan_dev=plan * (1.0 - followup_share), duration=duration, lab_months=min(lab_months, duration),
                      deadline=model.steps + int(s.programme_length), start=model.steps,
                      attempt=c["attempt"], voiced=c["voiced"])
    # Development spending pays project staff (the jobs a programme reports in its year).
    n_staff = int(s.project_wage_share * scope / (s.wage * duration))
    project.staff = [model.hire(community) for _ in range(n_staff)]
    model.projects.append(project)
    model.counters["projects_started"] += 1


# ------------------------------------------------------------------------ development
def develop(model: "EcosystemModel") -> None:
    """A month of development for every running project; settle the finished ones."""
    still: list[Project] = []
    pop = model.population
    for p in model.projects:
        if not p.lead.alive:
            # The lead closed: the project dies with it; follow-up money returns to the programme.
            _end(model, p)
            model.government.project_account += p.followup
            model.counters["projects_failed"] += 1
            continue
        if model.steps >= p.deadline:
            fail(model, p)  # the programme ended before development did
            continue
        p.lead.pay_out(p.scope / p.duration, "project_spend")
        p.months += 1
        pop.participating[p.participants] = True
        if p.months >= p.duration:
            if model.rng.random() < success_chance(model, p):
                succeed(model, p)
            else:
                fail(model, p)
        else:
            still.append(p)
    model.projects = still


def knowledge(model: "EcosystemModel", p: Project) -> float:
    """What the team knows of residents' situation (0-1): participants' capacity times their
    own need in the domain, gathered over the months spent with them in a living lab, plus
    what the commons brings from other communities."""
    s = model.spec
    pop = model.population
    lived = float(np.sum(pop.capacity[p.participants] * pop.need[p.participants, p.domain]))
    gathered = lived * (p.lab_months + s.consultation_months)
    local = 1.0 - np.exp(-gathered / s.knowledge_for_fit)
    return float(local + (1.0 - local) * s.commons_knowledge * model.commons_level())


def success_chance(model: "EcosystemModel", p: Project) -> float:
    """Chance that development yields a working solution (0-1): the team's capability,
    residents' knowledge, earlier attempts (failure as learning) and the commons, times the
    share of the plan funded to the power ``funding_elasticity``; imported designs are
    technically safer."""
    s = model.spec
    team = 1.0 - np.prod([1.0 - s.capability_weight * o.capability for o in (p.lead, *p.partners)])
    adequacy = min(1.0, p.scope / max(p.plan_dev, 1e-12))
    chance = (s.success_base + s.success_team * team
              + s.success_knowledge * knowledge(model, p) + s.success_imported * (1.0 - s.local_cocreation)
              + s.success_retry * (p.attempt - 1))
    # A plan carried out with part of its money delivers with a correspondingly lower chance.
    return float(np.clip(chance * adequacy ** s.funding_elasticity, 0.0, s.success_max))


def solution_fit(model: "EcosystemModel", p: Project) -> float:
    """How well a new solution fits residents (0-1): an imported design's generic fit,
    raised toward 1 by what the team learnt from residents."""
    s = model.spec
    fit = s.imported_fit + (1.0 - s.imported_fit) * knowledge(model, p)
    return float(np.clip(fit + model.rng.normal(0.0, s.fit_noise), 0.0, 1.0))


def succeed(model: "EcosystemModel", p: Project) -> None:
    s = model.spec
    rng = model.rng
    is_open = bool(rng.random() < s.commons_share)
    sol = Solution(id=len(model.solutions), domain=p.domain, fit=solution_fit(model, p), provider=p.lead,
                   open=is_open, created=model.steps, communities={p.community}, followup=p.followup,
                   followup_until=max(p.deadline, model.steps + s.followup_min_months))
    if p.voiced:
        sol.monitors = np.asarray(p.participants, dtype=np.int64).copy()
    model.solutions.append(sol)
    p.lead.solutions.append(sol)
    p.lead.capability = min(1.0, p.lead.capability + s.learning_success)
    for o in p.partners:
        o.capability = min(1.0, o.capability + s.learning_partner)
    if is_open:
        model.commons_stock += sol.fit
    # The co-creators are the pilot's first users; the pilot serves only them.
    pop = model.population
    users = p.participants[(pop.need[p.participants, p.domain] > s.pilot_need_share * s.need_threshold)
                           & (pop.adopted[p.participants, p.domain] < 0)]
    pop.adopted[users, p.domain] = sol.id
    sol.capacity = float(users.size)
    pop.trust[p.participants] = np.minimum(1.0, pop.trust[p.participants] + s.trust_success)
    model.counters["solutions_created"] += 1
    if p.followup <= 0:
        model.rd_only_solutions.add(sol.id)
    _end(model, p, keep_staff=True)


def fail(model: "EcosystemModel", p: Project) -> None:
    """A failed project. The safety net repays part of the lead's own money and, with chance
    ``safety_net``, keeps the team together to try again at later calls with what it learnt
    (see ``_wait_or_disband``); otherwise the team disbands and participants' trust falls."""
    s = model.spec
    gov = model.government
    own_spent = max(0.0, p.scope * min(p.months, p.duration) / p.duration - p.grant_dev)
    refund = min(s.safety_net * own_spent, max(gov.project_account + p.followup, 0.0))
    gov.project_account += p.followup - refund
    p.lead.cash += refund
    if model.rng.random() < s.safety_net:
        p.lead.capability = min(1.0, p.lead.capability + s.learning_failure)
        model.waiting_teams.append(Team(p.lead, p.partners, p.domain, p.community, p.participants, p.attempt,
                                        voiced=p.voiced))
        model.counters["teams_kept"] += 1
    else:
        disband(model, p.participants)
    model.counters["projects_failed"] += 1
    _end(model, p)


def disband(model: "EcosystemModel", participants: np.ndarray) -> None:
    """A team breaks up after a failure: its participants' trust falls by ``trust_failure``."""
    pop = model.population
    pop.trust[participants] = np.clip(pop.trust[participants] - model.spec.trust_failure, 0.0, 1.0)
    model.counters["teams_disbanded"] += 1


def _end(model: "EcosystemModel", p: Project, keep_staff: bool = False) -> None:
    """Project staff go, unless a successful lead can keep them on its own income."""
    for citizen in p.staff:
        if keep_staff and p.lead.alive and p.lead._affordable_staff() > len(p.lead.staff):
            p.lead.staff.append(citizen)
        else:
            model.release(citizen)
    p.staff = []


# ------------------------------------------------------------------------ after the pilot
def follow_up(model: "EcosystemModel", reach: np.ndarray) -> None:
    """Follow-up (non-R&D) money after a pilot: each month it deploys service capacity,
    fits the solution to pilot users' feedback and pays outreach (001 talk 2)."""
    s = model.spec
    pop = model.population
    users = model.users_by_solution
    for sol in model.solutions:
        if sol.followup <= 0:
            continue
        if not sol.alive or model.steps > sol.followup_until:
            model.government.project_account += sol.followup
            sol.followup = 0.0
            continue
        spend = sol.followup / (sol.followup_until - model.steps + 1)
        sol.followup -= spend
        model.ledger.sink("followup_spend", spend)
        sol.capacity += s.followup_deploy_share * spend / s.deploy_cost_per_user
        n_users = float(users[sol.id]) if sol.id < users.size else 0.0
        sol.fit += s.feedback_rate * n_users / (n_users + s.feedback_users) * (1.0 - sol.fit)
        cs = np.fromiter(sol.communities, dtype=np.int64)
        reach[cs, sol.domain] += ((1.0 - s.followup_deploy_share) * spend * s.outreach_per_mkrw
                                  * pop.community_size[cs] / pop.community_size[cs].sum())


def monitor(model: "EcosystemModel", reach: np.ndarray) -> None:
    """Residents who raised a solution's issue keep monitoring it after the pilot, with or
    without follow-up money (001 talk 2: residents across the whole cycle, citizen monitoring):
    their reports fit it further to residents and their word of mouth makes neighbours in their
    own communities aware. Each monitor stops with chance ``monitor_dropout`` a month."""
    s = model.spec
    pop = model.population
    for sol in model.solutions:
        if sol.monitors.size == 0:
            continue
        if not sol.alive:
            sol.monitors = sol.monitors[:0]
            continue
        sol.monitors = sol.monitors[model.rng.random(sol.monitors.size) >= s.monitor_dropout]
        n = float(sol.monitors.size)
        sol.fit += s.monitoring_feedback * n / (n + s.feedback_users) * (1.0 - sol.fit)
        per_community = np.bincount(pop.community[sol.monitors], minlength=pop.n_communities)
        reach[:, sol.domain] += s.monitor_outreach * per_community


def scale_out(model: "EcosystemModel") -> None:
    """Working solutions spread to other communities where the need is.

    The provider pays for each new community's deployment. Open (commons) solutions are
    pushed by intermediaries' support and cost less to deploy (and pass to another
    organisation when their provider closes); proprietary ones spread only as far as their
    maker's capability pushes them.
    """
    if not model.solutions:
        return
    s = model.spec
    rng = model.rng
    pop = model.population
    users = model.users_by_solution
    need_by_c = model.need_by_community
    support = model.intermediary_support()
    for sol in model.solutions:
        if not sol.alive or sol.provider is None or len(sol.communities) >= pop.n_communities:
            continue
        n_users = float(users[sol.id]) if sol.id < users.size else 0.0
        size = sum(int(pop.community_size[c]) for c in sol.communities)
        uptake = n_users / max(size, 1)
        push = support if sol.open else sol.provider.capability
        if rng.random() < min(s.scale_out_max, s.scale_out_rate * uptake * sol.fit * push):
            candidates = [c for c in range(pop.n_communities) if c not in sol.communities]
            weights = need_by_c[candidates, sol.domain] + 1e-12
            c = int(rng.choice(candidates, p=weights / weights.sum()))
            # Deploying in a new community costs a pilot's worth of capacity.
            cost = s.deploy_cost_per_user * s.scale_out_users * (1.0 - s.commons_cost_cut * sol.open)
            payer = sol.provider
            if payer.cash < cost:
                continue
            payer.pay_out(cost, "scale_out_spend")
            sol.capacity += s.scale_out_users
            sol.communities.add(c)
            model.counters["scale_outs"] += 1


def retire(model: "EcosystemModel") -> None:
    """Solutions nobody has used for ``retire_after`` months leave the market."""
    from .diffusion import withdraw

    users = model.users_by_solution
    for sol in model.solutions:
        if not sol.alive:
            continue
        if sol.id < users.size and users[sol.id] > 0:
            sol.last_used = model.steps
        elif model.steps - max(sol.last_used, sol.created) > model.spec.retire_after:
            withdraw(model, sol)
