"""Figures in one style (words, units, labelled shocks, the twin, captions saying what a band is)
and the self-contained HTML report beside report.md, checked in a real browser when one exists."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecosystem_sim import glossary, load_scenario
from ecosystem_sim.measures import MEASURES
from ecosystem_sim.viz import plots, style

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/lib/chromium/chromium")


@pytest.fixture
def captured(monkeypatch):
    """Figures as they are finished (before saving), keyed by file name."""
    figs = {}
    original = style.finish

    def keep(fig, path, *a, **k):
        figs[Path(path).name] = fig
        return original(fig, path, *a, **k)

    monkeypatch.setattr(style, "finish", keep)
    return figs


def _measures(level: float, steps: int = 24) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({m: level + rng.random(steps + 1) for m in MEASURES}, index=pd.RangeIndex(steps + 1, name="step"))


def test_run_figures_draw_the_twin_label_shocks_and_units(tmp_path, captured):
    shock = load_scenario(ROOT / "scenarios" / "keystone_loss.toml").shocks[0]
    shocked, twin = _measures(1.0, 200), _measures(2.0, 200)
    made = plots.run_figures(shocked, tmp_path, "citizen_led", [shock], twin=twin)
    assert {f.path.name for f in made} == {f"{p}.png" for p in plots.PANELS}
    for f in made:
        assert f.path.read_bytes()[:4] == b"\x89PNG"
        fig = captured[f.path.name]
        ax = fig.axes[0]
        solid = [l for l in ax.get_lines() if l.get_linestyle() == "-"]
        dashed = [l for l in ax.get_lines() if l.get_linestyle() == "--" and l.get_xdata()[0] != l.get_xdata()[-1]]
        assert len(solid) == len(dashed) >= 2                      # each measure: shocked and twin
        assert ax.get_xlabel() == "month" and ax.get_ylabel()
        texts = [t.get_text() for t in ax.texts]
        assert any("keystone loss" in t and f"month {shock.step}" in t for t in texts), texts
        title = fig._suptitle.get_text()
        assert "_" not in title.split(":")[0]
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        assert "no-shock twin (same seed)" in legend
        assert all("_" not in t for t in legend)
        assert "twin" in f.caption


def test_band_figure_says_its_band_is_a_ci_of_the_mean(tmp_path, captured):
    rows = []
    for name, level in (("a", 1.0), ("b", 2.0)):
        for rep in range(5):
            m = _measures(level + rep * 0.1, 12).reset_index()
            m["scenario"], m["replicate"] = name, rep
            rows.append(m)
    tidy = pd.concat(rows)
    fig = plots.band_figure(tidy, ["jobs_self_sustaining", "need_met_share"], tmp_path / "b.png", "a vs b",
                            [load_scenario(ROOT / "scenarios" / "keystone_loss.toml").shocks[0]])
    assert "95 % confidence interval of the mean" in fig.caption and "5 replicate runs" in fig.caption
    axes = [ax for ax in captured["b.png"].axes if ax.axison]
    assert [ax.get_title() for ax in axes] == ["Self-sustaining jobs", "Needs served"]
    assert [ax.get_ylabel() for ax in axes] == [glossary.term("jobs_self_sustaining").unit,
                                                glossary.term("need_met_share").unit]
    # the band is the t-interval of the mean of the five replicates, not their 2.5-97.5 % spread
    band = plots.ci_band(tidy[tidy.scenario == "a"], "jobs_self_sustaining")
    v = tidy[(tidy.scenario == "a") & (tidy.step == 3)]["jobs_self_sustaining"].to_numpy()
    from scipy import stats
    lo, hi = stats.t.interval(0.95, 4, loc=v.mean(), scale=stats.sem(v))
    assert band.loc[3, "lo"] == pytest.approx(lo) and band.loc[3, "hi"] == pytest.approx(hi)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    from ecosystem_sim.compare import compare

    out = tmp_path_factory.mktemp("compare")
    small = {"n_citizens": 500, "steps": 30, "shocks": [{"kind": "budget_cut", "step": 15, "strength": 0.5}]}
    scs = [load_scenario(ROOT / "scenarios" / f).with_overrides(small) for f in ("job_creation.toml",
                                                                              "citizen_led.toml")]
    compare(scs, 3, out, progress=False)
    return out


def test_compare_writes_a_self_contained_html_report(compared):
    md = (compared / "report.md").read_text()
    html = (compared / "report.html").read_text()
    images = re.findall(r'<img[^>]*src="([^"]*)"', html)
    assert len(images) == md.count("![") == 2
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="(?!data:)[^"#]+"', html)      # nothing to fetch besides the file
    assert "<table>" in html and "Glossary" in html and "95 % confidence intervals of the mean" in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/install-browser)")
def test_html_report_renders_in_a_browser(compared, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((compared / "report.html").as_uri())
        widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
        tables = page.evaluate("document.querySelectorAll('table').length")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert len(widths) == 2 and min(widths) > 500          # both figures decoded and drawn
    assert tables >= 4
    from PIL import Image
    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape[0] > 2000 and (img < 128).mean() > 0.01   # a long page with content on it
