"""Fast checks of the dashboard without a browser: the adapter, the inputs generated
from the levers table, the figures, and the page's widgets (``solara.render``)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")
pytest.importorskip("mesa.visualization")

from ecosystem_sim.levers import LEVERS, by_group  # noqa: E402
from ecosystem_sim.model import EcosystemModel  # noqa: E402
from ecosystem_sim.scenario import ScenarioError  # noqa: E402
from ecosystem_sim.viz import app  # noqa: E402
from ecosystem_sim.viz import dashboard_figures as figs  # noqa: E402


def test_presets_include_both_regimes():
    assert {"job_creation", "citizen_led"} <= set(app.PRESETS)
    params = app.model_params()
    assert params["regime"]["values"] == list(app.PRESETS)
    assert params["regime"]["value"] == app.DEFAULT_REGIME
    sizes = params["n_citizens"]["values"]
    assert 10_000 in sizes and min(sizes) >= LEVERS["n_citizens"].low and max(sizes) <= app.POPULATION_MAX


def test_every_policy_lever_has_a_slider_from_the_table():
    shown = [lv.name for group in app.POLICY_GROUPS.values() for lv in group]
    assert sorted(shown) == sorted(lv.name for lv in by_group("policy"))
    for lever in by_group("policy"):
        opts = app.slider_options(lever)
        assert opts["min"] == lever.low and opts["max"] == lever.high
        assert 0 < opts["step"] <= (lever.high - lever.low) / 20


def test_adapter_builds_the_preset_with_population_and_seed():
    m = app.DashboardModel(regime="citizen_led", n_citizens=2000, seed="3")
    assert m.spec.name == "citizen_led" and m.population.n == 2000 and m.seed == 3
    assert m.spec.safety_net == app.preset("citizen_led").safety_net
    # The same run as the plain model with the same scenario and seed.
    plain = EcosystemModel(app.build_scenario("citizen_led", 2000), rng=3)
    for _ in range(4):
        m.step()
        plain.step()
    assert m.current == plain.current
    assert app.parse_seed("x") == 0 and app.parse_seed(-4) == 0 and app.parse_seed(" 12 ") == 12


def test_levers_and_shocks_act_on_the_running_model():
    m = app.DashboardModel(regime="job_creation", n_citizens=1000, seed=1)
    m.step()
    m.set_lever("safety_net", 0.8)
    m.set_lever("safety_net", 0.9)  # a drag leaves one entry
    assert m.spec.safety_net == 0.9 and m.lever_log == [(1, "safety_net", 0.9)]
    with pytest.raises(ScenarioError):
        m.set_lever("safety_net", 1.5)
    before = m.government.budget_factor
    m.fire_shock("budget_cut", strength=0.5)
    assert m.government.budget_factor == pytest.approx(0.5 * before)
    m.fire_shock("keystone_loss", target="intermediary", count=1)
    assert [k for _, k in m.shock_log] == ["budget_cut", "keystone_loss"]
    m.spec = m.spec.with_overrides({"steps": 3})
    m.step()
    m.step()
    assert m.steps == 3 and not m.running


def test_live_figures_are_pngs_and_cheap_after_the_first():
    import time

    m = app.DashboardModel(regime="citizen_led", n_citizens=1000, seed=0)
    net = figs.LiveNetwork(figs.NetworkLayout(m), app.describe(m))
    charts = [figs.LiveCharts(pair, horizon=int(m.spec.steps)) for pair in figs.CHART_PAIRS]
    for _ in range(3):
        m.step()
        images = [net.frame(m)] + [c.frame(m, m.lever_log) for c in charts]
    assert all(img[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    m.fire_shock("programme_end")
    start = time.perf_counter()
    for _ in range(5):
        m.step()
        net.frame(m)
        for c in charts:
            c.frame(m, m.lever_log)
    per_frame = (time.perf_counter() - start) / 5
    assert per_frame < 1.0, f"drawing one month took {per_frame:.2f} s"
    # Every measure the charts show exists.
    assert all(k in m.current for chart in figs.CHARTS.values() for k in chart)
    fig = figs.network_figure(m)
    assert len(figs.png(fig)) > 1000


def test_page_renders_and_its_controls_work():
    box, rc = solara.render(solara.AppLayout(children=[app.page]), handle_error=False)
    try:
        import ipywidgets

        assert len(rc.find(ipywidgets.Image).widgets) == 4  # network + three chart pairs
        labels = [w.children[0] for w in rc.find(v.Btn).widgets if w.children]
        for label in ("Reset", "Step", "End of subsidies", "Budget cut", "Keystone loss"):
            assert label in labels
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Html, children=["Time: 2.0"]).assert_single()

        rc.find(v.Slider, class_="lever-safety_net").widget.v_model = 0.85
        rc.find(v.Html, children=["safety_net = 0.85"]).assert_single()

        rc.find(v.Btn, children=["Budget cut"]).widget.click()
        rc.find(v.Html, children=["Events: month 2: Budget cut; month 2: safety_net = 0.85"]).assert_single()

        # Pick the other regime and a smaller region, then Reset builds it.
        rc.find(v.Select, label="Regime (preset)").widget.v_model = "citizen_led"
        rc.find(v.Select, label="Population (citizens)").widget.v_model = 2000
        rc.find(v.Btn, children=["Reset"]).widget.click()
        rc.find(v.Html, children=["Time: 0.0"]).assert_single()
        citizen_led = app.preset("citizen_led")
        rc.find(v.Html, children=[f"safety_net = {citizen_led.safety_net:g}"]).assert_single()
        rc.find(v.Html, children=["Events: none yet"]).assert_single()
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Html, children=["Time: 1.0"]).assert_single()
    finally:
        rc.close()


MODEL_MODULES = ("model", "agents", "innovation", "diffusion", "population", "measures", "shocks", "levers",
                 "scenario", "run")


def test_model_never_imports_viz():
    import ast
    from pathlib import Path

    root = Path(app.__file__).resolve().parents[1]
    for stem in MODEL_MODULES:
        tree = ast.parse((root / f"{stem}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any("viz" in n or "solara" in n for n in names), f"{stem}.py imports {names}"
