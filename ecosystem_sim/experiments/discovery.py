"""Scenario discovery with PRIM (Friedman & Fisher 1999), compact and on numpy only.

Given the inputs of each run (a matrix, one column per lever) and a yes/no outcome (e.g. "the
ecosystem collapsed after the shock"), PRIM *peels* the box that holds all runs: at every step it
removes the ``alpha`` share of runs at the low or the high end of one input, whichever removal
leaves the box with the highest share of "yes" runs (its *density*), until the box holds fewer
than ``min_mass`` of all runs. Each box on the way has

    coverage  share of all "yes" runs that fall in the box,
    density   share of the runs in the box that are "yes",
    mass      share of all runs in the box.

:func:`prim` returns the whole peeling trajectory and picks the densest box whose coverage is at
least ``min_coverage`` (the usual trade-off between a box that explains most cases and one that
is mostly cases). Restrictions of that box whose removal lowers its density by less than one
binomial standard error are then lifted (they fit noise); the lifted box is appended to the
trajectory as the chosen one. No pasting step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class PrimResult:
    names: list[str]
    trajectory: pd.DataFrame   # one row per box: coverage, density, mass, n, restricted, <name>_low/_high
    chosen: int                # index of the chosen box in ``trajectory``
    bounds: np.ndarray         # (d, 2) limits of the data (the unrestricted box)
    base_density: float        # share of "yes" among all runs

    @property
    def box(self) -> dict[str, tuple[float, float]]:
        """The chosen box's limits on the inputs it restricts."""
        row = self.trajectory.iloc[self.chosen]
        return {n: (row[f"{n}_low"], row[f"{n}_high"]) for i, n in enumerate(self.names)
                if row[f"{n}_low"] > self.bounds[i, 0] or row[f"{n}_high"] < self.bounds[i, 1]}

    @property
    def stats(self) -> dict[str, float]:
        row = self.trajectory.iloc[self.chosen]
        return {k: float(row[k]) for k in ("coverage", "density", "mass", "n")}

    def describe(self, outcome: str = "collapse", fmt=lambda v: f"{v:.3g}") -> str:
        """The chosen box in words."""
        s = self.stats
        if not self.box:
            return (f"PRIM found no region of the inputs that concentrates {outcome}: "
                    f"{outcome} happens in {self.base_density:.0%} of the runs wherever they are.")
        parts = []
        for name, (lo, hi) in self.box.items():
            i = self.names.index(name)
            if "=" in name and self.bounds[i, 0] == 0 and self.bounds[i, 1] == 1:  # a 0/1 indicator
                key, _, value = name.partition("=")
                parts.append(f"{key} = {value}" if lo >= 1 else f"{key} ≠ {value}")
            elif lo > self.bounds[i, 0] and hi < self.bounds[i, 1]:
                parts.append(f"{fmt(lo)} ≤ {name} ≤ {fmt(hi)}")
            elif lo > self.bounds[i, 0]:
                parts.append(f"{name} ≥ {fmt(lo)}")
            else:
                parts.append(f"{name} ≤ {fmt(hi)}")
        return (f"{outcome.capitalize()} is concentrated where " + " and ".join(parts) + f": this box holds "
                f"{s['mass']:.0%} of the runs ({int(s['n'])}); {s['density']:.0%} of them show {outcome} "
                f"(density, against {self.base_density:.0%} overall), and it contains {s['coverage']:.0%} of all "
                f"runs with {outcome} (coverage)." + self.caution())

    def caution(self) -> str:
        yes = int(round(self.base_density * self.trajectory["n"].iloc[0]))
        reasons = []
        if yes < 20:
            reasons.append(f"only {yes} runs show the outcome")
        if self.stats["density"] < 2 * self.base_density:
            reasons.append("the box is less than twice as dense as the whole sample")
        if reasons:
            return " Caution: " + " and ".join(reasons) + "; treat this box as exploratory, not as a finding."
        return ""


def prim(x, y, names: list[str] | None = None, alpha: float = 0.05, min_mass: float = 0.05,
         min_coverage: float = 0.5) -> PrimResult:
    """Peel boxes in ``x`` (n × d) that concentrate ``y`` (n booleans). See the module docstring."""
    if isinstance(x, pd.DataFrame):
        names = list(x.columns) if names is None else names
        x = x.to_numpy(dtype=float)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError("x must be n × d and y of length n")
    n, d = x.shape
    names = names or [f"x{i}" for i in range(d)]
    total_yes = y.sum()
    bounds = np.column_stack([x.min(axis=0), x.max(axis=0)]) if n else np.zeros((d, 2))
    lows, highs = bounds[:, 0].copy(), bounds[:, 1].copy()
    inside = np.ones(n, dtype=bool)
    rows = []

    def record():
        m = inside.sum()
        yes = y[inside].sum()
        restricted = int(np.sum((lows > bounds[:, 0]) | (highs < bounds[:, 1])))
        rows.append({"coverage": yes / total_yes if total_yes else 0.0, "density": yes / m if m else 0.0,
                     "mass": m / n if n else 0.0, "n": int(m), "restricted": restricted,
                     **{f"{nm}_low": lows[i] for i, nm in enumerate(names)},
                     **{f"{nm}_high": highs[i] for i, nm in enumerate(names)}})

    record()
    while n and inside.sum() / n > min_mass:
        best = None
        for j in range(d):
            xj = x[inside, j]
            if xj.min() == xj.max():
                continue
            for side in ("low", "high"):
                if side == "low":
                    cut = np.quantile(xj, alpha)
                    drop = x[:, j] < cut if (xj < cut).any() else x[:, j] <= xj.min()
                else:
                    cut = np.quantile(xj, 1 - alpha)
                    drop = x[:, j] > cut if (xj > cut).any() else x[:, j] >= xj.max()
                keep = inside & ~drop
                m = keep.sum()
                if m == 0 or m / n < min_mass:
                    continue
                dens = y[keep].mean()
                if best is None or dens > best[0] + 1e-12 or (abs(dens - best[0]) <= 1e-12 and m > best[1]):
                    best = (dens, m, j, side, keep)
        if best is None:
            break
        _, _, j, side, keep = best
        inside = keep
        if side == "low":
            lows[j] = x[inside, j].min()
        else:
            highs[j] = x[inside, j].max()
        record()
    traj = pd.DataFrame(rows)
    ok = traj.index[traj["coverage"] >= min_coverage]
    chosen = int(traj.loc[ok, "density"].idxmax()) if len(ok) else 0
    traj, chosen = _drop_restrictions(x, y, names, bounds, traj, chosen)
    return PrimResult(names, traj, chosen, bounds, float(y.mean()) if n else 0.0)


def _drop_restrictions(x, y, names, bounds, traj: pd.DataFrame, chosen: int):
    """Lift, one at a time, restrictions of the chosen box whose removal lowers its density by less
    than one binomial standard error (peels of inputs that only fit noise); the result is added to
    the trajectory as the chosen box."""
    row = traj.iloc[chosen]
    lows = np.array([row[f"{n}_low"] for n in names], dtype=float)
    highs = np.array([row[f"{n}_high"] for n in names], dtype=float)
    total_yes = y.sum()

    def stats_of(lo, hi):
        inside = np.all((x >= lo) & (x <= hi), axis=1)
        m = inside.sum()
        return (y[inside].mean() if m else 0.0), m, y[inside].sum()

    dens, m, _ = stats_of(lows, highs)
    changed = False
    while True:
        restricted = [i for i in range(len(names)) if lows[i] > bounds[i, 0] or highs[i] < bounds[i, 1]]
        if len(restricted) <= 1:
            break
        se = math.sqrt(max(dens * (1 - dens), 1e-12) / max(m, 1))
        best = None
        for i in restricted:
            lo, hi = lows.copy(), highs.copy()
            lo[i], hi[i] = bounds[i]
            d2, _, _ = stats_of(lo, hi)
            if dens - d2 < se and (best is None or d2 > best[0]):
                best = (d2, i)
        if best is None:
            break
        lows[best[1]], highs[best[1]] = bounds[best[1]]
        dens, m, _ = stats_of(lows, highs)
        changed = True
    if not changed:
        return traj, chosen
    d, m, yes = stats_of(lows, highs)
    restricted = int(np.sum((lows > bounds[:, 0]) | (highs < bounds[:, 1])))
    extra = {"coverage": yes / total_yes if total_yes else 0.0, "density": d, "mass": m / len(y), "n": int(m),
             "restricted": restricted, **{f"{nm}_low": lows[i] for i, nm in enumerate(names)},
             **{f"{nm}_high": highs[i] for i, nm in enumerate(names)}}
    traj = pd.concat([traj, pd.DataFrame([extra])], ignore_index=True)
    return traj, len(traj) - 1
