"""``ecosim dashboard``: arguments, errors (exit 2) and the server command, without
starting a server (the browser test does that)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecosystem_sim.cli import build_parser, main
from ecosystem_sim.viz import dashboard_cli

ROOT = Path(__file__).resolve().parents[2]


def test_registered_with_defaults():
    args = build_parser().parse_args(["dashboard"])
    assert args.func is dashboard_cli.cmd_dashboard
    assert (args.scenario, args.host, args.port) == (None, "127.0.0.1", dashboard_cli.DEFAULT_PORT)


def test_server_command_and_environment(tmp_path):
    cmd = dashboard_cli.server_command("127.0.0.1", 8800)
    assert cmd[:4] == [sys.executable, "-m", "solara", "run"]
    assert cmd[4] == "ecosystem_sim.viz.app"
    assert cmd[5:] == ["--host", "127.0.0.1", "--port", "8800", "--production", "--no-open"]
    env = dashboard_cli.server_env("scenarios/citizen_led.toml", base={"ECOSIM_DASHBOARD_SCENARIO": "x",
                                                                      "SOLARA_KERNEL_CULL_TIMEOUT": "5m"})
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_THEME_SHOW_BANNER"] == "False"  # no "This website runs on Solara"
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == "5m"  # the teacher's setting wins
    assert dashboard_cli.server_env(None, base={})["SOLARA_KERNEL_CULL_TIMEOUT"] == dashboard_cli.CULL_TIMEOUT
    capped = dashboard_cli.server_env(None, base={}, max_citizens=5000, guided=False)
    assert capped["ECOSIM_DASHBOARD_MAX_CITIZENS"] == "5000" and capped["ECOSIM_DASHBOARD_GUIDED"] == "0"
    assert Path(env["ECOSIM_DASHBOARD_SCENARIO"]).is_absolute()
    assert "ECOSIM_DASHBOARD_SCENARIO" not in dashboard_cli.server_env(None, base={"ECOSIM_DASHBOARD_SCENARIO": "x"})


def test_bad_scenario_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nsafety_net = 3\n")
    assert main(["dashboard", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "safety_net" in err and "[0, 1]" in err
    assert main(["dashboard", str(tmp_path / "missing.toml")]) == 2


def test_bad_max_citizens_exits_2(capsys):
    for bad in ("10", "abc", "3000000"):
        with pytest.raises(SystemExit) as exc:
            main(["dashboard", "--max-citizens", bad])
        assert exc.value.code == 2
    assert "--max-citizens must be a whole number" in capsys.readouterr().err


def test_bad_port_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["dashboard", "--port", "70000"])
    assert exc.value.code == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert "choose another with --port" in capsys.readouterr().err


def test_scenario_file_joins_the_regime_picker(tmp_path):
    own = tmp_path / "my_region.toml"
    own.write_text(f'name = "my_region"\ninherits = "{ROOT / "scenarios" / "citizen_led.toml"}"\n'
                   "[region]\nn_citizens = 2000\n")
    code = ("from ecosystem_sim.viz import app; s = app.new_session(); "
            "print(app.DEFAULT_REGIME, 'job_creation' in app.PRESETS, s.model.spec.name, s.model.population.n)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={**dashboard_cli.server_env(own), "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["my_region", "True", "my_region", "2000"]
