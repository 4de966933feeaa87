"""Measure the dashboard server: months per second per session with N sessions playing, and the
server's memory per session opened, reset and closed. Not a test (timing belongs in
benchmarks); the figures in docs/dashboard.md come from it:

    .venv/bin/python tests/dashboard/measure_sessions.py --sessions 1 2 4 --seconds 30
    .venv/bin/python tests/dashboard/measure_sessions.py --memory 10

Each session is a separate headless Chromium context with the guided lesson off (all seven
pictures redrawn every month: the heaviest view), the default region (10,000 citizens) and
the default pause (100 ms). The browsers run on the same machine, so the figures are a lower
bound for a server whose students browse from their own computers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, _free_port, _months, _open  # noqa: E402
from test_session_memory import server_rss_mb  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402


def start(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "ecosystem_sim.cli", "dashboard", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(360):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="*", default=[])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--memory", type=int, default=0, help="sessions to open, reset and close")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds to wait after closing (cull: 2 min)")
    args = parser.parse_args()
    port = _free_port()
    server = start(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            print(f"server idle: {server_rss_mb(server.pid):.0f} MB")
            for n in args.sessions:
                pages = [_open(browser, url) for _ in range(n)]
                for pg in pages:
                    pg.get_by_role("button", name="\u25b6", exact=True).click()
                start_months = [_months(pg) for pg in pages]
                t0 = time.monotonic()
                time.sleep(args.seconds)
                rates = [(_months(pg) - m0) / (time.monotonic() - t0) for pg, m0 in zip(pages, start_months)]
                print(f"{n} sessions playing: months/s per session {min(rates):.1f}-{max(rates):.1f} "
                      f"(mean {sum(rates) / n:.1f}); server {server_rss_mb(server.pid):.0f} MB")
                for pg in pages:
                    pg.context.close()
                time.sleep(3)
            if args.memory:
                first = _open(browser, url)
                time.sleep(3)
                base = server_rss_mb(server.pid)
                print(f"1 session open: {base:.0f} MB")
                for round_ in range(2):
                    pages = [_open(browser, url) for _ in range(args.memory)]
                    for pg in pages:
                        for _ in range(3):
                            pg.get_by_role("button", name="Step", exact=True).click()
                        pg.get_by_role("button", name="Reset", exact=True).click()
                    time.sleep(3)
                    opened = server_rss_mb(server.pid)
                    for pg in pages:  # as a student closing the tab: the page tells the server
                        pg.close(run_before_unload=True)
                        pg.context.close()
                    time.sleep(args.wait)
                    closed = server_rss_mb(server.pid)
                    print(f"round {round_ + 1}: {args.memory} more sessions opened, stepped, reset: {opened:.0f} MB "
                          f"({(opened - base) / args.memory:.0f} MB each); all closed: {closed:.0f} MB "
                          f"({(closed - base) / args.memory:+.1f} MB per closed session)")
                first.context.close()
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
