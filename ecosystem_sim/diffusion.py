"""Adoption of solutions by citizens who have the need: outreach, procurement and contagion.

Once a month, for every domain at once, a citizen whose need is above the threshold,
who uses no solution in that domain and lives where one is offered whose fit meets the
citizen's own requirement (``fit_required``, heterogeneous, so fit sets the size of the
potential market), adopts the best fitting solution on offer with a hazard that combines

* outreach: awareness bought by follow-up money, procurement and non-profits'
  mobilisation, shared among the eligible residents of the community (Bass's *p*);
* imitation: the share of the citizen's social ties already using a solution in the
  domain, times ``imitation`` (Bass's *q*, on the network instead of the whole market);

both scaled by the solution's fit, so a solution that fits residents poorly spreads
below the contagion threshold and stalls. Users' need falls each month in proportion to
fit, and they pay their provider a price that follows the economy and their means.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .levers import DOMAINS

if TYPE_CHECKING:
    from .model import EcosystemModel

SPONTANEOUS = 0.002
"""Monthly chance that an eligible citizen finds an offered solution unprompted (times fit)."""
CHURN = 0.03
"""Monthly chance that a user of a solution of fit 0 gives it up (times 1 - fit)."""
RELIEF = 0.12
"""Share of a user's need in a domain that a solution of fit 1 removes each month."""


def offer(model: "EcosystemModel") -> tuple[np.ndarray, np.ndarray]:
    """Best fit on offer and its solution id per (community, domain); fit 0 / id -1 where none."""
    pop = model.population
    best_fit = np.zeros((pop.n_communities, len(DOMAINS)))
    best_sol = np.full((pop.n_communities, len(DOMAINS)), -1, dtype=np.int32)
    for sol in model.solutions:
        if not sol.alive:
            continue
        cs = np.fromiter(sol.communities, dtype=np.int64)
        better = best_fit[cs, sol.domain] < sol.fit
        best_fit[cs[better], sol.domain] = sol.fit
        best_sol[cs[better], sol.domain] = sol.id
    return best_fit, best_sol


def adopt(model: "EcosystemModel", reach: np.ndarray) -> None:
    """One month of adoption. ``reach``: citizens made aware, per (community, domain)."""
    s = model.spec
    pop = model.population
    rng = model.rng
    best_fit, best_sol = offer(model)
    using = pop.adopted >= 0
    offered = best_fit[pop.community]
    eligible = (pop.need > s.need_threshold) & ~using & (offered > pop.fit_required[:, None])
    rows, doms = np.nonzero(eligible)
    if rows.size:
        comm = pop.community[rows]
        n_eligible = np.zeros_like(best_fit)
        np.add.at(n_eligible, (comm, doms), 1.0)
        aware = np.minimum(1.0, reach / np.maximum(n_eligible, 1.0))
        neighbours = (pop.ties @ using.astype(np.float32)) / np.maximum(pop.degree, 1)[:, None]
        fit = best_fit[comm, doms]
        p_out = aware[comm, doms] * (0.5 + 0.5 * pop.trust[rows])
        p_imit = np.minimum(1.0, s.imitation * neighbours[rows, doms])
        hazard = fit * (1.0 - (1.0 - p_out) * (1.0 - p_imit) * (1.0 - SPONTANEOUS))
        new = rng.random(rows.size) < hazard
        pop.adopted[rows[new], doms[new]] = best_sol[comm[new], doms[new]]
        model.counters["adoptions"] += int(new.sum())
    # Users of a poorly fitting solution give it up.
    urows, udoms = np.nonzero(using)
    if urows.size:
        fits = np.array([sol.fit for sol in model.solutions])
        quit_ = rng.random(urows.size) < CHURN * (1.0 - fits[pop.adopted[urows, udoms]])
        pop.adopted[urows[quit_], udoms[quit_]] = -1


def relieve_and_pay(model: "EcosystemModel") -> np.ndarray:
    """Users' need falls with their solution's fit; they pay its provider. Returns users per
    (solution, community)."""
    s = model.spec
    pop = model.population
    n_sol = len(model.solutions)
    users_by_sc = np.zeros((n_sol, pop.n_communities), dtype=np.int64)
    if n_sol == 0:
        return users_by_sc
    fits = np.append(np.array([sol.fit for sol in model.solutions]), 0.0)
    pop.need -= RELIEF * fits[pop.adopted] * pop.need
    rows, doms = np.nonzero(pop.adopted >= 0)
    ids = pop.adopted[rows, doms]
    pay = s.price * model.economy * (0.5 + pop.capital[rows])
    revenue = np.bincount(ids, pay, minlength=n_sol)
    for sol in model.solutions:
        if sol.alive and sol.provider is not None and revenue[sol.id] > 0:
            sol.provider.receive(float(revenue[sol.id]), "sales")
    flat = np.bincount(ids.astype(np.int64) * pop.n_communities + pop.community[rows],
                       minlength=n_sol * pop.n_communities)
    return flat.reshape(n_sol, pop.n_communities)


def withdraw(model: "EcosystemModel", sol) -> None:
    """A solution leaves the market: its users lose it."""
    sol.alive = False
    pop = model.population
    col = pop.adopted[:, sol.domain]
    col[col == sol.id] = -1
