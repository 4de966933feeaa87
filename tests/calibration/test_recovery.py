"""ABC-SMC end to end: a planted parameter set is recovered (synthetic data); results do not
depend on the number of workers, and an interrupted calibration continues where it stopped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from calib_planted import PLANTED, write_targets
from ecosystem_sim.cli import main


@pytest.mark.slow
def test_planted_parameters_are_recovered_within_the_90_percent_interval(tmp_path):
    # About 2 minutes on 2 busy cores: 50 particles, 4 generations, 600 citizens, 24 months.
    path = write_targets(tmp_path, population=50, generations=4, draws=10)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    params = pd.read_csv(out / "parameters.csv").set_index("parameter")
    for name, value in PLANTED.items():
        assert params.loc[name, "q05"] <= value <= params.loc[name, "q95"], (name, params.loc[name].to_dict())
    # The posterior is narrower than the prior for the well-identified lever.
    gain = params.loc["capacity_gain"]
    assert gain.q95 - gain.q05 < 0.5 * (gain.high - gain.low)
    for f in ("report.md", "posterior.csv", "particles.csv", "calibrated.toml", "marginals.png", "pairs.png",
              "predictive.png", "targets_fit.csv"):
        assert (out / f).is_file(), f
    assert "capacity_gain = " in (out / "calibrated.toml").read_text()
    # The report states the posterior's effective sample size, worked out here from posterior.csv.
    w = pd.read_csv(out / "posterior.csv")["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    assert f"**{1.0 / np.sum(w ** 2):.1f} of {len(w)} particles**" in (out / "report.md").read_text()


@pytest.mark.slow
def test_same_particles_whatever_the_workers_and_after_resuming(tmp_path):
    path = write_targets(tmp_path, population=8, generations=2, draws=2)
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["calibrate", str(path), "--out", str(two), "--workers", "2", "--quiet"]) == 0
    # one worker, stopped after the first generation, then continued by the same command
    assert main(["calibrate", str(path), "--out", str(one), "--workers", "1", "--generations", "1", "--quiet"]) == 0
    assert main(["calibrate", str(path), "--out", str(one), "--workers", "1", "--quiet"]) == 0
    a, b = pd.read_csv(one / "particles.csv"), pd.read_csv(two / "particles.csv")
    assert a.generation.max() == 1
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_a_calibration_of_another_model_version_is_not_continued(tmp_path, capsys):
    path = write_targets(tmp_path, population=4, generations=2, draws=1)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "1", "--generations", "1", "--quiet"]) == 0
    state_path = out / "calibration.json"
    state = json.loads(state_path.read_text())
    # as if the first generation had been made by an edited model
    state["provenance"]["model_fingerprint"] = "0123456789abcdef"
    state_path.write_text(json.dumps(state))
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    capsys.readouterr()
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another model version" in err and "0123456789abcdef" in err, err
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
