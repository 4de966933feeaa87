"""Bad experiment files: exit 2, one line naming file, key, value and what is allowed; nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecosystem_sim.cli import main
from ecosystem_sim.experiments import build_design, load_experiment

from exp_helpers import TINY

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    # (replace this, with this, expected key, expected fragment of 'allowed')
    ("[levers.safety_net]", "[levers.safety_nett]", "levers.safety_nett", "unknown lever"),
    ("values = [0.0, 1.0]", "range = [0.0, 1.5]", "levers.safety_net.range", "within the lever's range [0, 1]"),
    ("values = [0.0, 1.0]", "values = [0.0, 2.0]", "levers.safety_net.values[1]", "must be in [0, 1]"),
    ("replications = 2", "replications = 0", "replications", "integer >= 1"),
    ("steps = 30", "steps = 30\nbogus = 1", "bogus", "unknown key"),
    ("strength = 0.6", "strength = 1.6", "shocks[0].strength", "number in [0, 1]"),
    ("kind = \"budget_cut\"", "kind = \"earthquake\"", "shocks[0].kind", "must be one of"),
    ("step = 12", "step = 40", "shocks[0].step", "before the end of the run"),
    ("n_citizens = 500", "n_citizens = 50", "overrides.n_citizens", "must be in [200, 2000000]"),
    ('measures = ["jobs_total"', 'measures = ["jobs_totl"', "measures[0]", "unknown measure"),
    ("[levers.safety_net]\nvalues = [0.0, 1.0]", "[design]\nkind = \"sobol\"\nsamples = 10\n"
     "[levers.safety_net]\nrange = [0.0, 1.0]\n[levers.commons_share]\nrange = [0.0, 1.0]",
     "design.samples", "power of 2"),
    ("[levers.safety_net]\nvalues = [0.0, 1.0]", "[design]\nkind = \"latin\"", "design.kind", "grid, lhs, sobol, morris"),
    ("[levers.safety_net]\nvalues = [0.0, 1.0]", "[levers.mix]\nvalues = [0.0, 1.5]", "levers.mix.values[1]",
     "number in [0, 1]"),
]


@pytest.mark.parametrize("old,new,key,allowed", CASES)
def test_bad_file_names_file_key_value_and_allowed(tmp_path, capsys, old, new, key, allowed):
    assert old in TINY
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace(old, new, 1))
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert str(path) in err and f"{key} =" in err and allowed in err, err
    assert not out.exists()


def test_missing_base_and_bad_toml(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace(str(ROOT / "scenarios" / "citizen_led.toml"), "nowhere.toml", 1))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "base = 'nowhere.toml'" in err and "no such scenario file" in err
    path.write_text("name = [")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such experiment file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_file_from_the_command_line_has_no_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace("replications = 2", "replications = \"many\""))
    r = subprocess.run([sys.executable, "-m", "ecosystem_sim.cli", "sweep", str(path), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("ecosim sweep: error: ") and "replications = 'many'" in r.stderr


def test_analyze_without_store_is_a_usage_error(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert "no results.sqlite" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_experiments_are_valid_and_sane(path):
    design = build_design(load_experiment(path))
    assert 50 <= len(design.runs) <= 1100  # minutes, not hours, on 2 cores (runs of 1,000-10,000 citizens)
    assert len({r.run_id for r in design.runs}) == len(design.runs)


def test_mix_interpolates_every_policy_lever():
    d = build_design(load_experiment(ROOT / "experiments" / "regime_comparison.toml"))
    by_mix = {p.params["mix"]: p.scenario["params"] for p in d.points}
    from ecosystem_sim.scenario import load_scenario
    a = load_scenario(ROOT / "scenarios" / "job_creation.toml").params
    b = load_scenario(ROOT / "scenarios" / "citizen_led.toml").params
    assert by_mix[0.0]["safety_net"] == a["safety_net"] and by_mix[1.0]["safety_net"] == b["safety_net"]
    assert by_mix[0.5]["commons_share"] == pytest.approx((a["commons_share"] + b["commons_share"]) / 2)
    assert by_mix[0.5]["programme_length"] == round((a["programme_length"] + b["programme_length"]) / 2)
    assert {p.regime for p in d.points} == {"job_creation", "citizen_led", "mix 0.25", "mix 0.5", "mix 0.75"}
