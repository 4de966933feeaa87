"""Agents: citizens (views onto the population arrays) and organisations (plain Python).

Organisation behaviour that is per organisation lives here: paying wages, hiring and
laying off, earning, borrowing from the social fund, learning, and leaving the region
when insolvent. Money always moves through ``model.ledger`` or between two stocks, so
money is conserved by construction of the bookkeeping and checked by the tests.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from .innovation import shares_or_equal
from .levers import DOMAINS
from .population import ECOSYSTEM, UNEMPLOYED

if TYPE_CHECKING:
    from .model import EcosystemModel

SOCIAL_ECONOMY = ("social_enterprise", "cooperative", "community_business")


def annuity_payment(principal: float, rate: float, months: int) -> float:
    """Equal monthly payment (M KRW / month) that repays ``principal`` (M KRW) with interest
    ``rate`` (per month) on what is still owed in exactly ``months`` payments: the annuity
    ``P r / (1 - (1 + r)^-n)``, which is ``P / n`` without interest."""
    if rate <= 0:
        return principal / months
    return principal * rate / -math.expm1(-months * math.log1p(rate))


def annuity_value(payment: float, rate: float, months: int) -> float:
    """Principal (M KRW) that ``months`` equal monthly payments of ``payment`` (M KRW / month)
    repay with interest ``rate`` (per month): the inverse of :func:`annuity_payment`,
    ``A (1 - (1 + r)^-n) / r``, which is ``A n`` without interest."""
    if rate <= 0:
        return payment * months
    return payment * -math.expm1(-months * math.log1p(rate)) / rate


def _row_sum(values: np.ndarray) -> np.ndarray:
    """``values.sum(axis=1)`` of an (n, k) array with few columns, as a left-to-right sum of
    the columns: the order numpy uses for this reduction (same bits), ~4x faster."""
    total = values[:, 0].copy()
    for k in range(1, values.shape[1]):
        total += values[:, k]
    return total


class Citizen(mesa.Agent):
    """One citizen, a read/write view onto row ``index`` of :class:`Population`.

    The population arrays are the state; this agent exists so that a citizen can be
    inspected like any Mesa agent (``model.agents_by_type[Citizen]``) while the monthly
    update stays vectorised.
    """

    def __init__(self, model: "EcosystemModel", index: int):
        super().__init__(model)
        self.index = index

    @property
    def _pop(self):
        return self.model.population

    @property
    def community(self) -> int:
        return int(self._pop.community[self.index])

    @property
    def need(self) -> dict[str, float]:
        """Unmet need per domain (0-1)."""
        return dict(zip(DOMAINS, self._pop.need[self.index].tolist()))

    @property
    def capacity(self) -> float:
        return float(self._pop.capacity[self.index])

    @property
    def capital(self) -> float:
        return float(self._pop.capital[self.index])

    @property
    def activeness(self) -> float:
        return float(self._pop.activeness[self.index])

    @property
    def trust(self) -> float:
        return float(self._pop.trust[self.index])

    @property
    def employment(self) -> str:
        return ("unemployed", "mainstream", "ecosystem")[int(self._pop.employment[self.index])]

    @property
    def adopted(self) -> dict[str, int]:
        """Id of the solution in use per domain (-1: none)."""
        return dict(zip(DOMAINS, self._pop.adopted[self.index].tolist()))

    @property
    def ties(self) -> np.ndarray:
        """Citizen numbers this citizen has social ties with."""
        t = self._pop.ties
        return t.indices[t.indptr[self.index]:t.indptr[self.index + 1]]



class Organisation(mesa.Agent):
    """What every organisation has: a kind, a home community and domain, cash and jobs.

    Attributes:
        cash        M KRW in hand.
        capability  0-1, ability to turn funding into a working solution.
        staff       citizen numbers of unsubsidised employees (-1: hired from outside).
        subsidised  [citizen, expiry month] of employees whose wage a grant pays.
        market_revenue  M KRW / month earned outside the ecosystem in normal conditions.
        earned      M KRW / month earned (sales, procurement, market), smoothed.
        loan        M KRW of principal owed to the social fund.
        loan_due    month by which the loan is repaid in full (its maturity).
    """

    kind = "organisation"

    def __init__(self, model: "EcosystemModel", kind: str, community: int, domain: int,
                 cash: float, capability: float, market_revenue: float = 0.0):
        super().__init__(model)
        self.kind = kind
        self.community = community
        self.domain = domain
        self.cash = cash
        self.capability = capability
        self.market_revenue = market_revenue
        self.staff: list[int] = []
        self.subsidised: list[list[int]] = []
        self.earned = 0.0
        self.month_income = 0.0
        self.subsidy_income = 0.0
        self.last_income = 0.0
        self.last_subsidy = 0.0
        self.loan = 0.0
        self.loan_due = 0
        self.founded = model.steps
        self.solutions: list = []
        self.alive = True
        self.idle_months = 0

    # ---------------------------------------------------------------- money
    def receive(self, amount: float, flow: str, earned: bool = True) -> None:
        """Money from outside the ledgered stocks (sales, donations, market revenue)."""
        self.model.ledger.sources[flow] += amount  # Ledger.source, without a call (hot path)
        self.cash += amount
        if earned:
            self.month_income += amount

    def pay_out(self, amount: float, flow: str) -> None:
        """Money that leaves the ledgered stocks (wages, project spending)."""
        self.model.ledger.sinks[flow] += amount  # Ledger.sink, without a call (hot path)
        self.cash -= amount

    @property
    def jobs(self) -> int:
        return len(self.staff) + len(self.subsidised)

    @property
    def jobs_subsidised(self) -> int:
        return len(self.subsidised)

    # ---------------------------------------------------------------- behaviour
    def step(self) -> None:
        """A month: earn outside revenue, pay wages, settle grants, adjust jobs, learn."""
        m = self.model
        s = m.spec
        if self.market_revenue > 0:
            self.receive(self.market_revenue * m.economy, "market_revenue")
        jobs = self.jobs
        self.pay_out(s.wage * jobs + s.fixed_cost, "wages_and_running_costs")
        reserve = s.reserve_months * s.wage * max(jobs, 1)
        surplus_bar = s.surplus_months / s.reserve_months * reserve
        if self.cash > surplus_bar:
            # Surplus leaves the region's stocks: profit taken out, investment elsewhere.
            self.pay_out(s.surplus_payout * (self.cash - surplus_bar), "surplus_distributed")
        if self.subsidised:
            self._expire_subsidies()
        self.earned += s.income_smoothing * (self.month_income - self.earned)
        self._adjust_jobs()
        if self.loan > 0:
            self._service_loan()
        self.idle_months = self.idle_months + 1 if self.jobs == 0 else 0
        self.capability = min(1.0, max(0.0, self.capability - s.capability_decay * (self.capability - s.capability_floor)))
        self.last_income, self.last_subsidy = self.month_income, self.subsidy_income
        self.month_income = 0.0
        self.subsidy_income = 0.0

    def _expire_subsidies(self) -> None:
        now = self.model.steps
        expired = [row for row in self.subsidised if row[1] <= now]
        if not expired:
            return
        self.subsidised = [row for row in self.subsidised if row[1] > now]
        for citizen, _ in expired:
            # Kept only if what the organisation earns on its own can pay the wage.
            if self._affordable_staff() > len(self.staff):
                self.staff.append(citizen)
            else:
                self.model.release(citizen)

    def _affordable_staff(self) -> int:
        """Unsubsidised jobs that earned income (not grants) can carry."""
        return int(self.model.spec.wage_bill_share * self.earned / self.model.spec.wage)

    def _adjust_jobs(self) -> None:
        s = self.model.spec
        target = self._affordable_staff()
        if len(self.staff) < target and self.cash > s.hiring_buffer_months * s.wage:
            self.staff.append(self.model.hire(self.community))
        elif (len(self.staff) > target and self.cash < s.hiring_buffer_months * s.wage * max(self.jobs, 1)
              and self.staff):
            self.model.release(self.staff.pop())

    def _service_loan(self) -> None:
        """Repay the social fund on its terms: an annuity (equal monthly payments of interest
        and principal) that ends the loan at its maturity ``loan_due``.

        The payment is recomputed each month as the annuity of what is still owed over the
        months left (this month included), so a borrower paying in full pays the same amount
        every month and owes exactly 0 after the last one, and one that paid short catches up
        by the maturity; past it, the whole balance is due. A payment short of the interest
        leaves the principal as it was (the unpaid interest is forgiven, not added).
        """
        if self.loan <= 0:
            return
        m = self.model
        rate = m.spec.loan_interest
        months_left = max(1, self.loan_due - m.steps + 1)
        interest = self.loan * rate
        due = annuity_payment(self.loan, rate, months_left)
        paid = min(due, max(self.cash, 0.0))
        self.cash -= paid
        m.government.social_fund += paid
        if months_left == 1 and paid == due:
            self.loan = 0.0  # the last payment closes the loan (no round-off remainder)
        else:
            self.loan -= max(paid - interest, 0.0)

    def close(self) -> None:
        """Leave the region: free the jobs, hand open solutions on, withdraw the rest."""
        m = self.model
        for citizen in self.staff:
            m.release(citizen)
        for citizen, _ in self.subsidised:
            m.release(citizen)
        self.staff, self.subsidised = [], []
        if self.cash >= 0:
            m.ledger.sink("exit_liquidation", self.cash)
        else:
            m.ledger.source("debt_written_off", -self.cash)
        self.cash = 0.0
        if self.loan > 0:
            m.counters["loan_defaults"] += 1
            m.counters["loan_default_amount"] += self.loan
        self.loan = 0.0  # the social fund loses what was owed
        self.alive = False
        m.on_close(self)
        self.remove()


class Firm(Organisation):
    """A market organisation: for-profit, CSR firm, social enterprise, co-operative or community business.

    A firm that is insolvent and cannot borrow, or has had no one working for ``idle_exit``
    months, closes.
    """

    def step(self) -> None:
        super().step()
        if self.cash < 0:
            self.model.rescue_or_close(self)
        elif self.idle_months >= self.model.spec.idle_exit:
            self.close()


class NonProfit(Organisation):
    """Volunteers and donations; mobilises citizens and delivers services in its domain.

    Attributes:
        volunteers  citizens mobilised last month.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.volunteers = 0

    def step(self) -> None:
        m = self.model
        s = m.spec
        pop = m.population
        members = pop.members(self.community)
        # Donations follow the community's means and trust in collective action.
        # ``x.mean()`` is ``np.add.reduce(x) / x.size`` (numpy's own definition; same bits) without
        # its Python wrapper; capital is fixed, so its community mean is computed once.
        means = m.__dict__.setdefault("_capital_mean_by_community", {})
        capital = means.get(self.community)
        if capital is None:
            capital = means[self.community] = np.add.reduce(pop.capital[members]) / members.size
        trust = pop.trust[members]
        donors = capital * (np.add.reduce(trust) / trust.size)
        self.receive(s.donation_per_resident * members.size * donors * m.economy, "donations")
        self.volunteers = int(m.participation_by_community[self.community] * s.volunteer_share)
        self._deliver_services(members)
        super().step()
        if self.cash < 0:
            m.rescue_or_close(self)

    def _deliver_services(self, members: np.ndarray) -> None:
        """Volunteers and staff relieve the neediest residents in the non-profit's domain."""
        s = self.model.spec
        pop = self.model.population
        capacity = int(self.volunteers + s.served_per_staff * len(self.staff))
        if capacity <= 0 or members.size == 0:
            return
        column = pop.need[:, self.domain]  # a view: 1-D gathers are cheaper than (rows, column) ones
        if capacity >= members.size:
            neediest = members  # all of them (the partition below would pick every one)
        else:
            minus_need = column[members]
            np.negative(minus_need, out=minus_need)
            neediest = members[minus_need.argpartition(capacity - 1)[:capacity]]
        column[neediest] *= 1.0 - s.service_relief


class Intermediary(Organisation):
    """Support centre, living lab or commons platform.

    Its staff (full-time equivalents paid from public grants) set how much it can do:
    living labs in calls, places for residents to take part, matching partners to teams,
    peer consulting for its partners, and keeping the commons up. Its reach grows with its
    staff and with its links (partnerships). It serves ``communities``.
    """

    def __init__(self, *args, communities: np.ndarray | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.communities = communities if communities is not None else np.array([self.community])
        self.fte = 0.0
        self.labs_open = 0.0

    @property
    def jobs(self) -> float:
        return self.fte

    @property
    def strength(self) -> float:
        """Effective staff: full-time equivalents, made more effective by links to partners."""
        partners = len(self.model._partners.get(self.unique_id, ()))
        return self.fte * (1.0 + self.model.spec.link_effect * np.log1p(partners))

    def fte_for(self, community: int) -> float:
        """Effective staff available to one of its communities."""
        return self.strength / len(self.communities)

    def labs_per_call(self) -> float:
        """Living labs its staff can run in one call."""
        return self.model.spec.labs_per_fte * self.strength

    def open_labs(self) -> None:
        """Before a call round: lab capacity builds up between calls (a part-time lab this
        call is a full one later), up to one call's worth plus one."""
        self.labs_open = min(self.labs_open + self.labs_per_call(), self.labs_per_call() + 1.0)

    def _peer_consulting(self) -> None:
        """Partner organisations learn from the intermediary, more when it has staff to spare."""
        s = self.model.spec
        partners = self.model.partners_of(self.unique_id)
        if not partners or self.fte <= 0:
            return
        cover = min(1.0, s.consulting_partners_per_fte * self.strength / len(partners))
        for org in partners:
            org.capability = min(1.0, org.capability + s.peer_consulting * cover)

    def step(self) -> None:
        """Staff follow the grants through the cash they bring, never more than the cash in hand
        (an intermediary does not borrow to pay staff)."""
        m = self.model
        s = m.spec
        self._peer_consulting()
        # Spend a 1/reserve_months share of the cash in hand each month: with grants g arriving
        # monthly, cash settles at about reserve_months * g and staff at what g pays.
        budget = max(self.cash, 0.0) / s.reserve_months
        self.fte = max(0.0, budget - s.fixed_cost) / s.wage
        self.pay_out(s.wage * self.fte + s.fixed_cost, "wages_and_running_costs")
        self.last_income, self.last_subsidy = self.month_income, self.subsidy_income
        self.month_income = 0.0
        self.subsidy_income = 0.0
        if self.cash < 0 and self.fte == 0.0:
            self.close()  # not even its running costs are covered


class Government(mesa.Agent):
    """The local government (and, when its budget is on, the national ministries): receives
    the budget and applies the policy levers.

    Attributes (M KRW unless noted):
        treasury          money received this month and not yet spent (what is left lapses).
        intermediary_savings  intermediary money saved to start a new one where none is left.
        project_account   local project-funding money waiting for the next call.
        national_rd_account   national R&D money waiting for the next national call.
        national_followup     national non-R&D money for deploying results locally.
        social_fund       the revolving fund's cash.
        budget_factor     1 = full budget; budget cuts lower it.
        programme_active  False once the subsidy programme has ended.
        perceived_need    officials' lagged view of visible need per (community, domain).
        procurement_reach citizens reached by procurement this month, per (community, domain).
    """

    def __init__(self, model: "EcosystemModel"):
        super().__init__(model)
        self.treasury = 0.0
        self.project_account = 0.0
        self.national_rd_account = 0.0
        self.national_followup = 0.0
        self.social_fund = 0.0
        self.budget_factor = 1.0
        self.programme_active = True
        self.budget_in = 0.0
        self.intermediary_savings = 0.0
        pop = model.population
        self.perceived_need = pop.community_mean(pop.need)
        self.procurement_reach = np.zeros((pop.n_communities, len(DOMAINS)))

    def step(self) -> None:
        m = self.model
        s = m.spec
        split = dict(s.budget_split)
        if not self.programme_active:
            split["share_wage_subsidy"] = split["share_project_funding"] = 0.0
        budget = s.budget_per_1000 * s.n_citizens / 1000.0 * self.budget_factor
        pots = {k: budget * v for k, v in split.items()}
        national = s.national_budget_per_1000 * s.n_citizens / 1000.0 * self.budget_factor * self.programme_active
        self.budget_in = sum(pots.values()) + national
        m.ledger.source("budget", self.budget_in)
        self.treasury += self.budget_in
        self._move(national * s.national_rd_share, "national_rd_account")
        self._move(national * (1.0 - s.national_rd_share), "national_followup")
        self._wage_subsidies(pots["share_wage_subsidy"])
        self._move(pots["share_project_funding"], "project_account")
        self._procure(pots["share_procurement"])
        self._move(pots["share_social_fund"], "social_fund")
        # The fund revolves: what it holds beyond its cap is recycled into project funding.
        excess = self.social_fund - s.fund_cap_months * pots["share_social_fund"]
        if excess > 0 and pots["share_social_fund"] > 0:
            self.social_fund -= excess
            self.project_account += excess
            m.counters["fund_recycled"] += excess
        self._educate(pots["share_education"])
        self._fund_intermediaries(pots["share_intermediaries"])
        self._national_followup()
        if self.treasury > 0:
            m.ledger.sink("lapsed", self.treasury)
        self.treasury = 0.0

    def _move(self, amount: float, account: str) -> None:
        amount = min(amount, self.treasury)
        self.treasury -= amount
        setattr(self, account, getattr(self, account) + amount)

    def _pay(self, org: Organisation, amount: float, earned: bool) -> None:
        amount = min(amount, self.treasury)
        self.treasury -= amount
        org.cash += amount
        if earned:
            org.month_income += amount
        else:
            org.subsidy_income += amount

    def _wage_subsidies(self, pot: float) -> None:
        """Pay running wage-subsidy grants; cancel the newest if the pot shrank; hand out new slots.

        Some subsidised jobs would have existed anyway (deadweight: a regular worker moves
        onto the subsidy) and some displace a regular worker (substitution); only the rest
        are new jobs.
        """
        m = self.model
        s = m.spec
        cost = s.wage * s.wage_subsidy_rate
        # The job-creation programmes target the social economy only (000 table, 'policy target').
        firms = [f for f in m.firms() if f.kind in SOCIAL_ECONOMY]
        slots = int(pot // cost) if cost > 0 else 0
        # Grants ending this month free their slots now, so a new cohort starts without a gap.
        held = sorted(((row[1], f.unique_id, f, row) for f in firms for row in f.subsidised if row[1] > m.steps),
                      key=lambda x: (x[0], x[1]))
        for _, _, firm, row in held[slots:]:
            row[1] = m.steps  # the grant ends now; the firm keeps the worker only if it can pay
        for _, _, firm, row in held[:slots]:
            self._pay(firm, cost, earned=False)
            m.counters["programme_spend"] += cost
        free = slots - min(slots, len(held))
        # Subsidy-seeking entry: the programme's slots draw new social enterprises into being.
        entrants = int(m.rng.poisson(s.subsidy_entry_rate * slots)) if slots else 0
        if entrants:
            firms += m.subsidy_entry(entrants)
        if free <= 0 or not firms:
            return
        # A firm takes at most as many subsidised workers as it has regular staff (at least one).
        cap = {f.unique_id: max(1, len(f.staff)) - sum(row[1] > m.steps for row in f.subsidised) for f in firms}
        merit = s.allocation_by_merit
        score = np.array([f.capability * (1.0 + f.earned / s.wage) for f in firms])
        # By merit, in proportion to the score; with no score anywhere, merit cannot rank them.
        w = (1.0 - merit) / len(firms) + merit * shares_or_equal(score)
        order = m.rng.choice(len(firms), size=len(firms), replace=False, p=w / w.sum())
        expiry = m.steps + int(s.programme_length)
        for i in order:
            f = firms[i]
            take = max(0, min(cap[f.unique_id], free))
            for _ in range(take):
                u = m.rng.random()
                if u < s.deadweight and f.staff:
                    f.subsidised.append([f.staff.pop(), expiry])  # would have been employed anyway
                else:
                    if u < s.deadweight + s.substitution and f.staff:
                        m.release(f.staff.pop())  # a regular worker is displaced
                    f.subsidised.append([m.hire(f.community), expiry])
                self._pay(f, cost, earned=False)  # paid from the first month
                m.counters["programme_spend"] += cost
            free -= take
            if free <= 0:
                break

    def _procure(self, pot: float) -> None:
        """Contracts for solutions that work (fit above the procurement bar), in proportion to
        their use and fit: the provider is paid, deploys part of it as service capacity, and
        the contract reaches citizens in need where the solution is offered."""
        m = self.model
        s = m.spec
        self.procurement_reach[:] = 0.0
        live = [sol for sol in m.solutions if sol.alive and sol.provider is not None and sol.fit >= s.procurement_min_fit]
        if pot <= 0 or not live:
            return
        ids = np.fromiter((sol.id for sol in live), np.int64, len(live))
        fits = np.fromiter((sol.fit for sol in live), np.float64, len(live))
        weight = (m.users_by_solution[ids] + s.procurement_floor_users) * fits
        total_weight = weight.sum()
        if total_weight <= 0:
            return  # nobody uses them and no floor is credited (or all fit 0): no contract to weigh
        amounts = pot * (weight / total_weight)
        for sol, amount in zip(live, amounts):
            self._pay(sol.provider, amount, earned=True)
            deploy = s.procurement_deploy_share * amount
            sol.provider.pay_out(deploy, "deploy_spend")
            sol.capacity += deploy / s.deploy_cost_per_user
        # Reach, spread over each solution's communities by size (integer sums: exact).
        sizes = m.population.community_size
        counts = np.fromiter((len(sol.communities) for sol in live), np.int64, len(live))
        cs = np.fromiter((c for sol in live for c in sol.communities), np.int64, int(counts.sum()))
        doms = np.repeat(np.fromiter((sol.domain for sol in live), np.int64, len(live)), counts)
        owner = np.repeat(np.arange(len(live)), counts)
        total = np.bincount(owner, sizes[cs], len(live)).astype(np.int64)
        np.add.at(self.procurement_reach, (cs, doms),
                  amounts[owner] * s.outreach_per_mkrw * sizes[cs] / total[owner])

    def _educate(self, pot: float) -> None:
        """Training for citizens: by merit, to those with most need and least capital."""
        m = self.model
        s = m.spec
        pop = m.population
        trainees_n = pot / s.education_cost_per_trainee
        if trainees_n < 1:
            return
        merit = s.allocation_by_merit
        # w = (1 - merit) + (merit * need summed over domains) * (1 - capital), and
        # p = min(1, (trainees * w) / sum(w)): the same operations, in place.
        w = _row_sum(pop.need)
        w *= merit
        w *= pop.one_minus_capital
        w += 1.0 - merit
        total = w.sum()
        p = w
        p *= trainees_n
        p /= total
        np.minimum(p, 1.0, out=p)
        trained = m.rng.random(pop.n) < p
        idx = np.flatnonzero(trained)
        before = pop.capacity[idx]
        pop.capacity[idx] = before + s.education_gain * (1.0 - before)
        pop.participating |= trained
        # Non-profits deliver the courses and keep a delivery fee for their own costs.
        npos = list(m.agents_by_type.get(NonProfit, []))
        if npos:
            fee = s.education_delivery_fee * pot
            weights = np.array([1.0 + o.volunteers for o in npos])
            for o, w in zip(npos, weights / weights.sum()):
                self._pay(o, fee * w, earned=False)
            pot -= fee
        spent = min(pot, self.treasury)
        self.treasury -= spent
        m.ledger.sink("education_spend", spent)

    def _fund_intermediaries(self, pot: float) -> None:
        """Grants to intermediaries; where communities have none left (a closed keystone),
        the money saves up until it can start a new one for them."""
        m = self.model
        s = m.spec
        if pot <= 0:
            return
        orphans = m.orphaned_communities()
        if orphans.size:
            share = orphans.size / m.population.n_communities
            saved = min(pot * share, self.treasury)
            self.treasury -= saved
            self.intermediary_savings += saved
            pot -= saved
            # Once the orphans' share has saved up start-up months of grants, a new one opens.
            if self.intermediary_savings >= s.intermediary_start_up * saved > 0:
                m._new_intermediary(orphans, cash=self.intermediary_savings)
                self.intermediary_savings = 0.0
        brokers = m.intermediaries()
        if not brokers:
            return
        merit = s.allocation_by_merit
        # By merit, money follows work done (partnerships brokered); uniformly, communities served.
        served = np.array([len(b.communities) for b in brokers], dtype=float)
        work = np.array([len(m._partners.get(b.unique_id, ())) + 1.0 for b in brokers])
        w = (1.0 - merit) * served / served.sum() + merit * work / work.sum()
        for b, share in zip(brokers, w):
            self._pay(b, pot * share, earned=False)

    def _national_followup(self) -> None:
        """National non-R&D money pays follow-up of solutions that have none left (001 talk 2:
        the interior ministry's non-R&D half), in proportion to their fit."""
        m = self.model
        if self.national_followup <= 0:
            return
        needy = [sol for sol in m.solutions if sol.alive and sol.provider is not None and sol.followup <= 0]
        if not needy:
            return
        fits = np.array([sol.fit for sol in needy])
        if fits.sum() <= 0:
            return  # only solutions that do not work (fit 0): the money waits for one that does
        for sol, share in zip(needy, fits / fits.sum()):
            sol.followup += self.national_followup * share
            sol.followup_until = m.steps + int(m.spec.programme_length)
        self.national_followup = 0.0
