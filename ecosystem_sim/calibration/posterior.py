"""Drawing behaviour levers from a calibration's posterior, one draw per replicate.

``--posterior DIR`` (``ecosim run``, ``compare``, ``sweep``, ``robustness``) reads
``DIR/posterior.csv`` (the final generation's weighted particles, written by ``ecosim calibrate``)
and, for every run, picks one particle by weight with a generator seeded from the run's own seed.
The draw therefore depends only on the seed: replicate *i* of two compared scenarios gets the same
behaviour levers (common random numbers), and results do not depend on the number of workers.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..levers import LEVERS
from ..scenario import Scenario, ScenarioError

POSTERIOR_STREAM = 7_000_002
"""Seed-stream tag of posterior draws (independent of the model's own use of the seed)."""


class Posterior:
    """Weighted particles of behaviour levers; :meth:`draw` picks one set deterministically."""

    def __init__(self, particles: pd.DataFrame, weights: np.ndarray, source: str = "<posterior>",
                 keep: frozenset[str] = frozenset()):
        self.names = list(particles.columns)
        self.keep = frozenset(keep)  # levers the user or the experiment sets: never drawn
        self.values = particles.to_numpy(dtype=float)
        w = np.asarray(weights, dtype=float)
        self.weights = w / w.sum()
        self.source = source
        blob = particles.to_csv(index=False) + ",".join(f"{x:.17g}" for x in self.weights)
        self.digest = hashlib.sha256(blob.encode()).hexdigest()[:16]
        self.description = f"behaviour levers drawn per replicate from the posterior in {source} ({self.digest})"

    @property
    def effective_size(self) -> float:
        """Kish's effective sample size of the weighted particles, 1 / sum(w^2): about how many
        distinct parameter sets the draws really come from."""
        return float(1.0 / np.sum(self.weights ** 2))

    def draw(self, seed: int) -> dict[str, float]:
        """One particle's lever values, chosen by weight with a generator seeded by ``seed``."""
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), POSTERIOR_STREAM]))
        i = int(rng.choice(len(self.weights), p=self.weights))
        return {n: (float(round(v)) if LEVERS[n].integer else float(v)) for n, v in zip(self.names, self.values[i])}

    def keeping(self, keep) -> "Posterior":
        """This posterior, never drawing the levers in ``keep`` (their values are the user's)."""
        other = copy.copy(self)
        other.keep = frozenset(keep)
        return other

    def drawn(self, seed: int) -> dict[str, float]:
        """The levers :meth:`draw` gives for ``seed``, except those in ``keep``."""
        return {k: v for k, v in self.draw(seed).items() if k not in self.keep}

    def __call__(self, scenario: Scenario, seed: int) -> Scenario:
        """``scenario`` with behaviour levers drawn for ``seed`` (except those in ``keep``)."""
        draw = self.drawn(seed)
        return scenario.with_overrides({k: int(v) if LEVERS[k].integer else v for k, v in draw.items()},
                                       where=self.source)


def load_posterior(folder: str | Path) -> Posterior:
    """Read ``folder/posterior.csv`` (errors name the file, the column and what is allowed)."""
    folder = Path(folder)
    path = folder / "posterior.csv"
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "file", str(folder),
                            "no posterior.csv here: give the --out folder of `ecosim calibrate`")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ScenarioError(where, "file", "<CSV>", f"is not a readable CSV ({err})") from None
    if "weight" not in df.columns or df.empty:
        raise ScenarioError(where, "weight", None, "needs a weight column and at least one particle")
    names = [c for c in df.columns if c not in ("particle", "weight")]
    if not names:
        raise ScenarioError(where, "columns", list(df.columns), "needs at least one behaviour lever column")
    for n in names:
        lever = LEVERS.get(n)
        if lever is None or lever.group != "behaviour":
            raise ScenarioError(where, n, "column", "not a behaviour lever of this model version; allowed: "
                                + ", ".join(l.name for l in LEVERS.values() if l.group == "behaviour"))
        for v in df[n]:
            problem = lever.check(float(v))
            if problem:
                raise ScenarioError(where, n, v, problem)
    w = df["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ScenarioError(where, "weight", "column", "weights must be finite, >= 0 and not all 0")
    return Posterior(df[names], w, source=path.parent.name + "/posterior.csv")
