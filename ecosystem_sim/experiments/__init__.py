"""Experiments: many runs of the model over a design, stored safely, analysed.

The split follows the EMA Workbench: *what* to run and *how* are kept apart.

    spec       read and validate an experiment file (TOML) into an :class:`Experiment`
    design     expand an experiment into design points and runs (grid, LHS, Sobol, Morris)
               with one seed per run from a ``numpy.random.SeedSequence``
    store      the SQLite results store (manifest, points, runs, timeseries, resilience, diffusion)
    runner     run what is missing through any ``concurrent.futures.Executor`` (processes or Dask)
    analysis   tables with 95 % CIs, regime contrasts, Sobol/Morris indices, figures, report
    discovery  PRIM boxes: which regions of lever space lead to collapse after a shock

The model never imports this package. Typical use::

    >>> from ecosystem_sim.experiments import load_experiment, sweep, analyze
    >>> exp = load_experiment("experiments/safety_net_and_commons.toml")
    >>> sweep(exp, "results/snc", workers=2)
    >>> tables = analyze("results/snc")          # dict of DataFrames; also writes report.md
"""

from .analysis import analyze, load_results
from .design import build_design
from .discovery import prim
from .runner import sweep
from .spec import Experiment, Factor, ShockCase, load_experiment

__all__ = ["Experiment", "Factor", "ShockCase", "analyze", "build_design", "load_experiment", "load_results",
           "prim", "sweep"]
