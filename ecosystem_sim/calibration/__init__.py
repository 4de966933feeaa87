"""Calibration: fitting the behaviour levers to the sources' figures, and conclusions that hold
under parameter uncertainty (the experiment layer; the model never imports it).

    targets     read and validate a calibration file (TOML) into a :class:`Calibration`
    smc         ABC-SMC with pyabc on the experiment runner's executors; posterior tables
    report      fit of every target, posterior figures, predictive checks, report.md
    posterior   draw behaviour levers from a posterior per replicate (``--posterior DIR``)
    robustness  share of posterior / prior draws in which a regime claim holds; PRIM; Sobol file
    cli         ``ecosim calibrate``, ``ecosim robustness`` and the ``--posterior`` options

The observed quantities themselves are model functions: :mod:`ecosystem_sim.observables`.
"""

from .posterior import Posterior, load_posterior
from .targets import Calibration, Parameter, Target, load_calibration

__all__ = ["Calibration", "Parameter", "Posterior", "Target", "load_calibration", "load_posterior"]
