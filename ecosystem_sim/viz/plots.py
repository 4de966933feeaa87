"""Matplotlib figures of single runs (``ecosim run``) and comparisons (``ecosim compare``):
PNG, headless, in the common style of :mod:`.style` (titles in words, units, labelled shocks,
legends outside the data, a caption saying what lines and bands are)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from scipy import stats

from .. import glossary
from ..levers import DOMAINS
from . import style

# panel file name: (title in words, y-axis label with unit, measures); measures of one panel share a unit
PANELS: dict[str, tuple[str, str, list[str]]] = {
    "jobs": ("Jobs in the ecosystem's organisations", "jobs",
             ["jobs_subsidised", "jobs_self_sustaining", "jobs_intermediary"]),
    "organisations": ("Organisations alive and solutions on offer", "count", ["orgs_alive", "solutions_active"]),
    "adoption": ("Adoption of solutions by need domain", "share of citizens with the need (0–1)",
                 [f"adoption_{d}" for d in DOMAINS]),
    "need": ("Citizens' needs", "0–1 (need units; share of needs served)", ["unmet_need", "need_met_share"]),
    "citizens": ("Citizens' participation and capacity", "0–1", ["participation", "capacity_mean", "capacity_gini"]),
    "money": ("Money held", "million KRW", ["org_cash", "social_fund", "project_account"]),
}


def run_figures(measures: pd.DataFrame, out: Path, title: str, shocks=(), twin: pd.DataFrame | None = None
                ) -> list[style.Figure]:
    """One PNG per panel of a single run's measures. With ``twin`` (the no-shock run on the same
    seed), each measure is drawn twice: solid with the shocks, dashed without them."""
    made = []
    for panel, (words, unit, cols) in PANELS.items():
        cols = [c for c in cols if c in measures.columns]
        if not cols:
            continue
        fig, axes = style.figure(panel=(8.0, 4.2))
        ax = axes[0, 0]
        handles, labels = [], []
        for i, c in enumerate(cols):
            colour = f"C{i}"
            ax.plot(measures.index, measures[c], color=colour, lw=1.6)
            if twin is not None and c in twin.columns:
                ax.plot(twin.index, twin[c], color=colour, lw=1.1, ls=(0, (4, 2)), alpha=0.8)
            handles.append(Line2D([], [], color=colour, lw=1.6))
            labels.append(glossary.title(c))
        if twin is not None:
            handles += [Line2D([], [], color="0.3", lw=1.6), Line2D([], [], color="0.3", lw=1.1, ls=(0, (4, 2)))]
            labels += ["with the shock", "no-shock twin (same seed)"]
        style.shock_lines(ax, shocks)
        ax.set(xlabel="month", ylabel=unit)
        caption = (f"One run of {title}. " + ("Solid: the run with its shocks; dashed: its no-shock twin on the "
                                              "same seed, so the gap is the shock's effect." if twin is not None
                                              else "No shock twin drawn."))
        made.append(style.finish(fig, out / f"{panel}.png", f"{words}: {title}", caption, handles, labels,
                                 ncol=min(len(handles), 3)))
    return made


def ci_band(values: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and 95 % t-interval of the mean of ``column`` per ``step`` (rows: runs × steps)."""
    g = values.groupby("step")[column].agg(["mean", "std", "count"])
    n = g["count"].to_numpy(dtype=float)
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * g["std"].fillna(0).to_numpy() / np.sqrt(np.maximum(n, 1))
    half = np.where(n > 1, half, 0.0)
    return pd.DataFrame({"mean": g["mean"], "lo": g["mean"] - half, "hi": g["mean"] + half}, index=g.index)


def band_figure(tidy: pd.DataFrame, measures: list[str], path: Path, title: str, shocks=()) -> style.Figure:
    """Mean and 95 % confidence interval of the mean per scenario over replicates, one panel per
    measure. ``tidy`` has columns scenario, replicate (or seed), step and the measures."""
    measures = [m for m in measures if m in tidy.columns]
    rows, cols = style.grid_shape(len(measures))
    fig, axes = style.figure(rows, cols, panel=(4.6, 3.1))
    names = list(dict.fromkeys(tidy["scenario"]))
    n_rep = tidy.groupby("scenario")["replicate" if "replicate" in tidy else "seed"].nunique().min()
    for ax, m in zip(axes.flat, measures):
        for i, name in enumerate(names):
            band = ci_band(tidy[tidy.scenario == name], m)
            ax.plot(band.index, band["mean"], color=f"C{i}", lw=1.5)
            ax.fill_between(band.index, band["lo"], band["hi"], color=f"C{i}", alpha=0.22, lw=0)
        style.shock_lines(ax, shocks, text=ax is axes.flat[0])
        t = glossary.term(m)
        ax.set_title(t.title)
        ax.set(xlabel="month", ylabel=t.unit)
    style.hide_unused(axes, len(measures))
    handles = [Line2D([], [], color=f"C{i}", lw=2) for i in range(len(names))]
    caption = (f"Lines: mean over {n_rep} replicate runs per scenario on the same seeds. {style.BAND_CI}"
               + (" Dashed line: the shock." if shocks else ""))
    return style.finish(fig, path, f"{title}: measures month by month", caption, handles, names)


def resilience_figure(table: pd.DataFrame, path: Path) -> style.Figure:
    """Bars of mean resistance and integrated loss with 95 % intervals, per scenario and measure."""
    measures = list(dict.fromkeys(table["measure"]))
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, axes = style.figure(1, 2, panel=(6.0, 3.6))
    width = 0.8 / len(scenarios)
    metric = glossary.RESILIENCE_METRICS
    for ax, key in zip(axes.flat, ("resistance", "integrated_loss")):
        for i, name in enumerate(scenarios):
            g = table[table.scenario == name].groupby("measure", sort=False).first().reindex(measures)
            x = np.arange(len(measures)) + i * width
            err = np.vstack([(g[key] - g[f"{key}_ci_low"]).clip(lower=0).fillna(0),
                             (g[f"{key}_ci_high"] - g[key]).clip(lower=0).fillna(0)])
            ax.bar(x, g[key], width, yerr=err, color=f"C{i}", capsize=3)
        ax.set_xticks(np.arange(len(measures)) + 0.4 - width / 2, [glossary.title(m) for m in measures],
                      rotation=30, ha="right")
        title, unit, better, _ = metric[key]
        ax.set_title(f"{title.capitalize()} ({better} is better)")
        ax.set_ylabel(unit)
    handles = [Line2D([], [], color=f"C{i}", lw=6) for i in range(len(scenarios))]
    caption = ("Against each run's no-shock twin on the same seed. " + style.ERRORBAR_CI)
    return style.finish(fig, path, "Resilience after the shock", caption, handles, scenarios)
