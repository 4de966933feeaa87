"""Do the regime claims hold under what we do not know about behaviour?

For each *draw* of the behaviour levers — from a calibration's posterior (by weight) and from the
prior box (uniform, or log-uniform where the calibration says so) — both presets run on the same
seed with the same behaviour levers (common random numbers): once without shocks, once with a
budget cut and once with a keystone loss (both in the middle of the run), so each claim is a
paired comparison within a draw:

    need_met_share, jobs_self_sustaining, orgs_alive   B's final-year mean is higher than A's
    budget_cut.*, keystone_loss.* (integrated loss)    B loses less of jobs_total / need_met_share
                                                       than A (against its own no-shock run)

The share of draws in which B (default: citizen-led) beats A (job creation) is reported with an
exact binomial (Clopper-Pearson) 95 % interval (``scipy.stats.binomtest``). Where a claim fails in
some draws, PRIM (:func:`ecosystem_sim.experiments.discovery.prim`) looks for the region of
behaviour-lever space where it fails. A Sobol experiment over policy **and** behaviour levers is
written as an experiment file (``sobol_policy_behaviour.toml``) for ``ecosim sweep``/``analyze``
and, with ``sobol_samples > 0``, run through the experiment runner and analysed.

Each finished draw is written to ``DIR/draws/`` at once; running again reuses it.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..levers import LEVERS, by_group
from ..scenario import Scenario, from_dict
from .posterior import Posterior

LEVEL_CLAIMS = ("need_met_share", "jobs_self_sustaining", "orgs_alive")
SHOCKS = {"budget_cut": {"kind": "budget_cut", "strength": 0.5},
          "keystone_loss": {"kind": "keystone_loss", "target": "intermediary"}}
LOSS_MEASURES = ("jobs_total", "need_met_share")
PRIOR_STREAM = 7_000_003
MIN_EFFECTIVE_SIZE = 10.0
"""Below this effective sample size the report warns that posterior draws are few distinct sets."""


def _draw_task(task: dict) -> dict:
    """Worker: both presets with one draw of behaviour levers, without and with each shock."""
    from ..measures import resilience
    from ..run import simulate

    out = {"kind": task["kind"], "draw": task["draw"], "seed": task["seed"],
           **{f"param.{k}": v for k, v in task["levers"].items()}}
    for label, data in task["presets"].items():
        sc = from_dict(data, where="robustness").with_overrides(task["levers"], where="robustness")
        step = int(sc.steps) // 2
        base = simulate(sc.without_shocks(), task["seed"]).measures_frame()
        last = base.iloc[-12:]
        for m in LEVEL_CLAIMS:
            out[f"{label}.{m}"] = float(last[m].mean())
        for name, shock in SHOCKS.items():
            shocked = simulate(sc.with_overrides({"shocks": [{**shock, "step": step}]}, where="robustness"),
                               task["seed"]).measures_frame()
            for m in LOSS_MEASURES:
                out[f"{label}.{name}.{m}"] = resilience(shocked[m], base[m], step)["integrated_loss"]
    return out


def prior_box_of(parameters_csv: Path | None, posterior: Posterior) -> list[dict]:
    """The prior box of the calibrated levers (from the calibration's ``parameters.csv``, else the
    levers' full ranges)."""
    if parameters_csv is not None:
        df = pd.read_csv(parameters_csv)
        return [{"name": r.parameter, "low": float(r.low), "high": float(r.high), "prior": r.prior}
                for r in df.itertuples()]
    return [{"name": n, "low": LEVERS[n].low, "high": LEVERS[n].high, "prior": "uniform"} for n in posterior.names]


def _prior_draw(box: list[dict], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), PRIOR_STREAM]))
    out = {}
    for p in box:
        if p["prior"] == "log-uniform":
            v = 10 ** rng.uniform(math.log10(p["low"]), math.log10(p["high"]))
        else:
            v = rng.uniform(p["low"], p["high"])
        out[p["name"]] = float(round(v)) if LEVERS[p["name"]].integer else float(v)
    return out


def claims(draws: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """One column per claim: does ``b`` beat ``a`` in this draw? (True, False, or None where the
    claim cannot be judged.)

    A loss claim ("less X lost after a shock") is judged only in draws where both presets have
    some X without the shock (its final level above 0, where the draw records that level): a
    preset with nothing to lose loses nothing, and counting that as "lost less" would decide the
    claim by the other preset's level, not by its resilience."""
    out = pd.DataFrame(index=draws.index)
    for m in LEVEL_CLAIMS:
        out[f"{m} higher"] = draws[f"{b}.{m}"] > draws[f"{a}.{m}"]
    for s in SHOCKS:
        for m in LOSS_MEASURES:
            holds = (draws[f"{b}.{s}.{m}"] < draws[f"{a}.{s}.{m}"]).astype(object)
            if f"{a}.{m}" in draws and f"{b}.{m}" in draws:
                holds[(draws[f"{a}.{m}"] <= 0) | (draws[f"{b}.{m}"] <= 0)] = None
            out[f"{s}: less {m} lost"] = holds
    return out


def shares(draws: pd.DataFrame, holds: pd.DataFrame) -> pd.DataFrame:
    """Share of draws (per kind) in which each claim holds, with exact binomial 95 % intervals."""
    from scipy.stats import binomtest

    rows = []
    for kind in ("posterior", "prior"):
        sel = draws.kind == kind
        if not sel.any():
            continue
        for claim in holds.columns:
            judged = holds.loc[sel, claim].dropna()  # draws where the claim can be judged
            n, k = len(judged), int((judged == True).sum())  # noqa: E712 (object column)
            if n == 0:
                rows.append({"claim": claim, "draws_from": kind, "n": 0, "holds": 0, "share": float("nan"),
                             "ci_low": float("nan"), "ci_high": float("nan")})
                continue
            ci = binomtest(k, n).proportion_ci(confidence_level=0.95)
            rows.append({"claim": claim, "draws_from": kind, "n": n, "holds": k, "share": k / n,
                         "ci_low": float(ci.low), "ci_high": float(ci.high)})
    return pd.DataFrame(rows)


def sobol_experiment(presets: list[Scenario], box: list[dict], samples: int, steps: int, overrides: dict) -> str:
    """An experiment file: Sobol indices over every policy lever and the calibrated behaviour levers."""
    lines = ['name = "sobol_policy_behaviour"',
             'description = "Sobol indices over the policy levers and the calibrated behaviour levers together '
             '(written by ecosim robustness)"', f"steps = {steps}", "seed = 20240917",
             'measures = ["need_met_share", "jobs_self_sustaining", "orgs_alive", "jobs_total"]', "",
             "[overrides]", *[f"{k} = {v!r}" for k, v in overrides.items() if k != "steps"], "",
             "[design]", 'kind = "sobol"', f"samples = {samples}", "second_order = false", ""]
    for lever in by_group("policy"):
        lines += [f"[levers.{lever.name}]", f"range = [{float(lever.low)!r}, {float(lever.high)!r}]"]
    for p in box:
        lines += [f"[levers.{p['name']}]", f"range = [{float(p['low'])!r}, {float(p['high'])!r}]"]
    lines += ["", "[analysis]",
              'outputs = ["final.need_met_share", "final.jobs_self_sustaining", "final.orgs_alive"]', ""]
    return "\n".join(lines)


def robustness(presets: list[Scenario], posterior: Posterior, out: Path, draws: int = 40, prior_draws: int = 40,
               root_seed: int = 0, workers: int = 1, scheduler: str | None = None, prior_box: Path | None = None,
               sobol_samples: int = 0, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    from ..compare import seeds_for
    from ..experiments.discovery import prim
    from .smc import open_executor

    out = Path(out)
    (out / "draws").mkdir(parents=True, exist_ok=True)
    a, b = presets[0].name, presets[1].name
    box = prior_box_of(prior_box, posterior)
    data = {p.name: p.to_dict() for p in presets}
    tasks = []
    for kind, n, root in (("posterior", draws, root_seed), ("prior", prior_draws, root_seed + 1)):
        for i, seed in enumerate(seeds_for(root, n) if n else []):
            levers = posterior.draw(seed) if kind == "posterior" else _prior_draw(box, seed)
            tasks.append({"kind": kind, "draw": i, "seed": seed, "levers": levers, "presets": data})
    key = json.dumps({"presets": data, "posterior": posterior.digest}, sort_keys=True)
    tag = hashlib.sha256(key.encode()).hexdigest()[:10]
    path_of = {id(t): out / "draws" / f"{t['kind']}-{t['draw']:04d}-{t['seed']}-{tag}.json" for t in tasks}
    todo = [t for t in tasks if not path_of[id(t)].is_file()]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="robustness draws", unit="draw",
               disable=not progress)
    if todo:
        pool, close = open_executor(workers, scheduler)
        try:
            for t, row in zip(todo, pool.map(_draw_task, todo)):
                tmp = path_of[id(t)].with_suffix(".tmp")
                tmp.write_text(json.dumps(row))
                tmp.replace(path_of[id(t)])
                bar.update(1)
        finally:
            close()
    bar.close()
    table = pd.DataFrame([json.loads(path_of[id(t)].read_text()) for t in tasks])
    table.to_csv(out / "draws.csv", index=False)
    holds = claims(table, a, b)
    share = shares(table, holds)
    share.to_csv(out / "shares.csv", index=False)
    params = [c for c in table.columns if c.startswith("param.")]
    boxes = {}
    for claim in holds.columns:
        judged = holds[claim].notna().to_numpy()
        fails = (holds[claim][judged] == False).to_numpy(dtype=bool)  # noqa: E712 (object column)
        if 0 < fails.sum() < len(fails) and len(fails) >= 10:
            res = prim(table.loc[judged, params].rename(columns=lambda c: c[6:]), fails)
            boxes[claim] = res.describe(outcome=f"failure of '{claim}'")
    sobol_file = out / "sobol_policy_behaviour.toml"
    steps = int(presets[0].steps)
    overrides = {k: presets[0].params[k] for k in ("n_citizens", "citizens_per_community")}
    sobol_file.write_text(sobol_experiment(presets, box, max(sobol_samples, 32), steps, overrides))
    sobol_note = (f"Not run (`--sobol-samples 0`): run `ecosim sweep {sobol_file.name} --out sobol` and "
                  "`ecosim analyze sobol` in this folder.")
    if sobol_samples:
        from ..experiments import analyze, load_experiment, sweep

        sweep(load_experiment(sobol_file), out / "sobol", workers=workers, scheduler=scheduler, progress=progress)
        analyze(out / "sobol")
        sobol_note = "Sobol indices: `sobol/report.md` (first-order and total indices per output)."
    _report(out, a, b, share, boxes, table, posterior, sobol_note, box)
    return {"draws": table, "shares": share, "prim": boxes}


def _report(out: Path, a: str, b: str, share: pd.DataFrame, boxes: dict, table: pd.DataFrame, posterior: Posterior,
            sobol_note: str, box: list[dict]) -> None:
    lines = [f"# Robustness: does {b} beat {a} under parameter uncertainty?", "",
             f"Each draw: behaviour levers from the posterior ({posterior.source}) or from the prior box, both "
             "presets on the same seed; claims compare the two within a draw. Share of draws in which the claim "
             "holds, with exact binomial (Clopper-Pearson) 95 % intervals. A loss claim is judged only in the "
             "draws where both presets have some of the measure without the shock (*n* counts those draws): a "
             "preset with nothing to lose loses nothing.", "",
             f"The posterior has {len(posterior.weights)} particles with an effective sample size (Kish) of "
             f"{posterior.effective_size:.1f}"
             + (": its draws come from few distinct parameter sets, so the posterior shares show mostly seed-to-seed "
                "variation at those sets, not parameter uncertainty (a longer calibration spreads the weight)."
                if posterior.effective_size < MIN_EFFECTIVE_SIZE else "."), "",
             share.to_markdown(index=False, floatfmt=".2f"), "", "## Where the claims fail (PRIM)", ""]
    if not boxes:
        lines.append("No claim fails in some draws and holds in others (or fewer than 10 draws): nothing to explain.")
    for claim, text in boxes.items():
        lines.append(f"- **{claim}**: {text}")
    lines += ["", "## Prior box", "", pd.DataFrame(box).to_markdown(index=False, floatfmt=".4g"), "",
              "## Sobol indices over policy and behaviour levers", "", sobol_note, "",
              f"Runs: {len(table)} draws x 2 presets x 3 runs (no shock, budget cut, keystone loss)."]
    (out / "report.md").write_text("\n".join(lines) + "\n")
