"""``ecosim dashboard``: serve the browser dashboard on this machine.

    ecosim dashboard [SCENARIO] [--host 127.0.0.1] [--port 8765]

Runs ``solara run ecosystem_sim.viz.app --production --no-open`` with telemetry off and
the scenario's path in ``ECOSIM_DASHBOARD_SCENARIO``. The page is bound to the loopback
address unless ``--host`` says otherwise. Stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..cli import UsageError
from ..scenario import load_scenario

APP_MODULE = "ecosystem_sim.viz.app"
SCENARIO_ENV = "ECOSIM_DASHBOARD_SCENARIO"  # the same name as app.SCENARIO_ENV (not imported: slow)
DEFAULT_PORT = 8765


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be an integer in [1, 65535], got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be an integer in [1, 65535], got {value!r}")
    return port


def register(subparsers) -> None:
    """Add the ``dashboard`` sub-command to ``ecosim``."""
    d = subparsers.add_parser(
        "dashboard", help="open the interactive dashboard in the browser (needs the 'dashboard' extra)",
        description="Serve the interactive dashboard (Mesa SolaraViz) at http://HOST:PORT.")
    d.add_argument("scenario", nargs="?", default=None,
                   help="scenario TOML to start with (default: job_creation); it joins the regime picker")
    d.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    d.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    d.set_defaults(func=cmd_dashboard)


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the app."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
            "--production", "--no-open"]


def server_env(scenario: str | os.PathLike | None, base: dict | None = None) -> dict[str, str]:
    """Environment for the server: telemetry off, the scenario path if any."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if scenario:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    return env


def _check_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise UsageError(f"--host {host!r}: cannot resolve this address ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        try:
            sock.bind(address)
        except OSError as err:
            raise UsageError(f"--port {port}: cannot listen on {host}:{port} ({err.strerror}); "
                             "choose another with --port") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_dashboard(args) -> int:
    if args.scenario is not None:
        load_scenario(args.scenario)  # a bad file stops here with ScenarioError (exit 2)
    for module in ("solara", "mesa.visualization"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            raise UsageError(f"the dashboard needs the '{module}' package: pip install -e '.[dashboard]'")
    _check_free(args.host, args.port)
    if not _is_loopback(args.host):
        print(f"ecosim dashboard: warning: listening on {args.host}, so other machines can reach the page",
              file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"ecosim dashboard: serving at http://{shown}:{args.port}/ (Ctrl-C to stop)", flush=True)
    return serve(server_command(args.host, args.port), server_env(args.scenario))


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits; SIGTERM/SIGHUP/Ctrl-C to this process stop it too."""
    child = subprocess.Popen(command, env=env)

    def stop(signum, frame):  # noqa: ARG001
        child.terminate()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()  # the child got the Ctrl-C too; make sure it goes
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
