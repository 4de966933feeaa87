"""Sobol indices of the Ishigami function through the same design, store and analysis code as the
model's experiments; Morris on a known linear function; PRIM on a planted box."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from SALib.test_functions import Ishigami

from ecosystem_sim.experiments import Experiment, Factor, analyze, load_results, prim, sweep
from ecosystem_sim.experiments.analysis import morris_table, sobol_table


def ishigami(task: dict) -> dict:
    x = np.array([[task["params"]["x1"], task["params"]["x2"], task["params"]["x3"]]])
    return {"summary": {"final": {"y": float(Ishigami.evaluate(x)[0])}}, "timeseries": None}


def linear(task: dict) -> dict:
    p = task["params"]
    return {"summary": {"final": {"y": 4.0 * p["a"] + 1.0 * p["b"] + 0.0 * p["c"]}}, "timeseries": None}


def _factors(names, low, high):
    return [Factor(n, low, high) for n in names]


def test_sobol_recovers_ishigami_indices(tmp_path):
    exp = Experiment(name="ishigami", factors=_factors(["x1", "x2", "x3"], -math.pi, math.pi), design="sobol",
                     samples=512, second_order=True, replications=1, seed=3, measures=(), outputs=("final.y",))
    counts = sweep(exp, tmp_path, workers=1, progress=False, evaluate=ishigami)
    assert counts["ran"] == 512 * 8
    res = load_results(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # N = 512 gives CIs near ±0.1: the wide-CI warning may fire
        first, second = sobol_table(res)
    s1 = first.set_index("factor")
    # analytic values for a = 7, b = 0.1 (SALib's Ishigami)
    assert s1.loc["x1", "S1"] == pytest.approx(0.3139, abs=0.05)
    assert s1.loc["x2", "S1"] == pytest.approx(0.4424, abs=0.05)
    assert s1.loc["x3", "S1"] == pytest.approx(0.0, abs=0.05)
    assert s1.loc["x1", "ST"] == pytest.approx(0.5576, abs=0.06)
    assert s1.loc["x2", "ST"] == pytest.approx(0.4424, abs=0.06)
    assert s1.loc["x3", "ST"] == pytest.approx(0.2437, abs=0.06)
    s13 = second[(second.factor_i == "x1") & (second.factor_j == "x3")].iloc[0]
    assert s13.S2 == pytest.approx(0.2437, abs=0.1)
    assert (first.S1_conf > 0).all() and (first.ST_conf > 0).all()
    tables = analyze(tmp_path, figures=True)
    assert not tables["sobol"].empty and (tmp_path / "figures" / "sensitivity_sobol.png").is_file()


def test_morris_ranks_a_linear_function(tmp_path):
    exp = Experiment(name="linear", factors=_factors(["a", "b", "c"], 0.0, 1.0), design="morris", samples=20,
                     levels=4, replications=1, seed=5, measures=(), outputs=("final.y",))
    sweep(exp, tmp_path, progress=False, evaluate=linear)
    table = morris_table(load_results(tmp_path)).set_index("factor")
    assert table.loc["a", "mu_star"] == pytest.approx(4.0)
    assert table.loc["b", "mu_star"] == pytest.approx(1.0)
    assert table.loc["c", "mu_star"] == pytest.approx(0.0)


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(0)
    x = rng.random((4000, 3))
    inside = (x[:, 0] < 0.3) & (x[:, 1] > 0.6)
    y = np.where(inside, rng.random(4000) < 0.9, rng.random(4000) < 0.05)
    result = prim(x, y, names=["safety_net", "commons_share", "noise"])
    box = result.box
    assert set(box) == {"safety_net", "commons_share"}
    assert box["safety_net"][1] == pytest.approx(0.3, abs=0.05)
    assert box["commons_share"][0] == pytest.approx(0.6, abs=0.05)
    s = result.stats
    assert s["density"] > 0.8 and s["coverage"] > 0.5
    text = result.describe("collapse")
    assert "safety_net ≤" in text and "commons_share ≥" in text and "coverage" in text


def test_prim_without_structure_restricts_little():
    rng = np.random.default_rng(1)
    x = rng.random((2000, 2))
    y = rng.random(2000) < 0.3
    result = prim(x, y)
    assert result.stats["density"] < 0.45
    assert result.trajectory["coverage"].iloc[0] == 1.0 and result.trajectory["mass"].iloc[0] == 1.0
