"""The ``ecosim`` command.

    ecosim run SCENARIO [--seed N] [--steps N] [--out DIR] [--overwrite] [--set LEVER=VALUE ...]
    ecosim compare A.toml B.toml [...] [--replicates N] [--seed N] [--steps N] [--workers N]
                   [--shock KIND@STEP[:STRENGTH]] [--out DIR] [--overwrite] [--max-runs N]
    ecosim levers [--markdown]
    ecosim decompose A.toml B.toml [...]   (experiments/screening.py)

Bad input (a scenario file, a lever value, an argument), an output folder the command would
damage, or a job above a limit prints one line naming the file or option, the key, the value and
what is allowed, and exits with status 2 before anything is written. A fault met while working
(disk full, a read-only folder) prints one line and exits with status 1, leaving no partial output.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from . import guards
from .cliargs import positive as _positive
from .cliargs import seed as _seed
from .levers import LEVERS
from .scenario import SHOCK_KINDS, Scenario, ScenarioError, load_scenario


class UsageError(Exception):
    """A command-line value that cannot be used (exit status 2)."""


INTERRUPTED = {
    "sweep": "interrupted; finished runs are kept in the store: run the same command again to resume",
    "compare": "interrupted; finished runs are kept: run the same command again to resume",
    "run": "interrupted; nothing was written",
    "decompose": "interrupted; finished runs are kept beside --out: run the same command again to resume",
    "dashboard": "dashboard stopped",
}
"""What Ctrl-C leaves behind, per sub-command (the default is plain 'interrupted')."""


def _parse_set(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set {item!r}: expected LEVER=VALUE, e.g. --set safety_net=0.8")
        if name.strip() == "shocks":
            raise UsageError(f"--set {item!r}: shocks is not a lever; add a shock with --shock KIND@STEP[:STRENGTH]")
        if name.strip() not in LEVERS and name.strip() != "mix":
            raise UsageError(f"--set {item!r}: {name.strip()!r} is an unknown lever; `ecosim levers` lists them")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--set {item!r}: value {value!r} is not a number") from None
    return out


def _parse_shock(text: str | None) -> list[dict]:
    if not text:
        return []
    kind, sep, rest = text.partition("@")
    if not sep or kind not in SHOCK_KINDS:
        raise UsageError(f"--shock {text!r}: expected KIND@STEP[:STRENGTH] with KIND one of {', '.join(SHOCK_KINDS)}")
    step, _, strength = rest.partition(":")
    try:
        shock = {"kind": kind, "step": int(step)}
        if strength:
            shock["strength"] = float(strength)
    except ValueError:
        raise UsageError(f"--shock {text!r}: STEP must be an integer and STRENGTH a number") from None
    return [shock]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ecosim", description="Simulate regional social-innovation ecosystems.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run one scenario and write measures, summary and figures")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--seed", type=_seed, default=0)
    r.add_argument("--steps", type=_positive("--steps"), help="months (default: the scenario's steps)")
    r.add_argument("--out", default=None, help="output folder (default: results/run-SCENARIO-SEED)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace --out even if it holds files ecosim run did not write")
    r.add_argument("--set", action="append", metavar="LEVER=VALUE", help="override a lever (repeatable)")
    r.add_argument("--shock", metavar="KIND@STEP[:STRENGTH]", help="add a shock to the scenario's own")
    r.add_argument("--no-twin", action="store_true", help="skip the no-shock twin run (no resilience figures)")

    c = sub.add_parser("compare", help="run scenarios on the same seeds and compare them")
    c.add_argument("scenarios", nargs="+", help="two or more scenario TOML files")
    c.add_argument("--replicates", type=_positive("--replicates"), default=10)
    c.add_argument("--seed", type=_seed, default=0, help="root seed of the replicate seeds")
    c.add_argument("--steps", type=_positive("--steps"))
    c.add_argument("--workers", type=_positive("--workers"), default=1)
    c.add_argument("--shock", metavar="KIND@STEP[:STRENGTH]", help="add the same shock to every scenario")
    c.add_argument("--set", action="append", metavar="LEVER=VALUE", help="override a lever in every scenario")
    c.add_argument("--out", default="results/compare")
    c.add_argument("--overwrite", action="store_true",
                   help="write into --out even if it is not empty and not an earlier comparison")
    c.add_argument("--max-runs", type=_positive("--max-runs"), default=None,
                   help=f"refuse more runs than this (default {guards.DEFAULT_MAX_RUNS:,} or ${guards.ENV_MAX_RUNS})")

    lv = sub.add_parser("levers", help="list every lever with unit, default and range")
    lv.add_argument("--markdown", action="store_true")

    for register in _extensions():
        register(sub)
    return p


def _extensions():
    """Sub-commands that live with their own layer (experiments, dashboard, benchmark)."""
    regs = []
    # The calibration layer comes after the experiments: it adds --posterior to `sweep` as well.
    for mod in ("ecosystem_sim.experiments.cli", "ecosystem_sim.experiments.screening",
                "ecosystem_sim.viz.dashboard_cli", "ecosystem_sim.bench", "ecosystem_sim.calibration.cli"):
        try:
            module = __import__(mod, fromlist=["register"])
        except ImportError:
            continue
        regs.append(module.register)
    return regs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.command_line = ["ecosim", *(sys.argv[1:] if argv is None else argv)]  # for provenance
    if extra:
        loose = [item for item in (getattr(args, "set", None) or []) if "=" not in item]
        if loose:  # `--set safety_net 0.3`: the value became a stray argument
            print(f"ecosim {args.command}: error: --set {loose[0]} {extra[0]}: write LEVER=VALUE as one word, "
                  f"e.g. --set {loose[0]}={extra[0]}", file=sys.stderr)
            return 2
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        out = getattr(args, "out", None)
        if isinstance(out, str) and not out.strip():
            # e.g. `--out "$DIR"` with DIR unset: never fall back to a default or the working folder
            raise UsageError(f"--out {out!r}: empty; give a folder, e.g. --out results/NAME")
        if args.command == "run":
            return cmd_run(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "levers":
            return cmd_levers(args)
        return args.func(args)
    except (ScenarioError, UsageError, guards.Refused) as err:
        print(f"ecosim {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        # disk full, read-only folder, no permission...: one line, what and where (no traceback)
        print(f"ecosim {args.command}: error: {guards.describe_os_error(err)}", file=sys.stderr)
        return 1
    except sqlite3.Error as err:
        print(f"ecosim {args.command}: error: results store: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\necosim {args.command}: {INTERRUPTED.get(args.command, 'interrupted')}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stderr.close()
        return 0


def _scenario(path: str, args) -> Scenario:
    overrides = _parse_set(getattr(args, "set", None))
    sc = load_scenario(path, overrides or None)
    extra = _parse_shock(getattr(args, "shock", None))
    steps = getattr(args, "steps", None)
    if steps:
        try:
            sc = sc.with_overrides({"steps": steps}, where="--steps")
        except ScenarioError as err:
            raise UsageError(f"--steps {steps}: {path}: {err.key} = {err.value!r}: {err.allowed}") from None
    if extra:
        sc = sc.with_overrides({"shocks": [s.to_dict() for s in sc.shocks] + extra}, where="--shock")
    return sc


def cmd_run(args) -> int:
    from tqdm.auto import tqdm

    from .run import run_one
    from .viz.plots import run_figures

    sc = _scenario(args.scenario, args)
    vary = _posterior(args)
    if vary is not None:
        sc = vary(sc, args.seed)
    if args.out is not None:
        out = Path(args.out)
    else:
        results = Path("results")
        out = guards.inside(results, results / f"run-{guards.safe_name(sc.name)}-{args.seed}")
    steps = int(sc.steps)
    twins = 2 if sc.shocks and not args.no_twin else 1
    n = int(sc.n_citizens)
    guards.check_budget(f"ecosim run {args.scenario}", 1, steps, n, disk_bytes=twins * (steps + 1) * 50 * 14 + 2e6,
                        folder=out.parent, runs_option=None)
    guards.prepare_output(out, "run", overwrite=args.overwrite)  # refuse before the run, not after
    # One `ecosim run` per --out at a time: a second one is refused at once instead of silently
    # replacing the first one's output when it ends.
    with guards.output_lock(out, "run"):
        guards.prepare_output(out, "run", overwrite=args.overwrite)  # again, now that no one else writes
        total = steps * twins
        with tqdm(total=total, desc=f"{sc.name} seed {args.seed}", unit="month", disable=total < 50) as bar:
            result = run_one(sc, args.seed, twin=not args.no_twin, on_step=bar.update)
        # Write into a new folder beside --out and move it into place: no half-written output is
        # left, and a previous output is replaced only once the new one is complete.
        with guards.staged_folder(out, "run") as tmp:
            result.measures.to_csv(tmp / "measures.csv")
            if result.twin is not None:
                result.twin.to_csv(tmp / "twin_measures.csv")
            (tmp / "summary.json").write_text(json.dumps(result.summary, indent=1))
            run_figures(result.measures, tmp, sc.name, sc.shocks, twin=result.twin)
    print(f"wrote {out}/measures.csv, summary.json and {len(list(out.glob('*.png')))} figures")
    return 0


def cmd_compare(args) -> int:
    from .compare import compare

    if len(args.scenarios) < 2:
        raise UsageError(f"compare needs at least two scenario files, got {len(args.scenarios)}")
    scs = [_scenario(p, args) for p in args.scenarios]
    names = [s.name for s in scs]
    if len(set(names)) != len(names):
        raise UsageError(f"scenario names must differ, got {names}: set name = \"...\" in the files")
    tables = compare(scs, args.replicates, Path(args.out), root_seed=args.seed, workers=args.workers,
                     overwrite=args.overwrite, max_runs=args.max_runs, vary=_posterior(args))
    print(f"wrote {args.out}/report.md, table.csv, resilience.csv, diffusion.csv, runs.csv and figures")
    final = tables["final"].set_index("measure")
    cols = [c for c in final.columns if c.endswith("_mean")]
    print(final.loc[["jobs_self_sustaining", "orgs_alive", "need_met_share", "participation"], cols].round(3).to_string())
    return 0


def _posterior(args):
    """``--posterior DIR`` (added by the calibration layer): (scenario, seed) -> scenario, or None."""
    folder = getattr(args, "posterior", None)
    if not folder:
        return None
    from .calibration.posterior import load_posterior

    # A lever given with --set is the user's choice: it wins over the draw (as an experiment's
    # own levers do in `sweep --posterior`).
    return load_posterior(folder).keeping(_parse_set(getattr(args, "set", None)))


def cmd_levers(args) -> int:
    rows = [(l.name, l.group, l.unit, l.default, f"[{l.low}, {l.high}]", l.doc) for l in LEVERS.values()]
    if args.markdown:
        print("| name | group | unit | default | range | meaning |\n|---|---|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(str(x) for x in r) + " |")
    else:
        for r in rows:
            print(f"{r[0]:28} {r[1]:9} {str(r[3]):>8} {r[4]:>18}  {r[2]}")
    return 0


if __name__ == "__main__":
    # Run the package's copy, so `python -m ecosystem_sim.cli` shares UsageError with the extensions.
    from ecosystem_sim.cli import main as _main

    sys.exit(_main())
