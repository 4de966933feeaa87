"""The browser dashboard: a Mesa SolaraViz page for classes and newcomers.

Serve it with ``ecosim dashboard [SCENARIO]`` (which runs ``solara run`` on this module),
or in a notebook display ``page``. What is on it:

* left, Mesa's controls (Reset / Play / Step, play speed) and the model parameters:
  the regime picker (the presets in ``scenarios/*.toml`` plus the file given on the
  command line), population size and seed; Reset builds a new region from them;
* left, below: buttons that fire a shock *now* (end of subsidies, budget cut, keystone
  loss, downturn, need surge) and a slider for every policy lever of the levers table,
  showing the running model's value; moving one changes the policy from the next month;
* right: the ecosystem as a network and live charts of jobs, organisations by kind,
  adoption per domain, need, participation and capacity, and money. Shocks are dashed
  vertical lines, lever changes dotted ones.

The model package never imports this module. :class:`DashboardModel` is the thin
adapter Mesa needs (it builds models from keyword arguments): it turns the regime and
slider values into a :class:`~ecosystem_sim.scenario.Scenario` and adds a lock so that
buttons pressed while the model plays act between two months, never inside one.
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from pathlib import Path

import reacton.core
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from ecosystem_sim.levers import DOMAINS, LEVERS, ORG_KINDS, Lever, by_group
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import SHOCK_KINDS, Scenario, ScenarioError, Shock, default_scenario, load_scenario
from ecosystem_sim.shocks import fire
from ecosystem_sim.viz.dashboard_figures import CHART_PAIRS, LiveCharts, LiveNetwork, NetworkLayout

SCENARIO_ENV = "ECOSIM_DASHBOARD_SCENARIO"
"""Environment variable with the path of the scenario given to ``ecosim dashboard``."""

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
POPULATION_MAX = 50_000
"""Largest region the dashboard offers (a month at 50,000 citizens takes ~0.1 s)."""

SHOCK_LABELS = {
    "programme_end": "End of subsidies",
    "budget_cut": "Budget cut",
    "keystone_loss": "Keystone loss",
    "downturn": "Downturn",
    "need_surge": "Need surge",
}


# ------------------------------------------------------------------ regimes
def find_presets(extra: str | os.PathLike | None = None, folder: Path = SCENARIOS_DIR) -> dict[str, Path | None]:
    """Regime name -> scenario file: every valid ``folder/*.toml``, then ``extra``
    (the file given on the command line, which wins on a name clash). Files that do not
    validate are skipped with a warning. Falls back to ``{"defaults": None}``."""
    presets: dict[str, Path | None] = {}
    paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if extra:
        paths.append(Path(extra))
    for path in paths:
        try:
            presets[load_scenario(path).name] = path
        except ScenarioError as err:
            if extra and path == Path(extra):
                raise
            warnings.warn(f"dashboard: skipping {path}: {err}", stacklevel=2)
    return presets or {"defaults": None}


PRESETS = find_presets(os.environ.get(SCENARIO_ENV) or None)


def _initial_regime() -> str:
    extra = os.environ.get(SCENARIO_ENV)
    if extra:
        return load_scenario(extra).name
    return "job_creation" if "job_creation" in PRESETS else next(iter(PRESETS))


DEFAULT_REGIME = _initial_regime()


def preset(regime: str) -> Scenario:
    """The scenario of a regime name (one of :data:`PRESETS`)."""
    if regime not in PRESETS:
        raise ScenarioError("dashboard", "regime", regime, f"must be one of: {', '.join(PRESETS)}")
    path = PRESETS[regime]
    return default_scenario() if path is None else load_scenario(path)


def build_scenario(regime: str, n_citizens: int | None = None, overrides: dict | None = None) -> Scenario:
    """The regime's preset with the population slider and any lever values applied."""
    scenario = preset(regime)
    changes = dict(overrides or {})
    if n_citizens is not None and int(n_citizens) != scenario.n_citizens:
        changes["n_citizens"] = int(n_citizens)
    return scenario.with_overrides(changes, where="dashboard") if changes else scenario


# ------------------------------------------------------------------ the adapter
class DashboardModel(EcosystemModel):
    """An :class:`EcosystemModel` built from the dashboard's inputs.

    Args:
        regime: a key of :data:`PRESETS`.
        n_citizens: population (overrides the preset's ``n_citizens``).
        seed: random seed (a whole number >= 0, or text holding one; anything else means 0).

    A run stops at the scenario's ``steps`` months. ``set_lever`` and ``fire_shock``
    change the running model between months (they wait for a month in progress).
    """

    def __init__(self, regime: str = DEFAULT_REGIME, n_citizens: int | None = None, seed: int | str = 0):
        seed = parse_seed(seed)
        super().__init__(build_scenario(regime, n_citizens), rng=seed)
        self.regime = regime
        self.seed = seed
        self.lock = threading.RLock()
        self.lever_log: list[tuple[int, str, float]] = []
        self.running = self.steps < self.spec.steps

    def step(self) -> None:
        self._wait_for_page()
        with self.lock:
            super().step()
            if self.steps >= self.spec.steps:
                self.running = False

    def attach_page(self, render_context) -> None:
        """Remember the page (reacton render context) that draws this model."""
        self._page = render_context

    def _wait_for_page(self, timeout: float = 2.0) -> None:
        """Wait (at most ``timeout`` s) while the page is being redrawn by another thread.

        Mesa's play loop steps every ``play interval`` ms without waiting for the page. When a
        redraw runs in another thread (one started by a click while playing) and takes longer
        than that, every redraw pass would see a new month, and reacton gives up after 100
        passes ("Too many renders"), which kills the page. Waiting for the redraw to finish
        before the next month keeps the page alive on slow or busy machines."""
        lock = getattr(getattr(self, "_page", None), "thread_lock", None)
        if lock is None:
            return
        deadline = time.monotonic() + timeout
        while lock.locked() and time.monotonic() < deadline:
            time.sleep(0.005)

    def set_lever(self, name: str, value: float) -> None:
        """Change one lever of the running model from the next month on (validated)."""
        with self.lock:
            if self.spec.params[name] == value:
                return
            self.spec = self.spec.with_overrides({name: value}, where="dashboard")
            if self.lever_log and self.lever_log[-1][:2] == (self.steps, name):
                self.lever_log[-1] = (self.steps, name, value)  # one entry per drag
            else:
                self.lever_log.append((self.steps, name, value))

    def fire_shock(self, kind: str, **options) -> None:
        """Apply a shock now (see ``scenario.SHOCK_KINDS``); it shows in ``shock_log``."""
        with self.lock:
            fire(self, Shock(kind=kind, step=self.steps, **options))


# ------------------------------------------------------------------ inputs
def slider_options(lever: Lever) -> dict:
    """min, max and step of a lever's slider, from the levers table."""
    low, high = lever.low, lever.high
    if lever.integer:
        return {"min": int(low), "max": int(high), "step": 1}
    step = 10.0 ** math.floor(math.log10((high - low) / 100.0))
    return {"min": float(low), "max": float(high), "step": step}


def population_choices(lever: Lever = LEVERS["n_citizens"], largest: int = POPULATION_MAX) -> list[int]:
    """Round region sizes (1-2-5 steps) within the lever's range, up to ``largest``."""
    low, high = max(int(lever.low), 1000), min(int(lever.high), largest)
    sizes, base = [], 10 ** int(math.log10(low))
    while base <= high:
        sizes += [m * base for m in (1, 2, 5) if low <= m * base <= high]
        base *= 10
    return sizes


def model_params(regime: str = DEFAULT_REGIME) -> dict:
    """Mesa's model parameters: regime picker, population and seed (Reset applies them).

    Population and seed are drop-down / text inputs rather than sliders because Mesa 3.5's
    sliders do not display their value."""
    sizes = population_choices()
    start = int(preset(regime).n_citizens)
    if start not in sizes:
        sizes = sorted({*sizes, start}) if 200 <= start <= POPULATION_MAX else sizes
    pop = LEVERS["n_citizens"]
    return {
        "regime": {"type": "Select", "value": regime, "values": list(PRESETS), "label": "Regime (preset)"},
        "n_citizens": {"type": "Select", "label": f"Population ({pop.unit})",
                       "value": start if start in sizes else 10_000, "values": sizes},
        "seed": {"type": "InputText", "label": "Seed (whole number)", "value": "0"},
    }


def parse_seed(value) -> int:
    """The seed typed in the dashboard (a non-negative whole number; anything else -> 0)."""
    try:
        seed = int(str(value).strip())
    except ValueError:
        return 0
    return seed if seed >= 0 else 0


POLICY_GROUPS = {
    "Budget": [lv for lv in by_group("policy") if lv.name == "budget_per_1000" or lv.name.startswith("share_")],
    "How the programme is run": [lv for lv in by_group("policy")
                                 if lv.name != "budget_per_1000" and not lv.name.startswith("share_")],
}


def _fmt(value: float) -> str:
    return f"{value:g}"


@solara.component
def LeverSlider(model: DashboardModel, lever: Lever, on_error):
    """One lever: its name and current value, and a slider (CSS class ``lever-NAME``).

    It redraws only when the lever changes or the model is replaced (Reset), not every month."""
    version = solara.use_reactive(0)
    version.value  # noqa: B018 -- subscribe: a change below redraws this slider
    value = model.spec.params[lever.name]

    def change(new):
        try:
            model.set_lever(lever.name, int(round(new)) if lever.integer else float(new))
            on_error(None)
        except ScenarioError as err:
            on_error(f"{lever.name}: {err.allowed}")
        version.value += 1
        force_update()  # charts: the dotted line; events

    with solara.Tooltip(f"{lever.doc} ({lever.unit})"):
        with solara.Column(gap="0px"):
            solara.Text(f"{lever.name} = {_fmt(value)}", style={"font-size": "0.85em"})
            solara.v.Slider(v_model=value, on_v_model=change, hide_details=True, dense=True,
                            class_=f"lever-{lever.name}", **slider_options(lever))


@solara.component
def LeverPanel(model: DashboardModel):
    """A slider per policy lever, showing and changing the running model's value."""
    error, set_error = solara.use_state(None)
    with solara.Card("Policy levers (change the running model)"):
        # Plain text, not Markdown: Markdown loads KaTeX from a CDN, which fails offline.
        solara.Text(f"Regime {model.regime}: the preset's values. A change applies from the next month "
                    "and shows as a dotted line on the charts; Reset goes back to the preset.",
                    style={"font-size": "0.85em"})
        for group, levers in POLICY_GROUPS.items():
            solara.Text(group, style={"font-weight": "bold", "margin-top": "6px"})
            for lever in levers:
                LeverSlider(model, lever, set_error)
        if error:
            solara.Error(error)


@solara.component
def ShockPanel(model: DashboardModel):
    """Buttons that fire a shock now, with its options."""
    strength = solara.use_reactive(0.5)
    target = solara.use_reactive("intermediary")
    domain = solara.use_reactive(DOMAINS[0])

    def fire_now(kind: str):
        model.fire_shock(kind, strength=float(strength.value), target=target.value, domain=domain.value)
        force_update()

    with solara.Card("Shocks (happen now)"):
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
            for kind, doc in SHOCK_KINDS.items():
                with solara.Tooltip(doc):
                    solara.Button(SHOCK_LABELS.get(kind, kind), color="warning", small=True,
                                  on_click=lambda kind=kind: fire_now(kind))
        solara.SliderFloat("strength", value=strength, min=0.05, max=1.0, step=0.05)
        solara.Select("kind lost in a keystone loss", value=target, values=[*ORG_KINDS, "any"])
        solara.Select("domain of a need surge", value=domain, values=list(DOMAINS))
        EventLog(model)


@solara.component
def EventLog(model: DashboardModel):
    """Shocks (fired or scheduled) and lever changes so far, by month."""
    update_counter.get()
    events = [(s, f"month {s}: {SHOCK_LABELS.get(k, k)}") for s, k in model.shock_log]
    events += [(s, f"month {s}: {name} = {_fmt(v)}") for s, name, v in getattr(model, "lever_log", ())]
    events = [text for _, text in sorted(events, key=lambda e: e[0])]
    solara.Text("Events: " + ("; ".join(events) if events else "none yet"), style={"font-size": "0.85em"})


def describe(model: DashboardModel) -> str:
    """One line naming the run: regime, population and seed."""
    return f"{model.regime} \u00b7 {model.population.n:,} citizens \u00b7 seed {model.seed}"


@solara.component
def NetworkView(model: DashboardModel):
    """The ecosystem as a network, redrawn every month."""
    update_counter.get()
    live = solara.use_memo(lambda: LiveNetwork(NetworkLayout(model, seed=model.seed), describe(model)), [model])
    if hasattr(model, "attach_page"):
        model.attach_page(reacton.core.get_render_context(required=False))
    with model.lock:
        image = live.frame(model)
    solara.Image(image, width="100%")


@solara.component
def AboutRun(model: DashboardModel):
    """The regime's description and how to read the pictures; puts the shock and lever panels
    in the sidebar. Not redrawn every month: a sidebar update redraws the whole page."""
    with solara.Sidebar():
        ShockPanel(model)
        LeverPanel(model)
    with solara.Card(f"About this run: {describe(model)}"):
        solara.Text(model.spec.description or "(no description)", style={"font-size": "0.9em"})
        solara.Text(HOW_TO_READ, style={"font-size": "0.85em", "margin-top": "8px", "display": "block"})


HOW_TO_READ = (
    "Network: big circles are communities (size = residents, colour = share using a solution); dots are "
    "organisations (colour = kind, size = jobs); red diamonds are intermediaries, dashed lines the "
    "communities they serve; grey lines are partnerships. Charts: dashed vertical lines are shocks, dotted "
    "ones lever changes. See docs/dashboard.md."
)


@solara.component
def Charts(model: DashboardModel, titles: tuple[str, ...]):
    """Two chart panels (keys of ``dashboard_figures.CHARTS``) side by side."""
    update_counter.get()
    live = solara.use_memo(lambda: LiveCharts(titles, horizon=int(model.spec.steps)), [model])
    with model.lock:
        image = live.frame(model, getattr(model, "lever_log", ()))
    solara.Image(image, width="100%")


COMPONENTS = [(NetworkView, 0), *((lambda m, pair=pair: Charts(m, pair), 0) for pair in CHART_PAIRS),
              (AboutRun, 0)]

model = DashboardModel()
page = SolaraViz(
    model,
    components=COMPONENTS,
    model_params=model_params(),
    name="Social-innovation ecosystem",
    play_interval=100,
)
