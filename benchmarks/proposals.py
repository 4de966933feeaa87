"""Measured optimisation proposals for files this benchmark work may not edit
(``model.py``, ``agents.py``, ``innovation.py``): each is applied here as a monkeypatch,
checked to give bit-identical measures frames, and timed against the unpatched model.

    .venv/bin/python benchmarks/proposals.py [--n 100000] [--steps 240] [--check-n 2000]

The patched functions copy the current code of those modules with the change described
in each docstring; once the owner applies a change for real, drop it from here.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd


# ---------------------------------------------------------------- P1: Government._procure
def procure_vectorised(self, pot: float) -> None:
    """As ``Government._procure``, with the per-solution numpy calls replaced by one pass:
    weights from ``users.sum(axis=1)`` (integer row sums, exact), and the reach added with
    ``np.add.at`` in solution order (the same additions per cell, in the same order).
    Payments stay a Python loop in solution order (the treasury is drawn down in order)."""
    m = self.model
    self.procurement_reach[:] = 0.0
    live = [sol for sol in m.solutions if sol.alive and sol.provider is not None]
    if pot <= 0 or not live:
        return
    users = m.users_by_solution_community
    totals = getattr(m, "users_by_solution", None)  # row sums, kept by diffusion.relieve_and_pay
    if totals is None or totals.size != users.shape[0]:
        totals = users.sum(axis=1)
    ids = np.fromiter((sol.id for sol in live), np.int64, len(live))
    fits = np.fromiter((sol.fit for sol in live), np.float64, len(live))
    weight = (totals[ids] + 5.0) * fits
    share = weight / weight.sum()
    amounts = pot * share
    for sol, amount in zip(live, amounts):
        self._pay(sol.provider, amount, earned=True)
    sizes = m.population.community_size
    counts = np.fromiter((len(sol.communities) for sol in live), np.int64, len(live))
    cs = np.fromiter((c for sol in live for c in sol.communities), np.int64, int(counts.sum()))
    doms = np.repeat(np.fromiter((sol.domain for sol in live), np.int64, len(live)), counts)
    owner = np.repeat(np.arange(len(live)), counts)
    total = np.bincount(owner, sizes[cs], len(live)).astype(np.int64)  # integer sums: exact
    vals = amounts[owner] * m.spec.outreach_per_mkrw * sizes[cs] / total[owner]
    np.add.at(self.procurement_reach, (cs, doms), vals)


# ---------------------------------------------------------------- P2: EcosystemModel._citizens
def _any_row(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` for a (n, k) boolean array, as k column ORs (7x faster for k=5)."""
    out = mask[:, 0].copy()
    for k in range(1, mask.shape[1]):
        out |= mask[:, k]
    return out


def citizens_fast_any(self) -> None:
    """As ``EcosystemModel._citizens`` with ``(x).any(axis=1)`` replaced by column ORs
    (``numpy`` reduces a short last axis slowly) and ``self.profile[pop.community]``
    gathered once per model instead of every month (both are fixed after construction)."""
    from ecosystem_sim.population import MAINSTREAM, UNEMPLOYED

    s = self.spec
    pop = self.population
    rng = self.rng
    prof = self.__dict__.get("_profile_by_citizen")
    if prof is None or prof[0] is not self.profile:
        prof = (self.profile, self.profile[pop.community])
        self._profile_by_citizen = prof
    growth = s.need_growth * self.pressure[None, :] * prof[1] * (1.2 - 0.5 * pop.capital)[:, None]
    np.minimum(pop.need + growth, 1.0, out=pop.need)
    slots = np.zeros(pop.n_communities)
    for b in self.intermediaries():
        slots[b.communities] += 25.0 * b.strength / len(b.communities)
    w = pop.activeness * (0.3 + pop.trust)
    w_c = np.bincount(pop.community, w, pop.n_communities)
    p = np.minimum(1.0, slots[pop.community] * w / np.maximum(w_c[pop.community], 1e-12))
    pop.participating |= rng.random(pop.n) < p
    part = pop.participating
    pop.capacity[part] += s.capacity_gain * (1.0 - pop.capacity[part])
    pop.capacity -= s.capacity_decay * (pop.capacity - pop.capacity0)
    served = _any_row(pop.adopted >= 0)
    unmet = _any_row(pop.need > 0.7) & ~served
    pop.trust += 0.01 * part + 0.005 * served - 0.004 * unmet
    np.clip(pop.trust, 0.0, 1.0, out=pop.trust)
    self.participation_by_community = np.bincount(pop.community, part, pop.n_communities)
    share = (pop.employment == MAINSTREAM).mean()
    gap = self.mainstream_base * min(self.economy, 1.0) - share
    if gap > 0:
        idle = np.nonzero(pop.employment == UNEMPLOYED)[0]
        back = idle[rng.random(idle.size) < 0.03 * gap * pop.n / max(idle.size, 1)]
        pop.employment[back] = MAINSTREAM


# ---------------------------------------------------------------- P3: innovation.retire
def retire_row_totals(model) -> None:
    """As ``innovation.retire`` with ``model.users_by_solution`` (the row totals that
    ``diffusion.relieve_and_pay`` now keeps) instead of summing the dense
    (solutions x communities) matrix every month."""
    from ecosystem_sim.diffusion import withdraw
    from ecosystem_sim.innovation import RETIRE_AFTER

    users = getattr(model, "users_by_solution", None)
    if users is None or users.size != model.users_by_solution_community.shape[0]:
        users = model.users_by_solution_community.sum(axis=1) if len(model.solutions) else np.zeros(0)
    for sol in model.solutions:
        if not sol.alive:
            continue
        if sol.id < users.size and users[sol.id] > 0:
            sol.last_used = model.steps
        elif model.steps - max(sol.last_used, sol.created) > RETIRE_AFTER:
            withdraw(model, sol)


# ---------------------------------------------------------------- P4: citizen creation
def create_citizens_without_agentset(cls, model, n, indices):
    """``Citizen.create_agents`` builds and returns an ``AgentSet`` of all n citizens, which
    ``EcosystemModel.__init__`` throws away (a weak-key dict of 1M entries, ~1 s). Creating
    them in a loop registers exactly the same agents with the same unique ids."""
    for i in indices:
        cls(model, i)


PATCHES = {
    "P1 Government._procure vectorised": ("ecosystem_sim.agents", "Government", "_procure", procure_vectorised),
    "P2 _citizens: column-OR any, cached profile gather": ("ecosystem_sim.model", "EcosystemModel", "_citizens",
                                                          citizens_fast_any),
    "P3 retire: row totals instead of summing the matrix": ("ecosystem_sim.innovation", None, "retire",
                                                            retire_row_totals),
    "P4 citizens created without the discarded AgentSet": ("ecosystem_sim.agents", "Citizen", "create_agents",
                                                          classmethod(create_citizens_without_agentset)),
}


_MISSING = object()


def apply(names=None):
    import importlib

    undo = []
    for name, (mod, cls, attr, fn) in PATCHES.items():
        if names is not None and name not in names:
            continue
        module = importlib.import_module(mod)
        klass = module if cls is None else getattr(module, cls)
        undo.append((klass, attr, vars(klass).get(attr, _MISSING)))
        setattr(klass, attr, fn)
    return undo


def revert(undo):
    for klass, attr, old in reversed(undo):
        if old is _MISSING:
            delattr(klass, attr)
        else:
            setattr(klass, attr, old)


def run(n, steps, seed, scenario="scenarios/job_creation.toml"):
    from ecosystem_sim.model import EcosystemModel
    from ecosystem_sim.scenario import load_scenario

    sc = load_scenario(scenario, {"n_citizens": n})
    w0, c0 = time.perf_counter(), time.process_time()
    m = EcosystemModel(sc, rng=seed)
    w1, c1 = time.perf_counter(), time.process_time()
    m.run(steps)
    w2, c2 = time.perf_counter(), time.process_time()
    return m.measures_frame(), {"build_cpu": c1 - c0, "run_cpu": c2 - c1, "build": w1 - w0, "run": w2 - w1}


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--steps", type=int, default=240)
    p.add_argument("--check-n", type=int, default=2000)
    p.add_argument("--scenario", default="scenarios/job_creation.toml")
    p.add_argument("--repeat", type=int, default=2, help="timed runs per variant, least CPU kept")
    p.add_argument("--skip-check", action="store_true")
    a = p.parse_args(argv)
    # 1. Bit-identity, every patch together, both regimes, two seeds.
    for scen in (() if a.skip_check else ("scenarios/job_creation.toml", "scenarios/citizen_led.toml")):
        for seed in (0, 1):
            base, _ = run(a.check_n, a.steps, seed, scen)
            undo = apply()
            try:
                new, _ = run(a.check_n, a.steps, seed, scen)
            finally:
                revert(undo)
            pd.testing.assert_frame_equal(base, new, check_exact=True)
    if not a.skip_check:
        print(f"identical: all patches, 2 scenarios x 2 seeds, n={a.check_n}, {a.steps} steps", flush=True)
    # 2. Timing: process CPU time (the machine is shared), least of --repeat runs, at --n.
    def timed(names):
        best = None
        for _ in range(a.repeat):
            undo = apply(names) if names != [] else []
            try:
                _, t = run(a.n, a.steps, 1, a.scenario)
            finally:
                revert(undo)
            best = t if best is None or t["run_cpu"] < best["run_cpu"] else best
        return best

    t0 = timed([])
    print(f"baseline: build {t0['build_cpu']:.2f} s cpu, run {t0['run_cpu']:.2f} s cpu", flush=True)
    for name in PATCHES:
        t = timed([name])
        print(f"{name}: build {t['build_cpu']:.2f} s cpu ({t0['build_cpu'] - t['build_cpu']:+.2f} saved), "
              f"run {t['run_cpu']:.2f} s cpu ({t0['run_cpu'] - t['run_cpu']:+.2f} saved)", flush=True)
    t = timed(None)
    print(f"all patches: build {t['build_cpu']:.2f} s cpu, run {t['run_cpu']:.2f} s cpu "
          f"({100 * (1 - t['run_cpu'] / t0['run_cpu']):.0f} % less run CPU)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
