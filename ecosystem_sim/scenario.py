"""Scenarios: TOML files read into a frozen, validated ``Scenario``.

A scenario file has optional ``name``, ``description`` and ``inherits`` (a path relative to
the file) at the top, then the tables ``[policy]``, ``[region]`` and ``[behaviour]`` whose
keys are lever names (see :mod:`ecosystem_sim.levers`), and any number of ``[[shocks]]``.
A child's tables override its parent's key by key; its ``shocks`` list, if given, replaces
the parent's. A ``[mix]`` table puts a scenario between two presets::

    [mix]
    from = "job_creation.toml"     # weight 0
    to = "citizen_led.toml"        # weight 1
    weight = 0.5

sets every *policy* lever to ``(1 - weight) * from + weight * to`` (integer levers rounded;
:func:`mix_policy`, which experiment files' ``mix`` uses too); region, behaviour and shocks come
from ``inherits`` (or the defaults), and the file's own tables override last. ``load_scenario``
takes ``{"mix": w}`` among its overrides (``--set mix=W``) to move such a scenario's weight. Anything wrong raises :class:`ScenarioError`, whose message names the file,
the key, the bad value and what is allowed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .levers import BUDGET_SHARES, DOMAINS, FIRM_KINDS, FOUNDED_KINDS, LEVERS, ORG_KINDS, defaults

SECTIONS = ("policy", "region", "behaviour")
TOP_KEYS = ("name", "description", "inherits", "mix", "shocks", *SECTIONS)
MIX = "mix"
MIX_KEYS = ("from", "to", "weight")

SHOCK_KINDS: dict[str, str] = {
    "programme_end": "wage subsidies and project funding stop for good (the end of a subsidy programme)",
    "budget_cut": "the budget falls by `strength` (share 0-1) for `duration` months (0 = for good)",
    "downturn": "household spending and mainstream jobs fall by `strength` for `duration` months",
    "keystone_loss": "the `count` most central organisations of kind `target` close at once",
    "need_surge": "every citizen's need in `domain` rises by `strength` (need units 0-1)",
}
SHOCK_KEYS = ("kind", "step", "strength", "duration", "domain", "target", "count")

_MAX_INHERITS = 32
"""Longest chain of ``inherits`` a scenario may have (files, the first included)."""
_MAX_NESTING = 32
"""Deepest nesting of tables and arrays a scenario or experiment file may have."""
_NAME_CHARS = "letters, digits, spaces and _ - + . ( )"
_NAME = re.compile(r"[\w\-+.() ]{1,80}", re.UNICODE)


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a scenario name (it becomes part of file names), or None."""
    if not isinstance(name, str):
        return "must be a string"
    if not _NAME.fullmatch(name) or name.startswith((".", " ")) or name.endswith(" "):
        return (f"must be 1-80 characters of {_NAME_CHARS}, not starting with a dot or space "
                "(it becomes part of file names)")
    return None


class ScenarioError(ValueError):
    """A scenario (file, override or command-line value) that cannot be used."""

    def __init__(self, where: str, key: str, value: Any, allowed: str):
        self.where, self.key, self.value, self.allowed = where, key, value, allowed
        super().__init__(f"{where}: {key} = {value!r}: {allowed}")


@dataclass(frozen=True, slots=True)
class Shock:
    """One scheduled event. ``step`` is the month it happens (0-based, before that month's step)."""

    kind: str
    step: int
    strength: float = 0.5
    duration: int = 0
    domain: str = "health_welfare"
    target: str = "intermediary"
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in SHOCK_KEYS}


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable set of lever values plus a shock schedule.

    Lever values are reachable as attributes (``scenario.safety_net``) or via ``params``.
    """

    name: str
    params: Mapping[str, float]
    shocks: tuple[Shock, ...] = ()
    description: str = ""
    source: str = "<defaults>"

    def __post_init__(self) -> None:
        # Lever values as plain instance attributes: the model reads them about a thousand
        # times a month, and a normal attribute read costs a fraction of a __getattr__ call.
        # (No lever shares a name with a field or method; ``__getattr__`` stays as a fallback.)
        for key, value in self.params.items():
            if not hasattr(type(self), key) and key not in _FIELDS:
                object.__setattr__(self, key, value)
        total = sum(self.params[k] for k in BUDGET_SHARES)
        object.__setattr__(self, "_budget_split",
                           {k: self.params[k] / total for k in BUDGET_SHARES} if total > 0 else None)

    def __reduce__(self):
        # params is a read-only mapping proxy, which cannot be pickled: rebuild from plain data
        # (used by process pools; scenario files themselves are TOML, never pickles).
        return (_rebuild, (self.to_dict(), self.source))

    def __getattr__(self, key: str) -> float:
        params = object.__getattribute__(self, "params")
        if key in params:
            return params[key]
        raise AttributeError(key)

    @property
    def budget_split(self) -> dict[str, float]:
        """The budget weights normalised to sum 1 (share of the monthly budget per use)."""
        if self._budget_split is None:
            raise ZeroDivisionError("every budget share is 0")
        return dict(self._budget_split)  # computed once (a copy: callers may change theirs)

    def with_overrides(self, overrides: Mapping[str, Any], where: str = "override") -> "Scenario":
        """A copy with some lever values (or ``shocks``) replaced, validated like a file."""
        params = dict(self.params)
        shocks = self.shocks
        for key, value in overrides.items():
            if key == "shocks":
                if not isinstance(value, (list, tuple)):
                    raise ScenarioError(where, "shocks", value, "must be a list of shock tables (use --shock KIND@STEP)")
                shocks = tuple(_shock(where, i, s) for i, s in enumerate(value))
                continue
            _check_lever(where, key, key, value)
            params[key] = _cast(key, value)
        return _build(self.name, params, shocks, self.description, where if where != "override" else self.source)

    def without_shocks(self) -> "Scenario":
        """The no-shock twin used to measure resilience."""
        return replace(self, shocks=())

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/TOML-ready) that rebuilds this scenario with :func:`from_dict`."""
        return {
            "name": self.name,
            "description": self.description,
            "params": dict(self.params),
            "shocks": [s.to_dict() for s in self.shocks],
        }


_FIELDS = frozenset(("name", "params", "shocks", "description", "source"))


def from_dict(data: Mapping[str, Any], where: str = "<dict>") -> Scenario:
    """Rebuild a scenario from :meth:`Scenario.to_dict` output (validated)."""
    params = defaults()
    for key, value in data.get("params", {}).items():
        _check_lever(where, f"params.{key}", key, value)
        params[key] = _cast(key, value)
    raw = data.get("shocks", [])
    if not isinstance(raw, (list, tuple)):
        raise ScenarioError(where, "shocks", raw, "must be a list of shock tables")
    shocks = tuple(_shock(where, i, s) for i, s in enumerate(raw))
    return _build(str(data.get("name", "scenario")), params, shocks, str(data.get("description", "")), where)


def _rebuild(data: dict, source: str) -> Scenario:
    return from_dict(data, source)


def default_scenario() -> Scenario:
    """All levers at their defaults, no shocks."""
    return _build("defaults", defaults(), (), "every lever at its default", "<defaults>")


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge (``inherits``, ``[mix]``) and validate a scenario file; apply ``overrides`` last.
    ``overrides["mix"]`` replaces the weight of the file's ``[mix]`` table."""
    path = Path(path)
    overrides = dict(overrides or {})
    weight = overrides.pop(MIX, None)
    if weight is not None and not (_is_num(weight) and 0 <= weight <= 1):
        raise ScenarioError("command line", MIX, weight, "must be a number in [0, 1] (0 = the [mix] table's from, "
                                                         "1 = its to)")
    name, description, params, shocks = _read(path, [], weight)
    scenario = _build(name, params, shocks, description, str(path))
    if overrides:
        scenario = scenario.with_overrides(overrides, where="command line")
    return scenario


def mix_policy(a: Mapping[str, float], b: Mapping[str, float], weight: float) -> dict[str, float]:
    """Every policy lever between two presets' values: ``(1 - weight) * a + weight * b`` (0 = a,
    1 = b; integer levers rounded). The one definition of a mix, for scenario files and sweeps."""
    out = {}
    for lever in LEVERS.values():
        if lever.group == "policy":
            v = (1 - weight) * a[lever.name] + weight * b[lever.name]
            out[lever.name] = round(v) if lever.integer else v
    return out


def _mix(where: str, path: Path, raw: Any, weight: float | None, chain: list[Path]) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ScenarioError(where, MIX, raw, "must be a table with from = FILE, to = FILE, weight = 0..1")
    for k in raw:
        if k not in MIX_KEYS:
            raise ScenarioError(where, f"{MIX}.{k}", raw[k], f"unknown key; allowed: {', '.join(MIX_KEYS)}")
    ends = []
    for k in ("from", "to"):
        if not isinstance(raw.get(k), str):
            raise ScenarioError(where, f"{MIX}.{k}", raw.get(k), "must be a path (string) to a scenario file, "
                                                                  "relative to this file")
        target = path.parent / raw[k]
        if not target.is_file():
            raise ScenarioError(where, f"{MIX}.{k}", raw[k], f"no such scenario file (looked for {target})")
        ends.append(_read(target, chain, None)[2])
    if weight is None:
        weight = raw.get("weight")
        if not (_is_num(weight) and 0 <= weight <= 1):
            raise ScenarioError(where, f"{MIX}.weight", weight, "must be a number in [0, 1] (0 = from, 1 = to)")
    return mix_policy(ends[0], ends[1], float(weight))


def _read(path: Path, chain: list[Path], mix_weight: float | None = None
          ) -> tuple[str, str, dict[str, float], tuple[Shock, ...]]:
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "file", str(path), "no such scenario file")
    resolved = path.resolve()
    if resolved in chain:
        raise ScenarioError(where, "inherits", str(path), "inheritance loops back to this file")
    if len(chain) >= _MAX_INHERITS:
        raise ScenarioError(str(chain[0]), "inherits", str(path),
                            f"inheritance chain is longer than {_MAX_INHERITS} files")
    _, data = read_toml(path, TOP_KEYS)
    if "inherits" in data:
        parent = data["inherits"]
        if not isinstance(parent, str):
            raise ScenarioError(where, "inherits", parent, "must be a path (string) relative to this file")
        _, description, params, shocks = _read(path.parent / parent, [*chain, resolved])
    else:
        description, params, shocks = "", defaults(), ()
    name = data.get("name", path.stem)
    problem = name_problem(name)
    if problem:
        raise ScenarioError(where, "name" if "name" in data else "name (from the file name)", name,
                            problem + ("" if "name" in data else '; set name = "..." in the file'))
    description = data.get("description", description)
    if not isinstance(description, str):
        raise ScenarioError(where, "description", description, "must be a string")
    if MIX in data:
        params.update(_mix(where, path, data[MIX], mix_weight, [*chain, resolved]))
    elif mix_weight is not None:
        raise ScenarioError("command line", MIX, mix_weight, f"{where} has no [mix] table; a mix needs "
                            "[mix] from = A.toml, to = B.toml in the scenario file (or use a sweep's levers.mix)")
    for section in SECTIONS:
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ScenarioError(where, section, table, "must be a table of lever = value")
        for key, value in table.items():
            _check_lever(where, f"{section}.{key}", key, value, section)
            params[key] = _cast(key, value)
    if "shocks" in data:
        raw = data["shocks"]
        if not isinstance(raw, list):
            raise ScenarioError(where, "shocks", raw, "must be an array of tables ([[shocks]])")
        shocks = tuple(_shock(where, i, s) for i, s in enumerate(raw))
    return name, description, params, shocks


def read_toml(path: Path, top_keys: tuple[str, ...]) -> tuple[str, dict]:
    """Text and table of a TOML file whose top-level keys must be among ``top_keys``
    (scenario and experiment files alike); anything wrong raises :class:`ScenarioError`."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(where, "file", "<TOML>", f"is not valid TOML ({err})") from None
    except UnicodeDecodeError:
        raise ScenarioError(where, "file", "<bytes>", "must be UTF-8 text") from None
    except RecursionError:
        raise ScenarioError(where, "file", "<TOML>", f"nests tables or arrays deeper than {_MAX_NESTING} levels") from None
    except OSError as err:
        raise ScenarioError(where, "file", str(path), f"cannot be read ({err.strerror or err})") from None
    deep = _too_deep(data)
    if deep:
        raise ScenarioError(where, deep, "<nested>", f"nests tables or arrays deeper than {_MAX_NESTING} levels")
    for key in data:
        if key not in top_keys:
            raise ScenarioError(where, key, data[key], f"unknown key; allowed at top level: {', '.join(top_keys)}")
    return text, data


def _too_deep(data: Any) -> str | None:
    """The top-level key under which ``data`` nests deeper than _MAX_NESTING (iterative: no recursion)."""
    for top, value in data.items():
        stack = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if depth > _MAX_NESTING:
                return top
            children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
            stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return None


def _check_lever(where: str, key: str, name: str, value: Any, section: str | None = None) -> None:
    lever = LEVERS.get(name)
    if lever is None:
        allowed = [l.name for l in LEVERS.values() if section is None or l.group == section]
        raise ScenarioError(where, key, value, f"unknown lever; allowed{' in [' + section + ']' if section else ''}: {', '.join(allowed)}")
    if section is not None and lever.group != section:
        raise ScenarioError(where, key, value, f"'{name}' belongs in [{lever.group}], not [{section}]")
    problem = lever.check(value)
    if problem:
        raise ScenarioError(where, key, value, problem)


def _cast(name: str, value: Any) -> float:
    return int(value) if LEVERS[name].integer else float(value)


def _shock(where: str, index: int, raw: Any) -> Shock:
    key = f"shocks[{index}]"
    if not isinstance(raw, Mapping):
        raise ScenarioError(where, key, raw, "must be a table with kind, step and options")
    for k in raw:
        if k not in SHOCK_KEYS:
            raise ScenarioError(where, f"{key}.{k}", raw[k], f"unknown key; allowed: {', '.join(SHOCK_KEYS)}")
    kind = raw.get("kind")
    if kind not in SHOCK_KINDS:
        raise ScenarioError(where, f"{key}.kind", kind, f"must be one of: {', '.join(SHOCK_KINDS)}")
    if "step" not in raw:
        raise ScenarioError(where, f"{key}.step", None, "is required: the month (integer >= 1) the shock happens")
    for k, (ok, allowed) in SHOCK_CHECKS.items():
        if k in raw and not ok(raw[k]):
            raise ScenarioError(where, f"{key}.{k}", raw[k], allowed)
    values = {k: raw[k] for k in SHOCK_KEYS if k in raw}
    for k in ("step", "duration", "count"):
        if k in values:
            values[k] = int(values[k])
    if "strength" in values:
        values["strength"] = float(values["strength"])
    return Shock(**values)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _is_int(v: Any) -> bool:
    return _is_num(v) and float(v).is_integer()


SHOCK_CHECKS: dict[str, tuple] = {
    "step": (lambda v: _is_int(v) and v >= 1, "must be an integer month >= 1"),
    "strength": (lambda v: _is_num(v) and 0 <= v <= 1, "must be a number in [0, 1]"),
    "duration": (lambda v: _is_int(v) and v >= 0, "must be an integer number of months >= 0 (0 = for good)"),
    "domain": (lambda v: v in DOMAINS, f"must be one of: {', '.join(DOMAINS)}"),
    "target": (lambda v: v in (*ORG_KINDS, "any"), f"must be one of: {', '.join((*ORG_KINDS, 'any'))}"),
    "count": (lambda v: _is_int(v) and v >= 1, "must be an integer >= 1"),
}
"""Each optional shock key: (test of a value, what is allowed). Experiment files use it too."""


def _build(name: str, params: dict[str, float], shocks: tuple[Shock, ...], description: str, where: str) -> Scenario:
    problem = name_problem(name)
    if problem:
        raise ScenarioError(where, "name", name, problem)
    if sum(params[k] for k in BUDGET_SHARES) <= 0:
        raise ScenarioError(where, "policy.share_*", 0, "at least one budget share must be above 0")
    for group, prefix, kinds in (("region", "mix_", FIRM_KINDS), ("behaviour", "founded_", FOUNDED_KINDS)):
        if sum(params[prefix + k] for k in kinds) <= 0:
            raise ScenarioError(where, f"{group}.{prefix}*", 0, f"at least one {prefix}* weight must be above 0")
    for i, shock in enumerate(shocks):
        if shock.step >= params["steps"]:
            raise ScenarioError(where, f"shocks[{i}].step", shock.step,
                                f"must be before the end of the run (steps = {params['steps']})")
    return Scenario(name=name, params=MappingProxyType(dict(params)), shocks=tuple(shocks),
                    description=description, source=where)
