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


_ROWS: list[Lever] = [
    # ---------------------------------------------------------------- policy
    Lever("budget_per_1000", "policy", "M KRW / month / 1,000 citizens", 5.0, 0.0, 200.0,
          "Local government's monthly budget for the ecosystem programme, scaled with population.",
          "stylised: sized so that a 10,000-citizen region funds a few projects a year "
          "(001 talk 3: 9.8-12.7 bn KRW a year nationally for 22-30 projects)"),
    Lever("share_wage_subsidy", "policy", "weight", 0.2, 0.0, 1.0,
          "Budget weight of temporary wage subsidies for jobs in firms.",
          "000 table, 'support': temporary wage and project-cost subsidies"),
    Lever("share_project_funding", "policy", "weight", 0.3, 0.0, 1.0,
          "Budget weight of innovation-project funding (calls: problem definition, team, development).",
          "000 table, 'support': comprehensive project funding; 001 talk 2 funnel"),
    Lever("share_procurement", "policy", "weight", 0.15, 0.0, 1.0,
          "Budget weight of public procurement of social value: government buys services from "
          "solutions in use, which pays providers and reaches citizens in need.",
          "000 strategies: public procurement of social value; 001 talk 2: local bodies must buy the result"),
    Lever("share_social_fund", "policy", "weight", 0.1, 0.0, 1.0,
          "Budget weight paid into a revolving social fund that lends to organisations and is repaid.",
          "000 table, 'support': social funds"),
    Lever("share_education", "policy", "weight", 0.15, 0.0, 1.0,
          "Budget weight of citizen education and talent (raises citizens' capacity).",
          "000 table: citizen education and talent; 001 talk 1: DSI leaders, data experts"),
    Lever("share_intermediaries", "policy", "weight", 0.1, 0.0, 1.0,
          "Budget weight of grants to intermediaries (support centres, living labs, commons platforms).",
          "000 table, 'empowerment': intermediary organisations fostered; 001 talk 1: regional support centres"),
    Lever("programme_length", "policy", "months", 36, 6, 120,
          "How long one grant (a subsidised job or a funded project with its follow-up) is supported. "
          "Development that does not finish in time fails.",
          "001 talk 1: single-year regional calls; 000: short-term vs long-term", integer=True),
    Lever("citizen_problem_definition", "policy", "weight 0-1", 0.5, 0.0, 1.0,
          "Who defines problems: 0 = officials pick topics by their own agenda, 1 = citizens define "
          "them by their unmet needs in living labs.",
          "001 talk 1: 'no empathy' (topics chosen by ministries); talk 2: residents pick issues"),
    Lever("allocation_by_merit", "policy", "weight 0-1", 0.5, 0.0, 1.0,
          "How money is allocated: 0 = split uniformly over all applicants ('equal fairness'), "
          "1 = concentrated by need and merit.",
          "000 table, 'support': split uniformly, equal fairness"),
    Lever("safety_net", "policy", "share 0-1", 0.5, 0.0, 1.0,
          "Share of a failed project's loss that is covered, and share of the team's learning and "
          "citizens' trust kept after failure.",
          "000: a safety net for failed innovation; 001 talk 4: failure as learning"),
    Lever("commons_share", "policy", "share 0-1", 0.5, 0.0, 1.0,
          "Share of project results released as a commons (open to every organisation, surviving "
          "its maker) instead of held as proprietary.",
          "001 talk 4: commons-based innovation, IPR 3.0"),
    Lever("followup_share", "policy", "share 0-1", 0.4, 0.0, 1.0,
          "Share of project funding spent on non-R&D follow-up: local adoption support, outreach and "
          "scale-out after a successful pilot.",
          "001 talk 2: R&D only, never distributed; R&D + non-R&D programme"),
    Lever("local_cocreation", "policy", "weight 0-1", 0.5, 0.0, 1.0,
          "0 = imported (imitated) solutions: faster, technically safer, poorer local fit; "
          "1 = locally co-created with residents: slower, better fit, builds capacity.",
          "000: catch-up vs endogenous innovation; 001 talk 2: residents across the whole cycle"),
    # ---------------------------------------------------------------- region
    Lever("n_citizens", "region", "citizens", 10_000, 200, 2_000_000,
          "Number of citizens in the region.", "000: regions (local governments) as the unit of the ecosystem", integer=True),
    Lever("citizens_per_community", "region", "citizens", 500, 50, 20_000,
          "Mean size of a community (neighbourhood).", "", integer=True),
    Lever("firms_per_1000", "region", "firms / 1,000 citizens", 3.0, 0.1, 20.0,
          "Initial number of firms of all kinds, scaled with population."),
    Lever("nonprofits_per_1000", "region", "orgs / 1,000 citizens", 1.0, 0.0, 10.0,
          "Initial number of non-profits, scaled with population."),
    Lever("intermediaries_per_10000", "region", "orgs / 10,000 citizens", 1.0, 0.0, 50.0,
          "Initial number of intermediaries, scaled with population."),
    Lever("mean_degree", "region", "ties", 8.0, 2.0, 40.0,
          "Mean number of social ties per citizen."),
    Lever("within_community_ties", "region", "share 0-1", 0.85, 0.0, 1.0,
          "Share of a citizen's ties that stay inside their community."),
    Lever("need_growth", "region", "need / month", 0.004, 0.0, 0.05,
          "Structural pressure: monthly growth of needs (ageing, polarisation, regional decline).",
          "000: low growth, ageing, polarisation, hollowing-out of regions"),
    Lever("mainstream_employment", "region", "share 0-1", 0.6, 0.0, 1.0,
          "Share of citizens employed in the mainstream economy at the start."),
    Lever("steps", "region", "months", 240, 1, 1200, "Length of a run.", integer=True),
    # ---------------------------------------------------------------- behaviour
    Lever("wage", "behaviour", "M KRW / month", 2.5, 0.1, 20.0, "Monthly wage of one job."),
    Lever("wage_subsidy_rate", "behaviour", "share 0-1", 0.9, 0.0, 1.0,
          "Share of a subsidised job's wage that the subsidy pays.", "000: temporary wage subsidies"),
    Lever("project_cost", "behaviour", "M KRW", 100.0, 1.0, 1000.0,
          "Full cost of developing one solution."),
    Lever("dev_months", "behaviour", "months", 8, 1, 60,
          "Development time of an imported solution; co-creation adds up to half again.", integer=True),
    Lever("price", "behaviour", "M KRW / adopter / month", 0.006, 0.0, 1.0,
          "What one adopter pays its provider each month in normal economic conditions."),
    Lever("need_threshold", "behaviour", "need 0-1", 0.3, 0.0, 1.0,
          "Need above which a citizen looks for a solution in that domain."),
    Lever("imitation", "behaviour", "per month", 0.35, 0.0, 2.0,
          "Bass-style imitation strength: adoption hazard per unit of adopting neighbours' share "
          "and solution fit.", "Bass 1969; Sultan et al. 1990: q = 0.38 per year on average (about 0.03 per month) over a whole market; "
          "here per month and per share of a citizen's own ties, so not directly comparable"),
    Lever("outreach_per_mkrw", "behaviour", "reach / M KRW", 20.0, 0.0, 500.0,
          "Citizens made aware of a solution per M KRW of follow-up, procurement or mobilisation."),
    Lever("capacity_gain", "behaviour", "per month", 0.05, 0.0, 0.5,
          "Capacity gained in a month of participation (times the remaining room)."),
    Lever("capacity_decay", "behaviour", "per month", 0.004, 0.0, 0.1,
          "Monthly decay of capacity back toward its start."),
    Lever("founding_rate", "behaviour", "per capable citizen / month", 0.0001, 0.0, 0.01,
          "Monthly chance that a capable, active citizen founds a co-operative or community business."),
    Lever("commons_decay", "behaviour", "per month", 0.02, 0.0, 0.5,
          "Monthly loss of commons stock not maintained by intermediaries."),
]

LEVERS: dict[str, Lever] = {lever.name: lever for lever in _ROWS}
"""All levers by name, in table order."""


def defaults() -> dict[str, float]:
    """Every lever's default value."""
    return {name: lever.default for name, lever in LEVERS.items()}


def by_group(group: str) -> list[Lever]:
    """The levers of one group, in table order."""
    return [lever for lever in _ROWS if lever.group == group]
