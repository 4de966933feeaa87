"""Posterior draws: deterministic by seed, by weight, the same for every scenario of a replicate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecosystem_sim.calibration.posterior import load_posterior
from ecosystem_sim.cli import main
from ecosystem_sim.compare import compare
from ecosystem_sim.scenario import ScenarioError, default_scenario


def write_posterior(folder: Path, gains=(0.05, 0.3, 0.45), weights=(0.5, 0.0, 0.5)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"particle": range(len(gains)), "weight": weights, "capacity_gain": gains,
                  "dev_months": [4, 9, 12][:len(gains)]}).to_csv(folder / "posterior.csv", index=False)
    return folder


def test_draw_is_a_function_of_the_seed_and_follows_the_weights(tmp_path):
    post = load_posterior(write_posterior(tmp_path / "p"))
    assert post.draw(7) == post.draw(7)
    draws = [post.draw(s)["capacity_gain"] for s in range(400)]
    assert 0.3 not in draws                      # weight 0: never drawn
    share = np.mean([d == 0.05 for d in draws])  # weight 1/2: about half the draws
    assert 0.4 < share < 0.6
    assert all(isinstance(post.draw(s)["dev_months"], float) and post.draw(s)["dev_months"].is_integer()
               for s in range(5))


def test_bad_posterior_folder(tmp_path):
    with pytest.raises(ScenarioError, match="no posterior.csv"):
        load_posterior(tmp_path)
    folder = tmp_path / "p"
    folder.mkdir()
    pd.DataFrame({"weight": [1.0], "safety_net": [0.2]}).to_csv(folder / "posterior.csv", index=False)
    with pytest.raises(ScenarioError, match="not a behaviour lever"):
        load_posterior(folder)


def test_compare_with_posterior_same_draw_for_both_scenarios_of_a_replicate(tmp_path):
    post = load_posterior(write_posterior(tmp_path / "p"))
    base = default_scenario().with_overrides({"n_citizens": 300, "citizens_per_community": 100, "steps": 6})
    a = base.with_overrides({"safety_net": 0.1})
    b = base.with_overrides({"safety_net": 0.9})
    from dataclasses import replace
    a, b = replace(a, name="a"), replace(b, name="b")
    compare([a, b], 3, tmp_path / "cmp", root_seed=5, progress=False, vary=post)
    gains = {}
    for f in sorted((tmp_path / "cmp" / "runs").glob("*.json")):
        s = json.loads(f.read_text())
        gains.setdefault(f.name.split("-")[1], set()).add(s["scenario"]["params"]["capacity_gain"])
    assert len(gains) == 3 and all(len(v) == 1 for v in gains.values())  # same draw in a and b
    manifest = json.loads((tmp_path / "cmp" / "summary.json").read_text())
    assert "posterior" in manifest["parameter_draws"]
    assert "parameter uncertainty" in (tmp_path / "cmp" / "report.md").read_text()


def test_run_with_posterior_records_the_drawn_levers(tmp_path, capsys):
    folder = write_posterior(tmp_path / "p", gains=(0.42,), weights=(1.0,))
    scen = tmp_path / "s.toml"
    scen.write_text('name = "s"\n[region]\nn_citizens = 300\ncitizens_per_community = 100\nsteps = 6\n')
    out = tmp_path / "run"
    assert main(["run", str(scen), "--seed", "3", "--out", str(out), "--posterior", str(folder)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"]["params"]["capacity_gain"] == 0.42
    assert main(["run", str(scen), "--out", str(tmp_path / "bad"), "--posterior", str(tmp_path)]) == 2
    assert "no posterior.csv" in capsys.readouterr().err


def test_a_lever_set_on_the_command_line_wins_over_the_posterior_draw(tmp_path):
    """`--set capacity_gain=0.2 --posterior DIR`: the user's value is run; the other levers of
    the posterior are still drawn (the same rule as `sweep --posterior` for an experiment's levers)."""
    folder = write_posterior(tmp_path / "p", gains=(0.42,), weights=(1.0,))
    scen = tmp_path / "s.toml"
    scen.write_text('name = "s"\n[region]\nn_citizens = 300\ncitizens_per_community = 100\nsteps = 6\n')
    out = tmp_path / "run"
    assert main(["run", str(scen), "--seed", "3", "--out", str(out), "--posterior", str(folder),
                 "--set", "capacity_gain=0.2"]) == 0
    params = json.loads((out / "summary.json").read_text())["scenario"]["params"]
    assert params["capacity_gain"] == 0.2 and params["dev_months"] == 4


def test_the_kept_short_calibration_is_a_usable_posterior():
    """docs/data keeps the short calibration's posterior.csv so that `--posterior` and
    `ecosim robustness` can be rerun from the repository: it loads, names only behaviour levers
    within their ranges, and draws the same particle for the same seed."""
    folder = Path(__file__).resolve().parents[2] / "docs" / "data" / "calibration-short-2026-11-30"
    post = load_posterior(folder)
    assert post.names and post.draw(11) == post.draw(11)


def test_effective_size_counts_how_many_particles_carry_the_weight(tmp_path):
    assert load_posterior(write_posterior(tmp_path / "even", weights=(1.0, 1.0, 1.0))).effective_size == pytest.approx(3.0)
    assert load_posterior(write_posterior(tmp_path / "two", weights=(0.5, 0.0, 0.5))).effective_size == pytest.approx(2.0)
    assert load_posterior(write_posterior(tmp_path / "one", weights=(1.0, 0.0, 0.0))).effective_size == pytest.approx(1.0)
