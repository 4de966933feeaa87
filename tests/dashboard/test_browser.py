"""The dashboard in a real browser: ``ecosim dashboard`` on a free loopback port, opened
in headless Debian Chromium through Playwright.

Checks that the page mounts offline, that the network view and the charts render, and
that a lever slider, Step, a shock button and Reset work. Saves a screenshot to a
temporary folder. With ``ECOSIM_UPDATE_SCREENSHOT=1`` it also plays the citizen-led
regime for about 100 months with a budget cut and writes ``docs/img/dashboard.png``
(the README's picture).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
SERVER_START_S = 180
PAGE_S = 120_000  # ms, first page load (the server imports the app and builds a region)
UI_S = 30_000  # ms, one interaction

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"Debian chromium not installed at {CHROMIUM} (run scripts/install-browser)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) not installed")
pytest.importorskip("solara", reason="dashboard extra not installed: pip install -e '.[dashboard]'")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (ecosim and its solara child), politely first."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers (the solara child) if any
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    env.pop("ECOSIM_DASHBOARD_SCENARIO", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "ecosystem_sim.cli", "dashboard", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dashboard server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dashboard server not up after {SERVER_START_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


@pytest.fixture()
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            pg = context.new_page()
            pg.set_default_timeout(UI_S)
            errors: list[str] = []
            pg.on("pageerror", lambda exc: errors.append(str(exc)))
            pg.goto(server, timeout=PAGE_S)
            pg.get_by_role("button", name="Step", exact=True).wait_for(timeout=PAGE_S)
            pg.page_errors = errors
            yield pg
        finally:
            browser.close()


def _wait_images(pg, count: int = 4) -> None:
    """Wait until ``count`` images of at least 300 px (network + chart pairs) are decoded."""
    pg.wait_for_function(
        "n => [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth >= 300).length >= n",
        arg=count, timeout=PAGE_S)


def _months(pg) -> float:
    return float(pg.get_by_text(re.compile(r"^Time: ")).inner_text().split(":")[1])


def test_dashboard_renders_and_responds(page, tmp_path):
    pg = page
    _wait_images(pg)
    for text in ("Shocks (happen now)", "Policy levers (change the running model)", "Time: 0.0"):
        sync_api.expect(pg.get_by_text(text, exact=True)).to_have_count(1)
    # The network view and chart images are real pictures, not broken links.
    sizes = pg.evaluate("[...document.querySelectorAll('img')].map(i => [i.naturalWidth, i.naturalHeight])")
    assert sum(1 for w, h in sizes if w >= 300 and h >= 200) >= 4, sizes

    step = pg.get_by_role("button", name="Step", exact=True)
    step.click()
    pg.get_by_text("Time: 1.0", exact=True).wait_for()
    step.click()
    pg.get_by_text("Time: 2.0", exact=True).wait_for()

    # Move a lever: click at 80 % of the safety-net slider's track.
    slider = pg.locator(".lever-safety_net")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    slider.click(position={"x": box["width"] * 0.8, "y": box["height"] / 2})
    pg.get_by_text(re.compile(r"^safety_net = 0\.[6-9]")).wait_for()

    pg.get_by_role("button", name="Budget cut", exact=True).click()
    pg.get_by_text(re.compile(r"^Events: month 2: Budget cut")).wait_for()
    step.click()
    pg.get_by_text("Time: 3.0", exact=True).wait_for()
    _wait_images(pg)
    shot = tmp_path / "dashboard.png"
    pg.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000

    pg.get_by_role("button", name="Reset", exact=True).click()
    pg.get_by_text("Time: 0.0", exact=True).wait_for()
    pg.get_by_text("Events: none yet", exact=True).wait_for()
    pg.get_by_text("safety_net = 0", exact=True).wait_for()  # back to the job_creation preset
    assert not pg.page_errors, pg.page_errors


@pytest.mark.skipif(os.environ.get("ECOSIM_UPDATE_SCREENSHOT") != "1",
                    reason="set ECOSIM_UPDATE_SCREENSHOT=1 to rewrite docs/img/dashboard.png")
def test_readme_screenshot(page):
    """Play the citizen-led regime with a budget cut near month 60 and save the README picture."""
    pg = page
    pg.get_by_role("button", name="Regime (preset)").click()
    pg.get_by_role("option", name="citizen_led", exact=True).click()
    pg.get_by_role("button", name="Reset", exact=True).click()
    pg.get_by_text(re.compile(r"^Regime citizen_led:")).wait_for()
    _wait_images(pg)
    pg.get_by_role("button", name="▶", exact=True).click()
    deadline = time.monotonic() + 600
    cut = False
    while time.monotonic() < deadline:
        months = _months(pg)
        if months >= 60 and not cut:
            pg.get_by_role("button", name="Budget cut", exact=True).click()
            cut = True
        if months >= 100:
            break
        time.sleep(0.5)
    for _ in range(3):  # the button is redrawn every month; retry if a click lands on a stale one
        pg.get_by_role("button", name="❚❚", exact=True).click()
        try:
            pg.get_by_role("button", name="▶", exact=True).wait_for(timeout=10_000)
            break
        except sync_api.TimeoutError:
            continue
    pg.get_by_text("Controls", exact=True).scroll_into_view_if_needed()
    time.sleep(2)
    _wait_images(pg)
    raw = ROOT / "docs" / "img" / "dashboard.raw.png"
    raw.parent.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(raw))
    from PIL import Image

    out = ROOT / "docs" / "img" / "dashboard.png"
    with Image.open(raw) as im:
        im.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(out, optimize=True)
    raw.unlink()
    assert out.stat().st_size < 300_000
