"""PNG figures of an experiment (matplotlib, Agg): time series with bands, resilience bars, a heat
map over two levers, sensitivity bars, PRIM peeling trajectory and box."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

MAX_LINES = 8
MAX_CASES = 6


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40] or "all"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def all_figures(res, tables: dict, out: Path, prim_result=None) -> dict[str, Path]:
    made: dict[str, Path] = {}
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


def timeseries_figures(res, out: Path) -> dict[str, Path]:
    """Mean and 95 % CI band over runs, one figure per shock case (up to six), one line per design point
    (or per regime when there are many points)."""
    measures = res.design["measures"][:6]
    ts = res.timeseries(measures)
    if ts.empty:
        return {}
    runs = res.runs[res.runs.status == "ok"][["run_id", "point_id", "regime", "shock_case"]]
    ts = ts.merge(runs, on="run_id")
    labels = res.points.set_index("point_id")["label"]
    scen = res.points.set_index("shock_case")["scenario_json"].to_dict()
    made = {}
    cases = list(dict.fromkeys(res.points["shock_case"]))[:MAX_CASES]
    for case in cases:
        sub = ts[ts.shock_case == case].copy()
        if sub.empty:
            continue
        n_points = sub["point_id"].nunique()
        sub["line"] = sub["point_id"].map(labels) if n_points <= MAX_LINES else sub["regime"]
        lines = list(dict.fromkeys(sub["line"]))[:MAX_LINES]
        cols = min(3, len(measures))
        rows = -(-len(measures) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), squeeze=False)
        steps = _shock_steps(scen.get(case))
        for ax, m in zip(axes.flat, measures):
            for line in lines:
                g = sub[sub.line == line].groupby("step")[m].agg(["mean", "std", "count"])
                half = stats.t.ppf(0.975, np.maximum(g["count"] - 1, 1)) * g["std"].fillna(0) / np.sqrt(g["count"])
                ax.plot(g.index, g["mean"], lw=1.3, label=str(line).replace(case + " | ", "") if case else line)
                ax.fill_between(g.index, g["mean"] - half, g["mean"] + half, alpha=0.2)
            for s in steps:
                ax.axvline(s, color="grey", ls="--", lw=1)
            ax.set_title(m, fontsize=9)
            ax.set_xlabel("month", fontsize=8)
        for ax in list(axes.flat)[len(measures):]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=6)
        fig.suptitle(f"{res.manifest['experiment_name']}: {case or 'no shock case'} (mean, 95 % CI of the mean)",
                     fontsize=10)
        name = "timeseries" + ("_" + _slug(case) if case else "")
        made[name] = _save(fig, out / f"{name}.png")
    return made


def _shock_steps(scenario_json) -> list[int]:
    import json

    if not scenario_json:
        return []
    data = json.loads(scenario_json) or {}
    return [s["step"] for s in data.get("shocks", [])]


def resilience_bars(table: pd.DataFrame, path: Path) -> Path:
    """Integrated loss (mean, 95 % CI) per shock case and regime; one panel per measure."""
    measures = list(dict.fromkeys(table["measure"]))
    cases = list(dict.fromkeys(table["shock_case"]))
    regimes = list(dict.fromkeys(table["regime"]))
    cols = min(3, len(measures))
    rows = -(-len(measures) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(5, 0.6 * len(cases) * len(regimes) / 2 + 3) * cols / 1.5,
                                                  3.4 * rows), squeeze=False)
    width = 0.8 / max(len(regimes), 1)
    for ax, m in zip(axes.flat, measures):
        t = table[table.measure == m]
        for i, regime in enumerate(regimes):
            g = t[t.regime == regime].set_index("shock_case").reindex(cases)
            x = np.arange(len(cases)) + i * width
            err = np.vstack([(g["integrated_loss"] - g["integrated_loss_ci_low"]).clip(lower=0).fillna(0),
                             (g["integrated_loss_ci_high"] - g["integrated_loss"]).clip(lower=0).fillna(0)])
            ax.bar(x, g["integrated_loss"], width, yerr=err, capsize=2, label=regime)
        ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2, cases, rotation=45, ha="right", fontsize=6)
        ax.set_title(f"{m}: integrated loss", fontsize=9)
    for ax in list(axes.flat)[len(measures):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Lost share of function per month after the shock, vs the no-shock twin (mean, 95 % CI)", fontsize=10)
    return _save(fig, path)


def heatmap(res, df: pd.DataFrame, path: Path) -> Path:
    """Mean of up to four outputs over the first two levers (averaged over everything else)."""
    fx, fy = res.factors[:2]
    outs = [o for o in res.design["outputs"] if o in df.columns][:4]
    ok = df[df.status == "ok"]
    fig, axes = plt.subplots(1, len(outs), figsize=(4.2 * len(outs), 3.8), squeeze=False)
    for ax, o in zip(axes.flat, outs):
        piv = ok.pivot_table(index=fy, columns=fx, values=o, aggfunc="mean")
        im = ax.imshow(piv.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(piv.columns)), [f"{v:g}" for v in piv.columns], fontsize=7)
        ax.set_yticks(range(len(piv.index)), [f"{v:g}" for v in piv.index], fontsize=7)
        ax.set(xlabel=fx, ylabel=fy)
        ax.set_title(o, fontsize=8)
        for (i, j), v in np.ndenumerate(piv.to_numpy()):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6, color="w")
        fig.colorbar(im, ax=ax, shrink=0.8)
    return _save(fig, path)


def factor_lines(res, df: pd.DataFrame, path: Path) -> Path:
    """Mean and 95 % CI of up to six outputs against the one varied lever, one line per shock case
    (and per regime when presets are crossed)."""
    from .analysis import ci95

    f = res.factors[0]
    outs = [o for o in res.design["outputs"] if o in df.columns][:6]
    ok = df[df.status == "ok"].copy()
    key = ["shock_case"] if f == "mix" else ["regime", "shock_case"]
    cols = min(3, len(outs))
    rows = -(-len(outs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.3 * rows), squeeze=False)
    for ax, o in zip(axes.flat, outs):
        for name, g in ok.groupby(key, sort=False):
            stats_ = [(x, *ci95(h[o])[:3]) for x, h in g.groupby(f)]
            x, m, lo, hi = (np.array(v, dtype=float) for v in zip(*stats_))
            err = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
            label = " | ".join(str(n) for n in (name if isinstance(name, tuple) else (name,)) if n)
            ax.errorbar(x, m, yerr=err, marker="o", capsize=3, label=label or None)
        ax.set_title(o, fontsize=8)
        ax.set_xlabel(f + (" (0 = " + res.design["regimes"][0] + ", 1 = " + res.design["regimes"][1] + ")"
                           if f == "mix" and len(res.design.get("regimes") or []) == 2 else ""), fontsize=7)
    for ax in list(axes.flat)[len(outs):]:
        ax.axis("off")
    if axes.flat[0].get_legend_handles_labels()[0]:
        axes.flat[0].legend(fontsize=6)
    fig.suptitle("Outputs against " + f + " (mean, 95 % CI over runs)", fontsize=10)
    return _save(fig, path)


def _index_panels(table: pd.DataFrame):
    """One panel per (output, regime, shock case) of a sensitivity table; spare panels hidden."""
    keys = list(dict.fromkeys(zip(table["output"], table["regime"], table["shock_case"])))
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    return fig, axes, keys


def sobol_bars(table: pd.DataFrame, path: Path) -> Path:
    fig, axes, keys = _index_panels(table)
    for ax, (o, regime, case) in zip(axes.flat, keys):
        t = table[(table.output == o) & (table.regime == regime) & (table.shock_case == case)]
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], capsize=2, label="first order S1")
        ax.bar(x + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], capsize=2, label="total ST")
        ax.set_xticks(x, t["factor"], rotation=45, ha="right", fontsize=7)
        ax.set_title(f"{o}" + (f" ({regime}, {case})" if case else ""), fontsize=8)
        ax.axhline(0, color="k", lw=0.5)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Sobol indices with 95 % CIs", fontsize=10)
    return _save(fig, path)


def morris_bars(table: pd.DataFrame, path: Path) -> Path:
    fig, axes, keys = _index_panels(table)
    for ax, (o, regime, case) in zip(axes.flat, keys):
        t = table[(table.output == o) & (table.regime == regime) & (table.shock_case == case)]
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["mu_star"], 0.4, yerr=t["mu_star_conf"], capsize=2, label="mu*")
        ax.bar(x + 0.2, t["sigma"], 0.4, label="sigma")
        ax.set_xticks(x, t["factor"], rotation=45, ha="right", fontsize=7)
        ax.set_title(o, fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Morris elementary effects (mu* with 95 % CI, sigma)", fontsize=10)
    return _save(fig, path)


def prim_figure(result, path: Path) -> Path:
    traj = result.trajectory
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis", s=18)
    ax.scatter([traj["coverage"].iloc[result.chosen]], [traj["density"].iloc[result.chosen]], s=120,
               facecolors="none", edgecolors="r", label="chosen box")
    ax.set(xlabel="coverage", ylabel="density", title="PRIM peeling trajectory")
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
    ax.set_xlabel("lever range (box in red)")
    return _save(fig, path)
