"""The calibrated scenarios (``scenarios/calibrated/``) are the kept calibration's posterior median
with each regime's policy, exactly: nothing typed by hand can drift from the calibration."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from ecosystem_sim.levers import LEVERS
from ecosystem_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
KEPT = ROOT / "docs" / "data" / "calibration-2026-11-30"
FOLDER = ROOT / "scenarios" / "calibrated"


def test_behaviour_file_is_the_kept_posterior_median():
    shipped = tomllib.loads((FOLDER / "behaviour.toml").read_text(encoding="utf-8"))
    kept = tomllib.loads((KEPT / "calibrated.toml").read_text(encoding="utf-8"))
    assert shipped == kept
    assert set(shipped["behaviour"]) == set(pd.read_csv(KEPT / "parameters.csv")["parameter"])


@pytest.mark.parametrize("preset", ["job_creation", "citizen_led"])
def test_calibrated_preset_is_the_regime_with_the_calibrated_behaviour(preset):
    calibrated = load_scenario(FOLDER / f"{preset}.toml")
    regime = load_scenario(ROOT / "scenarios" / f"{preset}.toml")
    behaviour = tomllib.loads((FOLDER / "behaviour.toml").read_text(encoding="utf-8"))["behaviour"]
    for name, lever in LEVERS.items():
        if lever.group == "policy":
            assert calibrated.params[name] == regime.params[name], name
        elif name in behaviour:
            assert calibrated.params[name] == behaviour[name], name
        else:
            assert calibrated.params[name] == regime.params[name], name
