"""Compare scenarios on the same seeds: replicate runs, tables with 95 % confidence
intervals, resilience and diffusion tables, figures with bands.

Seeds come from one ``numpy.random.SeedSequence(root_seed)``: replicate *i* of every
scenario uses the same seed (common random numbers), so differences between scenarios
are not differences of luck, and results do not depend on the number of workers.
Each finished run is written to ``DIR/runs/`` at once; running the same command again
reuses them, so an interrupted comparison loses nothing. A run's file name holds a hash of its
scenario, seed, months and the model fingerprint (:func:`run_key`), and the tables read exactly
the runs of the current job by those names: runs made by another model (the package upgraded or
edited) are not found, so they are run again and never mixed in. Their files are left in
``DIR/runs/`` (they may be another job's runs: other scenarios, seeds or replicates): the report
says which model fingerprint made the runs it uses and how many kept runs it did not use; delete
``DIR/runs/`` by hand, or use a new ``DIR``, to drop them.

``DIR`` must be new, empty or an earlier comparison's folder (marker ``.ecosim-output.json``),
unless ``overwrite``; it is locked while the comparison runs (a second one refuses). The tables,
figures and report are written into a temporary folder inside ``DIR`` and moved into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import fingerprint, guards
from .run import provenance, run_one
from .scenario import Scenario, from_dict

KEY_MEASURES = ["jobs_subsidised", "jobs_self_sustaining", "orgs_alive", "need_met_share", "unmet_need",
                "participation", "capacity_mean", "subsidy_dependence", "commons_stock"]


def seeds_for(root_seed: int, replicates: int) -> list[int]:
    """Independent 32-bit seeds, one per replicate, from one root seed."""
    return [int(ss.generate_state(1)[0]) for ss in np.random.SeedSequence(root_seed).spawn(replicates)]


def run_key(scenario: Scenario, seed: int, steps: int) -> str:
    """Name of a kept run in ``DIR/runs/``: a hash of the scenario (every lever value), seed, months
    and the model fingerprint, so runs of another model (package upgraded or edited) are not found."""
    blob = json.dumps({"s": scenario.to_dict(), "seed": seed, "steps": steps,
                       "model": fingerprint.model_fingerprint()}, sort_keys=True)
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
            executor: Executor | None = None, overwrite: bool = False,
            max_runs: int | None = None, vary=None) -> dict[str, pd.DataFrame]:
    """Run every scenario on the same replicate seeds and write tables and figures to ``out``.

    ``vary(scenario, seed) -> scenario`` (optional, e.g. a calibration posterior) changes each
    replicate's scenario as a function of its seed only, so replicate *i* of every scenario gets
    the same change (common random numbers) and finished runs are still found again.

    Refuses (:class:`~ecosystem_sim.guards.Refused`) before any work a job above the run, memory or
    disk limits (``max_runs``, see :func:`~ecosystem_sim.guards.check_budget`) or an ``out`` that
    holds something else. Returns the tables (``runs``, ``final``, ``resilience``, ``diffusion``).
    """
    from tqdm.auto import tqdm

    out = Path(out)
    n_runs = len(scenarios) * replicates
    months = max(int(sc.steps if steps is None else steps) for sc in scenarios)
    citizens = max(int(sc.n_citizens) for sc in scenarios)
    values = n_runs * (months + 1) * (len(_measure_names()) + 4)
    guards.check_budget(f"ecosim compare ({len(scenarios)} scenarios × {replicates:,} replicates)", n_runs, months,
                        citizens, held_bytes=values * 8 * 4,
                        disk_bytes=2 * values * guards.CSV_BYTES_PER_VALUE + n_runs * guards.SUMMARY_BYTES,
                        folder=out, limit_runs=max_runs)
    guards.prepare_output(out, "compare", overwrite=overwrite)
    made = guards._make_parents(out)
    if guards.read_marker(out) is None:
        guards.write_marker(out, "compare")
    with guards.folder_lock(out, "compare"):
        try:
            (out / "runs").mkdir(exist_ok=True)
        except BaseException:
            for p in reversed(made):
                with contextlib.suppress(OSError):
                    for f in (guards.MARKER, guards.LOCK):
                        (p / f).unlink(missing_ok=True)
                    p.rmdir()
            raise
        return _compare(scenarios, replicates, out, root_seed, steps, workers, progress, executor, tqdm, vary)


def _measure_names() -> tuple[str, ...]:
    from .measures import MEASURES

    return tuple(MEASURES)


def _compare(scenarios, replicates, out, root_seed, steps, workers, progress, executor, tqdm, vary=None):
    seeds = seeds_for(root_seed, replicates)
    jobs = []
    runs_dir = out / "runs"
    for sc in scenarios:
        n_steps = int(sc.steps if steps is None else steps)
        for rep, seed in enumerate(seeds):
            run_sc = vary(sc, seed) if vary is not None else sc
            stem = runs_dir / f"{guards.safe_name(sc.name)}-{rep:03d}-{run_key(run_sc, seed, n_steps)}"
            jobs.append((run_sc, rep, seed, n_steps, guards.inside(runs_dir, stem)))
    todo = [j for j in jobs if not (j[4].with_suffix(".json")).exists()]
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="runs", unit="run", disable=not progress)
    own = executor is None and workers > 1 and len(todo) > 1
    pool = executor
    if own:
        citizens = max(int(sc.n_citizens) for sc, *_ in todo)
        n = guards.cap_workers(workers, len(todo), citizens)
        own = n > 1
        if own:
            pool = ProcessPoolExecutor(n, mp_context=guards.mp_context(), initializer=guards.worker_guard,
                                       initargs=(os.getpid(),))
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
    with guards.stage_inside(out) as stage:
        tables = _tables(scenarios, jobs, seeds, stage, root_seed, getattr(vary, "description", None))
        files = guards.move_files_into(stage, out)
    marker = guards.read_marker(out) or {}
    guards.write_marker(out, "compare", sorted(set(marker.get("files", [])) | set(files) | {"runs"}))
    return tables


def _save_run(stem: Path, measures: pd.DataFrame, summary: dict, name: str, rep: int) -> None:
    df = measures.reset_index()
    df.insert(0, "replicate", rep)
    df.insert(0, "scenario", name)
    tmps = [stem.with_suffix(".csv.tmp"), stem.with_suffix(".json.tmp")]
    try:
        df.to_csv(tmps[0], index=False)
        tmps[0].replace(stem.with_suffix(".csv"))
        tmps[1].write_text(json.dumps(summary, indent=1))
        tmps[1].replace(stem.with_suffix(".json"))  # written last: a run counts as done only with both files
    finally:
        for t in tmps:  # nothing half-written is left when the disk is full or the folder read-only
            with contextlib.suppress(OSError):
                t.unlink(missing_ok=True)


def _tables(scenarios, jobs, seeds, out: Path, root_seed: int, varied: str | None = None) -> dict[str, pd.DataFrame]:
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
    used = {stem.name for *_, stem in jobs}
    unused = sum(1 for f in (jobs[0][4].parent.glob("*.json") if jobs else ()) if f.stem not in used)
    prov = provenance()
    manifest = {"scenarios": [sc.to_dict() for sc in scenarios], "root_seed": root_seed, "seeds": seeds,
                "replicates": len(seeds), "parameter_draws": varied, "provenance": prov,
                "runs_made_by_model": fingerprint.model_fingerprint(), "kept_runs_not_used": unused}
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
             "intervals of the mean** over replicates (Student t); the difference is paired by seed"
             + (f" ({manifest['parameter_draws']}: the intervals include parameter uncertainty)"
                if manifest.get("parameter_draws") else "") + ".", "",
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
              f"- model fingerprint {manifest['runs_made_by_model']}: every run of this report was made by this model "
              "(runs of another model are not reused)"
              + (f"; runs/ also keeps {manifest['kept_runs_not_used']} runs not used here (other scenarios, "
                 "seeds, months or model)" if manifest.get("kept_runs_not_used") else ""),
              f"- seeds: {manifest['seeds']}"]
    write_reports("\n".join(lines) + "\n", out, f"Comparison: {' vs '.join(names)}")
