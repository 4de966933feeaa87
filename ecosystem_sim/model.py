"""EcosystemModel: builds the region and runs the monthly step.

A month, in order:

1. scheduled shocks;
2. the government (local, and national when its budget is on) receives its budget and
   spends it by the levers (wage subsidies, project account, procurement, social fund,
   education, intermediaries, national R&D and non-R&D money); officials update their
   lagged view of visible need;
3. every ``call_interval`` months, each programme's call (the funnel of 001 talk 2);
   every running project develops one month;
4. citizens (vectorised): needs arise and pass, some take part in living labs and projects,
   capacity and trust move, mainstream jobs recover after a downturn;
5. follow-up money deploys, fits and promotes piloted solutions; diffusion: outreach and
   imitation bring new users up to each solution's service capacity; users' needs fall
   and they pay their providers;
6. organisations, in random order: outside revenue, wages, grants ending, hiring and
   laying off, loans; the insolvent borrow from the social fund or close;
7. the social fund lends its idle money to providers whose capacity is full; capable
   citizens found new organisations (self-proliferation); working solutions scale out;
   solutions nobody uses retire; the commons decays unless intermediaries keep it;
8. measures are collected.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import mesa
import numpy as np

from . import diffusion, innovation, shocks
from .agents import Citizen, Firm, Government, Intermediary, NonProfit, Organisation, annuity_value
from .levers import DOMAINS, FIRM_KINDS, FOUNDED_KINDS
from .measures import MEASURES, snapshot
from .population import ECOSYSTEM, MAINSTREAM, UNEMPLOYED, Population
from .scenario import Scenario, default_scenario

def _any_column(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` as ORs of the few columns (numpy reduces a short last axis slowly)."""
    out = mask[:, 0].copy()
    for k in range(1, mask.shape[1]):
        out |= mask[:, k]
    return out


def _uses_any(adopted: np.ndarray) -> np.ndarray:
    """``(adopted >= 0).any(axis=1)``: a row has a solution id (>= 0) unless every entry is
    -1, i.e. unless the bitwise AND of its entries (sign bit set only if all are negative) is
    negative. Column ANDs skip the (n, k) comparison."""
    both = adopted[:, 0].copy()
    for k in range(1, adopted.shape[1]):
        both &= adopted[:, k]
    return both >= 0


def _at_least_one(expected: float) -> int:
    """Organisations to create for an expected count: rounded, but never zero when the rate is not."""
    return max(1, int(round(expected))) if expected > 0 else 0


class _MeasuresCollector(mesa.DataCollector):
    """Mesa's DataCollector for the measures: each reporter reads ``model.current[name]``, so
    ``collect`` appends those values directly (plain numbers: the deep copy and the lambda
    call per measure that Mesa makes would give the same values, at ~0.5 ms a month)."""

    def collect(self, model) -> None:
        if not model.current.keys() >= self.model_vars.keys() or self.agent_reporters or self.agenttype_reporters:
            super().collect(model)  # reporters other than the measures were added: Mesa's own way
            return
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        current = model.current
        for var, values in self.model_vars.items():
            values.append(current[var])


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
        self.month_counts: Counter = Counter()  # counters' increase this month
        self.economy = 1.0
        self.commons_stock = 0.0
        self.shock_log: list[tuple[int, str]] = []
        self.running_shocks: list = []  # (budget cut or downturn, month it ends or None)
        self.projects: list[innovation.Project] = []
        self.waiting_teams: list[innovation.Team] = []
        self.solutions: list[innovation.Solution] = []
        # (community x domain) cell -> the organisation most recently funded to work on it.
        self.funded_cells: dict[int, Organisation] = {}
        self.rd_only_solutions: set[int] = set()
        self.funnel = dict.fromkeys(innovation.FUNNEL_STAGES, 0)
        self.partnerships: set[tuple[int, int]] = set()
        self._partners: defaultdict[int, set[int]] = defaultdict(set)  # the same ties, by organisation
        self._orgs_by_id: dict[int, Organisation] = {}

        self.population = pop = Population(self.rng, s)
        self.mainstream_base = float((pop.employment == MAINSTREAM).mean())
        self.users_by_solution = np.zeros(0, dtype=np.int64)
        self.need_by_community = pop.community_mean(pop.need)
        self.participation_by_community = np.zeros(pop.n_communities)
        self.pressure = np.array([s.pressure_health_welfare, s.pressure_lifelong_education, s.pressure_environment,
                                  s.pressure_migration, s.pressure_regional_gap])

        for i in range(pop.n):  # registered one by one: create_agents would build an AgentSet we'd discard
            Citizen(self, i)
        self.government = Government(self)
        self.programmes = [innovation.Programme("local", "project_account", s.citizen_problem_definition,
                                                s.followup_share, s.official_noise,
                                                salience_halflife=s.official_salience_halflife)]
        if s.national_budget_per_1000 > 0:
            # National R&D money cannot pay follow-up; the non-R&D half goes to deployment.
            self.programmes.append(innovation.Programme("national", "national_rd_account", s.national_citizen_topics,
                                                        0.0, s.national_noise, s.national_local_match,
                                                        s.national_duplication, s.national_salience_halflife))
        self._populate_organisations()
        self._intermediary_map()

        self.current: dict[str, float] = snapshot(self)
        self.datacollector = _MeasuresCollector(
            model_reporters={k: (lambda m, k=k: m.current[k]) for k in MEASURES})
        self.datacollector.collect(self)

    # ------------------------------------------------------------ construction
    def _populate_organisations(self) -> None:
        s = self.spec
        rng = self.rng
        pop = self.population
        n_firms = max(1, int(round(s.firms_per_1000 * s.n_citizens / 1000)))
        mix = np.array([getattr(s, f"mix_{k}") for k in FIRM_KINDS])
        kinds = rng.choice(FIRM_KINDS, size=n_firms, p=mix / mix.sum())
        for kind in kinds:
            # The region starts from going concerns: every firm earns at least one wage's worth.
            mean = getattr(s, f"market_revenue_{kind}")
            revenue = max(float(rng.gamma(s.market_revenue_shape, mean / s.market_revenue_shape)),
                          s.going_concern_margin * s.wage)
            firm = self._new_org(Firm, str(kind), capability=self._capability(s.firm_capability_mean),
                                 market_revenue=revenue)
            firm.earned = revenue
            for _ in range(firm._affordable_staff()):
                firm.staff.append(self.hire(firm.community))
            firm.cash = s.start_cash_months * s.wage * max(firm.jobs, 1)
            self.ledger.source("initial_cash", firm.cash)
        for _ in range(_at_least_one(s.nonprofits_per_1000 * s.n_citizens / 1000)):
            npo = self._new_org(NonProfit, "nonprofit", capability=self._capability(s.nonprofit_capability_mean))
            npo.cash = s.nonprofit_start_cash
            self.ledger.source("initial_cash", npo.cash)
        n_int = _at_least_one(s.intermediaries_per_10000 * s.n_citizens / 10_000)
        # At most one intermediary per community: each serves a share of the communities.
        n_int = min(n_int, pop.n_communities)
        grants = s.budget_per_1000 * s.n_citizens / 1000.0 * s.budget_split["share_intermediaries"]
        for chunk in np.array_split(rng.permutation(pop.n_communities), max(n_int, 1))[:n_int]:
            # The region's intermediaries start as going concerns: their buffer of grants in hand.
            share = pop.community_size[chunk].sum() / pop.n
            b = self._new_intermediary(chunk)
            b.receive(s.reserve_months * grants * share, "initial_cash", earned=False)

    def _capability(self, mean: float) -> float:
        s = self.spec
        return float(self.rng.beta(mean * s.org_concentration, (1.0 - mean) * s.org_concentration))

    def _new_org(self, cls, kind: str, community: int | None = None, domain: int | None = None,
                 capability: float = 0.0, market_revenue: float = 0.0, **kwargs) -> Organisation:
        pop = self.population
        if community is None:
            community = int(pop.community[self.rng.integers(pop.n)])
        if domain is None:
            domain = int(self.rng.integers(len(DOMAINS)))
        org = cls(self, kind, community, domain, 0.0, capability, market_revenue, **kwargs)
        self._orgs_by_id[org.unique_id] = org
        return org

    def _new_intermediary(self, communities: np.ndarray, cash: float = 0.0) -> Intermediary:
        """An intermediary serving ``communities`` (the government pays its start-up ``cash``)."""
        b = self._new_org(Intermediary, "intermediary", community=int(communities[0]),
                          capability=self._capability(self.spec.intermediary_capability_mean),
                          communities=np.sort(communities))
        b.cash = cash
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

    def intermediary_support(self) -> float:
        """0-1: how well intermediaries cover the region (effective staff per community,
        saturating at ``intermediary_half_fte``)."""
        per_community = sum(b.strength for b in self.intermediaries()) / self.population.n_communities
        return per_community / (per_community + self.spec.intermediary_half_fte)

    def commons_level(self) -> float:
        """0-1: the commons stock per community, saturating at ``commons_half_stock``."""
        per_community = self.commons_stock / self.population.n_communities
        return per_community / (per_community + self.spec.commons_half_stock)

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
        return [self._orgs_by_id[i] for i in sorted(self._partners.get(uid, ())) if self._orgs_by_id[i].alive]

    def money_total(self, org_cash: float | None = None) -> float:
        """All money in ledgered stocks (M KRW): treasury, accounts, organisations' cash,
        and follow-up money held by projects and solutions. ``org_cash``: the organisations'
        cash if the caller has just summed it (``sum(o.cash for o in organisations())``)."""
        gov = self.government
        if org_cash is None:
            org_cash = sum(o.cash for o in self.organisations())
        return (gov.treasury + gov.project_account + gov.social_fund + gov.intermediary_savings
                + gov.national_rd_account + gov.national_followup
                + org_cash
                + sum(p.followup for p in self.projects)
                + sum(sol.followup for sol in self.solutions))

    # ------------------------------------------------------------ helpers used by agents
    def hire(self, community: int) -> int:
        """Employ an unemployed resident of ``community`` (or, failing that, of the region);
        returns the citizen number, or -1 when the job goes to someone from outside."""
        pop = self.population
        self.counters["hires"] += 1
        for members in (pop.members(community), pop.order):
            free = members[pop.employment[members] == UNEMPLOYED]
            if free.size:
                pick = int(free[self.rng.integers(free.size)])
                pop.employment[pick] = ECOSYSTEM
                return pick
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

    def credit(self, org: Organisation) -> float:
        """Most the social fund will lend ``org`` now (M KRW): the principal that monthly
        annuity payments (interest included) of a share of its free cash flow (earned income
        less wages and running costs) repay over the loan term, less what it owes, within the
        fund's cash. Grant-funded intermediaries earn nothing."""
        s = self.spec
        if org.kind == "intermediary" or org.earned <= 0:
            return 0.0
        free_cash_flow = org.earned - s.wage * org.jobs - s.fixed_cost
        repayable = annuity_value(s.debt_service_share * max(free_cash_flow, 0.0), s.loan_interest, int(s.loan_term))
        limit = repayable - org.loan
        return max(0.0, min(limit, self.government.social_fund))

    def lend(self, org: Organisation, amount: float, purpose: str) -> float:
        """A social-fund loan of up to ``amount`` within :meth:`credit`; returns the amount lent.

        It is repaid as an annuity over ``loan_term`` months from now (see
        ``Organisation._service_loan``); a borrower who still owes on an earlier loan has the
        whole balance consolidated into the new one, over a new term."""
        gov = self.government
        amount = min(amount, self.credit(org))
        if amount <= 0:
            return 0.0
        gov.social_fund -= amount
        org.cash += amount
        org.loan += amount
        org.loan_due = self.steps + int(self.spec.loan_term)
        self.counters["loans"] += 1
        self.counters[f"loans_{purpose}"] += 1
        return amount

    def rescue_or_close(self, org: Organisation) -> None:
        """An insolvent organisation borrows from the social fund if it earns its own
        income and the fund has money; otherwise it closes."""
        need = -org.cash + self.spec.hiring_buffer_months * self.spec.wage
        # Only a loan that covers the whole gap is made: a partial one would be written off at once.
        if org.last_income <= 0 or self.credit(org) < need:
            org.close()
        else:
            self.lend(org, need, "rescue")

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
        s = self.spec
        new = []
        for _ in range(entrants):
            f = self._new_org(Firm, "social_enterprise", capability=self._capability(s.entrant_capability_mean),
                              market_revenue=float(self.rng.gamma(s.market_revenue_shape,
                                                                  s.entrant_market_revenue / s.market_revenue_shape)))
            f.receive(s.founding_capital, "founding_capital", earned=False)
            self.counters["entries_subsidy"] += 1
            new.append(f)
        return new

    def record_funnel(self, stages: dict[str, int]) -> None:
        """Add one call's funnel counts to this month's."""
        for k, v in stages.items():
            self.funnel[k] += v

    # ------------------------------------------------------------ the month
    def step(self) -> None:
        before = self.counters.copy()
        self.funnel = dict.fromkeys(innovation.FUNNEL_STAGES, 0)
        self.population.participating[:] = False
        shocks.apply_due(self)
        self.government.step()
        innovation.perceive(self)
        self._intermediary_map()
        if self.steps % int(self.spec.call_interval) == 0:
            for broker in self.intermediaries():
                broker.open_labs()
            # With several programmes, the round's call order is drawn: living-lab room and free
            # applicants go to whichever calls first, and no programme has a standing claim on
            # them (001 talk 2's national funnel ran living labs too).
            order = self.programmes if len(self.programmes) == 1 else \
                [self.programmes[i] for i in self.rng.permutation(len(self.programmes))]
            for programme in order:
                innovation.call_for_projects(self, programme)
        innovation.develop(self)
        self._citizens()
        reach = self._reach()
        innovation.follow_up(self, reach)
        innovation.monitor(self, reach)
        diffusion.adopt(self, reach)
        diffusion.relieve_and_pay(self)
        orgs = self.organisations()
        for i in self.rng.permutation(len(orgs)):
            if orgs[i].alive:
                orgs[i].step()
        self._growth_loans()
        self._found()
        self.need_by_community = self.population.community_mean(self.population.need)
        innovation.scale_out(self)
        innovation.retire(self)
        self._commons()
        self.month_counts = self.counters - before
        self.current = snapshot(self)
        self.datacollector.collect(self)

    def _citizens(self) -> None:
        """Needs, participation, capacity, trust and mainstream jobs: all vectorised."""
        s = self.spec
        pop = self.population
        rng = self.rng
        # New need arises with structural pressure and each citizen's situation; old need passes
        # as circumstances change, so unserved need settles at a level that differs between
        # citizens, communities and domains instead of filling every cell.
        arising = s.need_growth * self.pressure[None, :] * pop.situation
        # (need + arising) - resolution * need, in place on the first temporary (same operations).
        arising += pop.need
        arising -= s.need_resolution * pop.need
        np.clip(arising, 0.0, 1.0, out=pop.need)
        # Intermediaries' living labs open places to take part; the active and trusting take them.
        places = np.zeros(pop.n_communities)
        for b in self.intermediaries():
            places[b.communities] += s.lab_places_per_fte * b.fte_for(b.communities[0]) * (
                pop.community_size[b.communities] / pop.community_size[b.communities].mean())
        w = pop.activeness * (s.trust_floor + pop.trust)
        w_c = np.bincount(pop.community, w, pop.n_communities)
        # min(1, (places * w) / max(w_c, 1e-300)) per citizen, computed in place.
        p = places[pop.community]
        p *= w
        w_here = w_c[pop.community]
        p /= np.maximum(w_here, 1e-300, out=w_here)
        np.minimum(p, 1.0, out=p)
        pop.participating |= rng.random(pop.n) < p
        part = pop.participating
        taking_part = np.flatnonzero(part)
        before = pop.capacity[taking_part]
        pop.capacity[taking_part] = before + s.capacity_gain * (1.0 - before)
        drift = pop.capacity - pop.capacity0
        drift *= s.capacity_decay
        pop.capacity -= drift
        served = _uses_any(pop.adopted)
        unmet = _any_column(pop.need > s.unmet_high_need) & ~served
        # trust += (participation * part + served * served_) - unmet * unmet_, in place.
        change = s.trust_participation * part
        change += s.trust_served * served
        change -= s.trust_unmet * unmet
        pop.trust += change
        np.clip(pop.trust, 0.0, 1.0, out=pop.trust)
        # Participants per community (as float64, what a bincount weighted by ``part`` gives).
        self.participation_by_community = np.bincount(pop.community[taking_part],
                                                      minlength=pop.n_communities).astype(np.float64)
        # Mainstream jobs drift back toward their pre-downturn level as the economy allows.
        # (A count over n is the mean of the 0/1 values: both are the exact count, rounded once.)
        share = np.count_nonzero(pop.employment == MAINSTREAM) / pop.n
        gap = self.mainstream_base * min(self.economy, 1.0) - share
        if gap > 0:
            idle = np.nonzero(pop.employment == UNEMPLOYED)[0]
            back = idle[rng.random(idle.size) < s.mainstream_recovery * gap * pop.n / max(idle.size, 1)]
            pop.employment[back] = MAINSTREAM

    def _reach(self) -> np.ndarray:
        """Citizens made aware of solutions this month per (community, domain) by procurement
        and non-profits' volunteers (follow-up outreach is added in ``innovation.follow_up``)."""
        reach = self.government.procurement_reach.copy()
        for npo in self.agents_by_type.get(NonProfit, []):
            reach[npo.community, npo.domain] += self.spec.volunteer_reach * npo.volunteers
        return reach

    def _growth_loans(self) -> None:
        """The revolving fund lends what it holds to providers whose service capacity is
        full, to deploy more (social finance as market creation, not an idle pile)."""
        s = self.spec
        users = self.users_by_solution
        for sol in self.solutions:
            if self.government.social_fund <= 0:
                return
            if not sol.alive or sol.provider is None or sol.id >= users.size:
                continue
            if users[sol.id] >= sol.capacity - 1.0:
                got = self.lend(sol.provider, s.deploy_cost_per_user * s.scale_out_users, "growth")
                if got > 0:
                    sol.provider.pay_out(got, "deploy_spend")
                    sol.capacity += got / s.deploy_cost_per_user

    def _found(self) -> None:
        """Self-proliferation: capable, active citizens found co-operatives and community businesses."""
        s = self.spec
        pop = self.population
        rng = self.rng
        capable = np.nonzero((pop.capacity > s.founder_capacity) & (pop.activeness > s.founder_activeness)
                             & (pop.employment != ECOSYSTEM))[0]
        support = 1.0 + s.founding_support * self.intermediary_support()
        k = rng.binomial(capable.size, min(1.0, s.founding_rate * support)) if capable.size else 0
        if k == 0:
            return
        mix = np.array([getattr(s, f"founded_{k}") for k in FOUNDED_KINDS])
        for founder in rng.choice(capable, size=k, replace=False):
            kind = str(rng.choice(FOUNDED_KINDS, p=mix / mix.sum()))
            f = self._new_org(Firm, kind, community=int(pop.community[founder]),
                              domain=int(np.argmax(pop.need[founder])),
                              capability=float(pop.capacity[founder]) * s.founder_capability_share,
                              market_revenue=float(s.wage * s.founder_revenue_wages * pop.capacity[founder]
                                                   * (1.0 + pop.capital[founder] - s.capital_mean)))
            f.receive(s.founding_capital, "founding_capital", earned=False)
            f.earned = f.market_revenue
            self.lend(f, s.founding_loan, "founding")
            pop.employment[founder] = ECOSYSTEM
            f.staff.append(int(founder))
            self.counters["entries_founded"] += 1

    def _commons(self) -> None:
        """The commons decays unless intermediaries (commons platforms) maintain it."""
        s = self.spec
        fte = sum(b.strength for b in self.intermediaries())
        kept = min(1.0, fte / (s.commons_fte_per_community * self.population.n_communities))
        self.commons_stock *= 1.0 - s.commons_decay * (1.0 - kept)

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
