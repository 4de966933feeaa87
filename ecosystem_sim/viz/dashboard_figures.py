"""Figures drawn by the dashboard: the ecosystem as a network, and the live charts.

Plain matplotlib (``matplotlib.figure.Figure``, no pyplot state), so the same functions
serve the browser dashboard, notebooks and tests. Everything is drawn from the model's
current state and its recorded measures; nothing here changes the model.

Keeping the dashboard responsive at thousands of citizens:

* citizens are drawn per community (one node per neighbourhood, coloured by the share
  of its residents who use at least one solution), never one by one;
* the layout is computed once per model (:class:`NetworkLayout`): communities by a
  seeded spring layout of the ties between them, organisations on a ring around their
  home community at an angle fixed by their id, so a new organisation never moves the
  others and no layout is recomputed while the model runs;
* charts read the collector's columns directly (no DataFrame per frame);
* :class:`LiveNetwork` and :class:`LiveCharts` draw axes, ticks and legends once and
  only the changing artists each frame (blitting): 5-50 ms a frame instead of 200+ ms.

:func:`network_figure` and :func:`charts_figure` give ordinary figures of the same views
for notebooks.
"""

from __future__ import annotations

import io
import math
from typing import Iterable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from ..levers import DOMAINS

KIND_COLOURS: dict[str, str] = {
    "for_profit": "#1f77b4",
    "csr_firm": "#17becf",
    "social_enterprise": "#ff7f0e",
    "cooperative": "#2ca02c",
    "community_business": "#bcbd22",
    "nonprofit": "#9467bd",
    "intermediary": "#d62728",
}
DOMAIN_COLOURS = dict(zip(DOMAINS, ("#e377c2", "#8c564b", "#2ca02c", "#1f77b4", "#ff7f0e")))
SHOCK_COLOURS = {"programme_end": "#d62728", "budget_cut": "#ff7f0e", "keystone_loss": "#9467bd",
                 "downturn": "#7f7f7f", "need_surge": "#8c564b"}

CHARTS: dict[str, dict[str, tuple[str, str]]] = {
    "Jobs": {
        "jobs_subsidised": ("subsidised", "#d62728"),
        "jobs_self_sustaining": ("self-sustaining", "#2ca02c"),
        "jobs_intermediary": ("intermediaries", "#7f7f7f"),
    },
    "Organisations by kind": {f"orgs_{k}": (k.replace("_", " "), c) for k, c in KIND_COLOURS.items()},
    "Adoption per domain": {f"adoption_{d}": (d.replace("_", " "), c) for d, c in DOMAIN_COLOURS.items()},
    "Need": {
        "unmet_need": ("unmet need (mean)", "#d62728"),
        "need_met_share": ("needs served (share)", "#2ca02c"),
    },
    "Citizens": {
        "participation": ("taking part (share)", "#1f77b4"),
        "capacity_mean": ("capacity (mean)", "#ff7f0e"),
        "capacity_gini": ("inequality (Gini)", "#7f7f7f"),
    },
    "Money": {
        "budget_in": ("budget this month", "#1f77b4"),
        "social_fund": ("social fund", "#2ca02c"),
        "project_account": ("project account", "#9467bd"),
    },
}
"""Chart title -> {measure: (legend label, colour)}; every key is a model measure."""

CHART_UNITS: dict[str, str] = {
    "Jobs": "jobs",
    "Organisations by kind": "organisations",
    "Adoption per domain": "share of citizens in need (0-1)",
    "Need": "share or mean (0-1)",
    "Citizens": "share or mean (0-1)",
    "Money": "M KRW",
}
"""Chart title -> y-axis label (the unit of its measures, from ``measures.MEASURES``)."""

REFERENCE_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))
"""Line style of the 1st, 2nd, ... earlier run drawn as faint reference curves."""


class NetworkLayout:
    """Positions for the network view, computed once per model.

    Communities are placed by a seeded spring layout of the citizen ties between them
    (heavily tied neighbourhoods sit close); organisations sit on a ring around their
    home community, at an angle fixed by their id.
    """

    def __init__(self, model, seed: int = 0):
        import networkx as nx

        pop = model.population
        k = pop.n_communities
        ties = pop.ties.tocoo()
        a, b = pop.community[ties.row], pop.community[ties.col]
        cross = a != b
        weight = np.zeros((k, k))
        np.add.at(weight, (a[cross], b[cross]), 1.0)
        g = nx.Graph()
        g.add_nodes_from(range(k))
        for i, j in zip(*np.nonzero(np.triu(weight, 1))):
            g.add_edge(int(i), int(j), weight=float(weight[i, j]))
        if k == 1:
            pos = {0: np.zeros(2)}
        else:
            pos = nx.spring_layout(g, seed=seed, weight="weight", iterations=100)
        self.community_xy = np.array([pos[c] for c in range(k)], dtype=float)
        span = np.ptp(self.community_xy, axis=0).max() if k > 1 else 1.0
        self.ring = 0.6 * span / max(math.sqrt(k), 1.0)
        self.community_size = pop.community_size.astype(float)
        self._org_xy: dict[int, tuple[float, float]] = {}

    def org_xy(self, org) -> tuple[float, float]:
        xy = self._org_xy.get(org.unique_id)
        if xy is None:
            angle = org.unique_id * 2.399963  # golden angle: neighbours in id never overlap
            r = self.ring * (0.55 + 0.45 * ((org.unique_id * 0.618034) % 1.0))
            cx, cy = self.community_xy[org.community]
            xy = (cx + r * math.cos(angle), cy + r * math.sin(angle))
            self._org_xy[org.unique_id] = xy
        return xy


def community_adoption(model) -> np.ndarray:
    """Share of each community's citizens who use at least one solution (0-1)."""
    pop = model.population
    using = (pop.adopted >= 0).any(axis=1)
    return np.bincount(pop.community, using, pop.n_communities) / np.maximum(pop.community_size, 1)


SHARE_CHARTS = {"Adoption per domain", "Need", "Citizens"}
"""Charts whose measures are shares: their y axis stops at 1."""

FIGSIZE = (3.6, 2.5)
"""Size of one dashboard tile (inches): a third of the chart area of a 1280 x 720 screen."""
DPI = 100
FONT = {"title": 10.5, "label": 8.5, "tick": 8.0, "legend": 7.5, "note": 7.0}
"""Font sizes (pt) in a tile; the page scales tiles with the screen, so type grows on a
1920 x 1080 projector."""


def _nice_top(value: float, cap: float | None) -> float:
    """A round axis top a little above ``value`` (1, 2, 2.5, 5 x 10^k)."""
    value = max(float(value), 1e-9) * 1.2
    base = 10.0 ** math.floor(math.log10(value))
    top = next(m * base for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * base >= value)
    return min(top, cap) if cap is not None else top


def png(fig: Figure, dpi: int | None = None) -> bytes:
    """A figure as PNG bytes (full draw; for notebooks and files)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


class _Blitted:
    """A figure whose static part (axes, ticks, legends) is drawn once and kept as a
    bitmap; each frame only the changing artists are drawn on top and the result is
    encoded with fast PNG compression. About 5-10 ms a frame instead of 200+ ms."""

    def __init__(self, fig: Figure):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self._background = None

    def _redraw_background(self) -> None:
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _encode(self, artists) -> bytes:
        if self._background is None:
            self._redraw_background()
        self.canvas.restore_region(self._background)
        for artist in artists:
            self.fig.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba()).convert("RGB")
        buf = io.BytesIO()
        image.save(buf, format="png", compress_level=1)
        return buf.getvalue()


class LiveCharts(_Blitted):
    """One panel of :data:`CHARTS`, redrawn cheaply each month, with earlier runs as faint
    reference curves.

    Args:
        title: a key of :data:`CHARTS`.
        horizon: months on the x axis (the axis grows if the run goes further).
        references: earlier runs, each with ``label`` and ``series`` (measure -> values);
            drawn faint, in the measure's colour, one line style per run, labelled at their end.
        axis_tops: chart title -> y axis top, shared by every chart of a session; the top only
            grows, so the scale stays fixed across runs until the owner clears the dict.
        figsize, dpi: the picture's size.
    """

    def __init__(self, title: str, horizon: int = 240, references: Iterable = (),
                 axis_tops: dict[str, float] | None = None, figsize: tuple[float, float] = FIGSIZE,
                 dpi: int = DPI):
        super().__init__(Figure(figsize=figsize, dpi=dpi))
        self.title = title
        self.horizon = max(int(horizon), 1)
        self.axis_tops = {} if axis_tops is None else axis_tops
        self.references = list(references)
        self._marks: tuple = ()
        self._marker_artists: list = []
        ax = self.ax = self.fig.add_subplot()
        series = CHARTS[title]
        self.lines: list[tuple[str, Line2D]] = []
        for key, (label, colour) in series.items():
            (line,) = ax.plot([], [], color=colour, lw=1.6, label=label, animated=True)
            self.lines.append((key, line))
        high = 0.0  # the earlier runs' highest value; the session's top for this chart is kept below
        for i, ref in enumerate(self.references):
            style = REFERENCE_STYLES[i % len(REFERENCE_STYLES)]
            ends = []
            for key, (_, colour) in series.items():
                y = np.asarray(ref.series.get(key, ()), dtype=float)
                if y.size:
                    ax.plot(np.arange(y.size), y, color=colour, lw=1.0, ls=style, alpha=0.45)
                    high = max(high, float(np.nanmax(y)))
                    ends.append((float(y[-1]), y.size - 1))
            if ends:
                y_end, x_end = max(ends)
                # The short tag, on the side of the curve's end with room for it: the full label
                # (seed, shocks) would run over the axis labels; the page lists it.
                ax.annotate(ref.tag, (x_end, y_end), xytext=(2, 2 + 7 * i), textcoords="offset points",
                            fontsize=FONT["note"] - 0.5, color="#555555", ha="right" if x_end > 0.6 * self.horizon
                            else "left", va="bottom")
        self.cap = 1.0 if title in SHARE_CHARTS else None
        # A top already rounded is kept as it is: rounding it again would raise it at every new
        # chart of the session (100 -> 200 -> 250 -> 500 over a few Resets).
        self.top = max(self.axis_tops.get(title, 0.0), _nice_top(high, self.cap) if high > 0 else 0.0) or 1.0
        self.axis_tops[title] = self.top
        ax.set_xlim(0, self.horizon)
        ax.set_ylim(0, self.top)
        ax.set_title(title, fontsize=FONT["title"], loc="left", pad=3)
        ax.set_xlabel("month", fontsize=FONT["label"], labelpad=1)
        ax.set_ylabel(CHART_UNITS[title], fontsize=FONT["label"])
        ax.tick_params(labelsize=FONT["tick"], pad=1)
        ax.grid(alpha=0.25)
        ncol = 3 if len(series) > 3 else len(series)
        rows = math.ceil(len(series) / ncol)
        self.fig.legend(handles=[line for _, line in self.lines], loc="lower center", ncol=ncol,
                        fontsize=FONT["legend"], frameon=False, handlelength=1.2, columnspacing=0.8,
                        borderaxespad=0.1, handletextpad=0.4)
        bottom = 0.2 + 0.07 * rows
        self.fig.subplots_adjust(left=0.15, right=0.97, top=0.9, bottom=bottom)
        if self.references:
            self.fig.text(0.99, 0.975, "faint: earlier runs", fontsize=FONT["note"], color="#555555",
                          ha="right", va="top")

    def frame(self, model, lever_log: Iterable[tuple] = ()) -> bytes:
        """PNG of the chart for the model's measures so far."""
        data = model.datacollector.model_vars
        n = len(data["jobs_total"])
        x = np.arange(n)
        stale = self._background is None
        ax = self.ax
        if n - 1 > self.horizon:
            self.horizon = int(1.5 * self.horizon)
            ax.set_xlim(0, self.horizon)
            stale = True
        high = 0.0
        for key, line in self.lines:
            y = np.asarray(data[key], dtype=float)
            line.set_data(x, y)
            if y.size:
                high = max(high, float(np.nanmax(y)))
        if high > self.top:
            self.top = _nice_top(high, self.cap)
            self.axis_tops[self.title] = max(self.axis_tops.get(self.title, 0.0), self.top)
            ax.set_ylim(0, self.top)
            stale = True
        marks = (tuple(model.shock_log), tuple(step for step, *_ in lever_log))
        if marks != self._marks:
            for artist in self._marker_artists:
                artist.remove()
            self._marker_artists = []
            for step, kind in marks[0]:
                self._marker_artists.append(ax.axvline(step, color=SHOCK_COLOURS.get(kind, "#7f7f7f"),
                                                       ls="--", lw=1.2, alpha=0.85))
            for step in sorted(set(marks[1])):
                self._marker_artists.append(ax.axvline(step, color="#555555", ls=":", lw=1.0))
            self._marks = marks
            stale = True
        if stale:
            self._redraw_background()
        return self._encode([line for _, line in self.lines])


class LiveNetwork(_Blitted):
    """The ecosystem as a network, redrawn cheaply each month.

    Big pale circles: communities (size ~ residents, colour = share using a solution).
    Dots: organisations (colour = kind, size ~ jobs). Diamonds with a black edge:
    intermediaries, with dashed lines to the communities they serve. Grey lines:
    partnerships between organisations.
    """

    def __init__(self, layout: NetworkLayout, name: str = "", figsize: tuple[float, float] = FIGSIZE,
                 dpi: int = DPI):
        super().__init__(Figure(figsize=figsize, dpi=dpi))
        self.layout = layout
        self.name = name
        self.ax = ax = self.fig.add_axes((0.0, 0.0, 0.6, 0.84))
        ax.set_axis_off()
        cxy = layout.community_xy
        pad = layout.ring * 1.3
        ax.set_xlim(cxy[:, 0].min() - pad, cxy[:, 0].max() + pad)
        ax.set_ylim(cxy[:, 1].min() - pad, cxy[:, 1].max() + pad)
        handles = [Line2D([], [], ls="", marker="D" if k == "intermediary" else "o", color=c, markersize=5,
                          markeredgecolor="black" if k == "intermediary" else c, label=k.replace("_", " "))
                   for k, c in KIND_COLOURS.items()]
        handles.append(Line2D([], [], color="#444444", label="partnership"))
        handles.append(Line2D([], [], color="#d62728", ls="--", lw=0.8, label="serves community"))
        # The legend and colour bar sit in their own column (figure coordinates), so they are
        # never clipped whatever the network looks like.
        self.fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.6, 0.86), fontsize=FONT["note"],
                        frameon=False, title="organisations (size ~ jobs)", title_fontsize=FONT["note"],
                        handlelength=1.2, handletextpad=0.4, labelspacing=0.25, borderaxespad=0.0)
        cax = self.fig.add_axes((0.63, 0.09, 0.33, 0.035))
        cb = self.fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), "YlGn"), cax=cax, orientation="horizontal")
        cb.ax.tick_params(labelsize=FONT["note"] - 0.5, pad=1)
        cb.ax.set_title("communities: share using\na solution (size ~ residents)", fontsize=FONT["note"], pad=2)
        self.fig.text(0.01, 0.975, "Network" + (f": {name}" if name else ""), fontsize=FONT["title"] - 1,
                      ha="left", va="top")
        self.title = self.fig.text(0.01, 0.89, "", fontsize=FONT["label"], ha="left", va="center", animated=True)
        self._dynamic: list = []

    def frame(self, model) -> bytes:
        """PNG of the network in the model's current state."""
        for artist in self._dynamic:
            artist.remove()
        ax = self.ax
        layout = self.layout
        cxy = layout.community_xy
        dyn = [ax.scatter(cxy[:, 0], cxy[:, 1], s=250.0 * layout.community_size / max(layout.community_size.mean(), 1.0),
                          c=community_adoption(model), cmap="YlGn", vmin=0.0, vmax=1.0, edgecolors="#999999",
                          linewidths=0.6, alpha=0.9, zorder=1, animated=True)]
        orgs = model.organisations()
        xy = {o.unique_id: layout.org_xy(o) for o in orgs}
        segs = []
        for o in orgs:
            if o.kind == "intermediary" and getattr(o, "communities", None) is not None:
                segs.extend((xy[o.unique_id], tuple(cxy[int(c)])) for c in o.communities)
        if segs:
            dyn.append(ax.add_collection(LineCollection(segs, colors="#d62728", linewidths=0.5, linestyles="--",
                                                        alpha=0.35, zorder=2, animated=True)))
        edges = [(xy[a], xy[b]) for a, b in list(model.partnerships) if a in xy and b in xy]
        if edges:
            dyn.append(ax.add_collection(LineCollection(edges, colors="#444444", linewidths=0.7, alpha=0.45,
                                                        zorder=3, animated=True)))
        plain = [o for o in orgs if o.kind != "intermediary"]
        if plain:
            p = np.array([xy[o.unique_id] for o in plain])
            dyn.append(ax.scatter(p[:, 0], p[:, 1], s=[12 + 10 * o.jobs for o in plain],
                                  c=[KIND_COLOURS[o.kind] for o in plain], edgecolors="white", linewidths=0.4,
                                  zorder=4, animated=True))
        brokers = [o for o in orgs if o.kind == "intermediary"]
        if brokers:
            p = np.array([xy[o.unique_id] for o in brokers])
            dyn.append(ax.scatter(p[:, 0], p[:, 1], s=[40 + 10 * o.jobs for o in brokers],
                                  c=KIND_COLOURS["intermediary"], marker="D", edgecolors="black", linewidths=1.0,
                                  zorder=5, animated=True))
        jobs = sum(o.jobs for o in orgs)
        self.title.set_text(f"month {model.steps}: {len(orgs)} organisations, {jobs:,.0f} jobs, "
                            f"{len(model.partnerships)} partners")
        self._dynamic = dyn
        return self._encode([*dyn, self.title])


def network_figure(model, layout: NetworkLayout | None = None, name: str = "") -> Figure:
    """A stand-alone network figure of the model's current state (for notebooks)."""
    live = LiveNetwork(layout or NetworkLayout(model), name)
    live.frame(model)
    for artist in [*live._dynamic, live.title]:
        artist.set_animated(False)
    return live.fig


def charts_figure(model, title: str, horizon: int | None = None) -> Figure:
    """A stand-alone chart of the model's measures so far (for notebooks)."""
    live = LiveCharts(title, horizon or len(model.datacollector.model_vars["jobs_total"]) - 1)
    live.frame(model)
    for _, line in live.lines:
        line.set_animated(False)
    return live.fig
