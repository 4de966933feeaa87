"""The one table of levers and parameters.

Every number a user can set lives here once: its name, unit, default, allowed range,
meaning and the passage of the sources it stands for. Scenario validation, the command
line, the dashboard's sliders, sweep designs and the ODD parameter table all read this
table; adding a lever is one row here plus the mechanism that reads it.

Groups:
    ``policy``     the levers a regime sets (the two presets differ only here);
    ``region``     size and structure of the simulated region;
    ``behaviour``  mechanism constants (calibration knobs), the same in every regime.

Units: one step is one month; money is in million KRW (M KRW).
"""

from __future__ import annotations

from dataclasses import dataclass

DOMAINS: tuple[str, ...] = (
    "health_welfare",
    "lifelong_education",
    "environment",
    "migration",
    "regional_gap",
)
"""The five problem domains of the sources (001, talk 1: the online platform's case variables)."""

ORG_KINDS: tuple[str, ...] = (
    "for_profit",
    "csr_firm",
    "social_enterprise",
    "cooperative",
    "community_business",
    "nonprofit",
    "intermediary",
)
"""Organisation kinds; the first five are ``Firm`` kinds."""

FIRM_KINDS: tuple[str, ...] = ORG_KINDS[:5]

FOUNDED_KINDS: tuple[str, ...] = ("cooperative", "community_business", "social_enterprise")
"""Kinds of organisation that citizens found (self-proliferation)."""

MONTHS_PER_YEAR = 12
"""Unit conversion: one step is one month."""

BUDGET_SHARES: tuple[str, ...] = (
    "share_wage_subsidy",
    "share_project_funding",
    "share_procurement",
    "share_social_fund",
    "share_education",
    "share_intermediaries",
)
"""Weights of the budget split; normalised to sum 1 when a scenario is built."""


@dataclass(frozen=True, slots=True)
class Lever:
    """One settable number: what it is, in what unit, and what values are allowed."""

    name: str
    group: str
    unit: str
    default: float
    low: float
    high: float
    doc: str
    source: str = ""
    integer: bool = False

    def check(self, value: object) -> str | None:
        """Return why ``value`` is not allowed, or None when it is."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "an integer" if self.integer else "a number"
            return f"must be {kind} in [{_fmt(self.low)}, {_fmt(self.high)}] {self.unit}"
        if self.integer and not float(value).is_integer():
            return f"must be an integer in [{_fmt(self.low)}, {_fmt(self.high)}] {self.unit}"
        if value != value or not (self.low <= value <= self.high):
            return f"must be in [{_fmt(self.low)}, {_fmt(self.high)}] {self.unit}"
        return None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


A = "assumption"


def _b(name: str, unit: str, default: float, low: float, high: float, doc: str, source: str = A,
       integer: bool = False) -> Lever:
    """A behaviour row: a mechanism's strength, the same in every regime (a calibration knob)."""
    return Lever(name, "behaviour", unit, default, low, high, doc, source, integer)


_ROWS: list[Lever] = [
    # ---------------------------------------------------------------- policy
    Lever("budget_per_1000", "policy", "M KRW / month / 1,000 citizens", 25.0, 0.0, 200.0,
          "Local government's monthly budget for the ecosystem programme, scaled with population.",
          "001 talk 3: 'social-economy innovation towns', 28 bn KRW per town over 3 years "
          "(about 26 M KRW / month / 1,000 residents for a town of 30,000)"),
    Lever("share_wage_subsidy", "policy", "weight", 0.2, 0.0, 1.0,
          "Budget weight of temporary wage subsidies for jobs in social-economy firms.",
          "000 table, 'support': temporary wage and project-cost subsidies"),
    Lever("share_project_funding", "policy", "weight", 0.3, 0.0, 1.0,
          "Budget weight of innovation-project funding (yearly calls: problem definition, team, development, follow-up).",
          "000 table, 'support': comprehensive project funding; 001 talk 2 funnel"),
    Lever("share_procurement", "policy", "weight", 0.15, 0.0, 1.0,
          "Budget weight of public procurement of social value: contracts for solutions that work, "
          "which pay providers, deploy service capacity and reach citizens in need.",
          "000 strategies: public procurement of social value; 001 talk 2: local bodies must buy the result"),
    Lever("share_social_fund", "policy", "weight", 0.1, 0.0, 1.0,
          "Budget weight paid into a revolving social fund that lends (project co-finance, founding, "
          "growth, rescue) on terms and is repaid.",
          "000 table, 'support': social funds"),
    Lever("share_education", "policy", "weight", 0.15, 0.0, 1.0,
          "Budget weight of citizen education and talent (raises capacity, hence participation and founding).",
          "000 table: citizen education and talent; 001 talk 1: DSI leaders, data experts"),
    Lever("share_intermediaries", "policy", "weight", 0.1, 0.0, 1.0,
          "Budget weight of grants to intermediaries (support centres, living labs, commons platforms).",
          "000 table, 'empowerment': intermediary organisations fostered; 001 talk 1: regional support centres"),
    Lever("programme_length", "policy", "months", 36, 6, 120,
          "How long one grant (a subsidised job, or a funded project with its follow-up) is supported. "
          "Development that does not finish in time fails.",
          "001 talk 1: single-year regional calls; 000: short-term vs long-term", integer=True),
    Lever("citizen_problem_definition", "policy", "weight 0-1", 0.5, 0.0, 1.0,
          "Who defines problems: 0 = officials pick topics from the need they can see (lagged, noisy, "
          "leaning to those who complain), 1 = residents define them by the need they voice.",
          "001 talk 1: 'no empathy' (topics chosen by ministries); talk 2: residents pick issues"),
    Lever("allocation_by_merit", "policy", "weight 0-1", 0.5, 0.0, 1.0,
          "How project money is allocated: 0 = split evenly over every proposal ('equal fairness'), "
          "1 = the best proposals by need served and team quality, each funded at the cost its plan needs.",
          "000 table, 'support': split uniformly, equal fairness"),
    Lever("safety_net", "policy", "share 0-1", 0.5, 0.0, 1.0,
          "Chance that a failed team is kept together to try again at the next call (and share of the "
          "lead's own loss covered); without it the team disbands and participants' trust falls.",
          "000: a safety net for failed innovation; 001 talk 4: failure as learning"),
    Lever("commons_share", "policy", "share 0-1", 0.5, 0.0, 1.0,
          "Share of project results released as a commons (open: anyone deploys them, later projects "
          "learn from them and cost less) instead of held as proprietary (the owner charges more).",
          "001 talk 4: commons-based innovation, IPR 3.0"),
    Lever("followup_share", "policy", "share 0-1", 0.4, 0.0, 0.8,
          "Share of local project funding kept for non-R&D follow-up after a pilot: deployment, "
          "fitting to users' feedback and outreach.",
          "001 talk 2: R&D only, never distributed; R&D + non-R&D programme (3 + 3 bn KRW)"),
    Lever("local_cocreation", "policy", "weight 0-1", 0.5, 0.0, 1.0,
          "0 = imported (imitated) designs: residents consulted once, faster, technically safer; "
          "1 = co-created with residents in a living lab: more participants, months of lab work, "
          "fit from what they know.",
          "000: catch-up vs endogenous innovation; 001 talk 2: residents across the whole cycle"),
    Lever("national_budget_per_1000", "policy", "M KRW / month / 1,000 citizens", 0.0, 0.0, 100.0,
          "National ministries' money for the region (0 = no central government): R&D calls and "
          "non-R&D deployment money.",
          "001 talk 2: MSIT R&D + MOIS non-R&D with local matching; talk 3: MOTIE through regions"),
    Lever("national_rd_share", "policy", "share 0-1", 0.5, 0.0, 1.0,
          "Share of the national money spent on R&D calls (the rest is non-R&D money that pays "
          "follow-up of solutions in the region).", "001 talk 2: 3 bn KRW R&D + 3 bn KRW non-R&D"),
    Lever("national_citizen_topics", "policy", "weight 0-1", 0.2, 0.0, 1.0,
          "Who picks the national calls' topics (0 = ministries, 1 = residents).",
          "001 talk 1: topics chosen by ministries, residents consulted once; new process: citizens propose and vote"),
    Lever("national_local_match", "policy", "share of grant", 0.2, 0.0, 1.0,
          "Local matching: the local government adds this share of every national grant from its "
          "project account (no match, no project).", "001 talk 1 and 2: pre-matched local administration"),
    Lever("national_duplication", "policy", "share 0-1", 0.1, 0.0, 1.0,
          "Share of national issues that duplicate a topic another programme already funded; a "
          "funded copy pays that topic's holder again and develops nothing new.",
          "001 talk 1: 111 sub-programmes / 166 items of social-problem R&D across ministries (2018); "
          "'유사 내용 중복 신청으로 여러 부처의 중복지원'"),
    # ---------------------------------------------------------------- region
    Lever("n_citizens", "region", "citizens", 10_000, 200, 2_000_000,
          "Number of citizens in the region.", "000: regions (local governments) as the unit of the ecosystem", integer=True),
    Lever("citizens_per_community", "region", "citizens", 1_000, 50, 20_000,
          "Mean size of a community (neighbourhood); a project plan serves one community. A region "
          "smaller than this is one community.",
          "000: Lambeth Open Works, about 1,000 residents of one neighbourhood", integer=True),
    Lever("community_size_concentration", "region", "Dirichlet concentration", 8.0, 0.5, 100.0,
          "Evenness of community sizes (higher = more equal).", A),
    Lever("firms_per_1000", "region", "firms / 1,000 citizens", 3.0, 0.1, 20.0,
          "Initial number of firms of all kinds, scaled with population.", A),
    *[Lever(f"mix_{k}", "region", "weight", w, 0.0, 1.0, f"Weight of {k.replace('_', ' ')}s among the initial firms.", A)
      for k, w in (("for_profit", 0.3), ("csr_firm", 0.1), ("social_enterprise", 0.25), ("cooperative", 0.15),
                   ("community_business", 0.2))],
    Lever("nonprofits_per_1000", "region", "orgs / 1,000 citizens", 1.0, 0.0, 10.0,
          "Initial number of non-profits, scaled with population.", A),
    Lever("intermediaries_per_10000", "region", "orgs / 10,000 citizens", 1.0, 0.0, 50.0,
          "Initial number of intermediaries, scaled with population (at least one).",
          "001 talk 1: one regional support centre per region"),
    Lever("mean_degree", "region", "ties", 8.0, 2.0, 40.0, "Mean number of social ties per citizen.", A),
    Lever("within_community_ties", "region", "share 0-1", 0.85, 0.0, 1.0,
          "Share of a citizen's ties that stay inside their community.", A),
    Lever("need_growth", "region", "need / month", 0.004, 0.0, 0.05,
          "Structural pressure: need arising each month for a citizen of average situation (ageing, "
          "polarisation, regional decline); unserved need settles at need_growth x pressure x situation / need_resolution.",
          "000: low growth, ageing, polarisation, hollowing-out of regions"),
    Lever("need_resolution", "region", "share / month", 0.01, 0.0, 0.1,
          "Share of a citizen's need that passes each month without any solution (circumstances change, "
          "people move, recover or age out); 0 = unserved need only grows.", A),
    *[Lever(f"pressure_{d}", "region", "multiplier", w, 0.0, 5.0,
            f"Relative growth of need in {d.replace('_', ' ')}.", "000: ageing and polarisation weigh most")
      for d, w in (("health_welfare", 1.5), ("lifelong_education", 0.6), ("environment", 0.8), ("migration", 0.7),
                   ("regional_gap", 1.2))],
    Lever("need_profile_concentration", "region", "Dirichlet concentration", 2.0, 0.2, 50.0,
          "How alike communities' needs are across domains (higher = more alike).", A),
    Lever("mainstream_employment", "region", "share 0-1", 0.6, 0.0, 1.0,
          "Share of citizens employed in the mainstream economy at the start.", A),
    Lever("steps", "region", "months", 240, 1, 1200, "Length of a run.", integer=True),
    # ---------------------------------------------------------------- behaviour: citizens at the start
    _b("citizen_concentration", "Beta concentration", 6.0, 1.0, 100.0,
       "Concentration of citizens' Beta-distributed traits (higher = less spread)."),
    _b("capital_mean", "0-1", 0.4, 0.05, 0.95, "Mean socio-economic capital."),
    _b("activeness_mean", "0-1", 0.29, 0.02, 0.9, "Mean propensity to take part.",
       "001 talk 1: participation matched to activeness and socio-economic capital"),
    _b("activeness_capital_slope", "per unit capital", 0.2, 0.0, 1.0, "Extra activeness per unit of capital above the mean.",
       "001 talk 1: participation matched to activeness and socio-economic capital"),
    _b("capacity_start_mean", "0-1", 0.25, 0.02, 0.9, "Mean initial capacity to define problems and take part."),
    _b("capacity_capital_slope", "per unit capital", 0.25, 0.0, 1.0, "Extra initial capacity per unit of capital above the mean."),
    _b("trust_start_mean", "0-1", 0.5, 0.05, 0.95, "Mean initial trust in public and collective action."),
    _b("fit_required_mean", "fit 0-1", 0.5, 0.05, 0.95,
       "Mean least fit a solution must have for a citizen to take it up (sets the size of a solution's market)."),
    _b("need_start_mean", "need 0-1", 0.265, 0.02, 0.8, "Mean initial need per domain."),
    _b("need_capital_slope", "per unit capital", 0.6, 0.0, 1.5,
       "How much less need (initial and growth) a citizen has per unit of capital above the mean.",
       "000: polarisation"),
    _b("need_spread", "log-sd", 0.35, 0.0, 1.5, "Lognormal spread of initial need between citizens."),
    _b("employment_capital_slope", "per unit capital", 0.6, 0.0, 2.0,
       "Relative increase of the chance of a mainstream job per unit of capital above the mean."),
    # ---------------------------------------------------------------- behaviour: money and organisations
    _b("wage", "M KRW / month", 2.5, 0.1, 20.0, "Monthly wage of one job (about the Korean median wage).",
       "001 talk 3: 9.8 bn KRW for 146 jobs (wages are part of that)"),
    _b("wage_subsidy_rate", "share 0-1", 0.9, 0.1, 1.0, "Share of a subsidised job's wage that the subsidy pays.",
       "000: temporary wage subsidies"),
    _b("deadweight", "share 0-1", 0.3, 0.0, 0.9,
       "Share of subsidised jobs that would have existed anyway (a regular worker moves onto the subsidy).",
       "assumption (evaluations of hiring subsidies commonly report deadweight of 20-50 %)"),
    _b("substitution", "share 0-1", 0.1, 0.0, 0.5,
       "Share of subsidised hires that displace a regular worker of the same firm.",
       "assumption (evaluations of hiring subsidies report substitution effects)"),
    _b("subsidy_entry_rate", "firms / slot / month", 0.02, 0.0, 0.2,
       "New social enterprises founded per wage-subsidy slot per month, to capture subsidies.",
       "000: 'support and benefit' that ends when the money ends"),
    _b("entrant_capability_mean", "0-1", 0.29, 0.02, 0.9, "Mean capability of subsidy-seeking entrants."),
    _b("entrant_market_revenue", "M KRW / month", 1.0, 0.0, 20.0, "Mean outside revenue of a subsidy-seeking entrant."),
    _b("founding_capital", "M KRW", 2.0, 0.0, 50.0, "Capital a new organisation starts with."),
    *[_b(f"market_revenue_{k}", "M KRW / month", v, 0.0, 100.0,
         f"Mean monthly revenue of an initial {k.replace('_', ' ')} outside the ecosystem.")
      for k, v in (("for_profit", 12.0), ("csr_firm", 15.0), ("social_enterprise", 4.0), ("cooperative", 3.0),
                   ("community_business", 3.0))],
    _b("market_revenue_shape", "Gamma shape", 4.0, 0.5, 50.0, "Spread of firms' outside revenue (higher = less spread)."),
    _b("going_concern_margin", "wages", 1.25, 0.0, 5.0, "Least outside revenue of an initial firm, in wages (the region starts from going concerns)."),
    _b("firm_capability_mean", "0-1", 0.43, 0.02, 0.95, "Mean capability of initial firms."),
    _b("nonprofit_capability_mean", "0-1", 0.33, 0.02, 0.95, "Mean capability of initial non-profits."),
    _b("intermediary_capability_mean", "0-1", 0.57, 0.02, 0.95, "Mean capability of intermediaries."),
    _b("org_concentration", "Beta concentration", 7.0, 1.0, 100.0, "Concentration of organisations' capability (higher = less spread)."),
    _b("start_cash_months", "wages per job", 6.0, 0.0, 36.0, "Cash an initial firm holds, in months of its wage bill."),
    _b("nonprofit_start_cash", "M KRW", 5.0, 0.0, 100.0, "Cash an initial non-profit holds."),
    _b("fixed_cost", "M KRW / month", 0.3, 0.0, 5.0, "What every organisation pays to exist (rent, accounts): a dormant one runs down."),
    _b("wage_bill_share", "share 0-1", 0.85, 0.1, 1.0, "Share of earned income an organisation will commit to unsubsidised wages."),
    _b("income_smoothing", "per month", 0.2, 0.01, 1.0, "Weight of this month's income in the smoothed income that sets hiring."),
    _b("hiring_buffer_months", "wages", 3.0, 0.0, 24.0, "Cash (in wages) an organisation keeps before it hires; below it (per job) it lays off."),
    _b("reserve_months", "months", 3.0, 1.0, 24.0,
       "Months of wage bill an organisation keeps before funding projects from its own cash; intermediaries start with, and keep, a buffer of this many months of their grants (each month they spend cash / reserve_months)."),
    _b("surplus_months", "months", 12.0, 1.0, 60.0, "Cash above this many months of wage bill is surplus."),
    _b("surplus_payout", "per month", 0.1, 0.0, 1.0, "Share of the surplus taken out of the region each month (profit, investment elsewhere)."),
    _b("idle_exit", "months", 12, 1, 120, "Months with no one working after which a firm closes.", integer=True),
    _b("capability_decay", "per month", 0.002, 0.0, 0.1, "Monthly drift of an organisation's capability back toward the floor."),
    _b("capability_floor", "0-1", 0.2, 0.0, 1.0, "Capability an organisation drifts back to without learning."),
    _b("own_funds_share", "share 0-1", 0.3, 0.0, 1.0, "Share of cash above its reserve a lead adds to a project that the grant does not cover."),
    _b("loan_interest", "per month", 0.002, 0.0, 0.05, "Monthly interest of social-fund loans.", "000: social funds (revolving)"),
    _b("loan_term", "months", 36, 3, 240,
       "Months over which a social-fund loan is repaid, in equal monthly payments of principal and interest "
       "(an annuity) that end it at this term.", "000: social funds (revolving)", integer=True),
    _b("debt_service_share", "share of free cash flow", 0.5, 0.0, 1.0,
       "Most of its free cash flow (smoothed earned income less wages and running costs) a borrower may owe "
       "in monthly loan payments, interest included (the fund's credit check: it lends the principal such "
       "payments repay over the loan term)."),
    _b("founding_loan", "M KRW", 10.0, 0.0, 200.0, "Start-up loan the social fund offers a citizen-founded organisation."),
    _b("fund_cap_months", "months of inflow", 24.0, 1.0, 240.0,
       "Most the social fund holds, in months of its budget inflow; money above it is recycled into project funding (no idle pile)."),
    # ---------------------------------------------------------------- behaviour: problem definition and calls
    _b("official_lag", "months", 24.0, 1.0, 120.0, "Lag of officials' view of need behind visible need.",
       "001 talk 1: 'no empathy', 'no feedback loop'"),
    _b("official_noise", "log-sd", 1.0, 0.0, 3.0, "Salience noise in the local officials' choice of topics (political salience, fashion).",
       "001 talk 1: topics chosen by ministries"),
    _b("national_noise", "log-sd", 1.5, 0.0, 3.0, "Salience noise in the national ministries' choice of topics (further from the region).",
       "001 talk 1: topics chosen by ministries; duplicated programmes"),
    _b("official_salience_halflife", "months", 48.0, 0.0, 240.0,
       "Half-life of the local officials' salience of a topic (their agenda persists from call to call; "
       "0 = drawn afresh at every call, so misses average out). Default: one term of a local government head.",
       "001 talk 1: topics chosen by ministries, 'no empathy'; assumption for the number (4-year local term)"),
    _b("national_salience_halflife", "months", 60.0, 0.0, 240.0,
       "Half-life of the national ministries' salience of a topic (0 = drawn afresh at every call). "
       "Default: one presidential term.",
       "001 talk 1: topics chosen by ministries; assumption for the number (5-year presidential term)"),
    _b("complaint_floor", "0-1", 0.3, 0.0, 1.0,
       "How visible the need of a citizen with no capital is, relative to one with full capital (visible need leans to those who complain)."),
    _b("call_interval", "months", 12, 1, 60, "Months between calls for projects.", "001 talk 1: single-year regional calls", integer=True),
    _b("issues_per_10000", "issues / 10,000 citizens / year", 10.0, 0.0, 200.0, "Local issues submitted to a call.",
       "001 talk 2: 82 issues submitted nationally"),
    _b("shortlist_share", "share 0-1", 0.26, 0.01, 1.0, "Share of submitted issues shortlisted.", "001 talk 2: 82 → 21"),
    _b("topic_vote_turnout", "share of residents / call", 0.03, 0.0, 0.3,
       "Share of residents who propose and vote on a call's topics when residents set them all "
       "(times the programme's citizen-topic weight); voters take part that month, weighted by "
       "activeness. Assumption for the number (participatory budgeting draws a few per cent).",
       "001 talk 1: new call process, citizens propose and vote on topics"),
    _b("proposals_per_issue", "proposals / issue", 3.7, 0.0, 20.0, "Organisations proposing per shortlisted issue.", "001 talk 2: 21 issues → 77 researcher proposals"),
    _b("labs_per_fte", "living labs / FTE / call", 0.15, 0.0, 5.0, "Living labs an intermediary's effective staff can run in one call.",
       "001 talk 2: 13 of 21 shortlisted issues went to problem-planning living labs"),
    _b("domain_affinity", "multiplier", 1.0, 0.0, 10.0, "Extra weight of an organisation working in the issue's domain when proposing or being matched."),
    _b("place_affinity", "multiplier", 0.5, 0.0, 10.0, "Extra weight of an organisation based in the issue's community."),
    _b("min_grant_share", "share of plan", 0.05, 0.0, 1.0, "Smallest even-split grant worth making, as a share of the plan's cost."),
    _b("plan_cost_per_resident", "M KRW / resident", 0.45, 0.01, 5.0,
       "What a project plan costs per resident of the community it serves (450 M KRW for 1,000 residents).",
       "001 talk 3: 9.8 bn KRW / 22 projects = 445 M KRW (2018); talk 2: 6 bn KRW / 10 projects = 600 M KRW"),
    # ---------------------------------------------------------------- behaviour: teams and development
    _b("partners_per_fte", "partners / effective FTE", 2.0, 0.0, 20.0, "Partners an intermediary matches to a team per effective staff member it has for the community.",
       "000 table, 'empowerment': network activation, intermediaries"),
    _b("participants_consulted", "residents", 3.0, 0.0, 100.0, "Residents consulted once on an imported design.", "001 talk 1: residents consulted once"),
    _b("participants_cocreated", "residents", 30.0, 1.0, 500.0, "Residents taking part in a fully co-created project.",
       "000: Lambeth Open Works, about 1,000 residents in 20 projects; 001 talk 2: 33 researchers in 13 living labs"),
    _b("cocreation_months", "months", 6.0, 0.0, 36.0, "Months a fully co-created project spends in a living lab with residents (development takes this much longer)."),
    _b("consultation_months", "months", 1.0, 0.0, 12.0, "Months of contact with residents every project has."),
    _b("knowledge_for_fit", "capacity × need × months", 30.0, 0.1, 500.0,
       "Residents' knowledge (participants' capacity × need, over months) that closes 63 % of the gap between an imported design's fit and a perfect fit. "
       "At 30, a fully co-created project (30 residents of capacity 0.5 and need 0.6 over 7 months) closes about 90 % of it and one consultation of 3 residents about 2 %.",
       "001 talk 1: residents consulted once ('no empathy'); talk 2: 60 field visits"),
    _b("commons_knowledge", "share 0-1", 0.3, 0.0, 1.0, "Share of the remaining knowledge gap a saturated commons fills (lessons from other communities).",
       "001 talk 4: commons-based innovation"),
    _b("imported_fit", "fit 0-1", 0.35, 0.0, 1.0, "Fit of an imported (imitated) design to residents before any local knowledge.",
       "000: catch-up ('chase-style') innovation imitates"),
    _b("fit_noise", "fit", 0.05, 0.0, 0.5, "Random error of a solution's fit."),
    _b("dev_months", "months", 9.0, 1.0, 60.0, "Mean development time of a fully funded imported design (co-creation adds its lab months)."),
    _b("dev_shape", "Gamma shape", 4.0, 0.5, 100.0, "Regularity of development times (higher = less spread)."),
    _b("underfunding_delay", "share", 0.5, 0.0, 5.0, "Extra development time, relative, when the plan is entirely unfunded (scales with the funding gap)."),
    _b("project_wage_share", "share 0-1", 0.5, 0.0, 1.0, "Share of development spending that pays project staff (jobs in the year of spending).",
       "001 talk 3: 146 jobs in the year of a 9.8 bn KRW programme"),
    _b("capability_weight", "0-1", 0.7, 0.0, 1.0, "How much each member's capability adds to the team's (1 - prod(1 - w c)))."),
    _b("success_base", "probability", 0.3, 0.0, 1.0, "Chance of success of a fully funded project with nothing else going for it."),
    _b("success_team", "probability", 0.3, 0.0, 1.0, "Added chance of success from a fully capable team."),
    _b("funding_elasticity", "exponent", 2.0, 0.0, 4.0,
       "Elasticity of the chance of success to the share of the plan funded (2: half the money, a quarter of the chance; a half-built solution is rarely half a solution).",
       "000 table, 'support': uniform split ('equal fairness') vs comprehensive project funding"),
    _b("success_knowledge", "probability", 0.15, 0.0, 1.0, "Added chance of success from full knowledge of residents' situation."),
    _b("success_imported", "probability", 0.1, 0.0, 1.0, "Added chance of success of a wholly imported (proven elsewhere) design."),
    _b("success_retry", "probability / attempt", 0.1, 0.0, 0.5, "Added chance of success per earlier failed attempt of a kept team.",
       "001 talk 4: failure as learning; 000: safety net"),
    _b("success_max", "probability", 0.95, 0.1, 1.0, "Highest chance of success."),
    _b("learning_success", "capability", 0.08, 0.0, 0.5, "Capability a lead gains from a success."),
    _b("learning_partner", "capability", 0.04, 0.0, 0.5, "Capability a partner gains from a success."),
    _b("learning_failure", "capability", 0.05, 0.0, 0.5, "Capability a lead whose team is kept gains from a failure.", "001 talk 4: failure as learning"),
    _b("trust_success", "trust", 0.05, 0.0, 0.5, "Trust participants gain when their project succeeds."),
    _b("trust_failure", "trust", 0.06, 0.0, 0.5, "Trust participants lose when their team disbands after a failure.", "000: safety net for failed innovation"),
    _b("pilot_need_share", "share of threshold", 0.5, 0.0, 1.0, "Least need (as a share of the threshold) for a participant to use the pilot."),
    # ---------------------------------------------------------------- behaviour: after the pilot
    _b("deploy_cost_per_user", "M KRW / user", 0.3, 0.01, 10.0,
       "Cost of deploying service capacity for one more user (equipment, fitting, staff time).",
       "001 talk 2: a 1.1 bn KRW kit developed as R&D was never distributed to workers"),
    _b("followup_deploy_share", "share 0-1", 0.5, 0.0, 1.0, "Share of follow-up spending that deploys capacity (the rest is outreach)."),
    _b("followup_min_months", "months", 6, 1, 60, "Least months over which follow-up money is spent after a pilot.", integer=True),
    _b("feedback_rate", "per month", 0.05, 0.0, 0.5, "Monthly share of the fit gap closed by users' feedback while follow-up lasts.",
       "001 talk 2: citizen monitoring in non-R&D follow-up"),
    _b("feedback_users", "users", 20.0, 1.0, 1000.0, "Users at which feedback closes half its most."),
    _b("monitoring_feedback", "per month", 0.02, 0.0, 0.5,
       "Monthly share of the fit gap closed by the monitors of a solution whose issue residents "
       "raised (at saturation, as feedback_users), for as long as they keep monitoring, with or "
       "without follow-up money. Assumption for the number.",
       "001 talk 2: residents take part across the whole cycle; citizen monitoring"),
    _b("monitor_outreach", "residents / monitor / month", 0.5, 0.0, 5.0,
       "Residents of their own community a monitor makes aware of the solution each month "
       "(word of mouth). Assumption.", "001 talk 2: residents take part across the whole cycle"),
    _b("monitor_dropout", "per month", 0.04, 0.0, 1.0,
       "Monthly chance that a monitor stops (about two years on average at 0.04). Assumption."),
    _b("outreach_per_mkrw", "reach / M KRW", 20.0, 0.0, 500.0, "Citizens made aware of a solution per M KRW of outreach or procurement."),
    _b("procurement_min_fit", "fit 0-1", 0.3, 0.0, 1.0, "Least fit for a solution to win a procurement contract (it must work).",
       "000 strategies: public procurement of social value"),
    _b("procurement_floor_users", "users", 5.0, 0.0, 100.0, "Users credited to every eligible solution when contracts are weighed (new solutions get some)."),
    _b("procurement_deploy_share", "share 0-1", 0.5, 0.0, 1.0, "Share of a contract the provider spends deploying capacity."),
    _b("reinvest_share", "share 0-1", 0.2, 0.0, 1.0, "Share of sales a provider reinvests in capacity."),
    _b("price", "M KRW / adopter / month", 0.006, 0.0, 1.0, "What one adopter pays its provider each month in normal economic conditions."),
    _b("price_capital_slope", "per unit capital", 1.0, 0.0, 3.0, "Relative change of what a user pays per unit of capital above the mean."),
    _b("proprietary_markup", "share", 0.5, 0.0, 5.0, "Mark-up a proprietary provider charges over an open one.", "001 talk 4: IPR 2.0 privatisation vs 3.0 commons"),
    _b("need_threshold", "need 0-1", 0.3, 0.0, 1.0, "Need above which a citizen looks for a solution in that domain."),
    _b("imitation", "per month", 0.35, 0.0, 2.0,
       "Bass-style imitation strength: adoption hazard per unit of adopting neighbours' share and solution fit.",
       "Bass 1969; Sultan et al. 1990: q = 0.38 per year on average over a whole market; here per month and per share "
       "of a citizen's own ties, so not directly comparable"),
    _b("spontaneous_adoption", "per month", 0.002, 0.0, 0.1, "Monthly chance that an eligible citizen finds an offered solution unprompted (times fit).",
       "Bass 1969: innovation coefficient p"),
    _b("trust_weight", "0-1", 0.5, 0.0, 1.0, "How much outreach's effect depends on the citizen's trust."),
    _b("churn", "per month", 0.03, 0.0, 0.5, "Monthly chance that a user of a solution of fit 0 gives it up (times 1 - fit)."),
    _b("relief", "per month", 0.12, 0.0, 1.0, "Share of a user's need that a solution of fit 1 removes each month."),
    _b("scale_out_rate", "per month", 0.3, 0.0, 5.0, "Monthly chance of scaling out to a new community per unit of uptake × fit × push."),
    _b("scale_out_max", "per month", 0.2, 0.0, 1.0, "Highest monthly chance of a scale-out."),
    _b("scale_out_users", "users", 20.0, 1.0, 1000.0, "Capacity deployed in one step of scale-out or growth loan (a pilot's worth)."),
    _b("retire_after", "months", 24, 1, 240, "Months a solution may go without any user before it is retired.", integer=True),
    # ---------------------------------------------------------------- behaviour: intermediaries and commons
    _b("intermediary_start_up", "months of grants", 12.0, 0.0, 60.0,
       "Months of their grants that communities left without an intermediary save up before a new one opens for them (the savings are its start-up cash)."),
    _b("link_effect", "per log partner", 0.1, 0.0, 2.0, "How much an intermediary's links to partners multiply its staff's effect.",
       "000: a firm's life and death decided by its links; network activation"),
    _b("lab_places_per_fte", "residents / FTE / month", 15.0, 0.0, 200.0, "Residents taking part in living labs per effective staff member each month.",
       "000: Lambeth Open Works, about 1,000 residents in 12 months"),
    _b("intermediary_half_fte", "FTE / community", 0.5, 0.01, 10.0, "Effective intermediary staff per community at which their support is half its most."),
    _b("consulting_partners_per_fte", "partners / FTE", 5.0, 0.0, 100.0, "Partners one effective staff member can consult fully."),
    _b("peer_consulting", "capability / month", 0.01, 0.0, 0.1, "Capability a fully consulted partner gains each month.", "000 table, 'empowerment': peer consulting"),
    _b("commons_half_stock", "fit units / community", 0.5, 0.01, 20.0, "Commons stock per community at which the commons gives half its most."),
    _b("commons_cost_cut", "share 0-1", 0.3, 0.0, 0.9, "Share of a plan's (or a scale-out's) cost a saturated commons saves.", "001 talk 4: commons-based innovation"),
    _b("commons_fte_per_community", "FTE / community", 0.5, 0.01, 10.0, "Effective intermediary staff per community that keep the commons from decaying."),
    _b("commons_decay", "per month", 0.02, 0.0, 0.5, "Monthly loss of commons stock not maintained by intermediaries."),
    # ---------------------------------------------------------------- behaviour: citizens' month
    _b("capacity_gain", "per month", 0.05, 0.0, 0.5, "Capacity gained in a month of participation (times the remaining room)."),
    _b("capacity_decay", "per month", 0.004, 0.0, 0.1, "Monthly decay of capacity back toward its start."),
    _b("education_cost_per_trainee", "M KRW / trainee-month", 0.05, 0.001, 5.0, "Cost of one month of training for one citizen."),
    _b("education_gain", "per month", 0.025, 0.0, 0.5, "Capacity a trainee gains in a month (times the remaining room).",
       "000 table: citizen education and talent"),
    _b("education_delivery_fee", "share 0-1", 0.2, 0.0, 1.0, "Share of the education budget paid to non-profits that deliver the courses."),
    _b("trust_floor", "0-1", 0.3, 0.0, 2.0, "Weight of taking part that does not depend on trust."),
    _b("trust_participation", "per month", 0.01, 0.0, 0.2, "Trust gained in a month of participation."),
    _b("trust_served", "per month", 0.005, 0.0, 0.2, "Trust gained in a month of using a solution."),
    _b("trust_unmet", "per month", 0.004, 0.0, 0.2, "Trust lost in a month with a high, unserved need."),
    _b("unmet_high_need", "need 0-1", 0.7, 0.0, 1.0, "Need above which an unserved citizen loses trust."),
    _b("mainstream_recovery", "per month", 0.03, 0.0, 1.0, "Monthly rate at which mainstream jobs come back after a downturn (times the gap)."),
    _b("downturn_job_loss", "share per unit strength", 0.3, 0.0, 1.0, "Share of mainstream workers who lose their job in a downturn of strength 1."),
    _b("donation_per_resident", "M KRW / resident / month", 0.004, 0.0, 0.1, "Donations to a non-profit per resident of its community (times capital × trust)."),
    _b("volunteer_share", "share 0-1", 0.1, 0.0, 1.0, "Share of the community's participants who volunteer for its non-profit."),
    _b("volunteer_reach", "citizens / volunteer / month", 3.0, 0.0, 50.0, "Residents a volunteer makes aware of solutions in the non-profit's domain each month."),
    _b("served_per_staff", "residents / staff / month", 5.0, 0.0, 100.0, "Residents a non-profit's paid staff member serves each month."),
    _b("service_relief", "share 0-1", 0.05, 0.0, 1.0, "Share of need a non-profit's service removes from a served resident in a month."),
    _b("founding_rate", "per capable citizen / month", 0.0001, 0.0, 0.01,
       "Monthly chance that a capable, active citizen founds a co-operative or community business.",
       "000: self-proliferating innovation through self-help and co-operation"),
    _b("founder_capacity", "0-1", 0.6, 0.0, 1.0, "Least capacity of a founder."),
    _b("founder_activeness", "0-1", 0.4, 0.0, 1.0, "Least activeness of a founder."),
    _b("founding_support", "multiplier", 1.0, 0.0, 10.0, "Extra founding with full intermediary support (relative)."),
    _b("founder_capability_share", "share 0-1", 0.8, 0.0, 1.0, "A new organisation's capability as a share of its founder's capacity."),
    _b("founder_revenue_wages", "wages / unit capacity", 1.4, 0.0, 10.0, "Outside revenue of a new organisation, in wages per unit of its founder's capacity."),
    *[_b(f"founded_{k}", "weight", w, 0.0, 1.0, f"Weight of {k.replace('_', ' ')}s among citizen-founded organisations.")
      for k, w in (("cooperative", 0.4), ("community_business", 0.4), ("social_enterprise", 0.2))],
    _b("team_patience_calls", "calls", 2, 0, 10,
       "Calls a team kept by the safety net goes on waiting after the first call that does not fund it; "
       "passed over once more, it disbands (and its participants' trust falls by trust_failure).",
       "000: a safety net so that failure is not the end; assumption for the number", integer=True),
]

LEVERS: dict[str, Lever] = {lever.name: lever for lever in _ROWS}
"""All levers by name, in table order."""


def defaults() -> dict[str, float]:
    """Every lever's default value."""
    return {name: lever.default for name, lever in LEVERS.items()}


def by_group(group: str) -> list[Lever]:
    """The levers of one group, in table order."""
    return [lever for lever in _ROWS if lever.group == group]
