"""EcosystemModel: builds the region and runs the monthly step.

A month, in order:

1. scheduled shocks;
2. the government receives its budget and spends it by the levers (wage subsidies,
   project account, procurement, social fund, education, intermediaries);
3. once a year, a call for projects; every running project develops one month;
4. citizens (vectorised): needs grow, some take part in living labs and projects,
   capacity and trust move, mainstream jobs recover after a downturn;
5. diffusion: outreach and imitation bring new users; users' needs fall and they pay
   their providers;
6. organisations, in random order: outside revenue, wages, grants ending, hiring and
   laying off, loans; the insolvent borrow from the social fund or close;
7. capable citizens found new organisations (self-proliferation); working solutions
   scale out; the commons decays unless intermediaries keep it;
8. measures are collected.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import mesa
import numpy as np

from . import diffusion, innovation, shocks
from .agents import Citizen, Firm, Government, Intermediary, NonProfit, Organisation
from .levers import DOMAINS, FIRM_KINDS
from .measures import MEASURES, snapshot
from .population import ECOSYSTEM, MAINSTREAM, UNEMPLOYED, Population
from .scenario import Scenario, default_scenario

# Mix of the initial firms and what each kind earns outside the ecosystem (M KRW / month).
FIRM_MIX = {"for_profit": 0.3, "csr_firm": 0.1, "social_enterprise": 0.25, "cooperative": 0.15,
            "community_business": 0.2}
MARKET_REVENUE = {"for_profit": 12.0, "csr_firm": 15.0, "social_enterprise": 4.0, "cooperative": 3.0,
                  "community_business": 3.0}
INTERMEDIARY_START_UP = 36.0
"""Wages (months x staff) an intermediary starts with: two staff for 18 months."""
VOLUNTEER_REACH = 3.0
"""Residents a non-profit volunteer makes aware of solutions in the non-profit's domain each month."""
FOUNDED_KINDS = ("cooperative", "community_business", "social_enterprise")
FOUNDED_P = (0.4, 0.4, 0.2)


def _any_column(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` as ORs of the few columns (numpy reduces a short last axis slowly)."""
    out = mask[:, 0].copy()
    for k in range(1, mask.shape[1]):
        out |= mask[:, k]
    return out


def _at_least_one(expected: float) -> int:
    """Organisations to create for an expected count: rounded, but never zero when the rate is not."""
    return max(1, int(round(expected))) if expected > 0 else 0


class Ledger:
    """Money entering (sources) and leaving (sinks) the model's stocks, by flow name (M KRW)."""

    def __init__(self) -> None:
        self.sources: defaultdict[str, float] = defaultdict(float)
        self.sinks: defaultdict[str, float] = defaultdict(float)

    def source(self, flow: str, amount: float) -> None:
        self.sources[flow] += amount

    def sink(self, flow: str, amount: float) -> None:
        self.sinks[flow] += amount

    @property
    def net(self) -> float:
        return sum(self.sources.values()) - sum(self.sinks.values())


class EcosystemModel(mesa.Model):
    """A regional social-innovation ecosystem under one scenario's levers.

    Args:
        scenario: a validated :class:`~ecosystem_sim.scenario.Scenario` (defaults if None),
            kept as ``model.spec`` (Mesa 3.5 reserves ``model.scenario`` for its own class).
        rng: seed (int or ``numpy.random.SeedSequence``); the same seed gives the same run.
    """

    def __init__(self, scenario: Scenario | None = None, rng=None):
        super().__init__(rng=rng)
        self.spec = s = scenario if scenario is not None else default_scenario()
        self.scale = s.n_citizens / 10_000
        self.ledger = Ledger()
        self.counters: Counter = Counter()
        self.economy = 1.0
        self.commons_stock = 0.0
        self.shock_log: list[tuple[int, str]] = []
        self.running_shocks: list = []  # (budget cut or downturn, month it ends or None)
        self.projects: list[innovation.Project] = []
        self.solutions: list[innovation.Solution] = []
        self.partnerships: set[tuple[int, int]] = set()
        self._partners: defaultdict[int, set[int]] = defaultdict(set)  # the same ties, by organisation

        self.population = pop = Population(self.rng, int(s.n_citizens), int(s.citizens_per_community),
                                           s.mean_degree, s.within_community_ties, s.mainstream_employment)
        self.mainstream_base = float((pop.employment == MAINSTREAM).mean())
        self.users_by_solution_community = np.zeros((0, pop.n_communities), dtype=np.int64)
        self.users_by_solution = np.zeros(0, dtype=np.int64)
        self.need_by_community = pop.community_mean(pop.need)
        self.participation_by_community = np.zeros(pop.n_communities)
        self.pressure = np.array([1.5, 0.6, 0.8, 0.7, 1.2])  # ageing and polarisation weigh most
        self.profile = self.need_by_community / np.maximum(self.need_by_community.mean(axis=1, keepdims=True), 1e-9)
        self._profile_by_citizen = self.profile[pop.community]  # fixed: gathered once

        for i in range(pop.n):  # registered one by one: create_agents would build an AgentSet we'd discard
            Citizen(self, i)
        self.government = Government(self)
        self._populate_organisations()
        self._intermediary_map()

        self.current: dict[str, float] = snapshot(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={k: (lambda m, k=k: m.current[k]) for k in MEASURES})
        self.datacollector.collect(self)

    # ------------------------------------------------------------ construction
    def _populate_organisations(self) -> None:
        s = self.spec
        rng = self.rng
        pop = self.population
        n_firms = max(2, int(round(s.firms_per_1000 * s.n_citizens / 1000)))
        kinds = rng.choice(FIRM_KINDS, size=n_firms, p=[FIRM_MIX[k] for k in FIRM_KINDS])
        for kind in kinds:
            # The region starts from going concerns: every firm earns at least one wage's worth.
            revenue = max(float(rng.gamma(4.0, MARKET_REVENUE[kind] / 4.0)), 1.25 * s.wage)
            firm = self._new_org(Firm, str(kind), capability=float(rng.beta(3, 4)), market_revenue=revenue)
            firm.earned = revenue
            for _ in range(firm._affordable_staff()):
                firm.staff.append(self.hire(firm.community))
            firm.cash = 6 * s.wage * max(firm.jobs, 1)
            self.ledger.source("initial_cash", firm.cash)
        for _ in range(_at_least_one(s.nonprofits_per_1000 * s.n_citizens / 1000)):
            npo = self._new_org(NonProfit, "nonprofit", capability=float(rng.beta(2, 4)))
            npo.cash = 5.0
            self.ledger.source("initial_cash", npo.cash)
        n_int = _at_least_one(s.intermediaries_per_10000 * s.n_citizens / 10_000)
        # At most one intermediary per community: each serves a share of the communities.
        n_int = min(n_int, pop.n_communities)
        for chunk in np.array_split(rng.permutation(pop.n_communities), max(n_int, 1))[:n_int]:
            self._new_intermediary(chunk)

    def _new_org(self, cls, kind: str, community: int | None = None, domain: int | None = None,
                 capability: float = 0.3, market_revenue: float = 0.0, **kwargs) -> Organisation:
        pop = self.population
        if community is None:
            community = int(pop.community[self.rng.integers(pop.n)])
        if domain is None:
            domain = int(self.rng.integers(len(DOMAINS)))
        return cls(self, kind, community, domain, 0.0, capability, market_revenue, **kwargs)

    def _new_intermediary(self, communities: np.ndarray, cash: float | None = None) -> Intermediary:
        """An intermediary serving ``communities``; at set-up its start-up cash comes from
        outside the ledger, later the government pays it (``cash``)."""
        b = self._new_org(Intermediary, "intermediary", community=int(communities[0]),
                          capability=float(self.rng.beta(4, 3)), communities=np.sort(communities))
        if cash is None:
            b.receive(INTERMEDIARY_START_UP * self.spec.wage, "initial_cash", earned=False)
        else:
            b.cash = cash
        b.staff = [self.hire(b.community), self.hire(b.community)]
        self._intermediary_map()
        return b

    def orphaned_communities(self) -> np.ndarray:
        """Communities no live intermediary serves."""
        served = np.zeros(self.population.n_communities, dtype=bool)
        for b in self.intermediaries():
            served[b.communities] = True
        return np.nonzero(~served)[0]

    def _intermediary_map(self) -> None:
        self._broker_of = {}
        for b in self.intermediaries():
            for c in b.communities:
                self._broker_of[int(c)] = b
        self.intermediary_strength_total = sum(b.strength for b in self.intermediaries())

    # ------------------------------------------------------------ queries
    def organisations(self) -> list[Organisation]:
        """Live organisations in creation order (deterministic)."""
        return [o for cls in (Firm, NonProfit, Intermediary) for o in self.agents_by_type.get(cls, [])]

    def firms(self) -> list[Firm]:
        return list(self.agents_by_type.get(Firm, []))

    def intermediaries(self) -> list[Intermediary]:
        return [b for b in self.agents_by_type.get(Intermediary, []) if b.alive]

    def intermediary_for(self, community: int) -> Intermediary | None:
        return self._broker_of.get(int(community))

    def most_central(self, target: str, count: int) -> list[Organisation]:
        """The ``count`` organisations of kind ``target`` ('any' for all) with most partners
        (ties broken by jobs, then age): the keystones of the partnership network."""
        degree: Counter = Counter()
        for a, b in self.partnerships:
            degree[a] += 1
            degree[b] += 1
        pool = [o for o in self.organisations() if target == "any" or o.kind == target]
        pool.sort(key=lambda o: (-degree[o.unique_id], -o.jobs, o.unique_id))
        return pool[:count]

    def partners_of(self, uid: int) -> list[Organisation]:
        """Live organisations in partnership with organisation ``uid``."""
        ids = self._partners.get(uid)
        if not ids:
            return []
        return [o for o in self.organisations() if o.unique_id in ids]

    def money_total(self) -> float:
        """All money in ledgered stocks (M KRW): treasury, accounts, organisations' cash,
        and follow-up money held by projects and solutions."""
        gov = self.government
        return (gov.treasury + gov.project_account + gov.social_fund + gov.intermediary_savings
                + sum(o.cash for o in self.organisations())
                + sum(p.followup for p in self.projects)
                + sum(sol.followup for sol in self.solutions))

    # ------------------------------------------------------------ helpers used by agents
    def hire(self, community: int) -> int:
        """Employ an unemployed resident of ``community`` (or, failing that, of the region);
        returns the citizen number, or -1 when the job goes to someone from outside."""
        pop = self.population
        members = pop.members(community)
        for _ in range(2):
            picks = members[self.rng.integers(0, members.size, 16)] if members.size else np.empty(0, int)
            free = picks[pop.employment[picks] == UNEMPLOYED]
            if free.size:
                pop.employment[free[0]] = ECOSYSTEM
                return int(free[0])
            members = pop.order
        return -1

    def release(self, citizen: int) -> None:
        if citizen >= 0:
            self.population.employment[citizen] = UNEMPLOYED

    def link(self, a: Organisation, b: Organisation) -> None:
        """Record a partnership between two organisations."""
        if a is not b:
            self.partnerships.add((min(a.unique_id, b.unique_id), max(a.unique_id, b.unique_id)))
            self._partners[a.unique_id].add(b.unique_id)
            self._partners[b.unique_id].add(a.unique_id)

    def rescue_or_close(self, org: Organisation) -> None:
        """An insolvent organisation borrows from the social fund if it earns its own
        income and the fund has money; otherwise it closes."""
        gov = self.government
        need = -org.cash + 3 * self.spec.wage
        limit = 12 * self.spec.wage * max(org.jobs, 1)
        if org.last_income > 0 and gov.social_fund >= need and org.loan + need <= limit:
            gov.social_fund -= need
            org.cash += need
            org.loan += need
            self.counters["loans"] += 1
        else:
            org.close()

    def on_close(self, org: Organisation) -> None:
        """Open solutions pass to another organisation of the domain (or an intermediary)
        and keep their users; proprietary ones are withdrawn."""
        for other in self._partners.pop(org.unique_id, set()):
            self._partners[other].discard(org.unique_id)
            self.partnerships.discard((min(org.unique_id, other), max(org.unique_id, other)))
        self.counters[f"closed_{org.kind}"] += 1
        self.counters["closed"] += 1
        for sol in org.solutions:
            if not sol.alive:
                continue
            if sol.open:
                heirs = [o for o in self.organisations() if o is not org and o.alive
                         and (o.domain == sol.domain or o.kind == "intermediary")]
                sol.provider = heirs[int(self.rng.integers(len(heirs)))] if heirs else None
                if sol.provider is not None:
                    sol.provider.solutions.append(sol)
            else:
                diffusion.withdraw(self, sol)
        if org.kind == "intermediary":
            self._intermediary_map()

    def subsidy_entry(self, entrants: int) -> list[Firm]:
        """Subsidy-seeking entry: social enterprises set up to apply for wage subsidies, with
        little market of their own."""
        new = []
        for _ in range(entrants):
            f = self._new_org(Firm, "social_enterprise", capability=float(self.rng.beta(2, 5)),
                              market_revenue=float(self.rng.gamma(2.0, 0.5)))
            f.receive(2.0, "founding_capital", earned=False)
            self.counters["entries_subsidy"] += 1
            new.append(f)
        return new

    # ------------------------------------------------------------ the month
    def step(self) -> None:
        self.population.participating[:] = False
        shocks.apply_due(self)
        self.government.step()
        self._intermediary_map()
        if self.steps % innovation.CALL_INTERVAL == 0:
            innovation.call_for_projects(self)
        innovation.develop(self)
        self._citizens()
        diffusion.adopt(self, self._reach())
        self.users_by_solution_community = diffusion.relieve_and_pay(self)
        orgs = self.organisations()
        for i in self.rng.permutation(len(orgs)):
            if orgs[i].alive:
                orgs[i].step()
        self._found()
        self.need_by_community = self.population.community_mean(self.population.need)
        innovation.scale_out(self)
        innovation.retire(self)
        self._commons()
        self.current = snapshot(self)
        self.datacollector.collect(self)

    def _citizens(self) -> None:
        """Needs, participation, capacity, trust and mainstream jobs: all vectorised."""
        s = self.spec
        pop = self.population
        rng = self.rng
        growth = s.need_growth * self.pressure[None, :] * self._profile_by_citizen * (1.2 - 0.5 * pop.capital)[:, None]
        np.minimum(pop.need + growth, 1.0, out=pop.need)
        # Intermediaries' living labs open places to take part; the active and trusting take them.
        slots = np.zeros(pop.n_communities)
        for b in self.intermediaries():
            slots[b.communities] += 25.0 * b.strength / len(b.communities)
        w = pop.activeness * (0.3 + pop.trust)
        w_c = np.bincount(pop.community, w, pop.n_communities)
        p = np.minimum(1.0, slots[pop.community] * w / np.maximum(w_c[pop.community], 1e-12))
        pop.participating |= rng.random(pop.n) < p
        part = pop.participating
        pop.capacity[part] += s.capacity_gain * (1.0 - pop.capacity[part])
        pop.capacity -= s.capacity_decay * (pop.capacity - pop.capacity0)
        served = _any_column(pop.adopted >= 0)
        unmet = _any_column(pop.need > 0.7) & ~served
        pop.trust += 0.01 * part + 0.005 * served - 0.004 * unmet
        np.clip(pop.trust, 0.0, 1.0, out=pop.trust)
        self.participation_by_community = np.bincount(pop.community, part, pop.n_communities)
        # Mainstream jobs drift back toward their pre-downturn level as the economy allows.
        share = (pop.employment == MAINSTREAM).mean()
        gap = self.mainstream_base * min(self.economy, 1.0) - share
        if gap > 0:
            idle = np.nonzero(pop.employment == UNEMPLOYED)[0]
            back = idle[rng.random(idle.size) < 0.03 * gap * pop.n / max(idle.size, 1)]
            pop.employment[back] = MAINSTREAM

    def _reach(self) -> np.ndarray:
        """Citizens made aware of solutions this month per (community, domain): follow-up
        money, procurement and non-profits' volunteers."""
        s = self.spec
        pop = self.population
        reach = self.government.procurement_reach.copy()
        for sol in self.solutions:
            if sol.followup <= 0:
                continue
            if not sol.alive or self.steps > sol.followup_until:
                self.government.project_account += sol.followup
                sol.followup = 0.0
                continue
            spend = sol.followup / (sol.followup_until - self.steps + 1)
            sol.followup -= spend
            self.ledger.sink("outreach_spend", spend)
            cs = np.fromiter(sol.communities, dtype=np.int64)
            reach[cs, sol.domain] += spend * s.outreach_per_mkrw * pop.community_size[cs] / pop.community_size[cs].sum()
        for npo in self.agents_by_type.get(NonProfit, []):
            reach[npo.community, npo.domain] += VOLUNTEER_REACH * npo.volunteers
        return reach

    def _found(self) -> None:
        """Self-proliferation: capable, active citizens found co-operatives and community businesses."""
        s = self.spec
        pop = self.population
        rng = self.rng
        capable = np.nonzero((pop.capacity > 0.6) & (pop.activeness > 0.4) & (pop.employment != ECOSYSTEM))[0]
        support = 1.0 + self.intermediary_strength_total / (self.intermediary_strength_total + 5.0 * self.scale)
        k = rng.binomial(capable.size, min(1.0, s.founding_rate * support)) if capable.size else 0
        if k == 0:
            return
        gov = self.government
        for founder in rng.choice(capable, size=k, replace=False):
            kind = str(rng.choice(FOUNDED_KINDS, p=FOUNDED_P))
            f = self._new_org(Firm, kind, community=int(pop.community[founder]),
                              domain=int(np.argmax(pop.need[founder])),
                              capability=float(0.8 * pop.capacity[founder]),
                              market_revenue=float(s.wage * (0.4 + pop.capacity[founder]) * (0.5 + pop.capital[founder])))
            f.receive(2.0, "founding_capital", earned=False)
            loan = min(10.0, gov.social_fund)
            if loan > 0:
                gov.social_fund -= loan
                f.cash += loan
                f.loan += loan
            pop.employment[founder] = ECOSYSTEM
            f.staff.append(int(founder))
            f.earned = f.market_revenue
            self.counters["entries_founded"] += 1

    def _commons(self) -> None:
        """The commons decays unless intermediaries (commons platforms) maintain it."""
        kept = min(1.0, self.intermediary_strength_total / (2.0 * max(self.scale, 1e-9) * 3))
        self.commons_stock *= 1.0 - self.spec.commons_decay * (1.0 - kept)

    # ------------------------------------------------------------ running
    def run(self, steps: int | None = None) -> None:
        """Run ``steps`` months (the scenario's ``steps`` if None)."""
        for _ in range(int(self.spec.steps if steps is None else steps)):
            self.step()

    def measures_frame(self):
        """The per-step measures as a DataFrame indexed by step (0 = initial state)."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index = np.arange(len(df))
        df.index.name = "step"
        return df
