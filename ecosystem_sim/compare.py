"""Compare scenarios on the same seeds: replicate runs, tables with 95 % confidence
intervals, resilience and diffusion tables, figures with bands.

Seeds come from one ``numpy.random.SeedSequence(root_seed)``: replicate *i* of every
scenario uses the same seed (common random numbers), so differences between scenarios
are not differences of luck, and results do not depend on the number of workers.
Each finished run is written to ``DIR/runs/`` at once; running the same command again
reuses them, so an interrupted comparison loses nothing.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .run import provenance, run_one
from .scenario import Scenario, from_dict

KEY_MEASURES = ["jobs_subsidised", "jobs_self_sustaining", "orgs_alive", "need_met_share", "unmet_need",
                "participation", "capacity_mean", "subsidy_dependence", "commons_stock"]


def seeds_for(root_seed: int, replicates: int) -> list[int]:
    """Independent 32-bit seeds, one per replicate, from one root seed."""
    return [int(ss.generate_state(1)[0]) for ss in np.random.SeedSequence(root_seed).spawn(replicates)]


def run_key(scenario: Scenario, seed: int, steps: int) -> str:
    blob = json.dumps({"s": scenario.to_dict(), "seed": seed, "steps": steps}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _task(args: tuple[dict, int, int]) -> tuple[pd.DataFrame, dict]:
    data, seed, steps = args
    result = run_one(from_dict(data), seed, steps)
    return result.measures, result.summary


def ci95(values: pd.Series) -> tuple[float, float, float]:
    """Mean and t-based 95 % confidence interval of independent replicates."""
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(v.mean())
    if v.size < 2 or v.std() == 0:
        return (mean, mean, mean)
    lo, hi = stats.t.interval(0.95, v.size - 1, loc=mean, scale=stats.sem(v))
    return (mean, float(lo), float(hi))


def compare(scenarios: list[Scenario], replicates: int, out: Path, root_seed: int = 0,
            steps: int | None = None, workers: int = 1, progress: bool = True,
            executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Run every scenario on the same replicate seeds and write tables and figures to ``out``.

    Returns the tables (``runs``, ``final``, ``resilience``, ``diffusion``) as DataFrames.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    seeds = seeds_for(root_seed, replicates)
    jobs = []
    for sc in scenarios:
        n_steps = int(sc.steps if steps is None else steps)
        for rep, seed in enumerate(seeds):
            jobs.append((sc, rep, seed, n_steps, out / "runs" / f"{sc.name}-{rep:03d}-{run_key(sc, seed, n_steps)}"))
    todo = [j for j in jobs if not (j[4].with_suffix(".json")).exists()]
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="runs", unit="run", disable=not progress)
    own = executor is None and workers > 1 and len(todo) > 1
    pool = ProcessPoolExecutor(workers) if own else executor
    try:
        args = [(sc.to_dict(), seed, n) for sc, _, seed, n, _ in todo]
        results = pool.map(_task, args) if pool is not None else map(_task, args)
        for (sc, rep, seed, n, stem), (measures, summary) in zip(todo, results):
            _save_run(stem, measures, summary, sc.name, rep)
            bar.update(1)
    finally:
        bar.close()
        if own:
            pool.shutdown(cancel_futures=True)
    return _tables(scenarios, jobs, seeds, out, root_seed)


def _save_run(stem: Path, measures: pd.DataFrame, summary: dict, name: str, rep: int) -> None:
    df = measures.reset_index()
    df.insert(0, "replicate", rep)
    df.insert(0, "scenario", name)
    tmp = stem.with_suffix(".csv.tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(stem.with_suffix(".csv"))
    tmp = stem.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(stem.with_suffix(".json"))  # written last: a run counts as done only with both files


def _tables(scenarios, jobs, seeds, out: Path, root_seed: int) -> dict[str, pd.DataFrame]:
    from .viz.plots import band_figure, resilience_figure

    runs = pd.concat([pd.read_csv(stem.with_suffix(".csv")) for *_, stem in jobs], ignore_index=True)
    runs["seed"] = runs["replicate"].map(dict(enumerate(seeds)))
    summaries = {(sc.name, rep): json.loads(stem.with_suffix(".json").read_text()) for sc, rep, *_, stem in jobs}
    names = [sc.name for sc in scenarios]
    last = runs[runs["step"] > runs["step"].max() - 12]
    final_by_run = last.groupby(["scenario", "replicate"], sort=False).mean(numeric_only=True).reset_index()
    measures = [c for c in runs.columns if c not in ("scenario", "replicate", "step", "seed")]
    rows = []
    for m in measures:
        row = {"measure": m}
        for name in names:
            mean, lo, hi = ci95(final_by_run.loc[final_by_run.scenario == name, m])
            row.update({f"{name}_mean": mean, f"{name}_ci_low": lo, f"{name}_ci_high": hi})
        if len(names) == 2:
            a = final_by_run.loc[final_by_run.scenario == names[0]].set_index("replicate")[m]
            b = final_by_run.loc[final_by_run.scenario == names[1]].set_index("replicate")[m]
            d = (b - a).dropna()
            mean, lo, hi = ci95(d)
            row.update({"difference_mean": mean, "difference_ci_low": lo, "difference_ci_high": hi})
            row["wilcoxon_p"] = (float(stats.wilcoxon(d).pvalue) if d.size >= 6 and (d != 0).any() else np.nan)
        rows.append(row)
    final = pd.DataFrame(rows)
    final.to_csv(out / "table.csv", index=False)

    figs = {}
    res_rows, diff_rows = [], []
    for (name, rep), s in summaries.items():
        for r in s["resilience"]:
            res_rows.append({"scenario": name, "replicate": rep, **r})
        for dom, d in s["diffusion"].items():
            diff_rows.append({"scenario": name, "replicate": rep, "domain": dom, **d})
    resilience = pd.DataFrame(res_rows)
    if not resilience.empty:
        agg = []
        for (name, shock, kind, measure), g in resilience.groupby(["scenario", "shock", "kind", "measure"], sort=False):
            row = {"scenario": name, "shock": shock, "kind": kind, "measure": measure}
            for k in ("resistance", "recovery_time", "integrated_loss", "permanent_shift", "collapsed"):
                mean, lo, hi = ci95(g[k])
                row.update({k: mean, f"{k}_ci_low": lo, f"{k}_ci_high": hi})
            row["never_recovered"] = float(g["recovery_time"].isna().mean())
            agg.append(row)
        resilience = pd.DataFrame(agg)
        resilience.to_csv(out / "resilience.csv", index=False)
        figs["resilience"] = resilience_figure(resilience, out / "resilience.png")
    diffusion = pd.DataFrame(diff_rows)
    diff_table = diffusion.groupby(["scenario", "domain"], sort=False).agg(
        final_share=("final_share", "mean"), t10=("t10", "mean"), t50=("t50", "mean"),
        t90=("t90", "mean"), bass_p=("bass_p", "median"), bass_q=("bass_q", "median"),
        reached_50=("t50", lambda s: float(s.notna().mean()))).reset_index()
    diff_table.to_csv(out / "diffusion.csv", index=False)
    runs.to_csv(out / "runs.csv", index=False)
    shocks = scenarios[0].shocks
    figs["comparison"] = band_figure(runs, KEY_MEASURES, out / "comparison.png", " vs ".join(names), shocks)
    manifest = {"scenarios": [sc.to_dict() for sc in scenarios], "root_seed": root_seed, "seeds": seeds,
                "replicates": len(seeds), "provenance": provenance()}
    (out / "summary.json").write_text(json.dumps(manifest, indent=1))
    _report(out, names, final, resilience, diff_table, manifest, figs)
    return {"runs": runs, "final": final, "resilience": resilience, "diffusion": diff_table}


def _report(out: Path, names, final: pd.DataFrame, resilience: pd.DataFrame, diffusion: pd.DataFrame,
            manifest: dict, figs: dict) -> None:
    from . import glossary
    from .reporting import md_table, write_reports

    def figure(key):
        f = figs[key]
        return [f"![{f.title}: {f.caption}]({f.path.name})", ""]

    lines = [f"# Comparison: {' vs '.join(names)}", "",
             f"{manifest['replicates']} replicates per scenario on the same seeds (root seed "
             f"{manifest['root_seed']}). Tables: means over the last 12 months with **95 % confidence "
             "intervals of the mean** over replicates (Student t); the difference is paired by seed.", "",
             *figure("comparison"), "## Final state", ""]
    show = final[final.measure.isin(KEY_MEASURES)]
    lines.append(md_table(show))
    if not resilience.empty:
        lines += ["", "## Resilience around the shocks (ratio to the no-shock twin)", "", *figure("resilience")]
        cols = ["scenario", "kind", "measure", "resistance", "integrated_loss", "permanent_shift", "recovery_time",
                "never_recovered", "collapsed"]
        lines.append(md_table(resilience[cols]))
    lines += ["", "## Diffusion per domain", ""]
    lines.append(md_table(diffusion))
    lines += ["", "## Glossary", "", "The measures of this report (all of them in docs/glossary.md).", "",
              glossary.markdown_table(list(dict.fromkeys(
                  [*show.measure, *(resilience["measure"] if not resilience.empty else [])])))]
    p = manifest["provenance"]
    lines += ["", "## Provenance", "", f"- ecosystem_sim {p['versions']['ecosystem_sim']}, commit {p['commit']}",
              f"- mesa {p['versions']['mesa']}, numpy {p['versions']['numpy']}, Python {p['python']}",
              f"- seeds: {manifest['seeds']}"]
    write_reports("\n".join(lines) + "\n", out, f"Comparison: {' vs '.join(names)}")
