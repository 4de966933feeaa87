"""Measures: what is recorded each month, and what is computed over whole runs.

* :func:`snapshot` — every per-step measure in one pass over the state (the model's
  ``DataCollector`` reads it). Units are in :data:`MEASURES`.
* :func:`resilience` — resistance, recovery time, integrated loss, permanent shift and
  collapse of any measure around a shock, against the no-shock twin run with the same seed.
* :func:`diffusion` — time to 10/50/90 % of eligible adopters, final share, and Bass
  *p*, *q* fitted to the adoption curve.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import curve_fit
from scipy.sparse.csgraph import connected_components
from scipy import special

from .innovation import FUNNEL_STAGES
from .levers import DOMAINS, FIRM_KINDS, ORG_KINDS
from .population import gini

if TYPE_CHECKING:
    from .model import EcosystemModel

MEASURES: dict[str, str] = {
    "jobs_subsidised": "jobs whose wage a wage-subsidy grant pays",
    "jobs_self_sustaining": "jobs in firms and non-profits paid from their own income",
    "jobs_intermediary": "staff of intermediaries, full-time equivalents (paid from public grants)",
    "jobs_project": "project staff paid from development grants (temporary)",
    "jobs_total": "all jobs in the ecosystem's organisations and projects",
    "jobs_created": "jobs newly filled in organisations and projects this month",
    **{f"orgs_{k}": f"{k.replace('_', ' ')} organisations alive" for k in ORG_KINDS},
    "orgs_alive": "organisations alive",
    "org_diversity": "Shannon entropy (nats) of organisations by kind",
    "subsidy_dependence": "share of firms' income this month that came from wage subsidies (0-1)",
    "unmet_need": "mean need over citizens and domains (0-1)",
    "need_met_share": "share of citizen-domain needs (above threshold, or served) that a solution serves (0-1)",
    "solutions_created": "solutions created so far",
    "solutions_active": "solutions on offer",
    "adopters": "citizen-domain pairs using a solution",
    **{f"adoption_{d}": f"share of citizens with a {d.replace('_', ' ')} need (or a solution) who use one (0-1)"
       for d in DOMAINS},
    "participation": "share of citizens who took part this month (0-1)",
    "capacity_mean": "mean capacity (0-1)",
    "capacity_gini": "Gini of capacity (0-1)",
    "partner_density": "density of the organisations' partnership network (0-1)",
    "partner_mean_degree": "mean number of partners per organisation",
    "partner_giant_share": "share of organisations in the largest partnership component (0-1)",
    "projects_running": "projects in development",
    "commons_stock": "knowledge held as commons (solution-fit units per 10,000 citizens)",
    "treasury": "M KRW: local government's unspent money this month",
    "project_account": "M KRW: project-funding account",
    "social_fund": "M KRW: revolving social fund",
    "org_cash": "M KRW: cash of all organisations",
    "money_total": "M KRW: all ledgered stocks",
    "budget_in": "M KRW: budget received this month (local and national)",
    "programme_spend": "M KRW: paid this month by the wage-subsidy and project-funding programmes",
    "grants_awarded": "projects funded this month",
    "grant_amount": "M KRW: granted to projects this month",
    "revenue_ecosystem": "M KRW: earned this month by social-economy firms and non-profits (sales, procurement, market)",
    **{f"funnel_{k}": f"call funnel this month: {k} (001 talk 2)" for k in FUNNEL_STAGES},
    "adopters_rd_only": "citizen-domain pairs using a solution developed without follow-up money",
    "teams_waiting": "teams kept by the safety net, waiting for a call that funds them",
    "loans_outstanding": "M KRW: owed to the social fund",
    "economy": "economic conditions (1 = normal)",
}


def snapshot(model: "EcosystemModel") -> dict[str, float]:
    """Every per-step measure (see :data:`MEASURES`)."""
    pop = model.population
    s = model.spec
    orgs = model.organisations()
    by_kind = {k: 0 for k in ORG_KINDS}
    jobs_sub = jobs_self = 0
    jobs_int = revenue = loans = 0.0
    firm_income = firm_subsidy = 0.0
    for o in orgs:
        kind = o.kind
        by_kind[kind] += 1
        loans += o.loan
        if kind == "intermediary":
            jobs_int += o.jobs
        else:
            jobs_sub += o.jobs_subsidised
            jobs_self += len(o.staff)
            if kind not in ("for_profit", "csr_firm"):
                revenue += o.last_income
        if kind in FIRM_KINDS:
            firm_income += o.last_income
            firm_subsidy += o.last_subsidy
    jobs_proj = sum(len(p.staff) for p in model.projects)
    # Python's sum of floats is compensated (3.12+), not a running total: kept as it was.
    org_cash = sum(o.cash for o in orgs)
    counts = tuple(by_kind.values())
    using = pop.adopted >= 0
    ever = (pop.need > s.need_threshold) | using
    # Per-domain counts (integers, so any summation order gives the same numbers).
    using_d = [np.count_nonzero(using[:, d]) for d in range(using.shape[1])]
    ever_d = [np.count_nonzero(ever[:, d]) for d in range(ever.shape[1])]
    n_using = sum(using_d)
    out = {
        "jobs_subsidised": jobs_sub,
        "jobs_self_sustaining": jobs_self,
        "jobs_intermediary": jobs_int,
        "jobs_project": jobs_proj,
        "jobs_total": jobs_sub + jobs_self + jobs_int + jobs_proj,
        "jobs_created": model.month_counts["hires"],
        **{f"orgs_{k}": v for k, v in by_kind.items()},
        "orgs_alive": len(orgs),
        "org_diversity": _entropy_of_counts(counts) if any(counts) else 0.0,
        "subsidy_dependence": firm_subsidy / (firm_income + firm_subsidy) if firm_income + firm_subsidy > 0 else 0.0,
        "unmet_need": float(pop.need.mean()),
        "need_met_share": float(n_using / max(sum(ever_d), 1)),
        "solutions_created": model.counters["solutions_created"],
        "solutions_active": sum(sol.alive for sol in model.solutions),
        "adopters": int(n_using),
    }
    for d, name in enumerate(DOMAINS):
        out[f"adoption_{name}"] = float(using_d[d] / max(ever_d[d], 1))
    density, mean_degree, giant = partnership_measures(model, orgs)
    gov = model.government
    out.update({
        # The mean of a bool array is its exact count over n, rounded once: so is this.
        "participation": np.count_nonzero(pop.participating) / pop.participating.size,
        "capacity_mean": float(pop.capacity.mean()),
        "capacity_gini": gini(pop.capacity),
        "partner_density": density,
        "partner_mean_degree": mean_degree,
        "partner_giant_share": giant,
        "projects_running": len(model.projects),
        "commons_stock": model.commons_stock / model.scale,
        "treasury": gov.treasury,
        "project_account": gov.project_account,
        "social_fund": gov.social_fund,
        "org_cash": org_cash,
        "money_total": model.money_total(org_cash),
        "budget_in": gov.budget_in,
        "programme_spend": float(model.month_counts["programme_spend"]),
        "grants_awarded": model.month_counts["projects_started"],
        "grant_amount": float(model.month_counts["grant_amount"]),
        "revenue_ecosystem": revenue,
        **{f"funnel_{k}": v for k, v in model.funnel.items()},
        "adopters_rd_only": int(np.isin(pop.adopted, list(model.rd_only_solutions)).sum()) if model.rd_only_solutions else 0,
        "teams_waiting": len(model.waiting_teams),
        "loans_outstanding": loans,
        "economy": model.economy,
    })
    return out


@lru_cache(maxsize=256)
def _entropy_of_counts(counts: tuple[int, ...]) -> float:
    """:func:`_entropy` of a tuple of counts, remembered (few distinct mixes occur in a run)."""
    return _entropy(np.array(counts, dtype=float))


def _entropy(counts: np.ndarray) -> float:
    """``float(scipy.stats.entropy(counts))`` for a 1-D array of counts (same operations, same
    result), without the ~0.5 ms per call of scipy's argument handling."""
    pk = counts / np.sum(counts, axis=0, keepdims=True)
    return float(np.sum(special.entr(pk), axis=0))


def partnership_measures(model: "EcosystemModel", orgs: list) -> tuple[float, float, float]:
    """Density, mean degree and giant-component share of the partnership network among live organisations."""
    n = len(orgs)
    if n < 2:
        return 0.0, 0.0, float(n)
    if not model.partnerships:
        return 0.0, 0.0, 1.0 / n
    # The network changes in few months: reuse last month's figures while the live
    # organisations and the partnerships are the same (compared exactly, not by a counter).
    key = (tuple(o.unique_id for o in orgs), frozenset(model.partnerships))
    cached = getattr(model, "_partnership_measures_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    result = _partnership_measures(model, orgs)
    model._partnership_measures_cache = (key, result)
    return result


_SMALL_GRAPH = 4000
"""Organisations plus partnerships up to which plain Python (a dict of positions, union-find)
is faster than numpy's and scipy's set-up; above it, the array versions. Same results."""


def _partnership_measures(model: "EcosystemModel", orgs: list) -> tuple[float, float, float]:
    n = len(orgs)
    if n + len(model.partnerships) <= _SMALL_GRAPH:
        # Positions by a dict; the same edges (both ends live) as the sorted search below.
        where = {o.unique_id: i for i, o in enumerate(orgs)}
        r, c = [], []
        for a, b in model.partnerships:
            i, j = where.get(a), where.get(b)
            if i is not None and j is not None:
                r.append(i)
                c.append(j)
        edges = len(r)
        if edges == 0:
            return 0.0, 0.0, 1.0 / n
        return 2 * edges / (n * (n - 1)), 2 * edges / n, float(_largest_component(n, r, c) / n)
    # Map unique ids to positions in ``orgs`` with a sorted search instead of a dict.
    ids = np.fromiter((o.unique_id for o in orgs), np.int64, n)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pairs = np.fromiter((x for e in model.partnerships for x in e), np.int64,
                        2 * len(model.partnerships)).reshape(-1, 2)
    pos = np.minimum(np.searchsorted(sorted_ids, pairs), n - 1)
    keep = (sorted_ids[pos] == pairs).all(axis=1)
    edges = int(keep.sum())
    if edges == 0:
        return 0.0, 0.0, 1.0 / n
    r, c = order[pos[keep, 0]], order[pos[keep, 1]]
    return 2 * edges / (n * (n - 1)), 2 * edges / n, float(_largest_component(n, r, c) / n)


def _largest_component(n: int, r, c) -> int:
    """Size of the largest connected component of the undirected graph on ``n`` nodes with
    edges ``(r[i], c[i])`` (arrays or lists). Small graphs: union-find in Python (scipy's
    set-up costs more than the whole search); large ones: ``scipy.sparse.csgraph.connected_components``."""
    if n + len(r) > _SMALL_GRAPH:
        r, c = np.asarray(r), np.asarray(c)
        adj = sp.coo_matrix((np.ones(r.size), (r, c)), shape=(n, n)).tocsr()
        _, labels = connected_components(adj, directed=False)
        return int(np.bincount(labels).max())
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if isinstance(r, np.ndarray):
        r, c = r.tolist(), c.tolist()
    for a, b in zip(r, c):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    sizes: dict[int, int] = {}
    for i in range(n):
        root = find(i)
        sizes[root] = sizes.get(root, 0) + 1
    return max(sizes.values())


# --------------------------------------------------------------------- resilience
def resilience(shocked: pd.Series, baseline: pd.Series, shock_step: int, tolerance: float = 0.05,
               collapse_below: float = 0.5) -> dict[str, float]:
    """Resilience of one measure around a shock, against its no-shock twin.

    Both series are indexed by step. ``ratio = shocked / baseline`` after the shock
    (1 = no loss). Returns:
        resistance      lowest ratio after the shock (1 = unaffected; Holling's engineering view).
        recovery_time   months from the shock until the ratio is back within ``tolerance``
                        of 1 and stays there; NaN if it never does.
        integrated_loss mean over post-shock months of max(0, 1 - ratio) (resilience
                        triangle, Bruneau et al. 2003, normalised per month).
        permanent_shift mean ratio over the last 12 months minus 1 (hysteresis).
        collapsed       1.0 if the final-year mean ratio is below ``collapse_below``.
    Months where the twin's value is zero count as ratio 1 (nothing to lose).
    """
    after_s = shocked.loc[shocked.index >= shock_step].to_numpy(dtype=float)
    after_b = baseline.loc[baseline.index >= shock_step].to_numpy(dtype=float)
    n = min(after_s.size, after_b.size)
    if n == 0:
        raise ValueError(f"shock step {shock_step} is after the end of the run")
    after_s, after_b = after_s[:n], after_b[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        # Where the twin has none of the function, the shocked run cannot have lost any.
        ratio = np.where(after_b != 0, after_s / after_b, 1.0)
    within = np.abs(ratio - 1.0) <= tolerance
    outside = np.nonzero(~within)[0]
    if outside.size == 0:
        recovery = 0.0
    elif outside[-1] == n - 1:
        recovery = math.nan
    else:
        recovery = float(outside[-1] + 1)
    tail = ratio[-min(12, n):]
    return {
        "resistance": float(ratio.min()),
        "recovery_time": recovery,
        "integrated_loss": float(np.maximum(0.0, 1.0 - ratio).mean()),
        "permanent_shift": float(tail.mean() - 1.0),
        "collapsed": float(tail.mean() < collapse_below),
    }


# --------------------------------------------------------------------- diffusion
def bass_cumulative(t: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
    """Bass (1969) cumulative adoption: m (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})."""
    e = np.exp(-(p + q) * t)
    return m * (1.0 - e) / (1.0 + (q / p) * e)


def diffusion(share: pd.Series) -> dict[str, float]:
    """Diffusion figures of an adoption-share curve (0-1, indexed by step).

    Times are months from the first step with any adoption to the first step at or
    above 10/50/90 % (NaN if never reached); ``bass_p``, ``bass_q`` and ``bass_m`` are fitted
    with scipy's ``curve_fit`` on the curve from first adoption (NaN if it does not converge
    or the curve is too short).
    """
    y = share.to_numpy(dtype=float)
    out = {"final_share": float(y[-1]) if y.size else math.nan}
    started = np.nonzero(y > 0)[0]
    t0 = int(started[0]) if started.size else None
    for level in (10, 50, 90):
        hit = np.nonzero(y >= level / 100)[0]
        out[f"t{level}"] = float(hit[0] - t0) if (hit.size and t0 is not None) else math.nan
    out.update(bass_p=math.nan, bass_q=math.nan, bass_m=math.nan)
    if t0 is None or y.size - t0 < 6 or y[-1] <= 0:
        return out
    # The launch is the step before the first adoption: a Bass curve is 0 there and positive after.
    t = np.arange(1, y.size - t0 + 1, dtype=float)
    yy = y[t0:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (p, q, m), _ = curve_fit(bass_cumulative, t, yy, p0=(0.01, 0.3, max(yy.max(), 1e-3)),
                                     bounds=([1e-6, 0.0, 1e-6], [1.0, 5.0, 1.0]), maxfev=5000)
        out.update(bass_p=float(p), bass_q=float(q), bass_m=float(m))
    except (RuntimeError, ValueError):
        pass
    return out
