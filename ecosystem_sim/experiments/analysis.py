"""Analysis of a results store: pandas tables, figures and ``report.md``.

Python API (every function returns DataFrames)::

    res = load_results("results/snc")       # manifest, points, runs, resilience, diffusion
    outcomes(res)                           # one row per run, one column per output name
    point_table(res)                        # mean and 95 % CI per design point and output
    regime_contrasts(res)                   # B - A per shock case: difference + CI, Cohen's d,
                                            #   Cliff's delta, Mann-Whitney U p-value
    resilience_table(res), diffusion_table(res)
    sobol_table(res), morris_table(res)     # SALib indices with 95 % CIs (Sobol, Morris designs)
    discovery(res)                          # PRIM boxes of collapse after a shock
    analyze(folder)                         # all of it, plus CSVs, PNGs and report.md in the folder

Output names: ``final.MEASURE`` (last month), ``resilience.MEASURE.METRIC`` (first shock, against
the no-shock twin), ``diffusion.DOMAIN.METRIC`` and ``diffusion.mean.METRIC`` (mean over domains).
Replications of a design point are independent runs; 95 % CIs are t-intervals of their mean.
"""

from __future__ import annotations

import json
import math
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .. import glossary
from ..reporting import md_table, write_reports
from .spec import MIX
from .store import DB_NAME, StoreError, _q, check_store

WIDE_CI = 0.25     # a CI half-width above this share of |mean| counts as wide
WIDE_SOBOL = 0.1   # a Sobol index CI half-width above this counts as wide


@dataclass
class Results:
    folder: Path
    manifest: dict
    design: dict
    points: pd.DataFrame
    runs: pd.DataFrame
    resilience: pd.DataFrame
    diffusion: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def factors(self) -> list[str]:
        return [f["name"] for f in self.design["factors"]]

    def timeseries(self, measures: list[str] | None = None) -> pd.DataFrame:
        """Kept per-step measures; ``measures`` must be columns of the store's timeseries table."""
        con = _connect(self.folder)
        try:
            stored = [r[1] for r in con.execute("PRAGMA table_info(timeseries)")]
            if measures is None:
                measures = [c for c in stored if c not in ("run_id", "step")]
            unknown = [m for m in measures if m not in stored or m in ("run_id", "step")]
            if unknown:
                raise KeyError(f"not kept in {self.folder / DB_NAME}: {', '.join(map(str, unknown))}")
            # identifiers come from the table's own columns and are quoted; no value is formatted in
            cols = ", ".join(_q(c) for c in ["run_id", "step", *measures])
            return pd.read_sql(f"SELECT {cols} FROM timeseries", con)
        finally:
            con.close()

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            warnings.warn(text, stacklevel=3)


def _connect(folder: Path) -> sqlite3.Connection:
    path = Path(folder) / DB_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results store (run `ecosim sweep` first)")
    # a file: URI with the path percent-encoded (a folder named with ?, # or % stays that folder)
    return sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)


def load_results(folder: str | Path) -> Results:
    """Read a store's manifest and tables (timeseries on demand: :meth:`Results.timeseries`).

    Raises :class:`~.store.StoreError` (one line) for a corrupted, truncated or foreign store."""
    folder = Path(folder)
    path = folder / DB_NAME
    if path.is_file():
        check_store(path)
    con = _connect(folder)
    try:
        man = pd.read_sql("SELECT * FROM manifest", con).iloc[0].to_dict()
        points = pd.read_sql("SELECT * FROM points ORDER BY point_id", con)
        runs = pd.read_sql("SELECT * FROM runs ORDER BY run_id", con)
        res = pd.read_sql("SELECT * FROM resilience", con)
        diff = pd.read_sql("SELECT * FROM diffusion", con)
        man["provenance"] = json.loads(man.pop("provenance_json") or "{}")
        design = json.loads(man["design_json"])
    except (sqlite3.Error, pd.errors.DatabaseError, IndexError, KeyError, ValueError, TypeError) as err:
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise StoreError(f"{path}: not a readable results store ({text}); move it away or run the sweep "
                         "again into a new folder") from None
    finally:
        con.close()
    return Results(folder, man, design, points, runs, res, diff)


# ----------------------------------------------------------------------------- statistics
def ci95(values) -> tuple[float, float, float, int]:
    """Mean, t-based 95 % CI and n of independent values (NaNs dropped)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(v.mean())
    if v.size < 2:
        return (mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return (mean, mean - half, mean + half, int(v.size))


def cohens_d(a, b) -> float:
    a, b = _clean(a), _clean(b)
    if a.size < 2 or b.size < 2:
        return math.nan
    pooled = math.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2))
    if pooled == 0:
        return 0.0 if a.mean() == b.mean() else math.copysign(math.inf, b.mean() - a.mean())
    return float((b.mean() - a.mean()) / pooled)


def cliffs_delta(a, b) -> float:
    """P(b > a) - P(b < a) over all pairs (-1..1)."""
    a, b = _clean(a), _clean(b)
    if a.size == 0 or b.size == 0:
        return math.nan
    diff = b[:, None] - a[None, :]
    return float((np.sign(diff)).mean())


def _clean(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v[~np.isnan(v)]


def welch_ci(a, b) -> tuple[float, float, float]:
    """Difference of means b - a with a Welch 95 % CI."""
    a, b = _clean(a), _clean(b)
    if a.size < 2 or b.size < 2:
        return (float(b.mean() - a.mean()) if a.size and b.size else math.nan, math.nan, math.nan)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return (diff, diff, diff)
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = float(stats.t.ppf(0.975, df) * se)
    return (diff, diff - half, diff + half)


# ----------------------------------------------------------------------------- tables
def outcomes(res: Results) -> pd.DataFrame:
    """One row per run with design columns and every output (``final.*``, ``resilience.*``, ``diffusion.*``)."""
    runs = res.runs
    keep = ["run_id", "point_id", "replicate", "seed", "regime", "shock_case", "status"]
    out = runs[keep + [f"param_{f}" for f in res.factors]].rename(columns={f"param_{f}": f for f in res.factors})
    out = out.merge(res.points[["point_id", "label", "grp", "sample"]], on="point_id", how="left")
    finals = runs[[c for c in runs.columns if c.startswith("final_")]]
    finals.columns = ["final." + c[len("final_"):] for c in finals.columns]
    out = pd.concat([out, finals], axis=1)
    # finals without a column of their own (measures added to the model later, or a custom evaluate)
    extra: dict[str, list] = {}
    for i, text in enumerate(runs["summary_json"]):
        final = (json.loads(text) or {}).get("final", {}) if isinstance(text, str) else {}
        for k, v in final.items():
            if f"final.{k}" not in out.columns:
                extra.setdefault(f"final.{k}", [np.nan] * len(runs))[i] = v
    if extra:
        out = pd.concat([out, pd.DataFrame(extra, index=out.index, dtype=float)], axis=1)
    if not res.resilience.empty:
        r = res.resilience[res.resilience["shock"] == 0]
        metrics = ["resistance", "recovery_time", "integrated_loss", "permanent_shift", "collapsed"]
        wide = r.pivot(index="run_id", columns="measure", values=metrics)
        wide.columns = [f"resilience.{m}.{k}" for k, m in wide.columns]
        out = out.merge(wide, left_on="run_id", right_index=True, how="left")
    if not res.diffusion.empty:
        metrics = ["final_share", "t10", "t50", "t90", "bass_p", "bass_q", "bass_m"]
        wide = res.diffusion.pivot(index="run_id", columns="domain", values=metrics)
        wide.columns = [f"diffusion.{d}.{k}" for k, d in wide.columns]
        mean = res.diffusion.groupby("run_id")[metrics].mean()
        mean.columns = [f"diffusion.mean.{k}" for k in metrics]
        out = out.merge(wide, left_on="run_id", right_index=True, how="left")
        out = out.merge(mean, left_on="run_id", right_index=True, how="left")
    return out


def _outputs(res: Results, df: pd.DataFrame, outputs=None) -> list[str]:
    outputs = list(outputs or res.design.get("outputs") or [])
    for o in outputs:
        if o not in df.columns:
            why = " (the experiment has no shock)" if o.startswith("resilience.") else ""
            res.warn(f"requested output {o} has no values in this store{why}; it is left out of tables and figures")
    return [o for o in outputs if o in df.columns]


def point_table(res: Results, outputs=None, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean and 95 % CI per design point for each output; flags CIs too wide for the sample size."""
    df = outcomes(res) if df is None else df
    outs = _outputs(res, df, outputs)
    ok = df[df.status == "ok"]
    pts = res.points.set_index("point_id")
    table = pd.DataFrame({"point_id": pts.index, "label": pts["label"].to_numpy(), "regime": pts["regime"].to_numpy(),
                          "shock_case": pts["shock_case"].to_numpy(),
                          **{f: pts[f"param_{f}"].to_numpy() for f in res.factors}})
    table["n_ok"] = table.point_id.map(ok.groupby("point_id").size()).fillna(0).astype(int)
    table["n_failed"] = table.point_id.map(df[df.status == "failed"].groupby("point_id").size()).fillna(0).astype(int)
    table = table[table.n_ok > 0].reset_index(drop=True)
    if outs and not table.empty:
        agg = ok.groupby("point_id")[outs].agg(["mean", "std", "count"])
        for o in outs:
            mean, sd, n = (agg[(o, k)].reindex(table.point_id).to_numpy() for k in ("mean", "std", "count"))
            with np.errstate(invalid="ignore", divide="ignore"):
                half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
            half = np.where(n >= 2, half, np.nan)
            table[o], table[f"{o} ci_low"], table[f"{o} ci_high"] = mean, mean - half, mean + half
    if table.empty:
        return table
    reps = int(res.manifest.get("replications") or 1)
    if reps > 1:
        for o in outs:
            half = (table[f"{o} ci_high"] - table[f"{o} ci_low"]) / 2
            rel = half / table[o].abs().replace(0, np.nan)
            share = float((rel > WIDE_CI).mean())
            if share > 0.25:
                res.warn(f"95 % CIs of {o} are wide for {reps} replications: in {share:.0%} of design points the "
                         f"half-width exceeds {WIDE_CI:.0%} of the mean (median {np.nanmedian(rel):.0%}); "
                         "add replications before trusting point-by-point differences")
    return table


def regimes(res: Results) -> list[str]:
    """The regimes to contrast (presets, or the two ends of ``mix``), in file order."""
    names = res.design.get("regimes") or []
    present = set(res.points["regime"])
    return [n for n in names if n in present]


def regime_contrasts(res: Results, outputs=None, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each other regime against the first, per shock case and output: means, difference (B - A) with a
    Welch 95 % CI, Cohen's d, Cliff's delta and the two-sided Mann-Whitney U p-value."""
    df = outcomes(res) if df is None else df
    names = regimes(res)
    if len(names) < 2:
        return pd.DataFrame()
    outs = _outputs(res, df, outputs)
    ok = df[df.status == "ok"]
    rows = []
    a_name = names[0]
    for b_name in names[1:]:
        for case, g in ok.groupby("shock_case", sort=False):
            a, b = g[g.regime == a_name], g[g.regime == b_name]
            for o in outs:
                va, vb = _clean(a[o]), _clean(b[o])
                if va.size == 0 or vb.size == 0:
                    continue
                ma, la, ha, _ = ci95(va)
                mb, lb, hb, _ = ci95(vb)
                diff, dlo, dhi = welch_ci(va, vb)
                p = math.nan
                if va.size >= 2 and vb.size >= 2 and not (np.all(va == va[0]) and np.all(vb == va[0])):
                    p = float(stats.mannwhitneyu(vb, va, alternative="two-sided").pvalue)
                rows.append({"shock_case": case, "output": o, "regime_a": a_name, "regime_b": b_name,
                             "n_a": va.size, "n_b": vb.size, "mean_a": ma, "ci_low_a": la, "ci_high_a": ha,
                             "mean_b": mb, "ci_low_b": lb, "ci_high_b": hb, "difference": diff,
                             "difference_ci_low": dlo, "difference_ci_high": dhi, "cohens_d": cohens_d(va, vb),
                             "cliffs_delta": cliffs_delta(va, vb), "mannwhitney_p": p})
    return pd.DataFrame(rows)


def resilience_table(res: Results) -> pd.DataFrame:
    """Mean and 95 % CI of each resilience metric per regime, shock case and measure (pooled over any
    other design factors), with the share of runs that never recovered and that collapsed."""
    if res.resilience.empty:
        return pd.DataFrame()
    r = res.resilience.merge(res.runs[["run_id", "regime", "shock_case", "status"]], on="run_id")
    rows = []
    for (regime, case, shock, kind, measure), g in r.groupby(["regime", "shock_case", "shock", "kind", "measure"],
                                                             sort=False):
        row = {"regime": regime, "shock_case": case, "shock": shock, "kind": kind, "measure": measure, "n": len(g)}
        for k in ("resistance", "integrated_loss", "permanent_shift", "recovery_time"):
            m, lo, hi, _ = ci95(g[k])
            row.update({k: m, f"{k}_ci_low": lo, f"{k}_ci_high": hi})
        row["never_recovered"] = float(g["recovery_time"].isna().mean())
        row["collapse_rate"] = float(g["collapsed"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def diffusion_table(res: Results) -> pd.DataFrame:
    """Per regime, shock case and domain: mean final share (95 % CI), mean t10/t50/t90 among runs that
    reached them, the share that reached 50 %, and median Bass p, q."""
    if res.diffusion.empty:
        return pd.DataFrame()
    d = res.diffusion.merge(res.runs[["run_id", "regime", "shock_case"]], on="run_id")
    rows = []
    for (regime, case, dom), g in d.groupby(["regime", "shock_case", "domain"], sort=False):
        m, lo, hi, _ = ci95(g["final_share"])
        rows.append({"regime": regime, "shock_case": case, "domain": dom, "n": len(g), "final_share": m,
                     "final_share_ci_low": lo, "final_share_ci_high": hi, "t10": g["t10"].mean(),
                     "t50": g["t50"].mean(), "t90": g["t90"].mean(), "reached_50": float(g["t50"].notna().mean()),
                     "bass_p": g["bass_p"].median(), "bass_q": g["bass_q"].median()})
    return pd.DataFrame(rows)


def _group_y(res: Results, df: pd.DataFrame, group: int, output: str) -> np.ndarray:
    g = df[(df.grp == group) & (df.status == "ok")]
    y = g.groupby("sample")[output].mean()
    n = len(res.design["matrix"])
    return y.reindex(range(n)).to_numpy(dtype=float)


def sobol_table(res: Results, outputs=None, df: pd.DataFrame | None = None,
                seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First-order and total Sobol indices (and second-order, if designed) with 95 % CIs, per
    group (regime × shock case) and output. Replications of a sample are averaged first."""
    from SALib.analyze import sobol

    if res.design.get("kind") != "sobol":
        return pd.DataFrame(), pd.DataFrame()
    df = outcomes(res) if df is None else df
    problem = res.design["problem"]
    second = bool(res.design.get("second_order"))
    rows, rows2 = [], []
    for grp in res.design["groups"]:
        for o in _outputs(res, df, outputs):
            y = _group_y(res, df, grp["group"], o)
            if np.isnan(y).any():
                res.warn(f"Sobol indices of {o} ({grp['regime']}, {grp['shock_case'] or 'no shock case'}) skipped: "
                         f"{int(np.isnan(y).sum())} of {y.size} samples have no value (failed runs or undefined output)")
                continue
            if np.ptp(y) == 0:
                res.warn(f"Sobol indices of {o} skipped: the output does not vary")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = sobol.analyze(problem, y, calc_second_order=second, conf_level=0.95, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"regime": grp["regime"], "shock_case": grp["shock_case"], "output": o, "factor": name,
                             "S1": si["S1"][i], "S1_conf": si["S1_conf"][i], "ST": si["ST"][i],
                             "ST_conf": si["ST_conf"][i]})
            if second:
                d = len(problem["names"])
                for i in range(d):
                    for j in range(i + 1, d):
                        rows2.append({"regime": grp["regime"], "shock_case": grp["shock_case"], "output": o,
                                      "factor_i": problem["names"][i], "factor_j": problem["names"][j],
                                      "S2": si["S2"][i, j], "S2_conf": si["S2_conf"][i, j]})
    first = pd.DataFrame(rows)
    if not first.empty:
        worst = float(first[["S1_conf", "ST_conf"]].max().max())
        if worst > WIDE_SOBOL:
            res.warn(f"Sobol 95 % CIs are as wide as ±{worst:.2f} with N = {res.design['samples']} base samples: "
                     "increase design.samples (a power of 2) before ranking levers by small differences")
    return first, pd.DataFrame(rows2)


def morris_table(res: Results, outputs=None, df: pd.DataFrame | None = None, seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects (mu, mu*, its 95 % CI, sigma) per group and output."""
    from SALib.analyze import morris

    if res.design.get("kind") != "morris":
        return pd.DataFrame()
    df = outcomes(res) if df is None else df
    problem = res.design["problem"]
    x = np.asarray(res.design["matrix"], dtype=float)
    rows = []
    for grp in res.design["groups"]:
        for o in _outputs(res, df, outputs):
            y = _group_y(res, df, grp["group"], o)
            if np.isnan(y).any():
                res.warn(f"Morris indices of {o} skipped: {int(np.isnan(y).sum())} samples have no value")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = morris.analyze(problem, x, y, conf_level=0.95, num_levels=int(res.design["levels"]), seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"regime": grp["regime"], "shock_case": grp["shock_case"], "output": o, "factor": name,
                             "mu": si["mu"][i], "mu_star": si["mu_star"][i], "mu_star_conf": si["mu_star_conf"][i],
                             "sigma": si["sigma"][i]})
    table = pd.DataFrame(rows)
    if not table.empty:
        rel = (table["mu_star_conf"] / table["mu_star"].replace(0, np.nan)).max()
        if rel > 0.5:
            res.warn(f"Morris mu* CIs reach ±{rel:.0%} of mu* with {res.design['samples']} trajectories: "
                     "add trajectories before ranking levers")
    return table


STRENGTH_KINDS = ("budget_cut", "downturn", "need_surge")


def discovery_inputs(res: Results, df: pd.DataFrame) -> pd.DataFrame:
    """Numeric inputs for PRIM: the varied levers; when they vary, the regime and the shock kind as
    0/1 columns (``regime=NAME``, ``shock=KIND``), the shock's strength (0 for kinds without one)
    and the number of organisations a keystone loss removes (0 for other kinds)."""
    cols = {}
    for f in res.factors:
        cols[f] = df[f].astype(float)
    names = regimes(res)
    if len(names) > 1 and not any(f == MIX for f in res.factors):
        for n in names:
            cols[f"regime={n}"] = (df["regime"] == n).astype(float)
    scen = res.points.set_index("point_id")["scenario_json"].map(lambda s: (json.loads(s) or {}).get("shocks", []))
    first = df["point_id"].map(scen).map(lambda s: s[0] if s else None)
    kinds = first.map(lambda s: "none" if s is None else s["kind"])
    if kinds.nunique() > 1:
        for k in dict.fromkeys(kinds):
            cols[f"shock={k}"] = (kinds == k).astype(float)
    strength = first.map(lambda s: s["strength"] if s is not None and s["kind"] in STRENGTH_KINDS else 0.0)
    count = first.map(lambda s: s["count"] if s is not None and s["kind"] == "keystone_loss" else 0.0)
    for key, vals in (("shock_strength", strength), ("shock_count", count)):
        if vals.nunique() > 1:
            cols[key] = vals.astype(float)
    return pd.DataFrame(cols, index=df.index)


def discovery(res: Results, df: pd.DataFrame | None = None):
    """PRIM on collapse after the (first) shock; returns (PrimResult or None, description)."""
    from .discovery import prim

    df = outcomes(res) if df is None else df
    measure = res.design.get("collapse", "jobs_total")
    ok = df[df.status == "ok"]
    if measure == "any":
        cols = [c for c in ok.columns if c.startswith("resilience.") and c.endswith(".collapsed")]
        if not cols:
            return None, "No shocks in this experiment, so no collapse to explain."
        y = ok[cols].max(axis=1)
        what = "collapse of any resilience measure"
    else:
        col = f"resilience.{measure}.collapsed"
        if col not in ok.columns:
            return None, "No shocks in this experiment, so no collapse to explain."
        y = ok[col]
        what = f"collapse of {measure}"
    mask = y.notna()
    x = discovery_inputs(res, ok[mask])
    if x.shape[1] == 0:
        return None, "No varied inputs to search for collapse regions."
    yy = y[mask].to_numpy(dtype=float) > 0.5
    if yy.sum() == 0:
        return None, (f"No run shows {what} (final-year level below half of the no-shock twin) in "
                      f"{int(mask.sum())} runs, so there is no collapse region to find.")
    if yy.all():
        return None, f"Every run shows {what}; there is no region of lever space that avoids it."
    result = prim(x, yy)
    return result, result.describe(what)


# ----------------------------------------------------------------------------- analyze + report
def analyze(folder: str | Path, figures: bool = True) -> dict:
    """Write ``tables/*.csv``, ``figures/*.png`` and ``report.md`` into ``folder``; return the tables.

    Raises :class:`~.store.StoreError` for an unreadable store or one without a successful run."""
    from .. import guards

    res = load_results(folder)
    folder = Path(folder)
    n_ok = int((res.runs.status == "ok").sum())
    if n_ok == 0:
        n_failed = int((res.runs.status == "failed").sum())
        raise StoreError(f"{folder / DB_NAME}: no successful run to analyse yet ({n_failed} failed, "
                         f"{int(res.manifest['n_runs']) - len(res.runs)} of {int(res.manifest['n_runs'])} not run); "
                         + ("run the same sweep again with --retry-failed" if n_failed else "run the sweep first"))
    # Tables, figures and report are written into a temporary folder inside ``folder`` and then
    # moved into place file by file: an interrupted or failing analysis leaves no partial file, and
    # files there that analyze did not write are left alone. One analysis at a time per folder.
    with guards.folder_lock(folder, "analyze", name=".ecosim-analyze.lock"), guards.stage_inside(folder) as stage:
        tables = _analyze(res, stage, figures)
        guards.move_files_into(stage, folder)
    return tables


def _analyze(res: Results, folder: Path, figures: bool) -> dict:
    from . import figures as figs

    (folder / "tables").mkdir(exist_ok=True)
    df = outcomes(res)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tables = {
            "outcomes": df,
            "points": point_table(res, df=df),
            "contrasts": regime_contrasts(res, df=df),
            "resilience": resilience_table(res),
            "diffusion": diffusion_table(res),
        }
        s1, s2 = sobol_table(res, df=df)
        tables["sobol"], tables["sobol_second_order"] = s1, s2
        tables["morris"] = morris_table(res, df=df)
        prim_result, prim_text = discovery(res, df)
    if prim_result is not None:
        tables["prim"] = prim_result.trajectory
    written = []
    for name, t in tables.items():
        path = folder / "tables" / f"{name}.csv"
        if t.empty:
            path.unlink(missing_ok=True)  # a table of an earlier analysis that no longer applies
            continue
        t.to_csv(path, index=False)
        written.append(path)
    made: dict[str, Path] = {}
    if figures:
        (folder / "figures").mkdir(exist_ok=True)
        made = figs.all_figures(res, tables, folder / "figures", prim_result)
    _report(res, tables, made, prim_text, folder)
    tables["warnings_list"] = list(res.warnings)
    tables["written_tables"] = written
    return tables


def _md(df: pd.DataFrame, max_rows: int = 40) -> str:
    return md_table(df, max_rows)


def _points_md(res: Results, points: pd.DataFrame, outs: list[str], max_rows: int = 30) -> str:
    """Means per design point: one column per output, each cell "mean [95 % CI low, high]"."""
    cols = {"design point": points["label"], "runs ok": points["n_ok"]}
    for o in outs:
        cols[o] = [_fmt_interval(m, lo, hi) for m, lo, hi in
                   zip(points[o], points[f"{o} ci_low"], points[f"{o} ci_high"])]
    return md_table(pd.DataFrame(cols), max_rows)


def _fmt_interval(m, lo, hi) -> str:
    if m != m:
        return "n/a"
    return f"{m:.3g}" if lo != lo else f"{m:.3g} [{lo:.3g}, {hi:.3g}]"


def _fmt_ci(m, lo, hi) -> str:
    if m != m:
        return "n/a"
    if lo != lo:
        return f"{m:.3g}"
    return f"{m:.3g} (95 % CI {lo:.3g} to {hi:.3g})"


def resilience_verdict(res: Results, contrasts: pd.DataFrame) -> list[str]:
    """Sentences: which regime is more resilient, by how much, with CIs (integrated loss; lower is better)."""
    if contrasts.empty:
        return []
    measure = res.design.get("collapse", "jobs_total")
    measure = "jobs_total" if measure == "any" else measure
    lines = []
    for metric, better in (("integrated_loss", "lower"),):
        o = f"resilience.{measure}.{metric}"
        sub = contrasts[contrasts.output == o]
        wins: dict[str, int] = {}
        for _, r in sub.iterrows():
            d, lo, hi = r["difference"], r["difference_ci_low"], r["difference_ci_high"]
            if lo == lo and (hi < 0 or lo > 0):
                winner = r["regime_b"] if d < 0 else r["regime_a"]
                loser = r["regime_a"] if winner == r["regime_b"] else r["regime_b"]
                verdict = (f"**{winner}** is more resilient than {loser}: it loses {abs(d):.3g} less of {measure} "
                           f"per month after the shock (integrated loss, 95 % CI of the difference "
                           f"{min(abs(lo), abs(hi)):.3g} to {max(abs(lo), abs(hi)):.3g})")
                wins[winner] = wins.get(winner, 0) + 1
            else:
                verdict = f"no clear difference in {measure} integrated loss (95 % CI of B - A {lo:.3g} to {hi:.3g})"
            lines.append(f"- *{r['shock_case'] or 'shock'}*: {r['regime_a']} "
                         f"{_fmt_ci(r['mean_a'], r['ci_low_a'], r['ci_high_a'])} vs {r['regime_b']} "
                         f"{_fmt_ci(r['mean_b'], r['ci_low_b'], r['ci_high_b'])}; {verdict}; Cliff's δ (B vs A) = "
                         f"{r['cliffs_delta']:.2f}, Cohen's d = {r['cohens_d']:.2f}, Mann–Whitney p = "
                         f"{r['mannwhitney_p']:.2g}.")
        if len(sub):
            summary = ", ".join(f"{k} in {v}" for k, v in wins.items()) or "neither regime in any"
            lines.insert(0, f"Integrated loss of {measure} against the no-shock twin ({better} is more resilient); "
                            f"significantly more resilient: {summary} of {len(sub)} shock case(s).\n")
    return lines


def _report(res: Results, tables: dict, made: dict, prim_text: str, folder: Path) -> None:
    m, d, prov = res.manifest, res.design, res.manifest["provenance"]
    runs = res.runs
    n_ok, n_failed = int((runs.status == "ok").sum()), int((runs.status == "failed").sum())
    missing = int(m["n_runs"]) - len(runs)
    lines = [f"# Experiment `{m['experiment_name']}`", "",
             f"Design: **{d['kind']}** over {', '.join(res.factors) or 'no levers'}"
             + ((f" (0 = {d['regimes'][0]}, 1 = {d['regimes'][1]})" if MIX in res.factors else
                 f" × regimes {', '.join(d['regimes'])}") if len(d.get('regimes') or []) > 1 else "")
             + (f" × {res.points['shock_case'].nunique()} shock case(s)" if res.points['shock_case'].any() else "")
             + f"; {m['n_points']} design points × {m['replications']} replications = {m['n_runs']} runs "
             f"({n_ok} ok, {n_failed} failed" + (f", **{missing} not run yet**" if missing else "") + ").", ""]
    if res.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in res.warnings] + [""]
    if n_failed:
        errs = runs.loc[runs.status == "failed", "error"].fillna("").map(lambda e: e.splitlines()[0] if e else "")
        lines += ["Failed runs (first error lines): " + "; ".join(f"{k} ×{v}" for k, v in errs.value_counts().items()), ""]
    verdict = resilience_verdict(res, tables["contrasts"])
    if verdict:
        lines += ["## Which regime is more resilient", ""] + verdict + [""]
    sections = (("timeseries", "Time series"), ("resilience", "Resilience"), ("heatmap", "Outputs over the levers"),
                ("sensitivity", "Sensitivity"), ("prim", "Scenario discovery"))
    for key, title in sections:
        shown = [(name, fig) for name, fig in made.items() if name.startswith(key)]
        if shown:
            lines += [f"## Figures: {title.lower()}", ""]
        for name, fig in shown:
            lines += [f"![{fig.title}: {fig.caption}](figures/{fig.path.name})", ""]
    if not tables["contrasts"].empty:
        cols = ["shock_case", "output", "regime_a", "mean_a", "regime_b", "mean_b", "difference", "difference_ci_low",
                "difference_ci_high", "cliffs_delta", "cohens_d", "mannwhitney_p"]
        lines += ["## Regime contrasts (B − A)", "", _md(tables["contrasts"][cols]), ""]
    if not tables["resilience"].empty:
        cols = ["regime", "shock_case", "measure", "resistance", "integrated_loss", "integrated_loss_ci_low",
                "integrated_loss_ci_high", "permanent_shift", "never_recovered", "collapse_rate", "n"]
        lines += ["## Resilience (pooled over other factors)", "", _md(tables["resilience"][cols], 60), ""]
    if not tables["diffusion"].empty:
        lines += ["## Diffusion", "", _md(tables["diffusion"], 30), ""]
    if not tables["points"].empty:
        outs = _outputs(res, tables["outcomes"])
        lines += ["## Means per design point", "", "Each cell: mean over the design point's runs "
                  "[95 % confidence interval of the mean].", "", _points_md(res, tables["points"], outs), ""]
    if not tables["sobol"].empty:
        lines += ["## Sobol indices (95 % CI half-widths)", "", _md(tables["sobol"], 60), ""]
    if not tables["morris"].empty:
        lines += ["## Morris indices", "", _md(tables["morris"], 60), ""]
    lines += ["## Scenario discovery (PRIM)", "", prim_text, ""]
    lines += ["## Glossary", "", "The outputs of this report (generated from `ecosystem_sim/glossary.py`; all "
              "measures in docs/glossary.md).", "", glossary.markdown_table(_outputs(res, tables["outcomes"])), ""]
    versions = prov.get("versions", {})
    lines += ["## Provenance", "",
              f"- experiment file `{m['experiment_path']}` (text stored in the manifest), created {m['created_utc']}",
              f"- design hash `{m['design_hash']}`"
              + (f"; model fingerprint `{m['model_fingerprint']}` (every run was made by this model)"
                 if m.get("model_fingerprint") else ""),
              f"- ecosystem_sim {versions.get('ecosystem_sim', '?')}, commit `{prov.get('commit', '?')}`; "
              + ", ".join(f"{k} {v}" for k, v in versions.items() if k != "ecosystem_sim")
              + f"; Python {prov.get('python', '?')}",
              f"- seeds: root seed {m['root_seed']}, one `SeedSequence` child per "
              + ("replicate (common random numbers)" if d.get("common_random_numbers") else
                 "run, keyed by its design point and replicate (`points.point_key`)")
              + f"; first seeds {', '.join(str(s) for s in runs.sort_values('run_id')['seed'].head(5))}, all in "
                "`runs.seed`",
              f"- store: `{DB_NAME}` (tables manifest, points, runs, timeseries, resilience, diffusion, sessions)"]
    write_reports("\n".join(lines) + "\n", folder, f"Experiment {m['experiment_name']}")
