"""docs/ODD.md stays true to the code.

* The generated blocks (parameter table from ``levers.py``, measures from
  ``measures.MEASURES``, named constants) are up to date: regenerate with
  ``python docs/make_odd_table.py``.
* Every lever appears in ODD.md, in the table and in the prose (so a new lever cannot be
  added without its mechanism being described).
* Every code reference written as `` `module.name` `` resolves to something in the package.
* Every value quoted as `` `module.NAME` = value `` matches the constant in the code.
* The mechanism modules hold no number that is not a lever (other than 0, 1, unit conversions,
  guards against division by zero and a short list of structural numbers, each with its reason).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path

import pytest

from ecosystem_sim.levers import LEVERS

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
MODULES = ("levers", "scenario", "population", "agents", "innovation", "diffusion", "shocks", "measures",
           "model", "run", "compare", "cli")


def _generator():
    spec = importlib.util.spec_from_file_location("make_odd_table", ROOT / "docs" / "make_odd_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _text() -> str:
    return ODD.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """ODD.md without its generated blocks."""
    for start, end in (("<!-- levers:start -->", "<!-- levers:end -->"),
                       ("<!-- measures:start -->", "<!-- measures:end -->"),
                       ("<!-- constants:start -->", "<!-- constants:end -->")):
        i, j = text.find(start), text.find(end)
        assert i >= 0 and j > i, f"docs/ODD.md: markers {start} … {end} missing"
        text = text[:i] + text[j + len(end):]
    return text


def test_generated_blocks_are_up_to_date():
    gen = _generator()
    text = _text()
    assert gen.updated(text) == text, (
        "docs/ODD.md's generated tables are out of date with the code "
        "(levers.py, measures.MEASURES or module constants): run `python docs/make_odd_table.py`")


def test_parameter_table_has_one_row_per_lever():
    text = _text()
    block = text[text.find("<!-- levers:start -->"):text.find("<!-- levers:end -->")]
    rows = re.findall(r"^\| `([a-z0-9_]+)`", block, flags=re.M)
    assert rows == list(LEVERS), "parameter table rows differ from levers.LEVERS (order or names)"


@pytest.mark.parametrize("name", list(LEVERS))
def test_every_lever_is_described_in_the_prose(name):
    assert f"`{name}`" in _prose(_text()), (
        f"lever `{name}` is in levers.py but not discussed in docs/ODD.md outside the generated table: "
        "describe the mechanism that reads it (§7) or where it is used (§5)")


def _sets_attribute(cls: type, attr: str) -> bool:
    """Whether ``cls`` or a base class assigns ``self.<attr>`` (an instance attribute) or declares
    it as a dataclass field."""
    if dataclasses.is_dataclass(cls) and attr in {f.name for f in dataclasses.fields(cls)}:
        return True
    for klass in cls.__mro__:
        if klass is object:
            continue
        try:
            src = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if re.search(rf"\bself\.{re.escape(attr)}\s*(:[^=]*)?=", src) or f"def {attr}(" in src:
            return True
    return False


def _resolve(ref: str) -> bool:
    """Whether `module.name[.name]` names something in ecosystem_sim.

    Accepted: module attributes (`innovation.success_chance`), class members
    (`agents.Government._educate`), members of a class defined in the module without the class
    name (`model._found`, `model.rng` for an EcosystemModel instance), instance attributes set in
    a class's code, and lever names under `levers.` (`levers.imitation`).
    """
    module_name, *attrs = ref.split(".")
    if attrs and attrs[-1] == "py":  # a file name such as `levers.py`
        return (ROOT / "ecosystem_sim" / f"{module_name}.py").is_file()
    if module_name == "levers" and len(attrs) == 1 and attrs[0] in LEVERS:
        return True
    module = importlib.import_module(f"ecosystem_sim.{module_name}")
    classes = [obj for _, obj in inspect.getmembers(module, inspect.isclass) if obj.__module__ == module.__name__]
    for start in [module, *classes]:
        obj = start
        try:
            for a in attrs:
                obj = getattr(obj, a)
        except AttributeError:
            continue
        return True
    if len(attrs) == 2:
        cls = getattr(module, attrs[0], None)
        return inspect.isclass(cls) and _sets_attribute(cls, attrs[1])
    if len(attrs) == 1:
        return any(_sets_attribute(cls, attrs[0]) for cls in classes)
    return False


def test_code_references_resolve():
    refs = set(re.findall(r"`((?:%s)\.[A-Za-z_][A-Za-z0-9_.]*)`" % "|".join(MODULES), _prose(_text())))
    missing = sorted(r for r in refs if not _resolve(r))
    assert not missing, f"docs/ODD.md cites code that does not exist (renamed or removed?): {missing}"


def test_quoted_constants_match_the_code():
    stale = []
    for ref, value in re.findall(r"`((?:%s)\.[A-Z][A-Z0-9_]*)` = ([0-9][0-9.eE+-]*)" % "|".join(MODULES),
                                 _prose(_text())):
        module_name, name = ref.split(".")
        actual = getattr(importlib.import_module(f"ecosystem_sim.{module_name}"), name)
        if float(actual) != float(value.rstrip(".")):
            stale.append(f"{ref}: ODD.md says {value}, code has {actual}")
    assert not stale, "docs/ODD.md quotes stale constant values: " + "; ".join(stale)


# ------------------------------------------------------------------ no hidden numbers in mechanisms
# Every behavioural number is a lever (issue 8): the mechanism modules may contain only 0, 1, -1,
# the per-1,000 / per-10,000-citizen conversions, guards against division by zero or round-off
# (below 1e-6), and the few structural numbers listed here with the reason they are not behaviour.
MECHANISM_MODULES = ("agents", "innovation", "diffusion", "model", "shocks", "population")
ALLOWED_NUMBERS = {0, 1, -1, 1000, 10_000}
NUMERIC_GUARD = 1e-6
STRUCTURAL = {
    ("population", "<module>", 2): "employment state label ECOSYSTEM",
    ("population", "__init__", 0.5): "a citizen's position at the middle of its slot when cutting communities",
    ("population", "_social_network", 2): "each drawn tie counts for both ends (mean_degree / 2 draws)",
}
NOT_MECHANISMS = {("population", "gini"), ("population", "_ranks"), ("population", "sorted_values"),
                  ("diffusion", "_neighbour_counts")}
"""Statistics and sorting helpers (a formula's own constants and speed settings), not behaviour."""


def _numbers_in(module_name: str) -> list[tuple[str, int, float]]:
    """(enclosing function or '<module>', line, value) of every numeric literal in a model module."""
    tree = ast.parse((ROOT / "ecosystem_sim" / f"{module_name}.py").read_text(encoding="utf-8"))
    found = []

    def visit(node, where):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            where = node.name
        if (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                and not isinstance(node.value, bool)):
            found.append((where, node.lineno, node.value))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "<module>")
    return found


@pytest.mark.parametrize("module_name", MECHANISM_MODULES)
def test_mechanisms_hold_no_numbers_that_are_not_levers(module_name):
    hidden = [f"{module_name}.py:{line} in {where}: {value!r}" for where, line, value in _numbers_in(module_name)
              if value not in ALLOWED_NUMBERS and abs(value) >= NUMERIC_GUARD
              and (module_name, where) not in NOT_MECHANISMS and (module_name, where, value) not in STRUCTURAL]
    assert not hidden, ("numbers inside mechanism code that are not levers (make each a row of levers.py, "
                        "or explain here why it is structural): " + "; ".join(hidden))


def test_the_number_check_sees_a_hidden_number(tmp_path, monkeypatch):
    """The check above must fail on a behavioural constant written into a mechanism."""
    fake = tmp_path / "ecosystem_sim"
    fake.mkdir()
    (fake / "innovation.py").write_text("def success_chance(p):\n    return 0.35 * p + 1e-12\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert [v for _, _, v in _numbers_in("innovation")] == [0.35, 1e-12]
    with pytest.raises(AssertionError, match="0.35"):
        test_mechanisms_hold_no_numbers_that_are_not_levers("innovation")
