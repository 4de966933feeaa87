"""The calibration report: fit of every target, posterior marginals and pairs, predictive checks,
targets not met and why, runs and wall time (``DIR/report.md`` and PNG figures)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .smc import weighted_quantiles
from .targets import Calibration, Target


def target_fit(cal: Calibration, predictive: pd.DataFrame) -> pd.DataFrame:
    """One row per target: observed, posterior predictive median and 90 % interval, prior predictive
    range, distance in tolerances, whether it is met and why not."""
    rows = []
    for t in cal.targets:
        col = f"target.{t.name}"
        post = predictive.loc[predictive.kind == "posterior", col].astype(float)
        prior = predictive.loc[predictive.kind == "prior", col].astype(float)
        pv, pr = post.dropna(), prior.dropna()
        med = float(pv.median()) if len(pv) else math.nan
        lo, hi = (float(pv.quantile(0.05)), float(pv.quantile(0.95))) if len(pv) else (math.nan, math.nan)
        plo, phi = (float(pr.min()), float(pr.max())) if len(pr) else (math.nan, math.nan)
        err = abs(t.scaled_error(med)) if math.isfinite(med) else math.nan
        covered = lo <= t.observed <= hi
        met = bool(covered or (math.isfinite(err) and err <= 1.0))
        rows.append({"target": t.name, "fitted": t.fitted, "observed": t.observed, "unit": t.unit,
                     "scenario": t.scenario,
                     "sim_median": med, "sim_q05": lo, "sim_q95": hi, "prior_min": plo, "prior_max": phi,
                     "error_tolerances": err, "no_value_share": float(post.isna().mean()) if len(post) else math.nan,
                     "met": met, "why": "" if met else why_not(t, pv, pr)})
    return pd.DataFrame(rows)


def why_not(t: Target, post: pd.Series, prior: pd.Series) -> str:
    """A plain statement of why a target is not met, from the predictive runs."""
    if post.empty:
        return ("no posterior run gives a value (e.g. nothing to divide by in the measured period): "
                "the model does not produce this quantity at these settings")
    if not prior.empty and (t.observed < prior.min() or t.observed > prior.max()):
        side = "above" if t.observed > prior.max() else "below"
        return (f"cannot be met: the observed value is {side} every prior predictive run "
                f"([{prior.min():.3g}, {prior.max():.3g}]); no parameter set in the prior box reaches it, "
                "a finding about the model (or about how the quantity is mapped)")
    return ("the prior box reaches it, but not together with the other targets: the posterior "
            "trades it off against them (see the pair plot and the other targets' errors)")


def _label(cal: Calibration, name: str) -> str:
    p = next(p for p in cal.parameters if p.name == name)
    return f"{name}\n[{p.unit}]" + (" (log scale)" if p.prior == "log-uniform" else "")


def marginals_figure(cal: Calibration, particles: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = cal.parameters
    last = int(particles.generation.max())
    ncol = min(3, len(params))
    nrow = math.ceil(len(params) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, p in zip(axes.flat, params):
        logx = p.prior == "log-uniform"
        edges = np.geomspace(p.low, p.high, 25) if logx else np.linspace(p.low, p.high, 25)
        for gen, style in ((0, dict(color="0.6", alpha=0.6, label="generation 0 (first threshold)")),
                           (last, dict(color="C0", alpha=0.8, label=f"posterior (generation {last})"))):
            g = particles[particles.generation == gen]
            ax.hist(g[p.name], bins=edges, weights=g.weight, density=True, histtype="stepfilled", **style)
        ax.axhline(1 / (math.log10(p.high / p.low) if logx else (p.high - p.low)) if not logx else 0,
                   color="k", lw=0.8, ls=":", label="prior density" if not logx else None)
        if p.planted is not None:
            ax.axvline(p.planted, color="C3", lw=1.5, label="planted value")
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(_label(cal, p.name))
        ax.set_ylabel("density")
    for ax in list(axes.flat)[len(params):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Posterior marginals: {cal.name} (weighted particles; dotted: uniform prior)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def pairs_figure(cal: Calibration, posterior: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = cal.parameters
    n = len(params)
    fig, axes = plt.subplots(n, n, figsize=(2.6 * n + 1, 2.6 * n + 0.5), squeeze=False)
    size = 120 * posterior.weight / posterior.weight.max()
    for i, pi in enumerate(params):
        for j, pj in enumerate(params):
            ax = axes[i, j]
            if i == j:
                ax.hist(posterior[pi.name], bins=20, weights=posterior.weight, color="C0")
            elif i > j:
                ax.scatter(posterior[pj.name], posterior[pi.name], s=size, alpha=0.4, color="C0")
                if pi.planted is not None and pj.planted is not None:
                    ax.plot(pj.planted, pi.planted, "x", color="C3", ms=9, mew=2)
                if pj.prior == "log-uniform":
                    ax.set_xscale("log")
                if pi.prior == "log-uniform":
                    ax.set_yscale("log")
                ax.set_xlim(pj.low, pj.high)
                ax.set_ylim(pi.low, pi.high)
            else:
                ax.axis("off")
            if i == n - 1:
                ax.set_xlabel(_label(cal, pj.name), fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(_label(cal, pi.name), fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle("Posterior pairs (dot size = particle weight; x = planted value, if any); axes span the prior",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def predictive_figure(cal: Calibration, predictive: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(cal.targets)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False)
    for ax, t in zip(axes.flat, cal.targets):
        col = f"target.{t.name}"
        data = [predictive.loc[predictive.kind == k, col].dropna().astype(float) for k in ("prior", "posterior")]
        ax.boxplot(data, whis=(5, 95), showfliers=True)
        ax.set_xticks([1, 2], ["prior\npredictive", "posterior\npredictive"])
        ax.axhline(t.observed, color="C3", lw=1.5, label="observed")
        if t.error == "log10" and all((d > 0).all() and len(d) for d in data):
            ax.set_yscale("log")
        ax.set_title(f"{t.name} ({t.scenario})", fontsize=8)
        ax.set_ylabel(t.unit, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Predictive checks: simulated quantity over parameter draws (box 25-75 %, whiskers 5-95 %); "
                 "red line: the sources' figure", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(cal: Calibration, out: Path, tables: dict, predictive: pd.DataFrame, state: dict) -> dict:
    fit = target_fit(cal, predictive)
    fit.to_csv(out / "targets_fit.csv", index=False)
    marginals_figure(cal, tables["particles"], out / "marginals.png")
    pairs_figure(cal, tables["posterior"], out / "pairs.png")
    predictive_figure(cal, predictive, out / "predictive.png")
    gens = tables["generations"]
    seconds = sum(s["seconds"] for s in state["sessions"])
    abc_runs = int(gens.runs.sum())
    sims_per_run = len(cal.used_scenarios())
    pred_runs = len(predictive) * sims_per_run
    met = fit[fit.met]
    lines = [f"# Calibration: {cal.name}", "",
             f"ABC-SMC (pyabc) over {len(cal.parameters)} behaviour levers against {len(cal.targets)} targets "
             f"from `{Path(cal.source).name}`. Each simulation: {cal.steps} months, overrides {cal.overrides or 'none'}, "
             f"scenarios {', '.join(cal.used_scenarios())}; root seed {cal.seed}.", "",
             f"**{int(met.fitted.sum())} of {int(fit.fitted.sum())} fitted targets met**"
             + (f"; of the {int((~fit.fitted).sum())} reported only (`fit = false`: simulated and judged, not in "
                f"the ABC distance), {int((~met.fitted).sum())} met" if not fit.fitted.all() else "")
             + " (met: observed value inside the posterior predictive 90 % interval, or the posterior predictive "
             "median within one tolerance).", "",
             "## Fit of every target", "",
             "Simulated: posterior predictive runs (parameter sets drawn from the final posterior by weight, "
             "each on a fresh seed); median and 5-95 % range. Prior range: min-max over prior predictive runs. "
             "Error: |median - observed| in tolerances.", ""]
    show = fit[["target", "fitted", "scenario", "observed", "unit", "sim_median", "sim_q05", "sim_q95", "prior_min", "prior_max",
                "error_tolerances", "met"]]
    lines.append(show.to_markdown(index=False, floatfmt=".3g"))
    lines += ["", "![predictive checks](predictive.png)", "", "## Targets not met, and why", ""]
    if fit.met.all():
        lines.append("Every target is met.")
    for _, r in fit[~fit.met].iterrows():
        lines.append(f"- **{r.target}** (observed {r.observed:.3g} {r.unit}; simulated {r.sim_median:.3g}): {r.why}.")
    lines += ["", "## Targets: sources and error models", ""]
    for t in cal.targets:
        lines.append(f"- **{t.name}** = {t.observed:g} {t.unit} — `{t.quantity}({', '.join(f'{k}={v}' for k, v in t.args.items())})` "
                     f"in `{t.scenario}`; {t.error} error, tolerance {t.tolerance:g}. Source {t.source}: \"{t.passage}\""
                     + (f" {t.note}" if t.note else ""))
    w = tables["posterior"]["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    ess = float(1.0 / np.sum(w ** 2))
    lines += ["", "## Posterior of the behaviour levers", "",
              "Weighted quantiles of the final generation's particles; priors are uniform over the stated "
              "range (log-uniform: uniform in log10).", "",
              f"Effective sample size (Kish, 1 / sum of squared weights): **{ess:.1f} of {len(w)} particles**; "
              f"the heaviest particle carries {100 * w.max():.0f} % of the weight."
              + (" The weight sits on a few particles: quantiles and draws from this posterior are close to one "
                 "parameter set (run more generations or a larger population)." if ess < 0.1 * len(w) else ""), ""]
    lines.append(tables["parameters"].to_markdown(index=False, floatfmt=".4g"))
    lines += ["", "![marginals](marginals.png)", "", "![pairs](pairs.png)", "",
              "The posterior median is written as a scenario file: `calibrated.toml` (behaviour levers only).", "",
              "## Generations", "", gens.to_markdown(index=False, floatfmt=".3g"), "",
              f"Converged (threshold fell by less than {cal.min_eps_drop:.0%} in the last generation): "
              f"{'yes' if state.get('converged') else 'no'}.", "",
              "## Cost", "",
              f"- ABC: {abc_runs} particle evaluations x {sims_per_run} scenario run(s) = {abc_runs * sims_per_run} "
              f"model runs; predictive checks: {pred_runs} model runs.",
              f"- Wall time {seconds:.0f} s over {len(state['sessions'])} session(s) "
              f"({', '.join(f'{s['seconds']:.0f} s on {s['workers']} {s['scheduler']}' for s in state['sessions'])}).", "",
              "## Provenance", "",
              f"- ecosystem_sim {state['provenance']['versions']['ecosystem_sim']}, commit {state['provenance']['commit']}; "
              f"calibration file {Path(cal.source).name}; fingerprint {state['fingerprint']}.",
              "- pyabc history: `abc.sqlite` (resume by running the same command again); particles of every "
              "generation: `particles.csv`; final posterior: `posterior.csv`; predictive runs: `predictive.csv`."]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return {"report": out / "report.md", "fit": out / "targets_fit.csv"}
