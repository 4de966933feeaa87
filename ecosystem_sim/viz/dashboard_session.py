"""What one browser session of the dashboard owns, and the checks on every value a page sends.

No Solara here: :mod:`ecosystem_sim.viz.app` draws the page, this module holds the state
behind it so that it can be tested without a browser.

* :class:`DashboardModel`: an :class:`~ecosystem_sim.model.EcosystemModel` built from the
  page's inputs, with a lock so that buttons pressed while the model plays act between
  two months, never inside one, and with validated ``set_lever`` / ``fire_shock``.
* :class:`Session`: one browser session's run, its earlier runs kept as reference
  curves (:class:`ReferenceRun`), and the chart axes that stay fixed until cleared.
* ``check_*`` functions: every value that comes from the page (regime name, population,
  seed, lever value, shock options, play interval) goes through one of them. A page can be
  modified, so nothing is trusted: a bad value raises :class:`InputError` (a
  :class:`~ecosystem_sim.scenario.ScenarioError`) whose text the page shows as a message.

Limits for a shared classroom server come from environment variables read by
:func:`server_limits` (the defaults suit the 2-core machine measured in docs/dashboard.md).
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecosystem_sim.levers import LEVERS, Lever, by_group
from ecosystem_sim.model import EcosystemModel
from ecosystem_sim.scenario import (SHOCK_CHECKS, SHOCK_KINDS, Scenario, ScenarioError, Shock, default_scenario,
                                    load_scenario)
from ecosystem_sim.shocks import fire

SCENARIO_ENV = "ECOSIM_DASHBOARD_SCENARIO"
"""Environment variable with the path of the scenario given to ``ecosim dashboard``."""
MAX_CITIZENS_ENV = "ECOSIM_DASHBOARD_MAX_CITIZENS"
"""Environment variable: the largest region a session may build (default :data:`MAX_CITIZENS`)."""
GUIDED_ENV = "ECOSIM_DASHBOARD_GUIDED"
"""Environment variable: ``0`` starts every page with the guided lesson switched off."""

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
MAX_CITIZENS = 20_000
"""Default population cap for a shared server: a session at this size holds about 60 MB."""
SEED_MAX = 2**32 - 1
"""Largest seed: the network layout seeds networkx, which takes 32-bit seeds."""
PLAY_INTERVAL_MS = (0, 1000)
"""Allowed pause between months while playing (ms)."""
MAX_REFERENCES = 4
"""Earlier runs kept as reference curves per session (the oldest goes first)."""

SHOCK_LABELS = {
    "programme_end": "End of subsidies",
    "budget_cut": "Budget cut",
    "keystone_loss": "Keystone loss",
    "downturn": "Downturn",
    "need_surge": "Need surge",
}
SHOCK_OPTIONS = ("strength", "duration", "domain", "target", "count")
"""Options a page may send with a shock (``kind`` is the button, ``step`` is now)."""


class InputError(ScenarioError):
    """A value sent by the page that the dashboard refuses (shown as a message)."""

    def __init__(self, key: str, value: Any, allowed: str):
        super().__init__("dashboard", key, _short(value), allowed)

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}: {self.allowed}"


def _short(value: Any, limit: int = 40) -> Any:
    """A value as it may appear in a message (long text cut, so a page cannot flood it)."""
    text = value if isinstance(value, str) else None
    if text is not None and len(text) > limit:
        return text[:limit] + "\u2026"
    if not isinstance(value, (int, float, str, type(None), bool)):
        return f"<{type(value).__name__}>"
    return value


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
            warnings.warn(f"dashboard: skipping {path.name}: {err}", stacklevel=2)
    return presets or {"defaults": None}


PRESETS = find_presets(os.environ.get(SCENARIO_ENV) or None)


def _initial_regime() -> str:
    extra = os.environ.get(SCENARIO_ENV)
    if extra:
        return load_scenario(extra).name
    return "job_creation" if "job_creation" in PRESETS else next(iter(PRESETS))


DEFAULT_REGIME = _initial_regime()


def max_citizens() -> int:
    """The population cap of this server (``ECOSIM_DASHBOARD_MAX_CITIZENS``, default 20,000),
    never above the lever table's own limit."""
    raw = os.environ.get(MAX_CITIZENS_ENV, "")
    try:
        cap = int(raw) if raw.strip() else MAX_CITIZENS
    except ValueError:
        warnings.warn(f"dashboard: {MAX_CITIZENS_ENV}={raw!r} is not a whole number; using {MAX_CITIZENS}",
                      stacklevel=2)
        cap = MAX_CITIZENS
    lever = LEVERS["n_citizens"]
    return int(min(max(cap, lever.low), lever.high))


def population_choices(largest: int | None = None) -> list[int]:
    """Round region sizes (1-2-5 steps) within the lever's range, up to the server's cap."""
    lever = LEVERS["n_citizens"]
    largest = max_citizens() if largest is None else largest
    low, high = max(int(lever.low), 1000), min(int(lever.high), largest)
    sizes, base = [], 10 ** int(math.log10(low))
    while base <= high:
        sizes += [m * base for m in (1, 2, 5) if low <= m * base <= high]
        base *= 10
    return sizes


def default_population(regime: str) -> int:
    """The preset's population if the page offers it, else the nearest size offered."""
    sizes = population_choices()
    start = int(preset(regime).n_citizens)
    return min(sizes, key=lambda s: (abs(s - start), s))


def preset(regime: str) -> Scenario:
    """The scenario of a regime name (one of :data:`PRESETS`)."""
    regime = check_regime(regime)
    path = PRESETS[regime]
    return default_scenario() if path is None else load_scenario(path)


# ------------------------------------------------------------------ checks of page values
def check_regime(value: Any) -> str:
    """A regime name: only the names of the shipped scenarios (and the command line's file)."""
    if not isinstance(value, str) or value not in PRESETS:
        raise InputError("regime", value, f"must be one of: {', '.join(PRESETS)}")
    return value


def check_population(value: Any) -> int:
    """A population offered by the page (a whole number within the lever range and the cap)."""
    sizes = population_choices()
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number.is_integer() and int(number) in sizes):
        raise InputError("population", value,
                         f"must be one of {', '.join(f'{s:,}' for s in sizes)} citizens on this server")
    return int(number)


def check_seed(value: Any) -> int:
    """A seed typed in the page: a whole number from 0 to 2**32-1 (text or number)."""
    allowed = f"must be a whole number from 0 to {SEED_MAX:,}"
    if isinstance(value, bool):
        raise InputError("seed", value, allowed)
    if isinstance(value, int):
        seed = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        seed = int(value.strip())
    else:
        raise InputError("seed", value, allowed)
    if not 0 <= seed <= SEED_MAX:
        raise InputError("seed", value, allowed)
    return seed


def check_lever(name: str, value: Any) -> float:
    """A lever value from a slider, through the lever table's own ``check``."""
    lever = LEVERS.get(name) if isinstance(name, str) else None
    if lever is None or lever not in by_group("policy"):
        raise InputError("lever", name, "is not a policy lever of this dashboard")
    problem = lever.check(value)
    if problem:
        raise InputError(lever_label(lever), value, problem)
    return int(value) if lever.integer else float(value)


def check_shock(kind: Any, options: dict[str, Any]) -> dict[str, Any]:
    """A shock kind and its options, by the scenario files' own rules (``SHOCK_CHECKS``)."""
    if not isinstance(kind, str) or kind not in SHOCK_KINDS:
        raise InputError("shock", kind, f"must be one of: {', '.join(SHOCK_KINDS)}")
    clean: dict[str, Any] = {}
    for key, value in options.items():
        if key not in SHOCK_OPTIONS:
            raise InputError(f"shock option {key}", value, f"unknown; allowed: {', '.join(SHOCK_OPTIONS)}")
        ok, allowed = SHOCK_CHECKS[key]
        if not ok(value):
            raise InputError(f"shock {key}", value, allowed)
        clean[key] = int(value) if key in ("duration", "count") else float(value) if key == "strength" else value
    return clean


def check_play_interval(value: Any) -> int:
    """The pause between months while playing, in ms."""
    low, high = PLAY_INTERVAL_MS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
        raise InputError("play interval", value, f"must be a number of ms in [{low}, {high}]")
    return int(value)


# ------------------------------------------------------------------ lever names for people
LEVER_LABELS = {
    "budget_per_1000": "Budget",
    "programme_length": "Length of one grant",
    "citizen_problem_definition": "Citizens define the problems",
    "allocation_by_merit": "Money by need and merit (vs equal split)",
    "safety_net": "Safety net for failed projects",
    "commons_share": "Results released as commons",
    "followup_share": "Follow-up after R&D (adoption support)",
    "local_cocreation": "Local co-creation (vs imported solutions)",
}
"""Wording for some levers; any other lever gets a label made from its name, so a new row
of the levers table needs no change here."""


def lever_label(lever: Lever) -> str:
    """A person's name for a lever (no underscores), without its unit."""
    if lever.name in LEVER_LABELS:
        return LEVER_LABELS[lever.name]
    if lever.name.startswith("share_"):
        return "Budget share: " + lever.name.removeprefix("share_").replace("_", " ")
    return lever.name.replace("_", " ").capitalize()


def slider_options(lever: Lever) -> dict:
    """min, max and step of a lever's slider, from the levers table."""
    low, high = lever.low, lever.high
    if lever.integer:
        return {"min": int(low), "max": int(high), "step": 1}
    step = 10.0 ** math.floor(math.log10((high - low) / 100.0))
    return {"min": float(low), "max": float(high), "step": step}


def lever_groups() -> dict[str, list[Lever]]:
    """The policy levers of the table in two groups: the budget and its split, and how the
    programme is run (every other policy lever, so new rows appear there)."""
    policy = by_group("policy")
    budget = [lv for lv in policy if lv.name == "budget_per_1000" or lv.name.startswith("share_")]
    return {"Budget and its split": budget, "How the programme is run": [lv for lv in policy if lv not in budget]}


# ------------------------------------------------------------------ the model
def build_scenario(regime: str, n_citizens: int | None = None) -> Scenario:
    """The regime's preset with the population applied."""
    scenario = preset(regime)
    if n_citizens is not None and int(n_citizens) != scenario.n_citizens:
        return scenario.with_overrides({"n_citizens": int(n_citizens)}, where="dashboard")
    return scenario


class DashboardModel(EcosystemModel):
    """An :class:`EcosystemModel` built from the dashboard's inputs (all checked).

    Args:
        regime: a key of :data:`PRESETS`.
        n_citizens: population, one of :func:`population_choices`.
        seed: random seed, 0 to :data:`SEED_MAX`.

    A run stops at the scenario's ``steps`` months. ``set_lever`` and ``fire_shock``
    change the running model between months (they wait for a month in progress).
    """

    def __init__(self, regime: str = DEFAULT_REGIME, n_citizens: int | None = None, seed: int | str = 0):
        regime = check_regime(regime)
        n_citizens = check_population(n_citizens) if n_citizens is not None else default_population(regime)
        seed = check_seed(seed)
        super().__init__(build_scenario(regime, n_citizens), rng=seed)
        self.regime = regime
        self.seed = seed
        self.lock = threading.RLock()
        self.lever_log: list[tuple[int, str, float]] = []
        self.running = self.steps < self.spec.steps

    def step(self) -> None:
        with self.lock:
            if self.steps >= self.spec.steps:
                self.running = False
                return
            super().step()
            if self.steps >= self.spec.steps:
                self.running = False

    def set_lever(self, name: str, value: Any) -> None:
        """Change one policy lever of the running model from the next month on (checked)."""
        value = check_lever(name, value)
        with self.lock:
            if self.spec.params[name] == value:
                return
            self.spec = self.spec.with_overrides({name: value}, where="dashboard")
            if self.lever_log and self.lever_log[-1][:2] == (self.steps, name):
                self.lever_log[-1] = (self.steps, name, value)  # one entry per drag
            else:
                self.lever_log.append((self.steps, name, value))

    def fire_shock(self, kind: str, **options) -> None:
        """Apply a shock now (see ``scenario.SHOCK_KINDS``); every option is checked first."""
        clean = check_shock(kind, options)
        with self.lock:
            fire(self, Shock(kind=kind, step=self.steps, **clean))

    def label(self) -> str:
        """Short name of this run for a reference curve: regime, seed and the shocks fired."""
        parts = [self.regime, f"seed {self.seed}"]
        parts += [f"{SHOCK_LABELS.get(k, k).lower()} m{s}" for s, k in self.shock_log[:2]]
        if self.lever_log:
            parts.append("levers moved")
        return " \u00b7 ".join(parts)


def describe(model: DashboardModel) -> str:
    """One line naming the run: regime, population and seed."""
    return f"{model.regime} \u00b7 {model.population.n:,} citizens \u00b7 seed {model.seed}"


# ------------------------------------------------------------------ one session
@dataclass
class ReferenceRun:
    """An earlier run of this session, kept as faint curves: its label (regime, seed, shocks: the
    page lists it), its measures, and a short tag written on the charts (regime and seed)."""

    label: str
    series: dict[str, np.ndarray]
    tag: str


@dataclass
class Session:
    """One browser session: its model, earlier runs, and chart axes that only grow.

    ``axis_tops`` (chart title -> y axis top) and ``horizon`` (months on the x axis) keep
    every chart's axes fixed across Resets so a new run is compared with the faint curves
    of earlier ones on the same scale; :meth:`clear_references` lets them fit again.
    """

    model: DashboardModel
    references: list[ReferenceRun] = field(default_factory=list)
    axis_tops: dict[str, float] = field(default_factory=dict)
    horizon: int = 0
    created: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.horizon = max(self.horizon, int(self.model.spec.steps))

    def reset(self, regime: Any, n_citizens: Any, seed: Any) -> DashboardModel:
        """A new run from the page's (checked) inputs; the finished or stopped run, if it ran at
        least one month, becomes a reference curve. Raises :class:`InputError` and keeps the
        current run when an input is refused."""
        new = DashboardModel(regime, n_citizens, seed)
        old = self.model
        if old.steps > 0:
            self.references.append(ReferenceRun(old.label(), _measures_so_far(old),
                                                  f"{old.regime} \u00b7 seed {old.seed}"))
            del self.references[:-MAX_REFERENCES]
        self.model = new
        self.horizon = max(self.horizon, int(new.spec.steps))
        return new

    def clear_references(self) -> None:
        """Forget the earlier runs; the axes fit the current run again."""
        self.references.clear()
        self.axis_tops.clear()
        self.horizon = int(self.model.spec.steps)


# ------------------------------------------------------------------ memory of closed sessions
RELEASE_DELAY_S = 3.0
"""Seconds between a session's end and :func:`release_memory`: after Solara's own collection
(1 s after a kernel closes), and long enough that a class leaving at once costs one pass."""
_release_lock = threading.Lock()
_release_pending = False


def release_memory() -> bool:
    """Collect garbage and give the freed heap back to the operating system; True if it could.

    A closed session's Python objects are freed (Solara collects its kernel's cycles), but the C
    allocator keeps the pages they lived on: without this a server stayed 10-25 MB higher per
    session a class had opened and closed. ``malloc_trim`` (glibc) returns free pages of every
    heap; elsewhere only the collection runs."""
    import ctypes
    import gc

    gc.collect()
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return False
    trim(0)
    return True


def release_memory_soon(delay: float = RELEASE_DELAY_S) -> None:
    """Run :func:`release_memory` once, ``delay`` seconds from now, in a daemon thread; calls
    while one is pending join it (thirty tabs closing at the bell cost one pass)."""
    global _release_pending
    with _release_lock:
        if _release_pending:
            return
        _release_pending = True

    def later():
        global _release_pending
        time.sleep(delay)
        with _release_lock:
            _release_pending = False
        release_memory()

    thread = threading.Thread(target=later, daemon=True, name="ecosim-release-memory")
    # Solara's patched Thread remembers the kernel it was made in; this one must not keep the
    # closing session alive while it waits
    thread.current_context = None  # type: ignore[attr-defined]
    thread.start()


def _measures_so_far(model: EcosystemModel) -> dict[str, np.ndarray]:
    with getattr(model, "lock", threading.RLock()):
        data = model.datacollector.model_vars
        return {key: np.asarray(values, dtype=float).copy() for key, values in data.items()
                if values and isinstance(values[0], (int, float, np.number))}
