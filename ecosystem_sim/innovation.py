"""The innovation cycle: need → problem definition → team → development → pilot → outcome.

A call for projects is held once a year with the money the project-funding account has
gathered. Topics (domain and community) come from a mix of officials' agenda and the
needs citizens voice in living labs (lever ``citizen_problem_definition``). Funded
projects recruit partners and residents through intermediaries, develop for some months,
and succeed with a chance that rises with the team's capability, the money actually
available, residents' local knowledge and the commons. A success becomes a
:class:`Solution` piloted in its community; a failure is cushioned by the safety net.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .levers import DOMAINS

if TYPE_CHECKING:
    from .agents import Organisation
    from .model import EcosystemModel

CALL_INTERVAL = 12
"""Months between calls for projects (one call a year, as in the sources' programmes)."""


@dataclass(eq=False)
class Solution:
    """A working solution to one domain's need.

    Attributes:
        fit         0-1, how well it matches residents' situation; scales adoption and need relief.
        open        held as a commons: survives its maker and any organisation may scale it out.
        communities communities where it is offered.
        followup    M KRW left for outreach and scale-out support.
        followup_until  month the follow-up support ends.
    """

    id: int
    domain: int
    fit: float
    provider: "Organisation | None"
    open: bool
    created: int
    communities: set[int] = field(default_factory=set)
    followup: float = 0.0
    followup_until: int = 0
    alive: bool = True
    last_used: int = 0


@dataclass(eq=False)
class Project:
    """One funded project in development."""

    lead: "Organisation"
    partners: list
    domain: int
    community: int
    by_citizens: bool
    participants: np.ndarray
    scope: float          # M KRW of development work the project will do
    grant_dev: float      # M KRW of the grant for development (paid to the lead up front)
    followup: float       # M KRW of the grant held for follow-up after a pilot
    duration: int         # months of development needed
    deadline: int         # month the grant (programme) ends
    start: int
    months: int = 0


def call_for_projects(model: "EcosystemModel") -> None:
    """Hold the yearly call: choose how many projects, their leads and their topics."""
    s = model.spec
    gov = model.government
    pot = gov.project_account
    applicants = [o for o in model.organisations() if o.kind != "intermediary"]
    if pot < 1.0 or not applicants:
        return
    for broker in model.intermediaries():
        broker.matches = 0
    rng = model.rng
    merit = s.allocation_by_merit
    # Uniform allocation spreads the pot thinly over every applicant; merit funds fewer,
    # fully costed projects. Any mix in between interpolates the number of grants.
    full_cost = max(1, int(pot // s.project_cost))
    k = int(round((1 - merit) * len(applicants) + merit * full_cost))
    k = max(1, min(k, len(applicants)))
    grant = pot / k
    capability = np.array([o.capability for o in applicants])
    domains = np.array([o.domain for o in applicants])
    homes = np.array([o.community for o in applicants])
    free = np.ones(len(applicants), dtype=bool)
    for domain, community, by_citizens in choose_topics(model, k):
        # By merit, the lead is the capable organisation that knows the domain and the place.
        score = capability * np.where(domains == domain, 2.0, 1.0) * np.where(homes == community, 1.5, 1.0)
        w = ((1 - merit) / len(applicants) + merit * score / score.sum()) * free
        lead = int(rng.choice(len(applicants), p=w / w.sum()))
        free[lead] = False
        start_project(model, applicants[lead], domain, community, by_citizens, grant)


def choose_topics(model: "EcosystemModel", k: int) -> list[tuple[int, int, bool]]:
    """Draw ``k`` (domain, community) topics: officials' agenda or citizens' voiced needs.

    Officials weigh a domain by their fixed agenda and a community by its size; citizens
    weigh both by the need residents voice (need × activeness × capacity).
    """
    pop = model.population
    rng = model.rng
    voice = pop.need * (pop.activeness * pop.capacity)[:, None]
    by_citizens = np.stack(
        [np.bincount(pop.community, voice[:, d], pop.n_communities) for d in range(len(DOMAINS))], axis=1
    )
    by_officials = np.outer(pop.community_size, model.government.agenda)
    w = model.spec.citizen_problem_definition
    p_cit = by_citizens.ravel() / by_citizens.sum()
    p_off = by_officials.ravel() / by_officials.sum()
    from_citizens = rng.random(k) < w
    cells_cit = rng.choice(p_cit.size, size=k, p=p_cit)
    cells_off = rng.choice(p_off.size, size=k, p=p_off)
    cells = np.where(from_citizens, cells_cit, cells_off)
    return [(int(c % len(DOMAINS)), int(c // len(DOMAINS)), bool(fc)) for c, fc in zip(cells, from_citizens)]


def start_project(model: "EcosystemModel", lead: "Organisation", domain: int, community: int,
                  by_citizens: bool, grant: float) -> None:
    """Form the team (with an intermediary's matching if one serves the community) and start."""
    s = model.spec
    gov = model.government
    rng = model.rng
    pop = model.population
    broker = model.intermediary_for(community)
    partners: list = []
    n_participants = int(round(2 + 10 * s.local_cocreation))
    if broker is not None and 2 * broker.strength > broker.matches:
        broker.matches += 1
        others = [o for o in model.organisations() if o is not lead and o.kind != "intermediary"]
        if others:
            picks = rng.choice(len(others), size=min(2, len(others)), replace=False)
            partners = [others[i] for i in picks]
        partners.append(broker)
        n_participants *= 2
        for p in partners:
            model.link(lead, p)
    members = pop.members(community)
    w = pop.activeness[members] * (0.1 + pop.need[members, domain])
    n_participants = min(n_participants, members.size)
    participants = rng.choice(members, size=n_participants, replace=False, p=w / w.sum())
    # What the lead can add from its own cash when the grant does not cover the full cost.
    own = max(0.0, 0.3 * (lead.cash - 3 * s.wage * max(lead.jobs, 1)))
    grant_dev = grant * (1 - s.followup_share)
    # Social finance: an organisation that earns its own income may borrow the rest of the
    # cost from the revolving social fund (up to a year of wages).
    gap = max(0.0, s.project_cost - grant_dev - own)
    loan = min(gap, gov.social_fund, 12 * s.wage) if lead.earned > 0 else 0.0
    if loan > 0:
        gov.social_fund -= loan
        lead.cash += loan
        lead.loan += loan
        own += loan
    scope = min(s.project_cost, grant_dev + own)
    adequacy = scope / s.project_cost
    duration = int(np.ceil(s.dev_months * (1 + 0.5 * s.local_cocreation) * (1.5 - 0.5 * adequacy)))
    gov.project_account -= grant
    lead.cash += grant_dev
    project = Project(lead=lead, partners=partners, domain=domain, community=community,
                      by_citizens=by_citizens, participants=participants, scope=scope,
                      grant_dev=grant_dev, followup=grant - grant_dev, duration=duration,
                      deadline=model.steps + int(s.programme_length), start=model.steps)
    model.projects.append(project)
    model.counters["projects_started"] += 1


def develop(model: "EcosystemModel") -> None:
    """A month of development for every running project; settle the finished ones."""
    s = model.spec
    still: list[Project] = []
    for p in model.projects:
        if not p.lead.alive:
            # The lead closed: the project dies with it; follow-up money returns to the programme.
            model.government.project_account += p.followup
            model.counters["projects_failed"] += 1
            continue
        if model.steps >= p.deadline:
            fail(model, p)  # the programme ended before development did
            continue
        p.lead.pay_out(p.scope / p.duration, "project_spend")
        p.months += 1
        model.population.participating[p.participants] = True
        if p.months >= p.duration:
            if model.rng.random() < success_chance(model, p):
                succeed(model, p)
            else:
                fail(model, p)
        else:
            still.append(p)
    model.projects = still


def success_chance(model: "EcosystemModel", p: Project) -> float:
    """Chance that development yields a working solution (0-1).

    Rises with the team's combined capability, the share of the full cost actually
    funded, residents' local knowledge when co-created, and the regional commons; imported
    solutions are technically safer.
    """
    s = model.spec
    team = 1.0 - np.prod([1 - 0.7 * o.capability for o in (p.lead, *p.partners)])
    adequacy = p.scope / s.project_cost
    local = float(model.population.capacity[p.participants].mean()) if p.participants.size else 0.0
    commons = model.commons_stock / (model.commons_stock + 5.0 * model.scale)
    chance = (0.05 + 0.35 * team + 0.25 * adequacy + 0.25 * s.local_cocreation * local
              + 0.2 * commons + 0.15 * (1 - s.local_cocreation))
    return float(np.clip(chance, 0.02, 0.95))


def solution_fit(model: "EcosystemModel", p: Project) -> float:
    """How well a new solution fits residents (0-1): imported ones fit poorly; co-creation
    with knowledgeable residents and problems defined by citizens fit better."""
    s = model.spec
    local = float(model.population.capacity[p.participants].mean()) if p.participants.size else 0.0
    fit = 0.25 + 0.45 * s.local_cocreation * (0.4 + local) + (0.15 if p.by_citizens else 0.0)
    return float(np.clip(fit + model.rng.normal(0, 0.05), 0.05, 1.0))


def succeed(model: "EcosystemModel", p: Project) -> None:
    s = model.spec
    rng = model.rng
    is_open = bool(rng.random() < s.commons_share)
    sol = Solution(id=len(model.solutions), domain=p.domain, fit=solution_fit(model, p), provider=p.lead,
                   open=is_open, created=model.steps, communities={p.community}, followup=p.followup,
                   followup_until=max(p.deadline, model.steps + 6))
    model.solutions.append(sol)
    p.lead.solutions.append(sol)
    # Know-how: the maker learns; what is released as commons raises everyone's chances.
    p.lead.capability = min(1.0, p.lead.capability + 0.08)
    for o in p.partners:
        o.capability = min(1.0, o.capability + 0.04)
    if is_open:
        model.commons_stock += sol.fit
    # The co-creators are the pilot's first users.
    pop = model.population
    users = p.participants[(pop.need[p.participants, p.domain] > 0.5 * s.need_threshold)
                           & (pop.adopted[p.participants, p.domain] < 0)]
    pop.adopted[users, p.domain] = sol.id
    pop.trust[p.participants] = np.minimum(1.0, pop.trust[p.participants] + 0.05)
    model.counters["solutions_created"] += 1


def fail(model: "EcosystemModel", p: Project) -> None:
    """A failed project: the safety net repays part of the lead's own money and keeps
    part of the learning and of residents' trust; without it, both are lost."""
    s = model.spec
    gov = model.government
    own_spent = max(0.0, p.scope * min(p.months, p.duration) / p.duration - p.grant_dev)
    refund = min(s.safety_net * own_spent, max(gov.project_account + p.followup, 0.0))
    gov.project_account += p.followup - refund
    p.lead.cash += refund
    p.lead.capability = min(1.0, p.lead.capability + 0.05 * s.safety_net)
    pop = model.population
    pop.trust[p.participants] = np.clip(pop.trust[p.participants] - 0.06 * (1.0 - s.safety_net), 0.0, 1.0)
    model.counters["projects_failed"] += 1


def scale_out(model: "EcosystemModel") -> None:
    """Working solutions spread to other communities where the need is.

    Open (commons) solutions can be taken up by any organisation, helped by
    intermediaries; proprietary ones spread only as their maker can afford. Follow-up
    money both speeds scale-out and pays outreach (see :mod:`diffusion`).
    """
    if not model.solutions:
        return
    s = model.spec
    rng = model.rng
    pop = model.population
    users_by_c = model.users_by_solution_community
    need_by_c = model.need_by_community
    brokers = model.intermediary_strength_total
    for sol in model.solutions:
        if not sol.alive or len(sol.communities) >= pop.n_communities:
            continue
        users = sum(int(users_by_c[sol.id, c]) for c in sol.communities)
        size = sum(int(pop.community_size[c]) for c in sol.communities)
        uptake = users / max(size, 1)
        followup = 1.0 if (sol.followup > 0 and model.steps <= sol.followup_until) else 0.0
        if sol.open:
            push = 0.5 + brokers / (brokers + 5.0 * model.scale)
        else:
            push = 0.5 * (sol.provider.capability if sol.provider is not None else 0.0)
        if rng.random() < min(0.2, 0.3 * uptake * sol.fit * push * (1 + 2 * followup)):
            candidates = [c for c in range(pop.n_communities) if c not in sol.communities]
            weights = need_by_c[candidates, sol.domain] + 1e-9
            c = int(rng.choice(candidates, p=weights / weights.sum()))
            sol.communities.add(c)
            if not sol.open and sol.provider is not None:
                sol.provider.pay_out(min(2.0, max(sol.provider.cash, 0.0)), "scale_out_spend")
            model.counters["scale_outs"] += 1


RETIRE_AFTER = 24
"""Months a solution may go without any user before it is retired."""


def retire(model: "EcosystemModel") -> None:
    """Solutions nobody has used for ``RETIRE_AFTER`` months leave the market."""
    from .diffusion import withdraw

    users = model.users_by_solution
    for sol in model.solutions:
        if not sol.alive:
            continue
        if sol.id < users.size and users[sol.id] > 0:
            sol.last_used = model.steps
        elif model.steps - max(sol.last_used, sol.created) > RETIRE_AFTER:
            withdraw(model, sol)
