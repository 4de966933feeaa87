"""Fast checks of the dashboard without a browser: the session state, the checks on every
value a page can send, the figures, and the page's widgets (``solara.render``).

A modified page can send any JSON value for any widget; setting a widget's ``v_model`` in
``solara.render`` is exactly what the server receives then, so these are the tests of
server-side validation."""

from __future__ import annotations

import os
import re

import pytest

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")
ipywidgets = pytest.importorskip("ipywidgets")

from ecosystem_sim.levers import LEVERS, by_group  # noqa: E402
from ecosystem_sim.model import EcosystemModel  # noqa: E402
from ecosystem_sim.viz import app  # noqa: E402
from ecosystem_sim.viz import dashboard_figures as figs  # noqa: E402
from ecosystem_sim.viz import dashboard_session as ds  # noqa: E402


# ------------------------------------------------------------------ session and checks
def test_presets_are_the_shipped_scenarios():
    shipped = {p.stem for p in ds.SCENARIOS_DIR.glob("*.toml")}
    assert {"job_creation", "citizen_led"} <= set(ds.PRESETS) and len(ds.PRESETS) == len(shipped)
    sizes = ds.population_choices()
    assert 10_000 in sizes and min(sizes) >= LEVERS["n_citizens"].low and max(sizes) <= ds.max_citizens()


def test_every_policy_lever_has_a_labelled_slider_from_the_table():
    shown = [lv.name for group in ds.lever_groups().values() for lv in group]
    assert sorted(shown) == sorted(lv.name for lv in by_group("policy"))
    for lever in by_group("policy"):
        label = ds.lever_label(lever)
        assert "_" not in label and label[0].isupper()
        opts = ds.slider_options(lever)
        assert opts["min"] == lever.low and opts["max"] == lever.high
        assert 0 < opts["step"] <= (lever.high - lever.low) / 20


def test_adapter_is_the_plain_model_with_the_same_inputs():
    m = ds.DashboardModel(regime="citizen_led", n_citizens=2000, seed="3")
    assert m.spec.name == "citizen_led" and m.population.n == 2000 and m.seed == 3
    plain = EcosystemModel(ds.build_scenario("citizen_led", 2000), rng=3)
    for _ in range(4):
        m.step()
        plain.step()
    assert m.current == plain.current


@pytest.mark.parametrize("value", ["../../etc/passwd", "", None, 3, ["job_creation"], "JOB_CREATION"])
def test_regime_names_only_from_the_scenarios(value):
    with pytest.raises(ds.InputError, match="regime"):
        ds.check_regime(value)


@pytest.mark.parametrize("value", [1e12, "1e12", 2_000_000, 199, 10_001, -5, None, "abc", True, float("nan"), [1]])
def test_population_is_capped_and_offered_sizes_only(value):
    with pytest.raises(ds.InputError, match="population"):
        ds.check_population(value)
    assert ds.check_population("2000") == 2000 and ds.check_population(5000.0) == 5000


def test_population_cap_comes_from_the_server(monkeypatch):
    monkeypatch.setenv(ds.MAX_CITIZENS_ENV, "5000")
    assert max(ds.population_choices()) == 5000
    with pytest.raises(ds.InputError):
        ds.check_population(10_000)
    monkeypatch.setenv(ds.MAX_CITIZENS_ENV, "10000000")  # never above the lever table
    assert ds.max_citizens() == LEVERS["n_citizens"].high


@pytest.mark.parametrize("value", ["abc", "-5", -5, "1e5", "4294967296", 2**32, 2**64, "", " ", None, 1.5, True,
                                   "9" * 5000])
def test_seed_refused_not_silently_zero(value):
    with pytest.raises(ds.InputError, match="seed") as err:
        ds.check_seed(value)
    assert len(str(err.value)) < 200  # a long value does not flood the page


def test_seed_accepted():
    assert ds.check_seed(" 12 ") == 12 and ds.check_seed(0) == 0 and ds.check_seed(str(ds.SEED_MAX)) == ds.SEED_MAX


@pytest.mark.parametrize("value", [None, "0.5", 1.5, -0.1, float("nan"), float("inf"), True, [0.5], {}])
def test_lever_values_through_the_lever_table(value):
    m = ds.DashboardModel("job_creation", 1000, 1)
    before = dict(m.spec.params)
    with pytest.raises(ds.InputError, match="Safety net"):
        m.set_lever("safety_net", value)
    assert dict(m.spec.params) == before and m.lever_log == []


def test_only_policy_levers_can_be_set():
    m = ds.DashboardModel("job_creation", 1000, 1)
    for name in ("n_citizens", "steps", "wage", "nope", None):
        with pytest.raises(ds.InputError):
            m.set_lever(name, 1)


def test_levers_and_shocks_act_on_the_running_model():
    m = ds.DashboardModel(regime="job_creation", n_citizens=1000, seed=1)
    m.step()
    m.set_lever("safety_net", 0.8)
    m.set_lever("safety_net", 0.9)  # a drag leaves one entry
    assert m.spec.safety_net == 0.9 and m.lever_log == [(1, "safety_net", 0.9)]
    before = m.government.budget_factor
    m.fire_shock("budget_cut", strength=0.5)
    assert m.government.budget_factor == pytest.approx(0.5 * before)
    m.fire_shock("keystone_loss", target="intermediary", count=1)
    assert [k for _, k in m.shock_log] == ["budget_cut", "keystone_loss"]


@pytest.mark.parametrize("kind, options", [
    ("budget_cut", {"strength": 5}),
    ("budget_cut", {"strength": -1}),
    ("budget_cut", {"strength": None}),
    ("budget_cut", {"strength": "0.5"}),
    ("keystone_loss", {"target": "mayor"}),
    ("need_surge", {"domain": "space"}),
    ("need_surge", {"domain": None}),
    ("downturn", {"duration": -3}),
    ("keystone_loss", {"count": 0}),
    ("budget_cut", {"step": 3}),
    ("meteor", {}),
    (None, {}),
])
def test_fire_shock_validates(kind, options):
    m = ds.DashboardModel("job_creation", 1000, 1)
    m.step()
    budget = m.government.budget_factor
    with pytest.raises(ds.InputError):
        m.fire_shock(kind, **options)
    assert m.shock_log == [] and m.government.budget_factor == budget
    m.step()  # the model still runs


def test_reset_keeps_earlier_runs_and_axes_until_cleared():
    session = ds.Session(ds.DashboardModel("job_creation", 1000, 0))
    for _ in range(5):
        session.model.step()
    session.model.fire_shock("budget_cut", strength=0.5)
    first = session.model
    session.reset("citizen_led", 1000, 2)
    assert session.model is not first and session.model.regime == "citizen_led" and session.model.seed == 2
    (ref,) = session.references
    assert ref.label.startswith("job_creation") and "budget cut m5" in ref.label
    assert len(ref.series["jobs_total"]) == 6  # months 0-5
    chart = figs.LiveCharts("Jobs", session.horizon, session.references, session.axis_tops)
    top = session.axis_tops["Jobs"]
    assert top >= max(ref.series["jobs_subsidised"].max(), ref.series["jobs_self_sustaining"].max())
    chart.frame(session.model)
    assert chart.ax.get_ylim()[1] == top
    with pytest.raises(ds.InputError):  # a refused input keeps the current run and references
        session.reset("../x", 1000, 0)
    assert session.model.regime == "citizen_led" and len(session.references) == 1
    session.reset("citizen_led", 1000, 3)  # an unstarted run leaves no reference
    assert len(session.references) == 1
    for i in range(ds.MAX_REFERENCES + 2):
        session.model.step()
        session.reset("job_creation", 1000, i)
    assert len(session.references) == ds.MAX_REFERENCES
    session.clear_references()
    assert session.references == [] and session.axis_tops == {}


def test_live_figures_are_pngs():
    m = ds.DashboardModel(regime="citizen_led", n_citizens=1000, seed=0)
    net = figs.LiveNetwork(figs.NetworkLayout(m), ds.describe(m))
    charts = [figs.LiveCharts(title, horizon=int(m.spec.steps)) for title in figs.CHARTS]
    m.fire_shock("programme_end")
    for _ in range(3):
        m.step()
        images = [net.frame(m)] + [c.frame(m, m.lever_log) for c in charts]
    assert all(img[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert all(k in m.current for chart in figs.CHARTS.values() for k in chart)
    assert set(figs.CHART_UNITS) == set(figs.CHARTS)
    assert len(figs.png(figs.network_figure(m))) > 1000


def test_network_legend_is_inside_the_figure_at_month_zero():
    m = ds.DashboardModel(regime="job_creation", n_citizens=1000, seed=0)
    net = figs.LiveNetwork(figs.NetworkLayout(m), ds.describe(m))
    net.frame(m)
    renderer = net.canvas.get_renderer()
    fig_box = net.fig.bbox
    for legend in net.fig.legends:
        box = legend.get_window_extent(renderer)
        assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1 and fig_box.y0 <= box.y0 and box.y1 <= fig_box.y1


def test_a_chart_drawn_again_keeps_the_sessions_axis_top():
    # The page draws a chart anew at every Reset and whenever its tile is re-rendered; a top
    # rounded up again each time grew 100 -> 200 -> 250 -> 500 with the data near 80.
    session = ds.Session(ds.DashboardModel("job_creation", 1000, 0))
    first = figs.LiveCharts("Jobs", session.horizon, session.references, session.axis_tops)
    for _ in range(40):
        session.model.step()
        first.frame(session.model)
    session.reset("citizen_led", 1000, 0)
    tops = [figs.LiveCharts("Jobs", session.horizon, session.references, session.axis_tops).top for _ in range(4)]
    data_max = max(session.references[0].series[k].max() for k in figs.CHARTS["Jobs"])
    assert tops == [first.top] * 4 and data_max <= first.top <= 2.5 * data_max, (tops, first.top, data_max)


@pytest.mark.parametrize("months", [100, 230])
def test_earlier_runs_tags_stay_inside_the_chart_and_the_network_counts_whole_jobs(months):
    # The README picture: a run stopped at month 100 of 240 as the earlier run. Its full label
    # once ran over the y axis label and off the figure; the chart carries regime and seed.
    session = ds.Session(ds.DashboardModel("job_creation", 1000, 0))
    for _ in range(months):
        session.model.step()
    session.reset("citizen_led", 1000, 0)
    for title in ("Jobs", "Citizens"):
        chart = figs.LiveCharts(title, session.horizon, session.references, session.axis_tops)
        chart.frame(session.model)
        renderer = chart.canvas.get_renderer()
        (tag,) = chart.ax.texts
        assert tag.get_text() == "job_creation \u00b7 seed 0"
        box, fig_box = tag.get_window_extent(renderer), chart.fig.bbox
        assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1, (title, box, fig_box)
    m = session.model
    for _ in range(30):
        m.step()
    net = figs.LiveNetwork(figs.NetworkLayout(m), ds.describe(m))
    net.frame(m)
    assert re.search(r"organisations, \d[\d,]* jobs, \d+ partners$", net.title.get_text()), net.title.get_text()


# ------------------------------------------------------------------ the page
def _walk(widget):
    yield widget
    slots = [slot.get("children") for slot in getattr(widget, "v_slots", None) or ()]
    for child in [*(getattr(widget, "children", None) or ()), *slots]:
        for item in child if isinstance(child, (list, tuple)) else [child]:
            if isinstance(item, ipywidgets.Widget):
                yield from _walk(item)


def _texts(rc) -> list[str]:
    """Every text on the page (walking the widget tree: ``rc.find`` misses some redrawn parts)."""
    return [w.children[0] for w in _walk(rc.container) if isinstance(w, v.Html) and w.children
            and isinstance(w.children[0], str)]


def _month(rc) -> int:
    (line,) = [t for t in _texts(rc) if t.startswith("Month ")]
    return int(re.match(r"Month (\d+)", line).group(1))


def _errors(rc) -> list[str]:
    return [str(w.children[0]) for w in rc.find(v.Alert).widgets if w.children]


@pytest.fixture()
def rc():
    box, rc = solara.render(app.Page(), handle_error=False)
    try:
        yield rc
    finally:
        rc.close()


def test_page_controls_work(rc):
    assert len(rc.find(ipywidgets.Image).widgets) == 1  # guided lesson: one chart
    rc.find(v.Checkbox, label="Guided lesson").widget.v_model = False
    assert len(rc.find(ipywidgets.Image).widgets) == 7  # network + six charts
    labels = [w.children[0] for w in rc.find(v.Btn).widgets if w.children]
    for label in ("Reset", "Step", "End of subsidies", "Budget cut", "Keystone loss", "Clear earlier runs"):
        assert label in labels
    for leftover in ("Page 0", "Use Threads", "Solara"):
        assert not any(leftover in t for t in _texts(rc) + labels)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert _month(rc) == 2
    rc.find(v.Slider, class_="lever-safety_net").widget.v_model = 0.85
    assert "Safety net for failed projects: 0.85 share 0-1" in _texts(rc)
    rc.find(v.Btn, children=["Budget cut"]).widget.click()
    assert "Events: month 2: Budget cut; month 2: safety_net = 0.85" in _texts(rc)
    rc.find(v.Select, class_="ecosim-regime").widget.v_model = "citizen_led"
    rc.find(v.Select, class_="ecosim-population").widget.v_model = 2000
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert _month(rc) == 0 and not _errors(rc)
    assert f"Safety net for failed projects: {ds.preset('citizen_led').safety_net:g} share 0-1" in _texts(rc)
    assert "Events: none yet" in _texts(rc)
    assert any(t.startswith("Earlier runs on the charts: job_creation") for t in _texts(rc))


def test_guided_lesson_steps(rc):
    questions = []
    for _ in range(len(app.LESSON)):
        questions += [t for t in _texts(rc) if t in {q for q, _, _ in app.LESSON}]
        assert len(rc.find(ipywidgets.Image).widgets) == 1
        if rc.find(v.Btn, children=["Next question"]).widget.disabled:
            break
        rc.find(v.Btn, children=["Next question"]).widget.click()
    assert questions == [q for q, _, _ in app.LESSON]


@pytest.mark.parametrize("widget, value, message", [
    ("ecosim-regime", "../../etc/passwd", "regime"),
    ("ecosim-population", 1e12, "population"),
    ("ecosim-population", 2_000_000, "population"),
    ("ecosim-seed", "4294967296", "seed"),
    ("ecosim-seed", "abc", "seed"),
    ("ecosim-seed", "-5", "seed"),
    ("ecosim-seed", "1e5", "seed"),
])
def test_modified_run_inputs_show_a_message_and_keep_the_run(rc, widget, value, message):
    rc.find(v.Btn, children=["Step"]).widget.click()
    cls = v.TextField if widget == "ecosim-seed" else v.Select
    rc.find(cls, class_=widget).widget.v_model = value
    rc.find(v.Btn, children=["Reset"]).widget.click()
    (error,) = _errors(rc)
    assert error.startswith(message) and "Traceback" not in error and "/" not in error.replace(value if
                                                                                              isinstance(value, str) else "", "")
    assert _month(rc) == 1  # the run goes on


@pytest.mark.parametrize("widget, value", [
    ("lever-safety_net", None), ("lever-safety_net", "x"), ("lever-safety_net", 7), ("lever-budget_per_1000", -1),
    ("lever-programme_length", 6.5), ("ecosim-strength", 5), ("ecosim-target", "mayor"), ("ecosim-domain", "space"),
    ("ecosim-interval", -10), ("ecosim-interval", None),
])
def test_modified_levers_and_shock_options_show_a_message(rc, widget, value):
    cls = v.Select if widget in ("ecosim-target", "ecosim-domain") else v.Slider
    rc.find(cls, class_=widget).widget.v_model = value
    if widget.startswith("ecosim-") and widget != "ecosim-interval":
        kind = {"ecosim-strength": "Budget cut", "ecosim-target": "Keystone loss", "ecosim-domain": "Need surge"}
        rc.find(v.Btn, children=[kind[widget]]).widget.click()
        assert "Events: none yet" in _texts(rc)
    (error,) = _errors(rc)
    assert "Traceback" not in error and len(error) < 300
    rc.find(v.Btn, children=["Step"]).widget.click()  # still works
    assert _month(rc) == 1


def test_sessions_are_separate():
    """Two pages rendered in one process (two kernels on a server) have their own regions."""
    _, one = solara.render(app.Page(), handle_error=False)
    _, two = solara.render(app.Page(), handle_error=False)
    try:
        for _ in range(3):
            one.find(v.Btn, children=["Step"]).widget.click()
        assert (_month(one), _month(two)) == (3, 0)
    finally:
        one.close()
        two.close()


def test_a_closed_page_releases_its_memory_once(monkeypatch):
    """Closing a page (its kernel ends) schedules one release of freed memory to the system; a
    class closing thirty pages at once costs one pass (docs/dashboard.md, "A class on one server")."""
    import threading
    import time

    def pending():
        return [t for t in threading.enumerate() if t.name == "ecosim-release-memory"]

    deadline = time.monotonic() + 10 * ds.RELEASE_DELAY_S
    while pending() and time.monotonic() < deadline:   # pages closed by earlier tests
        time.sleep(0.1)
    passes = []
    monkeypatch.setattr(ds, "release_memory", lambda: passes.append(time.monotonic()))
    pages = [solara.render(app.Page(), handle_error=False)[1] for _ in range(3)]
    assert passes == []
    for rc in pages:
        rc.close()
    deadline = time.monotonic() + 10 * ds.RELEASE_DELAY_S
    while not passes and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    assert len(passes) == 1


@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_memory_gives_the_heap_back_on_glibc():
    assert ds.release_memory() is True
