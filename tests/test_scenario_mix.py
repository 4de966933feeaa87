"""A scenario between two presets: ``[mix] from, to, weight`` in a scenario file, and
``--set mix=W`` on such a file; the same interpolation as an experiment file's ``mix``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecosystem_sim import load_scenario
from ecosystem_sim.experiments import build_design, load_experiment
from ecosystem_sim.levers import LEVERS, by_group
from ecosystem_sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
POLICY = [lv.name for lv in by_group("policy")]


def _mix_file(tmp_path, weight="0.25", extra=""):
    path = tmp_path / "between.toml"
    path.write_text(f'name = "between"\n[mix]\nfrom = "{SC / "job_creation.toml"}"\nto = "{SC / "citizen_led.toml"}"\n'
                    f"weight = {weight}\n{extra}")
    return path


def test_mix_interpolates_every_policy_lever(tmp_path):
    a, b = load_scenario(SC / "job_creation.toml"), load_scenario(SC / "citizen_led.toml")
    sc = load_scenario(_mix_file(tmp_path))
    for k in POLICY:
        expected = 0.75 * a.params[k] + 0.25 * b.params[k]
        if LEVERS[k].integer:
            assert sc.params[k] == round(expected)
        else:
            assert sc.params[k] == pytest.approx(expected)
    assert sc.programme_length == 30 and sc.share_wage_subsidy == pytest.approx(0.4625)
    assert load_scenario(_mix_file(tmp_path, "0")).params == {**sc.params, **{k: a.params[k] for k in POLICY}}


def test_own_tables_override_the_mix_and_region_comes_from_defaults(tmp_path):
    sc = load_scenario(_mix_file(tmp_path, extra="[policy]\nsafety_net = 0.05\n[region]\nn_citizens = 2000\n"))
    assert sc.safety_net == 0.05 and sc.n_citizens == 2000
    assert sc.commons_share == pytest.approx(0.75 * 0.1 + 0.25 * 0.8)


def test_mix_weight_override_moves_the_scenario(tmp_path):
    path = _mix_file(tmp_path)
    assert load_scenario(path, {"mix": 1.0}).params == load_scenario(_mix_file(tmp_path, "1.0")).params


def test_same_values_as_an_experiment_files_mix(tmp_path):
    exp = tmp_path / "e.toml"
    exp.write_text(f'base = "{SC / "job_creation.toml"}"\npresets = ["{SC / "job_creation.toml"}", '
                   f'"{SC / "citizen_led.toml"}"]\n[levers.mix]\nvalues = [0.25]\n')
    point = build_design(load_experiment(exp)).points[0].scenario["params"]
    sc = load_scenario(_mix_file(tmp_path))
    assert {k: point[k] for k in POLICY} == {k: sc.params[k] for k in POLICY}


@pytest.mark.parametrize("body, key, fragment", [
    ('[mix]\nfrom = "job_creation.toml"\nweight = 0.5\n', "mix.to", "must be a path"),
    ('[mix]\nfrom = "job_creation.toml"\nto = "nope.toml"\nweight = 0.5\n', "mix.to", "no such scenario file"),
    ('[mix]\nfrom = "job_creation.toml"\nto = "citizen_led.toml"\nweight = 1.5\n', "mix.weight", "[0, 1]"),
    ('[mix]\nfrom = "job_creation.toml"\nto = "citizen_led.toml"\nweight = 0.5\nsteps = 3\n', "mix.steps",
     "unknown key"),
    ('mix = 0.5\n', "mix", "must be a table"),
])
def test_bad_mix_tables_name_file_key_and_allowed(tmp_path, body, key, fragment):
    for name in ("job_creation.toml", "citizen_led.toml"):
        (tmp_path / name).write_text((SC / name).read_text())
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.where == str(path) and err.value.key == key and fragment in err.value.allowed


def _ecosim(*args):
    return subprocess.run([sys.executable, "-m", "ecosystem_sim.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_set_mix_on_the_command_line(tmp_path):
    out = tmp_path / "run"
    ok = _ecosim("run", _mix_file(tmp_path), "--set", "mix=0.5", "--set", "n_citizens=600", "--set",
                 "citizens_per_community=100", "--steps", "3", "--out", out)
    assert ok.returncode == 0, ok.stderr
    import json
    params = json.loads((out / "summary.json").read_text())["scenario"]["params"]
    assert params["programme_length"] == 36 and params["share_wage_subsidy"] == pytest.approx(0.325)
    bad = _ecosim("run", SC / "citizen_led.toml", "--set", "mix=0.5", "--steps", "3", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "mix = 0.5" in bad.stderr and "has no [mix] table" in bad.stderr
    assert not (tmp_path / "x").exists()
