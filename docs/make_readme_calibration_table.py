"""Regenerate the README's table of the short calibration from its kept output.

The block between ``<!-- calibration-targets:start -->`` and ``<!-- calibration-targets:end -->``
of README.md is written by this script from ``docs/data/calibration-2026-11-30/``
(``targets_fit.csv``: the fit of every target; ``calibration.json``, ``generations.csv`` and
``report.md``: how the calibration was run and what it cost). Do not edit the block by hand.

Usage (from the repository root)::

    python docs/make_readme_calibration_table.py           # rewrite README.md in place
    python docs/make_readme_calibration_table.py --check   # exit 1 if README.md is out of date

``tests/test_docs_calibration_table.py`` runs the same comparison and checks the table's numbers
against the CSV on its own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DATA = "docs/data/calibration-2026-11-30"
START, END = "<!-- calibration-targets:start -->", "<!-- calibration-targets:end -->"

# Why a target is out of reach of every parameter set in the prior box (from docs/calibration.md,
# "What the short calibration found"). The finding itself (observed value outside every prior
# predictive run) comes from targets_fit.csv; these are the reasons, which no file records.
OUT_OF_REACH_WHY = {
    "budget_per_project": "a call's pot grows with the region and is split over every proposal, so 5,000 "
                          "citizens cannot make grants of the size of national programmes spread over 14 provinces",
    "revenue_per_budget": "firms' outside-market sales count as ecosystem revenue; the sources count only the "
                          "supported projects' sales",
    "residents_per_project": "the model counts every participant of an average month (labs, training, "
                             "projects, topic votes); Lambeth counts residents per project",
    "bass_p": "likely reason: in 60-month runs early adopters come from outreach that programme money buys "
              "(follow-up, procurement), Bass's p; the published mean is for market products",
}
QUANTITY = {  # target name prefix -> quantity (targets_fit.csv does not carry the quantity)
    "budget_per_project": "budget_per_project", "revenue_per_krw": "revenue_per_budget",
    "lambeth_residents_per_project": "residents_per_project", "bass_p": "bass_p",
}


def number(v: float) -> str:
    """Three significant digits; thousands without an exponent."""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def out_of_reach(row) -> bool:
    """The observed value lies outside every prior predictive run: no parameter set reaches it."""
    return not (row.prior_min <= row.observed <= row.prior_max)


def why_not(row) -> str:
    if row.met:
        return ""
    if out_of_reach(row):
        quantity = next(q for prefix, q in QUANTITY.items() if row.target.startswith(prefix))
        side = "below" if row.observed < row.prior_min else "above"
        return (f"**out of reach**: every prior run is {'above' if side == 'below' else 'below'} it "
                f"({number(row.prior_min)}–{number(row.prior_max)}); {OUT_OF_REACH_WHY[quantity]}")
    return "reachable, but traded off against the other targets"


def ess(folder: Path) -> tuple[float, int]:
    """Effective sample size (Kish) of the kept posterior, and its number of particles."""
    w = pd.read_csv(folder / "posterior.csv")["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    return float(1.0 / (w ** 2).sum()), len(w)


def render(root: Path = ROOT) -> str:
    folder = root / DATA
    fit = pd.read_csv(folder / "targets_fit.csv")
    if "fitted" not in fit:
        fit["fitted"] = True
    meta = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    gens = pd.read_csv(folder / "generations.csv")
    report = (folder / "report.md").read_text(encoding="utf-8")
    months = int(re.search(r"Each simulation: (\d+) months", report).group(1))
    citizens = int(re.search(r"'n_citizens': (\d+)", report).group(1))
    predictive = int(re.search(r"predictive checks: (\d+) model runs", report).group(1))
    workers = {s["workers"] for s in meta["sessions"]}
    seconds = sum(s["seconds"] for s in meta["sessions"])
    scenarios = fit.scenario.nunique()
    runs = int(gens.runs.sum()) * scenarios
    date = folder.name.removeprefix("calibration-")
    command = (f"ecosim calibrate calibration/targets.toml --out results/calibration-{date} "
               f"--workers {max(workers)} --population {meta['population']} --generations {len(gens)}")
    fitted = fit[fit.fitted]
    reported = fit[~fit.fitted]
    unreachable = sum(out_of_reach(r) for r in fit.itertuples())
    size, particles = ess(folder)
    drop = 100 * gens.epsilon_drop.iloc[-1]
    state = (f"converged: the threshold fell {drop:.0f} % in the last generation" if meta["converged"] else
             f"not converged: the threshold still fell {drop:.0f} % in the last generation")
    lines = [
        f"**The calibration of {date}.** `{command}` (commit `{meta['provenance']['commit'][:7]}`): "
        f"{meta['population']} particles, {len(gens)} generations ({state}), {citizens:,} citizens × {months} months "
        f"per run, {runs:,} model runs of ABC and {predictive:,} predictive runs, {seconds // 60:.0f} min "
        f"{seconds % 60:.0f} s of ABC on 2 cores shared with other work. **{int(fitted.met.sum())} of {len(fitted)} "
        f"fitted targets met**"
        + (f", and {int(reported.met.sum())} of the {len(reported)} reported only (`fit = false`: outside every prior "
           f"predictive run of the earlier short calibrations, so not in the ABC distance)" if len(reported) else "")
        + f" (met: observed value in the posterior predictive 90 % interval, or the median within one tolerance); "
        f"**{unreachable} out of reach** of every parameter set in the prior box. Effective sample size of the "
        f"posterior: {size:.1f} of {particles} particles. Simulated: posterior predictive median [5 %, 95 %]. "
        f"From `{DATA}/targets_fit.csv`; regenerate with `python docs/make_readme_calibration_table.py`.",
        "",
        "| target | fitted | preset | observed | simulated median [90 % interval] | met | why not |",
        "|---|:---:|---|---:|---:|:---:|---|",
    ]
    for r in fit.itertuples():
        lines.append(f"| `{r.target}` | {'yes' if r.fitted else 'reported only'} | {r.scenario} | {number(r.observed)} "
                     f"{r.unit} | {number(r.sim_median)} [{number(r.sim_q05)}, {number(r.sim_q95)}] | "
                     f"{'yes' if r.met else 'no'} | {why_not(r)} |")
    return "\n".join(lines)


def updated(text: str, root: Path = ROOT) -> str:
    i, j = text.find(START), text.find(END)
    if i < 0 or j < i:
        raise SystemExit(f"README.md: markers {START} … {END} missing")
    return text[:i + len(START)] + "\n" + render(root) + "\n" + text[j:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    new = updated(current)
    if args.check:
        if new != current:
            print("README.md's calibration table is out of date: run `python docs/make_readme_calibration_table.py`",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
