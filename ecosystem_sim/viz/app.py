"""The browser dashboard for classes: one region per browser session, drawn with Solara.

Serve it with ``ecosim dashboard [SCENARIO]`` (which runs ``solara run`` on this module).
Every browser page gets its own Solara kernel, and everything a page shows lives in that
kernel's component state (:class:`~ecosystem_sim.viz.dashboard_session.Session`, built in
:func:`Dashboard` with ``use_memo``): nothing is created at import time, so thirty students on
one server have thirty regions, and a closed page's region goes with its kernel.

What is on the page:

* left, the controls: Reset / Play / Step and the pause between months; the run's regime
  (the presets in ``scenarios/*.toml`` plus the file given on the command line), population
  and seed; the guided-lesson switch; buttons that fire a shock now; and a slider for every
  policy lever of the levers table, labelled in words with its unit;
* right, either the guided lesson (one question and the one chart that answers it, step by
  step) or every picture at once: what this run is and how to read the pictures, the
  ecosystem as a network, and six charts. Earlier runs of the session stay on the charts as
  faint, labelled reference curves, and the axes stay fixed until "Clear earlier runs".

Every value the page sends is checked on the server (``dashboard_session.check_*``); a
refused value shows as a message in the page and changes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import reacton.core
import solara

from ecosystem_sim.levers import DOMAINS, ORG_KINDS, Lever
from ecosystem_sim.scenario import SHOCK_KINDS, ScenarioError
from ecosystem_sim.viz.dashboard_figures import CHARTS, DPI, LiveCharts, LiveNetwork, NetworkLayout
from ecosystem_sim.viz.dashboard_session import (DEFAULT_REGIME, GUIDED_ENV, PLAY_INTERVAL_MS, PRESETS,
                                                 SHOCK_LABELS, DashboardModel, Session, check_play_interval,
                                                 default_population, describe, lever_groups, lever_label,
                                                 population_choices, release_memory_soon, slider_options)

log = logging.getLogger(__name__)

TITLE = "Social-innovation ecosystem"
GUIDED_DEFAULT = os.environ.get(GUIDED_ENV, "1").strip().lower() not in ("0", "false", "no", "off")
WAIT_FOR_PAGE_S = 2.0
BIG_DPI = 200
"""The guided lesson's one chart: the tile's figure at twice the resolution (crisp when it fills
two thirds of a 1920 x 1080 screen)."""

LESSON: tuple[tuple[str, str, str], ...] = (
    ("Where do the jobs come from?", "Jobs",
     "With the job_creation regime, press \u25b6 and let the region run three or four years. Which line "
     "grows: jobs paid by wage subsidies (red) or jobs paid from the organisations' own income (green)?"),
    ("What happens when the subsidies end?", "Jobs",
     "Near month 60 press End of subsidies (left, under Shocks) and keep playing. Which jobs survive? "
     "The dashed line marks the shock."),
    ("Are citizens' needs being served?", "Need",
     "Watch unmet need (red) and the share of needs served (green) as the run goes on. Does the "
     "programme reach the people it is for?"),
    ("Does the citizen-led regime do better?", "Need",
     "Pick the citizen_led regime, press Reset, then \u25b6, and end the subsidies at the same month. "
     "Your first run stays as faint curves on the same axes: compare."),
    ("Who holds the ecosystem together?", "Network",
     "Look at the network: partnerships (grey lines), intermediaries (red diamonds) and green "
     "communities. Press Keystone loss: does the network hold?"),
    ("Chance or regime?", "Adoption per domain",
     "Change the seed, press Reset and run again. Do the new curves land near the faint ones of the "
     "same regime? Then the difference you saw is the regime's, not chance."),
)
"""The guided lesson: (question, the chart that answers it, what to do and look at)."""

HOW_TO_READ = (
    "Network: big circles are communities (size = residents, colour = share using a solution); dots are "
    "organisations (colour = kind, size = jobs); red diamonds are intermediaries, dashed lines the "
    "communities they serve; grey lines are partnerships. Charts: dashed vertical lines are shocks, "
    "dotted ones lever changes; faint curves are your earlier runs (labelled), on the same axes."
)

CSS = """
html, body { overflow: hidden; }
.v-application--wrap { min-height: 0 !important; }
.ecosim-root { display: flex; flex-direction: row; height: 100vh; width: 100vw; overflow: hidden;
               font-size: 15px; margin: 0 !important; }
.ecosim-side { flex: 0 0 300px; width: 300px; height: 100vh; overflow-y: auto; padding: 6px 8px;
               border-right: 1px solid #ddd; background: #fafafa; }
.ecosim-side .v-card { margin-bottom: 6px !important; }
.ecosim-side .v-card__title { font-size: 15px; padding: 6px 10px 2px 10px; }
.ecosim-main { flex: 1 1 auto; min-width: 0; height: 100vh; padding: 4px; box-sizing: border-box; }
.ecosim-grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr));
               grid-template-rows: repeat(3, minmax(0, 1fr)); gap: 4px; height: 100%; width: 100%; }
.ecosim-guided { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2fr); gap: 8px;
                 height: 100%; width: 100%; }
.ecosim-tile { min-height: 0; min-width: 0; overflow: hidden; display: flex; align-items: center;
               justify-content: center; background: white; border: 1px solid #eee; }
.ecosim-tile img { width: 100%; height: 100%; object-fit: contain; }
.ecosim-text { overflow-y: auto; align-items: flex-start; justify-content: flex-start; padding: 6px 10px;
               font-size: clamp(13px, 1.05vw, 20px); line-height: 1.35; display: block; }
.ecosim-question { font-size: clamp(20px, 1.7vw, 32px); font-weight: bold; margin: 6px 0; }
.ecosim-small { font-size: clamp(12px, 0.9vw, 17px); }
.ecosim-lever-label { font-size: 13px; line-height: 1.2; margin-top: 4px; }
.ecosim-side .v-select, .ecosim-side .v-text-field { margin-top: 14px; padding-top: 0; }
"""


def new_session() -> Session:
    """A fresh session: the default regime at its preset population, seed 0."""
    return Session(DashboardModel(DEFAULT_REGIME, default_population(DEFAULT_REGIME), 0))


@solara.component
def Layout(children=()):  # noqa: B006 -- solara passes the page here; no app bar, no framework banner
    return solara.Column(children=list(children), style={"padding": "0", "margin": "0"}, gap="0px")


@solara.component
def Page():
    """The page of one browser session. An unexpected error in drawing shows as a message with
    a button to start again, never as a traceback."""
    exception, clear = reacton.core.use_exception()
    solara.Title(TITLE)
    if exception is not None:
        log.error("dashboard page failed", exc_info=exception)
        with solara.Column(style={"padding": "24px"}):
            solara.Error(f"Something went wrong on the server ({type(exception).__name__}). "
                         "Press the button to start this page again.")
            solara.Button("Start again", color="primary", on_click=clear)
        return
    Dashboard()


@solara.component
def Dashboard():
    session: Session = solara.use_memo(new_session, [])  # one region per browser session
    run_id = solara.use_reactive(0)  # +1 on Reset: the pictures are rebuilt for the new run
    refs_version = solara.use_reactive(0)  # +1 when the earlier runs change
    tick = solara.use_reactive(0)  # +1 on every month or change; the pictures subscribe to it
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(100)
    error = solara.use_reactive(None)
    guided = solara.use_reactive(GUIDED_DEFAULT)
    render_context = reacton.core.get_render_context(required=False)
    # when the page closes (or its kernel is culled) the session's region is freed; give the
    # memory back to the system, not only to Python
    solara.use_effect(lambda: release_memory_soon, [])

    def play_loop(cancel: threading.Event):
        if not playing.value:
            return
        model = session.model
        while playing.value and not cancel.is_set() and model is session.model and model.running:
            time.sleep(interval.value / 1000)
            _wait_for_page(render_context)
            if cancel.is_set():
                break
            model.step()
            tick.value += 1
        if model is session.model and not model.running:
            playing.value = False

    solara.use_thread(play_loop, dependencies=[playing.value, run_id.value], intrusive_cancel=False)

    solara.Style(CSS)
    with solara.Row(classes=["ecosim-root"], gap="0px"):
        with solara.Column(classes=["ecosim-side"], gap="4px"):
            Controls(session, run_id, refs_version, tick, playing, interval, error, guided)
            ShockPanel(session, run_id.value, tick, error)
            LeverPanel(session, run_id.value, tick, error)
        with solara.Column(classes=["ecosim-main"], gap="0px"):
            if guided.value:
                GuidedLesson(session, run_id.value, refs_version.value, tick)
            else:
                AllPictures(session, run_id.value, refs_version.value, tick)


def _wait_for_page(render_context, timeout: float = WAIT_FOR_PAGE_S) -> None:
    """Wait (at most ``timeout`` s) while the page is being redrawn by another thread.

    The play loop redraws in its own thread when it sets the month. A redraw started by a click
    runs in another thread; if the loop kept stepping meanwhile, every redraw pass would see a new
    month and reacton would give up after 100 passes ("Too many renders")."""
    lock = getattr(render_context, "thread_lock", None)
    if lock is None:
        return
    deadline = time.monotonic() + timeout
    while lock.locked() and time.monotonic() < deadline:
        time.sleep(0.005)


def _guard(error: solara.Reactive, action, *args, **kwargs) -> bool:
    """Run a page action; a refused value becomes the page's message. True if it went through."""
    try:
        action(*args, **kwargs)
    except ScenarioError as err:
        error.value = str(err) if not hasattr(err, "allowed") else _message(err)
        return False
    except Exception as err:  # never a traceback on the page; the server log has it
        log.exception("dashboard action failed")
        error.value = f"That did not work ({type(err).__name__}); the run is unchanged."
        return False
    error.value = None
    return True


def _message(err: ScenarioError) -> str:
    return f"{err.key} = {err.value!r}: {err.allowed}" if err.where == "dashboard" else str(err)


@solara.component
def Controls(session: Session, run_id, refs_version, tick, playing, interval, error, guided):
    """Title, month, Reset / Play / Step, the next run's inputs, and the lesson switch."""
    regime = solara.use_reactive(session.model.regime)
    population = solara.use_reactive(session.model.population.n)
    seed = solara.use_reactive(str(session.model.seed))
    model = session.model
    tick.value  # noqa: B018 -- subscribe: the month and the buttons' state change every month

    def reset():
        playing.value = False
        if _guard(error, session.reset, regime.value, population.value, seed.value):
            run_id.value += 1
            refs_version.value += 1
            tick.value += 1

    def step():
        if playing.value or not session.model.running:
            return
        session.model.step()
        tick.value += 1

    def play_pause():
        playing.value = not playing.value and session.model.running

    def set_interval(value):
        _guard(error, lambda: setattr(interval, "value", check_play_interval(value)))

    def clear_references():
        session.clear_references()
        refs_version.value += 1

    solara.Text(TITLE, style={"font-size": "17px", "font-weight": "bold"})
    solara.Text(f"Month {model.steps} of {int(model.spec.steps)} \u00b7 {describe(model)}",
                classes=["ecosim-month"], style={"font-size": "14px"})
    with solara.Row(gap="6px"):
        solara.Button("Reset", color="primary", on_click=reset, small=True)
        solara.Button("\u275a\u275a" if playing.value else "\u25b6", color="primary", on_click=play_pause,
                      disabled=not model.running, small=True)
        solara.Button("Step", color="primary", on_click=step, disabled=playing.value or not model.running,
                      small=True)
    solara.v.Slider(v_model=interval.value, on_v_model=set_interval, min=PLAY_INTERVAL_MS[0],
                    max=PLAY_INTERVAL_MS[1], step=50, dense=True, hide_details=True,
                    label="Pause (ms)", class_="ecosim-interval")
    if error.value:
        solara.Error(error.value, dense=True)
    with solara.Card("Next run (press Reset)"):
        solara.v.Select(label="Regime", v_model=regime.value, items=list(PRESETS), dense=True, hide_details=True,
                        on_v_model=lambda v: setattr(regime, "value", v), class_="ecosim-regime")
        solara.v.Select(label="Population (citizens)", v_model=population.value,
                        items=[{"text": f"{s:,}", "value": s} for s in population_choices()], dense=True,
                        hide_details=True, on_v_model=lambda v: setattr(population, "value", v),
                        class_="ecosim-population")
        solara.v.TextField(label="Seed (whole number)", v_model=seed.value, dense=True, hide_details=True,
                           on_v_model=lambda v: setattr(seed, "value", v), class_="ecosim-seed")
        with solara.Row(gap="6px", style={"align-items": "center"}):
            solara.Checkbox(label="Guided lesson", value=guided)
            solara.Button("Clear earlier runs", small=True, text=True, on_click=clear_references,
                          disabled=not session.references and not session.axis_tops)


@solara.component
def ShockPanel(session: Session, run_id: int, tick, error):
    """Buttons that fire a shock now, with its options."""
    strength = solara.use_reactive(0.5)
    target = solara.use_reactive("intermediary")
    domain = solara.use_reactive(DOMAINS[0])

    def fire_now(kind: str):
        if _guard(error, session.model.fire_shock, kind, strength=strength.value, target=target.value,
                  domain=domain.value):
            tick.value += 1

    with solara.Card("Shocks (happen now)"):
        with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
            for kind, doc in SHOCK_KINDS.items():
                with solara.Tooltip(doc):
                    solara.Button(SHOCK_LABELS.get(kind, kind), color="warning", small=True,
                                  on_click=lambda kind=kind: fire_now(kind))
        solara.v.Slider(v_model=strength.value, on_v_model=lambda v: setattr(strength, "value", v), min=0.05,
                        max=1.0, step=0.05, dense=True, hide_details=True, thumb_label=True,
                        label="Strength (0-1)", class_="ecosim-strength")
        solara.v.Select(label="Keystone loss: kind", v_model=target.value, items=[*ORG_KINDS, "any"], dense=True,
                        hide_details=True, on_v_model=lambda v: setattr(target, "value", v), class_="ecosim-target")
        solara.v.Select(label="Need surge: domain", v_model=domain.value, items=list(DOMAINS), dense=True,
                        hide_details=True, on_v_model=lambda v: setattr(domain, "value", v), class_="ecosim-domain")
        EventLog(session, tick)


@solara.component
def EventLog(session: Session, tick):
    """Shocks (fired or scheduled) and lever changes so far, by month."""
    tick.value  # noqa: B018 -- subscribe
    model = session.model
    events = [(s, f"month {s}: {SHOCK_LABELS.get(k, k)}") for s, k in model.shock_log]
    events += [(s, f"month {s}: {name} = {v:g}") for s, name, v in model.lever_log]
    events = [text for _, text in sorted(events, key=lambda e: e[0])]
    solara.Text("Events: " + ("; ".join(events) if events else "none yet"), classes=["ecosim-small"])


@solara.component
def LeverPanel(session: Session, run_id: int, tick, error):
    """A slider per policy lever of the levers table, in words with its unit."""
    with solara.Card("Policy levers (act from next month)"):
        for group, levers in lever_groups().items():
            solara.Text(group, style={"font-weight": "bold", "font-size": "13px"})
            for lever in levers:
                LeverSlider(session, lever, run_id, tick, error)


@solara.component
def LeverSlider(session: Session, lever: Lever, run_id: int, tick, error):
    """One lever: its name in words, value and unit, and a slider (CSS class ``lever-NAME``).
    It redraws only when the lever changes or the run is replaced, not every month."""
    version = solara.use_reactive(0)
    version.value  # noqa: B018 -- subscribe: a change below redraws this slider
    model = session.model
    value = model.spec.params[lever.name]

    def change(new):
        if _guard(error, model.set_lever, lever.name, new):
            tick.value += 1
        version.value += 1

    with solara.Tooltip(lever.doc):
        solara.Text(f"{lever_label(lever)}: {value:g} {lever.unit}", classes=["ecosim-lever-label"])
    solara.v.Slider(v_model=value, on_v_model=change, hide_details=True, dense=True,
                    class_=f"lever-{lever.name}", **slider_options(lever))


@solara.component
def NetworkTile(session: Session, run_id: int, tick, big: bool = False):
    """The ecosystem as a network, redrawn every month."""
    tick.value  # noqa: B018 -- subscribe
    model = session.model
    live = solara.use_memo(lambda: LiveNetwork(NetworkLayout(model, seed=model.seed), describe(model),
                                               dpi=BIG_DPI if big else DPI), [run_id, big])
    with model.lock:
        image = live.frame(model)
    with solara.Div(classes=["ecosim-tile", "ecosim-chart", "ecosim-network"]):
        solara.Image(image)


@solara.component
def ChartTile(session: Session, title: str, run_id: int, refs_version: int, tick, big: bool = False):
    """One chart of ``dashboard_figures.CHARTS`` with the session's earlier runs."""
    tick.value  # noqa: B018 -- subscribe
    model = session.model
    live = solara.use_memo(lambda: LiveCharts(title, session.horizon, session.references, session.axis_tops,
                                              dpi=BIG_DPI if big else DPI), [run_id, refs_version, title, big])
    with model.lock:
        image = live.frame(model, model.lever_log)
    with solara.Div(classes=["ecosim-tile", "ecosim-chart"]):
        solara.Image(image)


@solara.component
def AboutRun(session: Session, run_id: int):
    """What this run is and how to read the pictures."""
    model = session.model
    with solara.Div(classes=["ecosim-tile", "ecosim-text", "ecosim-about"]):
        solara.Text(f"This run: {describe(model)}", style={"font-weight": "bold", "display": "block"})
        solara.Text(model.spec.description or "(no description)", style={"display": "block"})
        solara.Text(HOW_TO_READ, style={"display": "block", "margin-top": "6px"}, classes=["ecosim-small"])


@solara.component
def AllPictures(session: Session, run_id: int, refs_version: int, tick):
    """Every picture at once: the explanation, the network and six charts, in a 3 x 3 grid that
    fits the window."""
    with solara.Div(classes=["ecosim-grid"]):
        AboutRun(session, run_id)
        NetworkTile(session, run_id, tick)
        for title in CHARTS:
            ChartTile(session, title, run_id, refs_version, tick)
        with solara.Div(classes=["ecosim-tile", "ecosim-text"]):
            solara.Text("Earlier runs on the charts: " + ("; ".join(r.label for r in session.references)
                                                          if session.references else "none yet (press Reset "
                                                          "after a run to keep it as faint curves)"))


@solara.component
def GuidedLesson(session: Session, run_id: int, refs_version: int, tick):
    """One question at a time, with the one picture that answers it."""
    index = solara.use_reactive(0)
    number = min(max(int(index.value), 0), len(LESSON) - 1)
    question, chart, task = LESSON[number]
    with solara.Div(classes=["ecosim-guided"]):
        with solara.Div(classes=["ecosim-tile", "ecosim-text", "ecosim-lesson"]):
            solara.Text(f"Lesson, step {number + 1} of {len(LESSON)}", classes=["ecosim-small"],
                        style={"display": "block"})
            solara.Text(question, classes=["ecosim-question"], style={"display": "block"})
            solara.Text(task, style={"display": "block"})
            with solara.Row(gap="6px", style={"margin": "10px 0"}):
                solara.Button("Back", small=True, disabled=number == 0,
                              on_click=lambda: setattr(index, "value", max(number - 1, 0)))
                solara.Button("Next question", small=True, color="primary", disabled=number == len(LESSON) - 1,
                              on_click=lambda: setattr(index, "value", min(number + 1, len(LESSON) - 1)))
            solara.Text(f"This run: {describe(session.model)}", style={"display": "block", "font-weight": "bold"})
            solara.Text(session.model.spec.description or "", classes=["ecosim-small"], style={"display": "block"})
            solara.Text(HOW_TO_READ, classes=["ecosim-small"], style={"display": "block", "margin-top": "6px"})
            solara.Text("Switch off 'Guided lesson' (left) to see every chart at once.", classes=["ecosim-small"],
                        style={"display": "block", "margin-top": "6px"})
        if chart == "Network":
            NetworkTile(session, run_id, tick, big=True)
        else:
            ChartTile(session, chart, run_id, refs_version, tick, big=True)


page = Page()
"""The page element (for notebooks: display ``page``); ``solara run`` uses :func:`Page`."""
