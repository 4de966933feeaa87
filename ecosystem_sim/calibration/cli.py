"""``ecosim calibrate``, ``ecosim robustness`` and the ``--posterior DIR`` option of ``ecosim run``,
``ecosim compare`` and ``ecosim sweep`` (registered by :func:`register`, after the experiment layer).

    ecosim calibrate TARGETS --out DIR [--workers N] [--scheduler ADDRESS|local] [--quick]
                     [--population N] [--generations N] [--quiet]
    ecosim robustness --posterior DIR --out DIR [--draws N] [--prior-draws N] [--workers N] ...
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..cliargs import positive


def _usage(text: str) -> Exception:
    from ..cli import UsageError

    return UsageError(text)


def register(subparsers) -> None:
    c = subparsers.add_parser(
        "calibrate", help="ABC-SMC calibration of behaviour levers to the sources' figures (pyabc; resumable)",
        description="Approximate Bayesian computation (pyabc ABC-SMC) of the behaviour levers named in TARGETS "
                    "against its observed figures. Writes the posterior, calibrated.toml, report.md and figures to "
                    "--out; running the same command again continues from the stored history.")
    c.add_argument("targets", help="calibration file (TOML), e.g. calibration/targets.toml")
    c.add_argument("--out", required=True, help="results folder (holds pyabc's abc.sqlite)")
    c.add_argument("--workers", type=positive("--workers"), default=1, help="worker processes (default 1)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS|local",
                   help="run on Dask: a scheduler address or 'local' for a LocalCluster of --workers")
    c.add_argument("--quick", action="store_true", help="the file's [quick] settings: small region, few months")
    c.add_argument("--population", type=positive("--population"), help="particles per generation")
    c.add_argument("--generations", type=positive("--generations"), help="at most this many generations")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=cmd_calibrate)

    r = subparsers.add_parser(
        "robustness", help="in what share of the posterior (and prior box) citizen-led beats job creation",
        description="Run both presets on the same seeds with behaviour levers drawn from the posterior (and from "
                    "the prior box), with and without a budget cut and a keystone loss; report the share of draws "
                    "in which each headline claim holds (exact binomial 95 %% intervals) and PRIM boxes where it "
                    "fails.")
    r.add_argument("--posterior", required=True, metavar="DIR", help="--out folder of `ecosim calibrate`")
    r.add_argument("--out", required=True, help="results folder (finished draws are kept; rerun to resume)")
    r.add_argument("--presets", nargs=2, default=["scenarios/job_creation.toml", "scenarios/citizen_led.toml"],
                   metavar=("A.toml", "B.toml"), help="the two presets (claims: B beats A)")
    r.add_argument("--draws", type=positive("--draws"), default=40, help="posterior draws (default 40)")
    r.add_argument("--prior-draws", type=int, default=40, help="prior-box draws (default 40; 0 = none)")
    r.add_argument("--steps", type=positive("--steps"), help="months per run (default: the presets' steps)")
    r.add_argument("--set", action="append", metavar="LEVER=VALUE", help="override a lever in both presets")
    r.add_argument("--seed", type=int, default=0, help="root seed")
    r.add_argument("--workers", type=positive("--workers"), default=1)
    r.add_argument("--scheduler", default=None, metavar="ADDRESS|local")
    r.add_argument("--sobol-samples", type=int, default=0,
                   help="also write (and with > 0 run) a Sobol experiment over policy and behaviour levers: "
                        "N base samples (power of 2)")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(func=cmd_robustness)

    for name in ("run", "compare", "sweep"):
        sp = subparsers.choices.get(name)
        if sp is not None:
            sp.add_argument("--posterior", metavar="DIR", default=None,
                            help="draw behaviour levers from this calibration's posterior per replicate "
                                 "(deterministically from the replicate's seed)")
    if "sweep" in subparsers.choices:
        sweep_parser = subparsers.choices["sweep"]
        plain = sweep_parser.get_default("func")
        sweep_parser.set_defaults(func=lambda args: cmd_sweep_posterior(args, plain) if args.posterior else plain(args))


def cmd_calibrate(args) -> int:
    from .smc import CalibrationError, calibrate
    from .targets import load_calibration

    cal = load_calibration(args.targets)  # ScenarioError -> one line, exit 2, nothing written
    if args.quick:
        cal = cal.with_quick()
    if args.scheduler:
        from ..experiments.runner import SweepError
    t0 = time.perf_counter()
    try:
        result = calibrate(cal, Path(args.out), workers=args.workers, scheduler=args.scheduler,
                           population=args.population, generations=args.generations, progress=not args.quiet)
    except CalibrationError as err:
        raise _usage(str(err)) from None
    except Exception as err:
        if type(err).__name__ == "SweepError":
            raise _usage(str(err)) from None
        raise
    fit = result["paths"] and __import__("pandas").read_csv(result["paths"]["fit"])
    print(f"{cal.name}: {result['generations']} generations, {result['runs']} particle evaluations "
          f"({'converged' if result['converged'] else 'not converged'}) in {time.perf_counter() - t0:.0f} s "
          f"-> {args.out}/report.md, posterior.csv, calibrated.toml")
    if fit is not False and len(fit):
        print(f"fitted targets met: {int((fit.met & fit.fitted).sum())} of {int(fit.fitted.sum())}"
              + (f"; reported-only targets met: {int((fit.met & ~fit.fitted).sum())} of {int((~fit.fitted).sum())}"
                 if not fit.fitted.all() else "")
              + ("" if fit.met.all() else f"; not met: {', '.join(fit.target[~fit.met])}"))
    return 0


def cmd_robustness(args) -> int:
    from ..cli import _parse_set
    from ..scenario import load_scenario
    from .posterior import load_posterior
    from .robustness import robustness

    posterior = load_posterior(args.posterior)
    overrides = _parse_set(args.set)
    presets = [load_scenario(p, overrides or None) for p in args.presets]
    if args.steps:
        presets = [p.with_overrides({"steps": args.steps}, where="--steps") for p in presets]
    if args.prior_draws < 0:
        raise _usage(f"--prior-draws must be >= 0, got {args.prior_draws}")
    if args.sobol_samples < 0 or (args.sobol_samples & (args.sobol_samples - 1)):
        raise _usage(f"--sobol-samples must be 0 or a power of 2, got {args.sobol_samples}")
    calibration = Path(args.posterior) / "parameters.csv"
    out = robustness(presets, posterior, Path(args.out), draws=args.draws, prior_draws=args.prior_draws,
                     root_seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                     prior_box=calibration if calibration.is_file() else None, sobol_samples=args.sobol_samples,
                     progress=not args.quiet)
    print(out["shares"].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"wrote {args.out}/report.md, shares.csv, draws.csv")
    return 0


def cmd_sweep_posterior(args, plain) -> int:
    """``ecosim sweep --posterior DIR``: each run's behaviour levers drawn from the posterior by its
    seed; levers the experiment sets (varied, or fixed in ``[overrides]``) keep its values. The
    posterior is read first: a bad one is one line, exit 2, nothing written."""
    from .posterior import load_posterior

    posterior = load_posterior(args.posterior)

    def evaluate_for(exp) -> PosteriorEvaluate:
        return PosteriorEvaluate(posterior.keeping({f.name for f in exp.factors} | set(exp.overrides)))

    draws = {"posterior": posterior.source, "digest": posterior.digest, "levers": posterior.names,
             "description": posterior.description}
    return plain(args, evaluate_for=evaluate_for, parameter_draws=draws)


class PosteriorEvaluate:
    """A sweep's evaluate function: the design point's scenario with behaviour levers drawn for the
    run's seed, then the usual model evaluation; the levers drawn are kept in the run's summary
    (``posterior_draw``). Levers the posterior keeps (set by the experiment) are not drawn."""

    def __init__(self, posterior):
        self.posterior = posterior

    def __call__(self, task: dict) -> dict:
        from ..experiments.runner import evaluate_model
        from ..levers import LEVERS

        draw = self.posterior.drawn(task["seed"])
        scenario = dict(task["scenario"])
        scenario["params"] = {**scenario["params"], **{k: int(v) if LEVERS[k].integer else v for k, v in draw.items()}}
        out = evaluate_model({**task, "scenario": scenario})
        out["summary"]["posterior_draw"] = draw
        return out
