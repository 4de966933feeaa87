"""Glossary of what the outputs mean: a title in words, the unit and which direction is better,
for every per-month measure (names and meanings from :data:`ecosystem_sim.measures.MEASURES`)
and for the derived outputs of runs and sweeps (``final.*``, ``resilience.*.*``, ``diffusion.*.*``).

Figures take their titles and axis labels from here, reports print the glossary, and
``docs/glossary.md`` is generated from it (``python docs/make_glossary.py``; a test keeps it in
step). The *meaning* of a measure is written once, in ``measures.MEASURES``; this module adds
only what a reader of a figure needs besides: words for the name, the unit and the direction.
A measure that has no entry here still gets one, built from its name and ``MEASURES`` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .levers import DOMAINS, ORG_KINDS
from .measures import MEASURES

SHARE = "share 0–1"
MKRW = "million KRW"
HIGHER, LOWER, NEITHER = "higher", "lower", "—"


@dataclass(frozen=True)
class Term:
    """One output: ``name`` as in tables, ``title`` in words, ``unit``, ``meaning``, ``better``
    (``"higher"``, ``"lower"`` or ``"—"`` when neither direction is better by itself)."""

    name: str
    title: str
    unit: str
    meaning: str
    better: str = NEITHER

    @property
    def label(self) -> str:
        """Axis label: the title with its unit."""
        return f"{self.title} ({self.unit})" if self.unit else self.title


def _words(name: str) -> str:
    return name.replace("_", " ")


ORG_WORDS = {"for_profit": "For-profit firms", "csr_firm": "CSR firms", "social_enterprise": "Social enterprises",
             "cooperative": "Co-operatives", "community_business": "Community businesses",
             "nonprofit": "Non-profits", "intermediary": "Intermediaries"}

# name: (title, unit, better). Meanings come from MEASURES.
_MEASURES: dict[str, tuple[str, str, str]] = {
    "jobs_subsidised": ("Subsidised jobs", "jobs", NEITHER),
    "jobs_self_sustaining": ("Self-sustaining jobs", "jobs", HIGHER),
    "jobs_intermediary": ("Intermediary staff", "jobs", NEITHER),
    "jobs_total": ("All jobs", "jobs", HIGHER),
    "jobs_project": ("Project staff", "jobs", NEITHER),
    "jobs_created": ("Jobs created this month", "jobs / month", HIGHER),
    "programme_spend": ("Programme spending", MKRW + " / month", NEITHER),
    "grants_awarded": ("Projects funded", "projects / month", NEITHER),
    "grant_amount": ("Money granted to projects", MKRW + " / month", NEITHER),
    "revenue_ecosystem": ("Revenue of the social economy", MKRW + " / month", HIGHER),
    **{f"funnel_{k}": (f"Call funnel: {k}", "count / month", NEITHER)
       for k in ("issues", "shortlisted", "proposals", "labs", "funded")},
    "adopters_rd_only": ("Users of R&D-only solutions", "citizen-domain pairs", HIGHER),
    "teams_waiting": ("Teams kept by the safety net", "teams", NEITHER),
    "loans_outstanding": ("Owed to the social fund", MKRW, NEITHER),
    **{f"orgs_{k}": (ORG_WORDS.get(k, _words(k).capitalize()), "organisations", NEITHER) for k in ORG_KINDS},
    "orgs_alive": ("Organisations alive", "organisations", HIGHER),
    "org_diversity": ("Diversity of organisations", "nats", HIGHER),
    "subsidy_dependence": ("Subsidy dependence of firms", SHARE, LOWER),
    "unmet_need": ("Unmet need", "need units 0–1", LOWER),
    "need_met_share": ("Needs served", SHARE, HIGHER),
    "solutions_created": ("Solutions created", "solutions", HIGHER),
    "solutions_active": ("Solutions on offer", "solutions", HIGHER),
    "adopters": ("Adoptions", "citizen-domain pairs", HIGHER),
    **{f"adoption_{d}": (f"Adoption in {_words(d)}", SHARE, HIGHER) for d in DOMAINS},
    "participation": ("Participation", "share of citizens", HIGHER),
    "capacity_mean": ("Citizens' capacity", "0–1", HIGHER),
    "capacity_gini": ("Inequality of capacity (Gini)", "0–1", LOWER),
    "partner_density": ("Partnership density", SHARE, NEITHER),
    "partner_mean_degree": ("Partners per organisation", "partners", NEITHER),
    "partner_giant_share": ("Connected organisations", SHARE, NEITHER),
    "projects_running": ("Projects in development", "projects", NEITHER),
    "commons_stock": ("Knowledge commons", "fit units per 10,000 citizens", HIGHER),
    "treasury": ("Unspent public money", MKRW, NEITHER),
    "project_account": ("Project-funding account", MKRW, NEITHER),
    "social_fund": ("Social fund", MKRW, NEITHER),
    "org_cash": ("Organisations' cash", MKRW, NEITHER),
    "money_total": ("All money in the model", MKRW, NEITHER),
    "budget_in": ("Budget received", f"{MKRW} per month", NEITHER),
    "economy": ("Economic conditions", "1 = normal", HIGHER),
}

RESILIENCE_METRICS: dict[str, tuple[str, str, str, str]] = {
    "resistance": ("lowest level after the shock", "ratio to no-shock twin", HIGHER,
                   "lowest ratio of the shocked run to its no-shock twin after the shock (1 = unaffected)"),
    "recovery_time": ("recovery time", "months", LOWER,
                      "months until the ratio is back within 5 % of 1 and stays there (empty if never)"),
    "integrated_loss": ("loss after the shock", "lost share per month", LOWER,
                        "mean over the months after the shock of the share lost against the twin"),
    "permanent_shift": ("lasting change", "ratio − 1, last year", HIGHER,
                        "mean ratio to the twin over the last 12 months, minus 1 (0 = fully back)"),
    "collapsed": ("collapse", "share of runs", LOWER,
                  "1 when the final-year level is below half of the twin's"),
}

DIFFUSION_METRICS: dict[str, tuple[str, str, str, str]] = {
    "final_share": ("final adoption", SHARE, HIGHER, "share of citizens with the need who use a solution at the end"),
    "t10": ("time to 10 % adoption", "months", LOWER, "months until 10 % of eligible citizens adopted"),
    "t50": ("time to 50 % adoption", "months", LOWER, "months until half of eligible citizens adopted"),
    "t90": ("time to 90 % adoption", "months", LOWER, "months until 90 % of eligible citizens adopted"),
    "bass_p": ("Bass innovation coefficient p", "per month", NEITHER, "adoption from outside influence (Bass fit)"),
    "bass_q": ("Bass imitation coefficient q", "per month", NEITHER, "adoption from imitation of adopters (Bass fit)"),
    "bass_m": ("Bass market potential m", SHARE, HIGHER, "final share the Bass fit expects"),
}


def _fallback(name: str, meaning: str) -> tuple[str, str, str]:
    """Title, unit and direction of a measure without an entry, read from its MEASURES text."""
    if meaning.startswith("M KRW"):
        return _words(name).capitalize(), MKRW, NEITHER
    m = re.search(r"\(([^()]*)\)\s*$", meaning)
    unit = m.group(1) if m else ""
    return _words(name).capitalize(), unit, NEITHER


def measure(name: str) -> Term:
    """The glossary entry of a per-month measure (KeyError if ``name`` is not in MEASURES)."""
    meaning = MEASURES[name]
    title, unit, better = _MEASURES.get(name) or _fallback(name, meaning)
    meaning = re.sub(r"^M KRW:\s*", "", meaning)
    return Term(name, title, unit, meaning, better)


def measures() -> list[Term]:
    """Every per-month measure, in the order of MEASURES."""
    return [measure(n) for n in MEASURES]


def term(name: str) -> Term:
    """The entry of any output name: a measure, ``final.MEASURE``, ``resilience.MEASURE.METRIC``,
    ``diffusion.DOMAIN.METRIC`` (DOMAIN a domain or ``mean``). Unknown names get their own name."""
    if name in MEASURES:
        return measure(name)
    parts = name.split(".")
    if parts[0] == "final" and len(parts) == 2 and parts[1] in MEASURES:
        t = measure(parts[1])
        return Term(name, f"{t.title}, final month", t.unit, f"{t.meaning}, in the last month", t.better)
    if parts[0] == "resilience" and len(parts) == 3 and parts[1] in MEASURES and parts[2] in RESILIENCE_METRICS:
        t = measure(parts[1])
        title, unit, better, meaning = RESILIENCE_METRICS[parts[2]]
        return Term(name, f"{t.title}: {title}", unit, f"{t.title}: {meaning}", better)
    if parts[0] == "diffusion" and len(parts) == 3 and parts[2] in DIFFUSION_METRICS:
        title, unit, better, meaning = DIFFUSION_METRICS[parts[2]]
        where = "mean over domains" if parts[1] == "mean" else _words(parts[1])
        return Term(name, f"{title.capitalize()} ({where})", unit, f"{meaning} ({where})", better)
    return Term(name, _words(name), "", "")


def title(name: str) -> str:
    return term(name).title


def label(name: str) -> str:
    """Axis label with unit, e.g. ``Self-sustaining jobs (jobs)``."""
    return term(name).label


def lever_label(name: str, regimes=None) -> str:
    """Axis label of a lever (or ``mix`` between two presets), e.g. ``safety net (share 0-1)``."""
    from .levers import LEVERS

    if name == "mix":
        ends = f": 0 = {regimes[0]}, 1 = {regimes[1]}" if regimes and len(regimes) == 2 else ""
        return f"mix of the presets ({ends.lstrip(': ') or '0-1'})"
    lever = LEVERS.get(name)
    return f"{_words(name)} ({lever.unit})" if lever is not None and lever.unit else _words(name)


def markdown_table(names=None) -> str:
    """A markdown table (name, in words, unit, better, meaning) of ``names`` (default: every measure)."""
    from .reporting import md_table
    import pandas as pd

    terms = [term(n) for n in names] if names is not None else measures()
    frame = pd.DataFrame([{"name": f"`{t.name}`", "in words": t.title, "unit": t.unit, "better": t.better,
                           "meaning": t.meaning} for t in terms])
    return md_table(frame)


def glossary_markdown() -> str:
    """The text of ``docs/glossary.md``."""
    import pandas as pd

    from .reporting import md_table

    def metric_rows(table):
        return pd.DataFrame([{"metric": f"`{k}`", "in words": v[0], "unit": v[1], "better": v[2], "meaning": v[3]}
                             for k, v in table.items()])

    return "\n".join([
        "# Glossary of measures and outputs",
        "",
        "Generated from `ecosystem_sim/glossary.py` and `ecosystem_sim/measures.py` by "
        "`python docs/make_glossary.py`; `tests/test_glossary.py` checks that it is up to date. "
        "Figures use these titles and units on their axes; reports carry the rows they use.",
        "",
        "*better*: which direction of the number is good for the region (— where neither is good by "
        "itself, e.g. money held or subsidised jobs).",
        "",
        "## Per-month measures",
        "",
        "Recorded every month of every run (`measures.csv`, the sweep's `timeseries` table).",
        "",
        markdown_table(),
        "",
        "## Resilience metrics: `resilience.MEASURE.METRIC`",
        "",
        "Measured for the first shock of a run against its no-shock twin (same seed, no shock), for "
        "the measures " + ", ".join(f"`{m}`" for m in _resilience_measures()) + ".",
        "",
        md_table(metric_rows(RESILIENCE_METRICS)),
        "",
        "## Diffusion metrics: `diffusion.DOMAIN.METRIC`",
        "",
        "Per need domain (" + ", ".join(f"`{d}`" for d in DOMAINS) + ") or `mean` over the domains.",
        "",
        md_table(metric_rows(DIFFUSION_METRICS)),
        "",
        "## Bands and intervals",
        "",
        "Shaded bands in the figures and the intervals in the tables are both **95 % confidence "
        "intervals of the mean** over replicate runs (Student t), unless a caption says otherwise. "
        "They show how well the mean is known, not how much single runs spread.",
        "",
    ])


def _resilience_measures() -> tuple[str, ...]:
    from .run import RESILIENCE_MEASURES

    return RESILIENCE_MEASURES
