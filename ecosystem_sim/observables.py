"""Observed quantities: the model's counterpart of each figure the sources report.

Each function takes one run's per-month measures (the ``DataFrame`` of
``EcosystemModel.measures_frame()``, index ``step``, row 0 = the initial state, row *m* = what
happened in month *m*) and the run's :class:`~ecosystem_sim.scenario.Scenario`, plus keyword
arguments fixed by the calibration target, and returns one number (``nan`` when the run gives
nothing to measure, e.g. no job was created in the year: a cost per job is then undefined).

Months are counted from 1; *year y* is months ``12(y-1)+1 … 12y``. Money is in M KRW.

:data:`OBSERVABLES` lists every quantity with its unit, the measures it reads (calibration
files are checked against :data:`ecosystem_sim.measures.MEASURES` before anything runs) and the
keyword arguments it takes. The calibration layer (``ecosystem_sim/calibration``) reads this
table; the model never calls these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from .levers import DOMAINS

if TYPE_CHECKING:
    from .scenario import Scenario

MONTHS_PER_YEAR = 12
FUNNEL_STAGES = ("issues", "shortlisted", "proposals", "labs", "funded")
"""Stages of the yearly call of 001 talk 2, in order (measures ``funnel_<stage>``)."""


def _year_rows(measures: pd.DataFrame, year: int) -> pd.DataFrame:
    first = MONTHS_PER_YEAR * (year - 1) + 1
    last = MONTHS_PER_YEAR * year
    if measures.index.max() < last:
        raise ValueError(f"year {year} needs months {first}-{last}, but the run has {measures.index.max()} months")
    return measures.loc[(measures.index >= first) & (measures.index <= last)]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else math.nan


def cost_per_job(measures: pd.DataFrame, scenario: "Scenario", year: int = 1) -> float:
    """M KRW of programme money paid in ``year`` per job newly created in that year
    (``programme_spend`` / ``jobs_created``, both summed over the year's months).

    The sources' figure (001 talk 3): 9.8 bn KRW of national money in 2018 and 146 local jobs."""
    rows = _year_rows(measures, year)
    return _ratio(rows["programme_spend"].sum(), rows["jobs_created"].sum())


def revenue_per_budget(measures: pd.DataFrame, scenario: "Scenario", year: int = 1) -> float:
    """KRW earned by the ecosystem's firms and non-profits (sales, procurement, market) in ``year``
    per KRW of programme money paid in that year (``revenue_ecosystem`` / ``programme_spend``)."""
    rows = _year_rows(measures, year)
    return _ratio(rows["revenue_ecosystem"].sum(), rows["programme_spend"].sum())


def budget_per_project(measures: pd.DataFrame, scenario: "Scenario", year: int = 1) -> float:
    """M KRW granted per project funded in ``year`` (``grant_amount`` / ``grants_awarded``)."""
    rows = _year_rows(measures, year)
    return _ratio(rows["grant_amount"].sum(), rows["grants_awarded"].sum())


def funnel_ratio(measures: pd.DataFrame, scenario: "Scenario", numerator: str = "shortlisted",
                 denominator: str = "issues") -> float:
    """Ratio of the counts at two stages of the call funnel, summed over every call of the run
    (e.g. ``shortlisted`` / ``issues``: 21 / 82 in 001 talk 2). Stages: :data:`FUNNEL_STAGES`."""
    for stage in (numerator, denominator):
        if stage not in FUNNEL_STAGES:
            raise ValueError(f"funnel stage {stage!r}: must be one of {', '.join(FUNNEL_STAGES)}")
    return _ratio(measures[f"funnel_{numerator}"].sum(), measures[f"funnel_{denominator}"].sum())


def rd_only_adopters_per_1000(measures: pd.DataFrame, scenario: "Scenario", last_months: int = 12) -> float:
    """Users of solutions developed as R&D without follow-up money, per 1,000 citizens, mean over the
    run's last ``last_months`` months (001 talk 2: the 1.1 bn KRW night-worker kit reached nobody)."""
    tail = measures["adopters_rd_only"].iloc[-last_months:]
    return float(tail.mean() / scenario.n_citizens * 1000)


def residents_per_project(measures: pd.DataFrame, scenario: "Scenario", months: int = 12) -> float:
    """Citizens taking part per project under way, over the first ``months`` months: the mean
    number of participating citizens a month (``participation`` × n_citizens) divided by the mean
    number of projects in development (``projects_running``).

    Lambeth's Open Works (000): about 1,000 residents and 20 projects in 12 months, i.e. about 50
    residents per project. The mapping is approximate: the source counts residents who took part
    at any time, the model counts those taking part in an average month."""
    rows = measures.loc[(measures.index >= 1) & (measures.index <= months)]
    if len(rows) < months:
        raise ValueError(f"needs {months} months, but the run has {measures.index.max()}")
    people = rows["participation"].mean() * scenario.n_citizens
    return _ratio(people, rows["projects_running"].mean())


def measure_mean(measures: pd.DataFrame, scenario: "Scenario", measure: str = "need_met_share",
                 first_month: int = 1, last_month: int | None = None) -> float:
    """Mean of one per-month measure over months ``first_month … last_month`` (default: to the end).
    Used for synthetic-data checks of the calibration and for stylised facts stated as levels."""
    last = int(measures.index.max()) if last_month is None else last_month
    rows = measures.loc[(measures.index >= first_month) & (measures.index <= last), measure]
    if rows.empty:
        raise ValueError(f"months {first_month}-{last} are not in the run (it has {measures.index.max()})")
    return float(rows.mean())


def bass_coefficient(measures: pd.DataFrame, scenario: "Scenario", coefficient: str = "q",
                     domain: str = "mean") -> float:
    """Bass (1969) innovation (``p``) or imitation (``q``) coefficient **per year**, fitted to the
    adoption-share curve of ``domain`` (or the median over the domains whose fit converged, for
    ``"mean"``). The fit is per month (:func:`ecosystem_sim.measures.diffusion`); rates per year
    are 12 times the monthly rates. Sultan, Farley and Lehmann (1990): p ≈ 0.03, q ≈ 0.38 per year."""
    from .measures import diffusion

    if coefficient not in ("p", "q"):
        raise ValueError(f"coefficient {coefficient!r}: must be 'p' or 'q'")
    domains = DOMAINS if domain == "mean" else (domain,)
    values = [diffusion(measures[f"adoption_{d}"])[f"bass_{coefficient}"] for d in domains]
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan
    return float(np.median(values) * MONTHS_PER_YEAR)


@dataclass(frozen=True)
class Observable:
    """One observed quantity: its function, unit, the measures it reads and its keyword arguments."""

    name: str
    function: Callable[..., float]
    unit: str
    needs: tuple[str, ...]
    arguments: tuple[str, ...]

    def measures_needed(self, args: dict) -> tuple[str, ...]:
        """The measures this quantity reads with these arguments."""
        if self.name == "funnel_ratio":
            return tuple(f"funnel_{args.get(k, d)}" for k, d in (("numerator", "shortlisted"),
                                                                  ("denominator", "issues")))
        if self.name == "measure_mean":
            return (str(args.get("measure", "need_met_share")),)
        return self.needs

    def __call__(self, measures: pd.DataFrame, scenario: "Scenario", **args) -> float:
        return float(self.function(measures, scenario, **args))


OBSERVABLES: dict[str, Observable] = {o.name: o for o in [
    Observable("cost_per_job", cost_per_job, "M KRW / job", ("programme_spend", "jobs_created"), ("year",)),
    Observable("revenue_per_budget", revenue_per_budget, "KRW / KRW", ("revenue_ecosystem", "programme_spend"),
               ("year",)),
    Observable("budget_per_project", budget_per_project, "M KRW / project", ("grant_amount", "grants_awarded"),
               ("year",)),
    Observable("funnel_ratio", funnel_ratio, "ratio", (), ("numerator", "denominator")),
    Observable("rd_only_adopters_per_1000", rd_only_adopters_per_1000, "users / 1,000 citizens",
               ("adopters_rd_only",), ("last_months",)),
    Observable("residents_per_project", residents_per_project, "citizens / project",
               ("participation", "projects_running"), ("months",)),
    Observable("measure_mean", measure_mean, "unit of the measure", (), ("measure", "first_month", "last_month")),
    Observable("bass_coefficient", bass_coefficient, "per year",
               tuple(f"adoption_{d}" for d in DOMAINS), ("coefficient", "domain")),
]}
"""Every observed quantity by name."""
