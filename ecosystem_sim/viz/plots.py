"""Matplotlib figures of runs and comparisons (PNG, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..levers import DOMAINS  # noqa: E402

PANELS: dict[str, list[str]] = {
    "jobs": ["jobs_subsidised", "jobs_self_sustaining", "jobs_intermediary"],
    "organisations": ["orgs_alive", "solutions_active"],
    "adoption": [f"adoption_{d}" for d in DOMAINS],
    "need": ["unmet_need", "need_met_share"],
    "citizens": ["participation", "capacity_mean", "capacity_gini"],
    "money": ["org_cash", "social_fund", "project_account"],
}


def run_figures(measures: pd.DataFrame, out: Path, title: str, shocks=()) -> list[Path]:
    """One PNG per panel of a single run's measures; shocks are marked as vertical lines."""
    paths = []
    for panel, cols in PANELS.items():
        fig, ax = plt.subplots(figsize=(7, 4))
        for c in cols:
            ax.plot(measures.index, measures[c], label=c)
        for shock in shocks:
            ax.axvline(shock.step, color="grey", ls="--", lw=1)
        ax.set(title=f"{title}: {panel}", xlabel="month")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"{panel}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def band_figure(tidy: pd.DataFrame, measures: list[str], path: Path, title: str, shocks=()) -> Path:
    """Mean and 95 % band per scenario over replicates. ``tidy`` has columns
    scenario, seed, step and the measures."""
    n = len(measures)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax, m in zip(axes.flat, measures):
        for name, g in tidy.groupby("scenario", sort=False):
            stats = g.groupby("step")[m].agg(["mean", lambda s: s.quantile(0.025), lambda s: s.quantile(0.975)])
            stats.columns = ["mean", "lo", "hi"]
            ax.plot(stats.index, stats["mean"], label=name)
            ax.fill_between(stats.index, stats["lo"], stats["hi"], alpha=0.25)
        for shock in shocks:
            ax.axvline(shock.step, color="grey", ls="--", lw=1)
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("month", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title + " (mean, 2.5-97.5 % of replicates)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def resilience_figure(table: pd.DataFrame, path: Path) -> Path:
    """Bars of mean integrated loss and resistance with 95 % intervals, per scenario and measure."""
    measures = list(dict.fromkeys(table["measure"]))
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    width = 0.8 / len(scenarios)
    for ax, key in zip(axes, ("resistance", "integrated_loss")):
        for i, name in enumerate(scenarios):
            g = table[table.scenario == name].groupby("measure", sort=False).first().reindex(measures)
            x = [j + i * width for j in range(len(measures))]
            err = [g[key] - g[f"{key}_ci_low"], g[f"{key}_ci_high"] - g[key]]
            ax.bar(x, g[key], width, yerr=err, label=name, capsize=3)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(measures))], measures, rotation=30, ha="right", fontsize=8)
        ax.set_title({"resistance": "resistance (lowest ratio to twin; 1 = unaffected)",
                      "integrated_loss": "integrated loss (mean lost share per month)"}[key], fontsize=9)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
