"""ecosystem_sim: agent-based simulation of regional social-innovation ecosystems (Mesa 3.5).

The public API is small:

    >>> from ecosystem_sim import EcosystemModel, load_scenario, run_one
    >>> sc = load_scenario("scenarios/citizen_led.toml")
    >>> model = EcosystemModel(sc, rng=42); model.run(24)
    >>> result = run_one(sc, seed=42)      # measures, no-shock twin, summary
"""

from importlib import import_module

_API = {
    "DOMAINS": "levers", "LEVERS": "levers", "ORG_KINDS": "levers",
    "EcosystemModel": "model",
    "RunResult": "run", "run_one": "run",
    "Scenario": "scenario", "ScenarioError": "scenario", "Shock": "scenario", "load_scenario": "scenario",
}
__all__ = list(_API)


def __getattr__(name: str):
    # Imported on first use, so that `ecosim --help` or a bad-input error does not wait for Mesa.
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'ecosystem_sim' has no attribute {name!r}")
