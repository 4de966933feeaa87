"""PNG figures of an experiment (matplotlib, Agg): time series with bands, resilience bars, a heat
map over two levers, sensitivity bars, PRIM peeling trajectory and box."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .. import glossary  # noqa: E402
from ..viz import style  # noqa: E402
from ..viz.plots import ci_band  # noqa: E402
from .spec import MIX  # noqa: E402

MAX_LINES = 8
MAX_CASES = 6


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40] or "all"


def all_figures(res, tables: dict, out: Path, prim_result=None) -> dict[str, style.Figure]:
    """Every figure of an analysed sweep: name -> :class:`~ecosystem_sim.viz.style.Figure`."""
    made: dict[str, style.Figure] = {}
    made.update(timeseries_figures(res, out))
    if not tables["resilience"].empty:
        made["resilience"] = resilience_bars(tables["resilience"], out / "resilience.png")
    if res.design["kind"] == "grid" and len(res.factors) >= 2:
        made["heatmap"] = heatmap(res, tables["outcomes"], out / "heatmap.png")
    elif res.design["kind"] == "grid" and len(res.factors) == 1:
        made["heatmap_lines"] = factor_lines(res, tables["outcomes"], out / "outputs_by_lever.png")
    if not tables["sobol"].empty:
        made["sensitivity_sobol"] = sobol_bars(tables["sobol"], out / "sensitivity_sobol.png")
    if not tables["morris"].empty:
        made["sensitivity_morris"] = morris_bars(tables["morris"], out / "sensitivity_morris.png")
    if prim_result is not None:
        made["prim"] = prim_figure(prim_result, out / "prim.png")
    return made


def _outputs(res, df: pd.DataFrame) -> list[str]:
    return [o for o in res.design["outputs"] if o in df.columns]


def timeseries_figures(res, out: Path) -> dict[str, style.Figure]:
    """Per shock case (up to six), one panel per kept measure (up to six). With up to eight design
    points: one line per point, mean and 95 % CI band of the mean over its replicates. With more
    points: one thin line per point (its mean), coloured by the first varied lever (or the mix),
    line style by regime, so the lever's effect shows instead of a pooled average."""
    measures = res.design["measures"][:6]
    ts = res.timeseries(measures)
    if ts.empty:
        return {}
    runs = res.runs[res.runs.status == "ok"][["run_id", "point_id", "regime", "shock_case"]]
    ts = ts.merge(runs, on="run_id")
    points = res.points.set_index("point_id")
    scen = res.points.set_index("shock_case")["scenario_json"].to_dict()
    reps = int(res.manifest.get("replications") or 1)
    made = {}
    cases = list(dict.fromkeys(res.points["shock_case"]))[:MAX_CASES]
    lever = res.factors[0] if res.factors else None
    regimes = list(dict.fromkeys(res.points["regime"]))
    for case in cases:
        sub = ts[ts.shock_case == case]
        if sub.empty:
            continue
        ids = list(dict.fromkeys(sub["point_id"]))
        rows, cols = style.grid_shape(len(measures))
        fig, axes = style.figure(rows, cols, panel=(4.6, 3.1))
        shocks = _shocks(scen.get(case))
        handles, labels, colorbar = [], [], None
        per_point = len(ids) <= MAX_LINES or lever is None
        if not per_point:
            values = points.loc[ids, f"param_{lever}"].astype(float)
            norm = matplotlib.colors.Normalize(values.min(), values.max())
            cmap = matplotlib.colormaps["viridis"]
            dashes = ["-", "--", ":", "-."]
        for ax, m in zip(axes.flat, measures):
            for k, pid in enumerate(ids if per_point else ids):
                g = sub[sub.point_id == pid]
                band = ci_band(g, m)
                if per_point:
                    label = points.loc[pid, "label"]
                    label = label.replace(case + " | ", "").replace(" | " + case, "") if case else label
                    ax.plot(band.index, band["mean"], color=f"C{k % 10}", lw=1.4)
                    ax.fill_between(band.index, band["lo"], band["hi"], color=f"C{k % 10}", alpha=0.18, lw=0)
                    if ax is axes.flat[0]:
                        handles.append(Line2D([], [], color=f"C{k % 10}", lw=2))
                        labels.append(label or "all runs")
                else:
                    ls = dashes[regimes.index(points.loc[pid, "regime"]) % 4] if len(regimes) <= 4 else "-"
                    ax.plot(band.index, band["mean"], color=cmap(norm(points.loc[pid, f"param_{lever}"])),
                            lw=0.9, ls=ls, alpha=0.85)
            style.shock_lines(ax, shocks, text=ax is axes.flat[0])
            t = glossary.term(m)
            ax.set_title(t.title)
            ax.set(xlabel="month", ylabel=t.unit)
        style.hide_unused(axes, len(measures))
        what = f"shock case {case}" if case else "no shock"
        if per_point:
            caption = f"Lines: mean of each design point's {reps} runs. {style.BAND_CI}"
        else:
            colorbar = (matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap),
                        glossary.lever_label(lever, res.design.get("regimes")))
            if 1 < len(regimes) <= 4 and lever != MIX:
                handles = [Line2D([], [], color="0.3", ls=dashes[i % 4]) for i in range(len(regimes))]
                labels = regimes
            caption = (f"One line per design point ({len(ids)} points): the mean of its {reps} runs, coloured by "
                       f"{lever.replace('_', ' ')}"
                       + (", line style by regime" if 1 < len(regimes) <= 4 and lever != MIX else "")
                       + "; bands left out for readability (95 % CIs of the mean: tables/points.csv).")
        name = "timeseries" + ("_" + _slug(case) if case else "")
        made[name] = style.finish(fig, out / f"{name}.png", f"{res.manifest['experiment_name']}: month by month, "
                                  f"{what}", caption, handles, labels, ncol=min(max(len(handles), 1), 4),
                                  colorbar=colorbar)
    return made


def _shocks(scenario_json) -> list[dict]:
    import json

    if not scenario_json:
        return []
    return list((json.loads(scenario_json) or {}).get("shocks", []))


def resilience_bars(table: pd.DataFrame, path: Path) -> style.Figure:
    """Integrated loss (mean, 95 % CI) per shock case and regime; one panel per measure."""
    measures = list(dict.fromkeys(table["measure"]))
    cases = list(dict.fromkeys(table["shock_case"]))
    regimes = list(dict.fromkeys(table["regime"]))
    rows, cols = style.grid_shape(len(measures))
    fig, axes = style.figure(rows, cols, panel=(max(4.2, 0.35 * len(cases) * len(regimes) + 2), 3.4))
    width = 0.8 / max(len(regimes), 1)
    for ax, m in zip(axes.flat, measures):
        t = table[table.measure == m]
        for i, regime in enumerate(regimes):
            g = t[t.regime == regime].set_index("shock_case").reindex(cases)
            x = np.arange(len(cases)) + i * width
            err = np.vstack([(g["integrated_loss"] - g["integrated_loss_ci_low"]).clip(lower=0).fillna(0),
                             (g["integrated_loss_ci_high"] - g["integrated_loss"]).clip(lower=0).fillna(0)])
            ax.bar(x, g["integrated_loss"], width, yerr=err, capsize=2, color=f"C{i}")
        ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2, cases, rotation=45 if len(cases) > 2 else 0,
                      ha="right" if len(cases) > 2 else "center", fontsize=7)
        ax.set_title(glossary.title(m))
        ax.set_ylabel("lost share per month")
    style.hide_unused(axes, len(measures))
    handles = [Line2D([], [], color=f"C{i}", lw=6) for i in range(len(regimes))]
    caption = ("Integrated loss: mean over the months after the shock of the share lost against each run's "
               "no-shock twin (lower is more resilient); pooled over other levers. " + style.ERRORBAR_CI)
    return style.finish(fig, path, "Loss of function after the shock, by shock case", caption, handles, regimes)


def heatmap(res, df: pd.DataFrame, path: Path) -> style.Figure:
    """Mean of every requested output over the first two levers (averaged over everything else)."""
    fx, fy = res.factors[:2]
    outs = _outputs(res, df)
    ok = df[df.status == "ok"]
    rows, cols = style.grid_shape(len(outs))
    fig, axes = style.figure(rows, cols, panel=(4.4, 3.8))
    regimes = res.design.get("regimes")
    for ax, o in zip(axes.flat, outs):
        piv = ok.pivot_table(index=fy, columns=fx, values=o, aggfunc="mean")
        ax.grid(False)
        im = ax.imshow(piv.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(piv.columns)), [f"{v:g}" for v in piv.columns])
        ax.set_yticks(range(len(piv.index)), [f"{v:g}" for v in piv.index])
        ax.set(xlabel=glossary.lever_label(fx, regimes), ylabel=glossary.lever_label(fy, regimes))
        t = glossary.term(o)
        ax.set_title(t.title + (f"\n({t.better} is better)" if t.better in ("higher", "lower") else ""), fontsize=9)
        vals = piv.to_numpy()
        mid = np.nanmean(vals) if np.isfinite(vals).any() else 0
        for (i, j), v in np.ndenumerate(vals):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7, color="w" if v < mid else "k")
        fig.colorbar(im, ax=ax, shrink=0.85, label=t.unit)
    style.hide_unused(axes, len(outs))
    pooled = [f.replace("_", " ") for f in res.factors[2:]]
    if len(regimes or []) > 1 and MIX not in res.factors:
        pooled.append("the regimes")
    if res.points["shock_case"].nunique() > 1:
        pooled.append("the shock cases")
    caption = ("Each cell: mean over all runs at that pair of lever values"
               + (f", pooled over {', '.join(pooled)}" if pooled else "") + ".")
    return style.finish(fig, path, f"Outputs over {fx.replace('_', ' ')} and {fy.replace('_', ' ')}", caption)


def factor_lines(res, df: pd.DataFrame, path: Path) -> style.Figure:
    """Mean and 95 % CI of every output against the one varied lever, one line per shock case
    (and per regime when presets are crossed)."""
    from .analysis import ci95

    f = res.factors[0]
    outs = _outputs(res, df)
    ok = df[df.status == "ok"].copy()
    key = ["shock_case"] if f == MIX else ["regime", "shock_case"]
    rows, cols = style.grid_shape(len(outs))
    fig, axes = style.figure(rows, cols, panel=(4.6, 3.2))
    handles, labels = [], []
    for ax, o in zip(axes.flat, outs):
        for k, (name, g) in enumerate(ok.groupby(key, sort=False)):
            stats_ = [(x, *ci95(h[o])[:3]) for x, h in g.groupby(f)]
            x, m, lo, hi = (np.array(v, dtype=float) for v in zip(*stats_))
            err = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
            ax.errorbar(x, m, yerr=err, marker="o", ms=4, capsize=3, color=f"C{k % 10}")
            if ax is axes.flat[0]:
                label = " | ".join(str(n) for n in (name if isinstance(name, tuple) else (name,)) if n)
                handles.append(Line2D([], [], color=f"C{k % 10}", marker="o"))
                labels.append(label or "all runs")
        t = glossary.term(o)
        ax.set_title(t.title)
        ax.set(xlabel=glossary.lever_label(f, res.design.get("regimes")), ylabel=t.unit)
    style.hide_unused(axes, len(outs))
    return style.finish(fig, path, f"Outputs against {f.replace('_', ' ')}",
                        "Points: mean over the runs at each value. " + style.ERRORBAR_CI,
                        handles if len(handles) > 1 else None, labels)


def _index_panels(table: pd.DataFrame):
    """One panel per (output, regime, shock case) of a sensitivity table; spare panels hidden."""
    keys = list(dict.fromkeys(zip(table["output"], table["regime"], table["shock_case"])))
    rows, cols = style.grid_shape(len(keys))
    fig, axes = style.figure(rows, cols, panel=(5.0, 3.4))
    style.hide_unused(axes, len(keys))
    return fig, axes, keys


def _panel_title(o, regime, case) -> str:
    extra = ", ".join(x for x in (regime if regime != "mix" else "", case) if x)
    return glossary.title(o) + (f"\n({extra})" if extra else "")


def sobol_bars(table: pd.DataFrame, path: Path) -> style.Figure:
    fig, axes, keys = _index_panels(table)
    for ax, (o, regime, case) in zip(axes.flat, keys):
        t = table[(table.output == o) & (table.regime == regime) & (table.shock_case == case)]
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], capsize=2, color="C0")
        ax.bar(x + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], capsize=2, color="C1")
        ax.set_xticks(x, [n.replace("_", " ") for n in t["factor"]], rotation=45, ha="right", fontsize=7)
        ax.set_title(_panel_title(o, regime, case), fontsize=9)
        ax.set_ylabel("share of output variance")
        ax.axhline(0, color="k", lw=0.5)
    handles = [Line2D([], [], color="C0", lw=6), Line2D([], [], color="C1", lw=6)]
    return style.finish(fig, path, "Which levers drive the outputs: Sobol indices",
                        "First order: variance due to the lever alone; total: including its interactions. "
                        "Error bars: 95 % bootstrap confidence intervals (SALib).", handles,
                        ["first order S1", "total ST"])


def morris_bars(table: pd.DataFrame, path: Path) -> style.Figure:
    fig, axes, keys = _index_panels(table)
    for ax, (o, regime, case) in zip(axes.flat, keys):
        t = table[(table.output == o) & (table.regime == regime) & (table.shock_case == case)]
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["mu_star"], 0.4, yerr=t["mu_star_conf"], capsize=2, color="C0")
        ax.bar(x + 0.2, t["sigma"], 0.4, color="C1")
        ax.set_xticks(x, [n.replace("_", " ") for n in t["factor"]], rotation=45, ha="right", fontsize=7)
        ax.set_title(_panel_title(o, regime, case), fontsize=9)
        ax.set_ylabel(glossary.term(o).unit + " per lever range")
    handles = [Line2D([], [], color="C0", lw=6), Line2D([], [], color="C1", lw=6)]
    return style.finish(fig, path, "Which levers drive the outputs: Morris elementary effects",
                        "mu*: mean absolute effect of moving one lever; sigma: its spread (non-linearity, "
                        "interactions). Error bars: 95 % bootstrap confidence interval of mu* (SALib).",
                        handles, ["mu* (importance)", "sigma (interactions)"])


def prim_figure(result, path: Path) -> style.Figure:
    traj = result.trajectory
    fig, axes = style.figure(1, 2, panel=(5.0, 3.8))
    axes = axes.flat
    ax = axes[0]
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis", s=18)
    ax.scatter([traj["coverage"].iloc[result.chosen]], [traj["density"].iloc[result.chosen]], s=120,
               facecolors="none", edgecolors="r", label="chosen box")
    ax.set(xlabel="coverage (share of collapses in the box)", ylabel="density (share of box that collapses)",
           title="PRIM peeling trajectory")
    fig.colorbar(sc, ax=ax, label="levers restricted")
    ax.legend(fontsize=7)
    ax = axes[1]
    box = result.box
    dims = list(box)[:2] or result.names[:2]
    row = traj.iloc[result.chosen]
    for k, (lo_name, hi_name) in enumerate([(f"{d}_low", f"{d}_high") for d in dims]):
        i = result.names.index(dims[k])
        ax.barh(k, row[hi_name] - row[lo_name], left=row[lo_name], color="tab:red", alpha=0.6)
        ax.barh(k, result.bounds[i, 1] - result.bounds[i, 0], left=result.bounds[i, 0], color="none",
                edgecolor="k")
    ax.set_yticks(range(len(dims)), dims)
    s = result.stats
    ax.set_title(f"chosen box: coverage {s['coverage']:.0%}, density {s['density']:.0%}", fontsize=9)
    ax.set_xlabel("lever value (red: the box; black outline: the range studied)")
    return style.finish(fig, path, "Scenario discovery: where collapse concentrates (PRIM)",
                        "Left: each peeling step's coverage (share of all collapses inside the box) against its "
                        "density (share of runs in the box that collapse). Right: the chosen box on its first "
                        "two levers.")
