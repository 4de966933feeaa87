"""Adoption of solutions by citizens who have the need: outreach, procurement and contagion.

Once a month, for every domain at once, a citizen whose need is above the threshold,
who uses no solution in that domain and lives where one is offered whose fit meets the
citizen's own requirement (``fit_required``, heterogeneous, so fit sets the size of the
potential market) and which has service capacity left, adopts the best fitting solution
on offer with a hazard that combines

* outreach: awareness bought by follow-up money, procurement and non-profits'
  mobilisation, shared among the eligible residents of the community (Bass's *p*);
* imitation: the share of the citizen's social ties already using a solution in the
  domain, times ``imitation`` (Bass's *q*, on the network instead of the whole market);

both scaled by the solution's fit, so a solution that fits residents poorly spreads
below the contagion threshold and stalls. New users are capped by the solution's free
capacity (a pilot serves its pilot users only until follow-up, procurement, loans or
reinvested sales deploy more). Users' need falls each month in proportion to fit, and
they pay their provider a price that follows the economy and their means; proprietary
providers charge a mark-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .levers import DOMAINS

if TYPE_CHECKING:
    from .model import EcosystemModel

def offer(model: "EcosystemModel") -> tuple[np.ndarray, np.ndarray]:
    """Best fit on offer and its solution id per (community, domain); fit 0 / id -1 where none.

    Where several solutions tie on the best fit, the one created first is offered.
    """
    pop = model.population
    n_dom = len(DOMAINS)
    best_fit = np.zeros((pop.n_communities, n_dom))
    best_sol = np.full((pop.n_communities, n_dom), -1, dtype=np.int32)
    users = model.users_by_solution
    live = [sol for sol in model.solutions
            if sol.alive and sol.capacity - (users[sol.id] if sol.id < users.size else 0) >= 1.0]
    if not live:
        return best_fit, best_sol
    # One entry per (live solution, community where it is offered), in creation order.
    counts = np.fromiter((len(sol.communities) for sol in live), np.int64, len(live))
    comms = np.fromiter((c for sol in live for c in sol.communities), np.int64, int(counts.sum()))
    fit = np.repeat(np.array([sol.fit for sol in live], dtype=np.float64), counts)
    ids = np.repeat(np.array([sol.id for sol in live], dtype=np.int64), counts)
    cell = comms * n_dom + np.repeat(np.array([sol.domain for sol in live], dtype=np.int64), counts)
    rank = np.arange(cell.size)
    # Per cell: the highest fit, the earliest entry among equals (a later one must be strictly better).
    order = np.lexsort((rank, -fit, cell))
    sorted_cell = cell[order]
    head = np.empty(order.size, dtype=bool)  # first entry of each cell in the sorted order
    head[0] = True
    np.not_equal(sorted_cell[1:], sorted_cell[:-1], out=head[1:])
    first = order[head]
    first = first[fit[first] > 0.0]
    best_fit.reshape(-1)[cell[first]] = fit[first]
    best_sol.reshape(-1)[cell[first]] = ids[first]
    return best_fit, best_sol


def _neighbour_counts(ties, using_flat: np.ndarray, rows: np.ndarray, doms: np.ndarray,
                      n_dom: int) -> np.ndarray:
    """For each (citizen, domain) pair, the number of the citizen's ties using a solution in
    that domain, as float32: the entries of ``ties @ using.astype(float32)`` at those pairs
    (ties are 0/1, so the sums are exact integers in any order, and both ways below give the
    same numbers). With many eligible pairs (more than 0.6 per citizen) the whole product, one
    compiled pass over the ties, is cheaper; with few, gathering only their ties is."""
    if rows.size > 0.6 * ties.shape[0]:
        full = ties @ using_flat.reshape(-1, n_dom).astype(np.float32)
        return np.asarray(full)[rows, doms]
    pos, lens = _tie_positions(ties, rows)
    if pos.size == 0:
        return np.zeros(rows.size, dtype=np.float32)
    pair = np.repeat(np.arange(rows.size), lens)
    hits = using_flat[ties.indices[pos].astype(np.int64) * n_dom + doms[pair]] * ties.data[pos]
    return np.bincount(pair, hits, rows.size).astype(np.float32)


def _tie_positions(ties, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the CSR arrays of ``ties`` of the ties of each citizen in ``rows``, row after
    row, and how many each has."""
    indptr = ties.indptr
    starts = indptr[rows].astype(np.int64)
    lens = indptr[rows + 1].astype(np.int64) - starts
    pos = np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return pos, lens


def _tie_counts(model: "EcosystemModel", using_flat: np.ndarray) -> np.ndarray | None:
    """Number of each citizen's ties using a solution, per (citizen, domain), flattened (float32,
    exact integers):
    ``ties @ using``, kept between months and updated only for the (citizen, domain) pairs whose
    use changed since the last call (each adds or removes 1 at its citizen's ties). The counts
    are exact integers however they are reached: the same numbers as the sparse product.

    Only for the population's own network, which is symmetric with 0/1 entries (so a citizen's
    row of ties is also the column the product reads); None for any other ``ties`` matrix."""
    pop = model.population
    ties = pop.ties
    if getattr(pop, "symmetric_ties", None) is not ties:
        return None
    n_dom = pop.adopted.shape[1]
    state = model.__dict__.get("_tie_counts_state")
    if state is not None and state[0] is ties and state[1].shape == using_flat.shape:
        _, used, counts = state
        changed = np.flatnonzero(used != using_flat)
        if changed.size == 0:
            return counts
        rows, doms = np.divmod(changed, n_dom)
        pos, lens = _tie_positions(ties, rows)
        if pos.size <= ties.nnz:  # cheaper than the whole product
            step = np.where(using_flat[changed], 1.0, -1.0).astype(np.float32)  # exact
            np.add.at(counts, ties.indices[pos].astype(np.int64) * n_dom + np.repeat(doms, lens),
                      np.repeat(step, lens))
            used[changed] = using_flat[changed]
            return counts
    full = ties @ using_flat.reshape(-1, n_dom).astype(np.float32)
    counts = np.asarray(full).reshape(-1)  # float32 sums of 1s: exact integers
    model._tie_counts_state = (ties, using_flat.copy(), counts)
    return counts


def adopt(model: "EcosystemModel", reach: np.ndarray) -> None:
    """One month of adoption. ``reach``: citizens made aware, per (community, domain)."""
    s = model.spec
    pop = model.population
    rng = model.rng
    best_fit, best_sol = offer(model)
    n_dom = best_fit.shape[1]
    using = pop.adopted >= 0
    using_flat = using.reshape(-1)
    # Eligible: need above threshold, no solution in the domain, and one on offer that fits:
    # one pass over the (citizen, domain) grid, pairs in row-major order (as np.nonzero gives them).
    if best_fit.any():
        eligible = pop.need > s.need_threshold
        eligible &= ~using
        # ``np.take`` along axis 0 is the same gather as ``best_fit[pop.community]``, ~2x faster.
        eligible &= np.take(best_fit, pop.community, axis=0) > pop.fit_required[:, None]
        cand = np.flatnonzero(eligible)
    else:  # nothing on offer (fit 0 everywhere): nobody is eligible
        cand = np.zeros(0, dtype=np.intp)
    rows, doms = np.divmod(cand, n_dom)
    if rows.size:
        cell = pop.community[rows].astype(np.int64) * n_dom + doms  # flat (community, domain)
        n_eligible = np.bincount(cell, minlength=best_fit.size)
        aware = np.minimum(1.0, reach.reshape(-1) / np.maximum(n_eligible.astype(np.float64), 1.0))
        counts = _tie_counts(model, using_flat)
        if counts is None:
            counts = _neighbour_counts(pop.ties, using_flat, rows, doms, n_dom)
        else:
            counts = counts[cand]  # float32 exact integers, as the product's
        neighbours = counts / np.maximum(pop.degree, 1)[rows]
        fit = best_fit.reshape(-1)[cell]
        p_out = aware[cell] * (1.0 - s.trust_weight + s.trust_weight * pop.trust[rows])
        p_imit = np.minimum(1.0, s.imitation * neighbours)
        hazard = fit * (1.0 - (1.0 - p_out) * (1.0 - p_imit) * (1.0 - s.spontaneous_adoption))
        new = np.flatnonzero(rng.random(rows.size) < hazard)
        sol_new = best_sol.reshape(-1)[cell[new]]
        new = new[_within_capacity(model, sol_new.astype(np.int64), rng)]
        pop.adopted.put(cand[new], best_sol.reshape(-1)[cell[new]])  # flat (citizen, domain) indices
        model.counters["adoptions"] += int(new.size)
    # Users of a poorly fitting solution give it up (users as they were at the start of the month).
    users = np.flatnonzero(using_flat)
    if users.size:
        fits = np.array([sol.fit for sol in model.solutions])
        quit_ = rng.random(users.size) < s.churn * (1.0 - fits[pop.adopted.reshape(-1)[users]])
        pop.adopted.put(users[quit_], -1)


def _within_capacity(model: "EcosystemModel", sol_ids: np.ndarray, rng) -> np.ndarray:
    """Which of this month's would-be adopters (solution ids, in citizen order) a solution
    can still serve: a random subset up to each solution's free capacity."""
    if sol_ids.size == 0:
        return np.zeros(0, dtype=bool)
    users = model.users_by_solution
    n_sol = len(model.solutions)
    in_use = np.zeros(n_sol)
    in_use[:users.size] = users
    free = np.floor(np.array([sol.capacity for sol in model.solutions]) - in_use)
    order = np.lexsort((rng.random(sol_ids.size), sol_ids))
    ranked = sol_ids[order]
    first = np.searchsorted(ranked, ranked)  # position of each solution's first would-be adopter
    keep = np.zeros(sol_ids.size, dtype=bool)
    keep[order] = (np.arange(ranked.size) - first) < free[ranked]
    return keep


def relieve_and_pay(model: "EcosystemModel") -> None:
    """Users' need falls with their solution's fit; they pay its provider, who reinvests a
    share of the sales in service capacity. Sets ``model.users_by_solution``."""
    s = model.spec
    pop = model.population
    n_sol = len(model.solutions)
    if n_sol == 0:
        model.users_by_solution = np.zeros(0, dtype=np.int64)
        return
    fits = np.zeros(n_sol + 1)  # the entry after the last solution stays 0
    fits[:n_sol] = [sol.fit for sol in model.solutions]
    n_dom = pop.adopted.shape[1]
    adopted_flat = pop.adopted.reshape(-1)
    users = np.flatnonzero(adopted_flat >= 0)  # row-major, as np.nonzero
    ids = adopted_flat[users]
    need_flat = pop.need.reshape(-1)
    if np.shares_memory(need_flat, pop.need):
        # Non-users' need is unchanged (need - 0 * need), so only users' entries are updated.
        # need -= (relief * fit) * need, gathering the users' need once.
        need_users = need_flat[users]
        need_flat[users] = need_users - s.relief * fits[ids] * need_users
    else:
        pop.need -= s.relief * fits[pop.adopted] * pop.need
    rows = users // n_dom
    pay = s.price * model.economy * np.maximum(0.0, 1.0 + s.price_capital_slope * (pop.capital[rows] - s.capital_mean))
    revenue = np.bincount(ids, pay, minlength=n_sol).tolist()
    markup, reinvest_share, deploy_cost = s.proprietary_markup, s.reinvest_share, s.deploy_cost_per_user
    for sol in model.solutions:
        if sol.alive and sol.provider is not None and revenue[sol.id] > 0:
            sales = revenue[sol.id] * (1.0 + markup * (not sol.open))
            sol.provider.receive(sales, "sales")
            reinvest = reinvest_share * sales
            sol.provider.pay_out(reinvest, "deploy_spend")
            sol.capacity += reinvest / deploy_cost
    model.users_by_solution = np.bincount(ids, minlength=n_sol)


def withdraw(model: "EcosystemModel", sol) -> None:
    """A solution leaves the market: its users lose it."""
    sol.alive = False
    pop = model.population
    col = pop.adopted[:, sol.domain]
    col[col == sol.id] = -1
