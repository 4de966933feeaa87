"""One style for every figure of runs, comparisons and sweeps (matplotlib, headless PNG).

Every figure has a title in words, axis labels with units (from :mod:`ecosystem_sim.glossary`),
shock lines labelled with what happened, a legend outside the plotting area (so it never hides
data) and a caption line under the plot saying what lines and bands are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 100
BAND_CI = "Shaded bands: 95 % confidence interval of the mean over the replicate runs (Student t)."
ERRORBAR_CI = "Error bars: 95 % confidence interval of the mean over the runs (Student t)."

RC = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "figure.titlesize": 12, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5, "savefig.dpi": DPI,
}


@dataclass(frozen=True)
class Figure:
    """A written figure: its file, its title and the caption a report prints under it."""

    path: Path
    title: str
    caption: str


def figure(rows: int = 1, cols: int = 1, panel=(5.0, 3.3), **kw):
    """A figure of ``rows`` × ``cols`` panels in the common style."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(rows, cols, figsize=(panel[0] * cols, panel[1] * rows + 0.9), squeeze=False, **kw)
    for ax in axes.flat:
        _style_axes(ax)
    return fig, axes


def _style_axes(ax) -> None:
    for k, v in (("top", False), ("right", False)):
        ax.spines[k].set_visible(v)
    ax.grid(True, alpha=0.3, lw=0.5)
    ax.tick_params(labelsize=8)


def grid_shape(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = max(1, min(max_cols, n))
    return -(-n // cols), cols


def hide_unused(axes, used: int) -> None:
    for ax in list(axes.flat)[used:]:
        ax.axis("off")


SHOCK_WORDS = {"programme_end": "programme ends", "budget_cut": "budget cut", "downturn": "downturn",
               "keystone_loss": "keystone loss", "need_surge": "need surge"}


def shock_text(shock) -> str:
    """A shock in words, e.g. ``budget cut −50 %`` (a dict as in scenario files or a ``Shock``)."""
    get = shock.get if isinstance(shock, dict) else (lambda k, d=None: getattr(shock, k, d))
    kind = get("kind")
    words = SHOCK_WORDS.get(kind, str(kind).replace("_", " "))
    if kind in ("budget_cut", "downturn") and get("strength") is not None:
        words += f" −{float(get('strength')):.0%}".replace("%", " %")
    elif kind == "need_surge" and get("strength") is not None:
        words += f" +{float(get('strength')):g}"
    elif kind == "keystone_loss":
        words += f" ({get('count', 1)} {str(get('target', 'organisation')).replace('_', ' ')})"
    return words


def shock_lines(ax, shocks, text: bool = True) -> None:
    """A dashed vertical line at each shock's month, labelled with the shock in words."""
    for shock in shocks or ():
        step = shock["step"] if isinstance(shock, dict) else shock.step
        ax.axvline(step, color="0.35", ls="--", lw=1, zorder=1)
        if text:
            ax.annotate(shock_text(shock) + f", month {step}", xy=(step, 1), xycoords=("data", "axes fraction"),
                        xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize=7, color="0.25",
                        rotation=0, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def finish(fig, path: Path, title: str, caption: str, handles=None, labels=None, legend_title: str | None = None,
           ncol: int | None = None, colorbar=None) -> Figure:
    """Title, legend below the panels (outside the data), caption under it, and an optional
    ``colorbar = (mappable, label)`` at the right of all panels; save and close."""
    fig.suptitle(title, fontsize=12, fontweight="bold")
    bottom = 0.0
    if handles:
        ncol = ncol or min(len(handles), 4)
        rows = -(-len(handles) // ncol)
        leg = fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False, fontsize=8,
                         title=legend_title, title_fontsize=8, bbox_to_anchor=(0.5, 0.04))
        bottom = leg
        del rows
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=8, color="0.25", wrap=True)
    fig.tight_layout(rect=(0, 0.0, 0.9 if colorbar else 1, 0.97))
    _make_room(fig, bottom)
    if colorbar is not None:
        boxes = [ax.get_position() for ax in fig.axes if ax.get_visible() and ax.axison]
        y0, y1 = min(b.y0 for b in boxes), max(b.y1 for b in boxes)
        cax = fig.add_axes((0.92, y0, 0.012, y1 - y0))
        fig.colorbar(colorbar[0], cax=cax, label=colorbar[1])
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Figure(Path(path), title, caption)


def _make_room(fig, legend) -> None:
    """Move the panels up so the legend and caption below them overlap nothing."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    height = 0.03  # caption line
    if legend:
        box = legend.get_window_extent(renderer).transformed(fig.transFigure.inverted())
        legend.set_bbox_to_anchor((0.5, height + 0.005), transform=fig.transFigure)
        height += box.height + 0.01
    axes = [ax for ax in fig.axes if ax.get_visible()]
    lowest = min(ax.get_tightbbox(renderer).transformed(fig.transFigure.inverted()).y0 for ax in axes)
    if lowest < height:
        fig.subplots_adjust(bottom=fig.subplotpars.bottom + (height - lowest) + 0.01)
