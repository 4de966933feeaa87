"""``ecosim dashboard``: serve the browser dashboard on this machine.

    ecosim dashboard [SCENARIO] [--host 127.0.0.1] [--port 8765] [--max-citizens N] [--no-guide]

Runs ``solara run ecosystem_sim.viz.app --production --no-open`` with telemetry off, the
scenario's path in ``ECOSIM_DASHBOARD_SCENARIO``, the population cap and the lesson switch in
the environment, Solara's "runs on Solara" banner off, and closed or lost pages' sessions
culled after :data:`CULL_TIMEOUT` (Solara keeps them 24 hours by default). The page is bound to
the loopback address unless ``--host`` says otherwise. Stop it with Ctrl-C.
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
# The same names as in dashboard_session (not imported here: importing the model is slow).
SCENARIO_ENV = "ECOSIM_DASHBOARD_SCENARIO"
MAX_CITIZENS_ENV = "ECOSIM_DASHBOARD_MAX_CITIZENS"
GUIDED_ENV = "ECOSIM_DASHBOARD_GUIDED"
DEFAULT_PORT = 8765
CULL_TIMEOUT = "2m"
"""How long the server keeps the session of a page whose connection is lost (a closed tab's
session goes at once); a reconnect within this time finds its run again."""
SERVER_DEFAULTS = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",  # no "This website runs on Solara" on a projector
    "SOLARA_THEME_LOADER": "plain",
    "SOLARA_THEME_TITLE": "Social-innovation ecosystem",
    "SOLARA_KERNEL_CULL_TIMEOUT": CULL_TIMEOUT,
    # Memory of closed sessions goes back to the system (with viz.dashboard_session.release_memory
    # after each session): Python objects on the C heap instead of pymalloc's arenas, which stay
    # mapped while one object in them lives, and two heaps instead of eight per core for the
    # session threads. Measured in docs/dashboard.md; no cost in months per second measured there.
    "PYTHONMALLOC": "malloc",
    "MALLOC_ARENA_MAX": "2",
}
"""Solara and allocator settings for the classroom server; a value already in the environment
wins (except telemetry, always off)."""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be an integer in [1, 65535], got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be an integer in [1, 65535], got {value!r}")
    return port


def _max_citizens(value: str) -> int:
    from ..levers import LEVERS

    lever = LEVERS["n_citizens"]
    allowed = f"--max-citizens must be a whole number in [1000, {int(lever.high)}], got {value!r}"
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(allowed) from None
    if not 1000 <= number <= lever.high:
        raise argparse.ArgumentTypeError(allowed)
    return number


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
    d.add_argument("--max-citizens", type=_max_citizens, default=None, metavar="N",
                   help="largest region a page may build (default 20,000; each session at that size "
                        "holds about 60 MB: see docs/dashboard.md)")
    d.add_argument("--no-guide", action="store_true",
                   help="start pages with the guided lesson switched off (the page has a switch too)")
    d.set_defaults(func=cmd_dashboard)


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the app."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
            "--production", "--no-open"]


def server_env(scenario: str | os.PathLike | None, base: dict | None = None, max_citizens: int | None = None,
               guided: bool = True) -> dict[str, str]:
    """Environment for the server: :data:`SERVER_DEFAULTS`, the scenario path if any, the
    population cap and the lesson switch."""
    env = dict(os.environ if base is None else base)
    for key, value in SERVER_DEFAULTS.items():
        env.setdefault(key, value)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if scenario:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    if max_citizens is not None:
        env[MAX_CITIZENS_ENV] = str(int(max_citizens))
    if not guided:
        env[GUIDED_ENV] = "0"
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
    env = server_env(args.scenario, max_citizens=getattr(args, "max_citizens", None),
                     guided=not getattr(args, "no_guide", False))
    try:
        return serve(server_command(args.host, args.port), env)
    except KeyboardInterrupt:
        print("\necosim dashboard: stopped", file=sys.stderr)
        return 130


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
