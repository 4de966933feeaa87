"""The observed-quantity functions on small hand-built measure tables (not model output)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ecosystem_sim import observables as ob
from ecosystem_sim.measures import bass_cumulative
from ecosystem_sim.scenario import default_scenario

SC = default_scenario().with_overrides({"n_citizens": 2000, "citizens_per_community": 500})


def frame(months: int, **columns) -> pd.DataFrame:
    """Rows 0..months (row 0 = initial state); each column a constant or a {month: value} dict."""
    idx = pd.RangeIndex(0, months + 1, name="step")
    data = {}
    for name, spec in columns.items():
        if isinstance(spec, dict):
            col = np.zeros(months + 1)
            for m, v in spec.items():
                col[m] = v
            data[name] = col
        else:
            data[name] = np.full(months + 1, float(spec))
    return pd.DataFrame(data, index=idx)


def test_cost_per_job_sums_the_years_months():
    # 10 M KRW a month; 2 jobs in month 3, 3 in month 7 (year 1); 4 in month 13 (year 2).
    # Row 0 (the initial state) carries money and jobs that must not count.
    df = frame(24, programme_spend=10.0, jobs_created={0: 99, 3: 2, 7: 3, 13: 4})
    assert ob.cost_per_job(df, SC, year=1) == pytest.approx(120 / 5)
    assert ob.cost_per_job(df, SC, year=2) == pytest.approx(120 / 4)


def test_cost_per_job_without_jobs_is_nan_and_a_short_run_is_an_error():
    df = frame(12, programme_spend=10.0, jobs_created=0.0)
    assert math.isnan(ob.cost_per_job(df, SC, year=1))
    with pytest.raises(ValueError, match="year 2 needs months 13-24"):
        ob.cost_per_job(df, SC, year=2)


def test_revenue_and_budget_per_project():
    df = frame(12, programme_spend={1: 100, 2: 100}, revenue_ecosystem={5: 70},
               grant_amount={3: 900, 9: 300}, grants_awarded={3: 2, 9: 1})
    assert ob.revenue_per_budget(df, SC, year=1) == pytest.approx(0.35)
    assert ob.budget_per_project(df, SC, year=1) == pytest.approx(400.0)


def test_funnel_ratio_over_all_calls():
    # Two calls (months 4 and 16) with the source's funnel in the first and a smaller one later.
    df = frame(24, funnel_issues={4: 82, 16: 18}, funnel_shortlisted={4: 21, 16: 4},
               funnel_proposals={4: 77, 16: 10}, funnel_labs={4: 13, 16: 2}, funnel_funded={4: 10, 16: 2})
    assert ob.funnel_ratio(df, SC, "shortlisted", "issues") == pytest.approx(25 / 100)
    assert ob.funnel_ratio(df, SC, "funded", "labs") == pytest.approx(12 / 15)
    with pytest.raises(ValueError, match="funnel stage"):
        ob.funnel_ratio(df, SC, "winners", "issues")


def test_rd_only_adopters_per_1000_uses_the_last_months_and_region_size():
    df = frame(24, adopters_rd_only={m: (100 if m <= 12 else 4) for m in range(25)})
    assert ob.rd_only_adopters_per_1000(df, SC, last_months=12) == pytest.approx(4 / 2000 * 1000)


def test_residents_per_project():
    # 5 % of 2,000 citizens take part; two projects under way on average.
    df = frame(12, participation=0.05, projects_running={m: (1 if m % 2 else 3) for m in range(13)})
    assert ob.residents_per_project(df, SC, months=12) == pytest.approx(100 / 2)


def test_measure_mean_window():
    df = frame(6, capacity_mean={m: m for m in range(7)})
    assert ob.measure_mean(df, SC, "capacity_mean", 2, 4) == pytest.approx(3.0)
    assert ob.measure_mean(df, SC, "capacity_mean", 5) == pytest.approx(5.5)


def test_bass_coefficient_is_per_year():
    # An adoption curve that *is* a Bass curve with monthly p = 0.004, q = 0.05 in every domain.
    t = np.arange(0, 121, dtype=float)
    share = np.concatenate([[0.0], bass_cumulative(t[1:], 0.004, 0.05, 0.8)])
    df = pd.DataFrame({f"adoption_{d}": share for d in ob.DOMAINS}, index=pd.RangeIndex(0, 121, name="step"))
    assert ob.bass_coefficient(df, SC, "p") == pytest.approx(0.004 * 12, rel=0.05)
    assert ob.bass_coefficient(df, SC, "q") == pytest.approx(0.05 * 12, rel=0.05)


def test_every_observable_names_what_it_reads():
    for name, o in ob.OBSERVABLES.items():
        assert o.unit and o.function.__doc__, name
