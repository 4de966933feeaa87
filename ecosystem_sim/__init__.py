"""ecosystem_sim: agent-based simulation of regional social-innovation ecosystems (Mesa 3.5).

The public API is small:

    >>> from ecosystem_sim import EcosystemModel, load_scenario, run_one
    >>> sc = load_scenario("scenarios/citizen_led.toml")
    >>> model = EcosystemModel(sc, rng=42); model.run(24)
    >>> result = run_one(sc, seed=42)      # measures, no-shock twin, summary
"""

from .levers import DOMAINS, LEVERS, ORG_KINDS
from .model import EcosystemModel
from .run import RunResult, run_one
from .scenario import Scenario, ScenarioError, Shock, load_scenario

__all__ = ["DOMAINS", "LEVERS", "ORG_KINDS", "EcosystemModel", "RunResult", "Scenario", "ScenarioError",
           "Shock", "load_scenario", "run_one"]
