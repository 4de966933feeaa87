"""Fingerprints of model runs, to check that an optimisation leaves results bit-identical.

    .venv/bin/python benchmarks/result_fingerprints.py --save before.json    # before a change
    .venv/bin/python benchmarks/result_fingerprints.py --check before.json   # after it

Runs the 7 ``scenarios/*.toml`` at 2,000 citizens x 240 months with seeds 0 and 3 (two of them
have shocks), the default scenario at 10,000 x 240 with seed 0, and one 3,000 x 200 run with all
five kinds of shock; for each, a SHA-256 over the measures frame (every value at full precision),
the final citizens' arrays (need, adoption, capacity, trust, employment), every organisation
ever created (kind, state, cash, capability, jobs, staff, grants, loan, income), every solution,
the government's accounts, the ledger, the counters and the state of the random generator.
``--check`` exits 1 and names the runs whose fingerprint differs. ``--quick``: only the first
four runs (a fast check while developing).

Not a test (it takes a few minutes): ``tests/test_reference.py`` is the quick guard; this is the
wider one used before every commit of a pure optimisation (docs/performance.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _floats(h, values) -> None:
    h.update(np.asarray(values, dtype=np.float64).tobytes())


def fingerprint(model) -> str:
    """SHA-256 of everything a run leaves behind."""
    h = hashlib.sha256()
    df = model.measures_frame()
    h.update(",".join(df.columns).encode())
    for col in df.columns:
        h.update(df[col].to_numpy().astype(np.float64).tobytes())
    pop = model.population
    for arr in (pop.need, pop.adopted, pop.capacity, pop.trust, pop.employment, pop.participating):
        h.update(np.ascontiguousarray(arr).tobytes())
    for uid in sorted(model._orgs_by_id):
        o = model._orgs_by_id[uid]
        h.update(repr((uid, o.kind, bool(o.alive), o.community, o.domain, list(map(int, o.staff)),
                       [list(map(int, r)) for r in o.subsidised], int(o.loan_due), int(o.idle_months),
                       [sol.id for sol in o.solutions])).encode())
        _floats(h, [o.cash, o.capability, o.jobs, o.loan, o.earned, o.last_income, o.last_subsidy,
                    o.market_revenue, getattr(o, "fte", 0.0), getattr(o, "labs_open", 0.0),
                    getattr(o, "volunteers", 0)])
    for sol in model.solutions:
        h.update(repr((sol.id, sol.domain, sol.open, sol.created, sorted(sol.communities), sol.alive,
                       sol.last_used, sol.followup_until,
                       None if sol.provider is None else sol.provider.unique_id)).encode())
        _floats(h, [sol.fit, sol.capacity, sol.followup])
        h.update(np.asarray(sol.monitors, dtype=np.int64).tobytes())
    gov = model.government
    _floats(h, [gov.treasury, gov.project_account, gov.national_rd_account, gov.national_followup,
                gov.social_fund, gov.intermediary_savings, model.commons_stock, model.economy])
    _floats(h, gov.perceived_need)
    for book in (model.ledger.sources, model.ledger.sinks, model.counters):
        h.update(repr(sorted((k, float(v).hex()) for k, v in book.items())).encode())
    h.update(repr(sorted(model.partnerships)).encode())
    h.update(json.dumps(model.rng.bit_generator.state, sort_keys=True, default=str).encode())
    return h.hexdigest()


def runs() -> list[tuple[str, Path, dict, int, int]]:
    """(name, scenario file or None, overrides, seed, months) of every fingerprinted run."""
    out = []
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        for seed in (0, 3):
            out.append((f"{path.stem}-2000-s{seed}", path, {"n_citizens": 2000}, seed, 240))
    out.append(("default-10000-s0", None, {"n_citizens": 10_000}, 0, 240))
    out.append(("all-shocks-3000-s5", "shocks", {"n_citizens": 3000}, 5, 200))
    return out


def build(path, overrides: dict):
    """The scenario of one run: a file (or the defaults) with ``overrides`` applied."""
    from ecosystem_sim.scenario import default_scenario, load_scenario

    if path is None:
        return default_scenario().with_overrides(overrides)
    if path == "shocks":
        shocks = [dict(kind="budget_cut", step=40, strength=0.5, duration=30),
                  dict(kind="downturn", step=60, strength=0.3, duration=24),
                  dict(kind="keystone_loss", step=80, target="any", count=2),
                  dict(kind="need_surge", step=100, domain="environment", strength=0.3),
                  dict(kind="programme_end", step=150)]
        return default_scenario().with_overrides({**overrides, "shocks": shocks})
    return load_scenario(path).with_overrides(overrides)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--save", type=Path)
    ap.add_argument("--check", type=Path)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    from ecosystem_sim.model import EcosystemModel

    todo = runs()[:4] if args.quick else runs()
    result = {}
    for name, path, overrides, seed, months in todo:
        t = time.process_time()
        model = EcosystemModel(build(path, overrides), rng=seed)
        model.run(months)
        result[name] = fingerprint(model)
        print(f"{name}: {result[name][:16]} ({time.process_time() - t:.1f} s CPU)", flush=True)
    if args.save:
        args.save.write_text(json.dumps(result, indent=1) + "\n")
    if args.check:
        expected = json.loads(args.check.read_text())
        bad = [k for k in result if expected.get(k) != result[k]]
        print("DIFFERENT: " + ", ".join(bad) if bad else f"all {len(result)} fingerprints equal")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
