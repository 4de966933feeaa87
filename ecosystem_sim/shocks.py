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
        if shock.duration and shock.step + shock.duration == now:
            _end(model, shock)


def fire(model: "EcosystemModel", shock: Shock) -> None:
    """Apply one shock now (also used by the dashboard's shock buttons)."""
    gov = model.government
    if shock.kind == "programme_end":
        gov.programme_active = False
    elif shock.kind == "budget_cut":
        gov.budget_factor *= 1.0 - shock.strength
    elif shock.kind == "downturn":
        model.economy *= 1.0 - shock.strength
        pop = model.population
        workers = np.nonzero(pop.employment == MAINSTREAM)[0]
        lose = workers[model.rng.random(workers.size) < 0.3 * shock.strength]
        pop.employment[lose] = UNEMPLOYED
    elif shock.kind == "keystone_loss":
        for org in model.most_central(shock.target, shock.count):
            org.close()
    elif shock.kind == "need_surge":
        d = DOMAINS.index(shock.domain)
        pop = model.population
        pop.need[:, d] = np.minimum(1.0, pop.need[:, d] + shock.strength)
    model.shock_log.append((model.steps, shock.kind))


def _end(model: "EcosystemModel", shock: Shock) -> None:
    if shock.kind == "budget_cut" and shock.strength < 1:
        model.government.budget_factor /= 1.0 - shock.strength
    elif shock.kind == "budget_cut":
        model.government.budget_factor = 1.0
    elif shock.kind == "downturn":
        model.economy = model.economy / (1.0 - shock.strength) if shock.strength < 1 else 1.0
