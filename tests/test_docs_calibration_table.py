"""The README's table of the calibration cannot drift from the calibration's kept output
(``docs/data/calibration-2026-11-30/``): the block is what the generator writes, and, read
on its own, every row's numbers, *met* and *out of reach* agree with ``targets_fit.csv`` and the
caption's run settings with ``calibration.json`` and ``generations.csv``."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "data" / "calibration-2026-11-30"
START, END = "<!-- calibration-targets:start -->", "<!-- calibration-targets:end -->"


def _generator():
    spec = importlib.util.spec_from_file_location("make_readme_calibration_table",
                                                  ROOT / "docs" / "make_readme_calibration_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    i, j = text.find(START), text.find(END)
    assert i >= 0 and j > i, "README.md: calibration table markers missing"
    return text[i + len(START):j]


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _close(shown: str, value: float) -> bool:
    """``shown`` is ``value`` rounded for display (3 significant digits, or whole thousands)."""
    x = _num(shown)
    return abs(x - value) <= max(5e-3 * abs(value), 0.5 if abs(value) >= 1000 else 0.0, 1e-12)


def test_block_is_what_the_generator_writes():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _generator().updated(text) == text, (
        "README.md's calibration table is out of date with docs/data/calibration-2026-11-30: "
        "run `python docs/make_readme_calibration_table.py`")


def test_rows_agree_with_targets_fit_csv():
    fit = pd.read_csv(DATA / "targets_fit.csv").set_index("target")
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| (yes|reported only) \| (\w+) \| ([-0-9.,e+]+) [^|]*\| ([-0-9.,e+]+) "
                      r"\[([-0-9.,e+]+), ([-0-9.,e+]+)\] \| (yes|no) \| ([^|]*) \|$", _block(), flags=re.M)
    assert [r[0] for r in rows] == list(fit.index), "one row per target of targets_fit.csv, in its order"
    for name, fitted, scenario, observed, median, q05, q95, met, why in rows:
        row = fit.loc[name]
        assert (fitted == "yes") == bool(row.fitted), name
        assert scenario == row.scenario, name
        assert _close(observed, row.observed), (name, observed, row.observed)
        for shown, value in ((median, row.sim_median), (q05, row.sim_q05), (q95, row.sim_q95)):
            assert _close(shown, value), (name, shown, value)
        assert (met == "yes") == bool(row.met), name
        unreachable = not (row.prior_min <= row.observed <= row.prior_max)
        assert ("out of reach" in why) == unreachable, (name, why)
        assert bool(why.strip()) == (not row.met), (name, "a reason exactly where the target is not met")


def test_caption_states_the_recorded_run():
    block = _block()
    meta = json.loads((DATA / "calibration.json").read_text(encoding="utf-8"))
    gens = pd.read_csv(DATA / "generations.csv")
    fit = pd.read_csv(DATA / "targets_fit.csv")
    seconds = sum(s["seconds"] for s in meta["sessions"])
    assert ("(converged:" in block) == bool(meta["converged"]) and ("(not converged:" in block) != bool(meta["converged"])
    assert f"--population {meta['population']} --generations {len(gens)}" in block
    assert f"{int(seconds // 60)} min {round(seconds % 60)} s" in block
    assert "5,000 citizens" in block  # the calibration's region, recorded in its report
    assert "'n_citizens': 5000" in (DATA / "report.md").read_text(encoding="utf-8")
    fitted, reported = fit[fit.fitted], fit[~fit.fitted]
    assert f"{int(fitted.met.sum())} of {len(fitted)} fitted targets met" in block
    assert f"{int(reported.met.sum())} of the {len(reported)} reported only" in block
    w = pd.read_csv(DATA / "posterior.csv")["weight"].to_numpy(dtype=float)
    assert f"{(w.sum() ** 2) / (w ** 2).sum():.1f} of {len(w)} particles" in block
    unreachable = int(((fit.observed < fit.prior_min) | (fit.observed > fit.prior_max)).sum())
    assert f"{unreachable} out of reach" in block


def test_readme_prose_counts_match_the_csv():
    """The README's sentence about the short run (outside the generated block) says the same."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    fit = pd.read_csv(DATA / "targets_fit.csv")
    said = re.search(r"meets (\d+) of the (\d+) fitted targets", text)
    if said is None:
        pytest.skip("the README no longer states the counts in prose")
    assert (int(said.group(1)), int(said.group(2))) == (int(fit[fit.fitted].met.sum()), int(fit.fitted.sum()))


def test_odd_section_6_names_every_calibration_target():
    """ODD §6.3 maps each target of calibration/targets.toml onto a model quantity: none is missing."""
    import tomllib

    targets = tomllib.loads((ROOT / "calibration" / "targets.toml").read_text(encoding="utf-8"))["targets"]
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = odd[odd.index("### 6.3 "):odd.index("### 6.4 ")]
    missing = [t["name"] for t in targets if f"`{t['name']}`" not in section]
    assert not missing, f"docs/ODD.md §6.3 does not describe the target(s) {missing}"
    quantities = {t["quantity"] for t in targets}
    assert all(f"`{q}`" in section for q in quantities)
