"""``ecosim sweep`` and ``ecosim analyze`` (registered by :func:`register`).

    ecosim sweep EXPERIMENT --out DIR [--workers N] [--scheduler ADDRESS|local] [--retry-failed] [--quiet]
                 [--overwrite] [--max-runs N]
    ecosim analyze DIR [--no-figures]

Exit status: 0 done; 1 a fault met while working (disk full, read-only folder: the finished runs
are kept) or every run of the sweep failed; 2 refused before any work (bad file or argument, a
folder in use or holding something else, a corrupted store, a design above a limit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cliargs import positive


def usage_error(text: str) -> Exception:
    """A command-line error the ``ecosim`` command reports as one line with exit status 2."""
    from ..cli import UsageError

    return UsageError(text)


def register(subparsers) -> None:
    s = subparsers.add_parser("sweep", help="run an experiment file's design into DIR/results.sqlite (resumable)",
                              description="Run every run of an experiment's design that DIR/results.sqlite does "
                                          "not hold yet. Interrupt at any time; the same command resumes.")
    s.add_argument("experiment", help="experiment TOML file (see experiments/ and docs/experiments.md)")
    s.add_argument("--out", required=True, help="results folder (holds results.sqlite)")
    s.add_argument("--workers", type=positive("--workers"), default=1, help="worker processes (default 1)")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS|local",
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    s.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--overwrite", action="store_true",
                   help="use --out even if it is not empty and holds no earlier sweep")
    s.add_argument("--max-runs", type=positive("--max-runs"), default=None,
                   help="refuse designs with more runs than this (default 100,000 or $ECOSIM_MAX_RUNS)")
    s.set_defaults(func=cmd_sweep)

    a = subparsers.add_parser("analyze", help="tables, figures and report.md from a sweep's results store")
    a.add_argument("folder", help="results folder of `ecosim sweep`")
    a.add_argument("--no-figures", action="store_true", help="tables and report only")
    a.set_defaults(func=cmd_analyze)


def cmd_sweep(args, evaluate_for=None, parameter_draws: dict | None = None) -> int:
    """``ecosim sweep``. ``evaluate_for(experiment)`` (optional) gives the function each run
    evaluates instead of the model alone, and ``parameter_draws`` says what it draws (see
    :func:`.runner.sweep`); ``--posterior`` of the calibration layer uses both."""
    import sqlite3

    from .design import budget, count_points
    from .runner import SweepError, sweep
    from .spec import load_experiment
    from .store import DesignMismatch, StoreError

    exp = load_experiment(args.experiment, max_runs=args.max_runs)  # ScenarioError -> exit 2, nothing written
    budget(exp, workers=args.workers, folder=Path(args.out), max_runs=args.max_runs)
    try:
        counts = sweep(exp, Path(args.out), workers=args.workers, scheduler=args.scheduler,
                       progress=not args.quiet, retry_failed=args.retry_failed, overwrite=args.overwrite,
                       max_runs=args.max_runs, evaluate=evaluate_for(exp) if evaluate_for else None,
                       parameter_draws=parameter_draws)
    except (DesignMismatch, SweepError, StoreError) as err:
        raise usage_error(str(err)) from None
    except sqlite3.OperationalError as err:
        # e.g. "database or disk is full", "attempt to write a readonly database": finished runs are kept
        print(f"ecosim sweep: error: {args.out}/results.sqlite: {err}; the finished runs are kept: fix this and "
              "run the same command again", file=sys.stderr)
        return 1
    if counts.get("extended") is not None:
        print(f"{exp.name}: extends the design stored in {args.out} ({counts['extended']} stored runs kept)")
    if parameter_draws is not None:
        print(f"{exp.name}: {parameter_draws.get('description', 'parameters drawn per run')}")
    print(f"{exp.name}: {counts['total']} runs in {count_points(exp)} design points; "
          f"{counts['already']} already stored, {counts['ran']} run now ({counts['failed']} failed) "
          f"in {counts['seconds']:.1f} s -> {args.out}/results.sqlite")
    if counts["ran"] and counts["failed"] == counts["ran"]:
        print(f"ecosim sweep: error: all {counts['ran']} runs failed; first error: {counts['first_error']}",
              file=sys.stderr)
        return 1
    if counts["failed"]:
        print(f"warning: {counts['failed']} of {counts['ran']} runs failed (first error: {counts['first_error']}); "
              "`--retry-failed` runs them again", file=sys.stderr)
    print(f"next: ecosim analyze {args.out}")
    return 0


def cmd_analyze(args) -> int:
    from .analysis import analyze

    from .store import StoreError

    folder = Path(args.folder)
    if not (folder / "results.sqlite").is_file():
        raise usage_error(f"{folder}: no results.sqlite here (run `ecosim sweep EXPERIMENT --out {folder}` first)")
    try:
        tables = analyze(folder, figures=not args.no_figures)
    except StoreError as err:
        raise usage_error(str(err)) from None
    for w in tables.get("warnings_list", []):
        print(f"warning: {w}")
    written = tables["written_tables"]
    print(f"wrote {folder}/report.md, report.html, {len(written)} tables in {folder}/tables "
          f"({', '.join(p.stem for p in written)})" + ("" if args.no_figures else f", figures in {folder}/figures"))
    return 0
