"""Scheduled shocks: applied at the start of their month, before anyone acts.

Each shock changes the world through the same state the mechanisms read (the budget
factor, the economy factor, the programme flag, organisations, needs); nothing else
knows a shock happened, so the response is the ecosystem's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .levers import DOMAINS
from .population import MAINSTREAM, UNEMPLOYED
from .scenario import Shock

if TYPE_CHECKING:
    from .model import EcosystemModel


def apply_due(model: "EcosystemModel") -> None:
    """Start the shocks due this month and end temporary ones whose time is up."""
    now = model.steps
    for shock in model.spec.shocks:
        if shock.step == now:
            fire(model, shock)
    _update_levels(model)


def _update_levels(model: "EcosystemModel") -> None:
    """Budget and economy levels are the product of the cuts and downturns still running,
    so overlapping temporary shocks end cleanly whatever their strengths."""
    now = model.steps
    model.running_shocks = [(s, end) for s, end in model.running_shocks if end is None or end > now]
    budget = economy = 1.0
    for s, _ in model.running_shocks:
        if s.kind == "budget_cut":
            budget *= 1.0 - s.strength
        elif s.kind == "downturn":
            economy *= 1.0 - s.strength
    model.government.budget_factor = budget
    model.economy = economy


def fire(model: "EcosystemModel", shock: Shock) -> None:
    """Apply one shock now (also used by the dashboard's shock buttons)."""
    gov = model.government
    if shock.kind in ("budget_cut", "downturn"):
        model.running_shocks.append((shock, model.steps + shock.duration if shock.duration else None))
        _update_levels(model)
    if shock.kind == "programme_end":
        gov.programme_active = False
    elif shock.kind == "downturn":
        pop = model.population
        workers = np.nonzero(pop.employment == MAINSTREAM)[0]
        lose = workers[model.rng.random(workers.size) < model.spec.downturn_job_loss * shock.strength]
        pop.employment[lose] = UNEMPLOYED
    elif shock.kind == "keystone_loss":
        for org in model.most_central(shock.target, shock.count):
            org.close()
    elif shock.kind == "need_surge":
        d = DOMAINS.index(shock.domain)
        pop = model.population
        pop.need[:, d] = np.minimum(1.0, pop.need[:, d] + shock.strength)
    model.shock_log.append((model.steps, shock.kind))
