"""No behavioural number hides inside a mechanism function (issue 8, item 1).

Every number that shapes an outcome is a row of the lever table (``ecosystem_sim/levers.py``),
read by name. This test parses the mechanism modules and fails on any numeric literal inside a
function body, except:

* 0 and 1 (identities, empty and full shares, indices, the first / next);
* tiny numerical guards, |x| <= 1e-9 (division by zero, round-off);
* the unit conversions 1,000 and 10,000 in per-1,000 / per-10,000 lever conversions: allowed
  only on a line that also names such a lever (``*_per_1000``, ``*_per_10000``) or the
  population it scales with (``n_citizens``). Months per year is ``levers.MONTHS_PER_YEAR``,
  a name, so it needs no exception.

Literals of module-level constants (named, documented, listed in ODD) are outside functions
and not scanned; default values of keyword arguments are part of the function's signature and
are scanned like any other literal. The failure message lists ``file:function:line`` for each
offender.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ecosystem_sim"
MECHANISM_MODULES = ("model.py", "agents.py", "innovation.py", "diffusion.py", "population.py", "shocks.py")
GUARD = 1e-9
UNIT_CONVERSIONS = {1000, 10_000}
PER_POPULATION = re.compile(r"per_1000\b|per_10000\b|n_citizens")

NOT_BEHAVIOUR: dict[tuple[str, str, float], str] = {
    ("population.py", "__init__", 0.5): "midpoint of a citizen's slot when cutting the line of citizens into communities",
    ("population.py", "_social_network", 2): "a tie has two ends: mean degree / 2 draws per citizen; both directions stored",
    ("population.py", "gini", 2.0): "the Gini coefficient's formula",
    ("population.py", "sorted_values", 50_000): "array size above which a faster sort is used (same result, bit for bit)",
    ("population.py", "sorted_values", 65536.0): "16-bit sort keys of the faster sort (same result, bit for bit)",
    ("population.py", "sorted_values", 65535.0): "16-bit sort keys of the faster sort (same result, bit for bit)",
    ("diffusion.py", "_neighbour_counts", 0.6): "eligible pairs per citizen above which the whole sparse product "
                                                "is faster than gathering each pair's ties (same counts, bit for bit)",
}
"""Literals that cannot shape an outcome (definitions, formulae, sorting speed), by file,
function and value, each with the reason. Any other number in these functions still fails."""


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


def _allowed(value, line: str, where: tuple[str, str]) -> bool:
    if (*where, value) in NOT_BEHAVIOUR:
        return True
    if value in (0, 1):
        return True
    if isinstance(value, (int, float)) and abs(value) <= GUARD:
        return True
    if value in UNIT_CONVERSIONS and PER_POPULATION.search(line):
        return True
    return False


def offenders(path: Path) -> list[str]:
    """``file:function:line  value  source line`` for every disallowed literal inside a function."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    found: list[str] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.decorator_list:
                # Decorators run when the module is imported, outside the function.
                for d in child.decorator_list:
                    visit(ast.Expr(d), function)
                child = type(child)(**{**{f: getattr(child, f) for f in child._fields}, "decorator_list": []})
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                name = child.name if not isinstance(child, ast.Lambda) else f"{function}.<lambda>"
                visit(child, name if function is None or isinstance(child, ast.Lambda) else f"{function}.{name}")
                continue
            if isinstance(child, ast.ClassDef):
                visit(child, function)
                continue
            value = _number(child)
            if value is not None and function is not None:
                line = lines[child.lineno - 1]
                if not _allowed(value, line, (path.name, function)):
                    found.append(f"{path.name}:{function}:{child.lineno}  {value!r}  {line.strip()}")
            visit(child, function)

    visit(tree, None)
    return found


@pytest.mark.parametrize("module", MECHANISM_MODULES)
def test_no_number_is_written_inside_a_mechanism_function(module):
    found = offenders(PACKAGE / module)
    assert not found, ("numbers written inside mechanism functions (make each a lever row in "
                       "ecosystem_sim/levers.py, or a named module constant if it cannot shape an "
                       "outcome):\n  " + "\n  ".join(found))


# ------------------------------------------------------------------ the scanner itself
def _scan(tmp_path, code: str) -> list[str]:
    f = tmp_path / "mod.py"
    f.write_text(code)
    return offenders(f)


def test_scanner_finds_a_number_in_a_method_and_names_it(tmp_path):
    found = _scan(tmp_path, "class A:\n    def step(self):\n        return self.x * 0.45\n")
    assert len(found) == 1
    assert found[0].startswith("mod.py:step:3  0.45")


def test_scanner_finds_nested_functions_lambdas_and_defaults(tmp_path):
    code = ("def outer(a=2.5):\n"
            "    def inner():\n"
            "        return 3\n"
            "    f = lambda x: x + 7\n"
            "    return inner() + f(a)\n")
    found = _scan(tmp_path, code)
    assert [s.split("  ")[0] for s in found] == ["mod.py:outer:1", "mod.py:outer.inner:3", "mod.py:outer.<lambda>:4"]


def test_scanner_allows_identities_guards_unit_conversions_and_module_constants(tmp_path):
    code = ("LIMIT = 0.25\n"
            "def f(s, x, flag=True):\n"
            "    y = (x + 1e-12) / max(x, 1e-300) - 1.0 + 0\n"
            "    return y * s.firms_per_1000 * s.n_citizens / 1000 + s.issues_per_10000 * s.n_citizens / 10_000\n")
    assert _scan(tmp_path, code) == []


def test_scanner_rejects_a_unit_conversion_without_its_lever(tmp_path):
    found = _scan(tmp_path, "def f(x):\n    return x / 1000\n")
    assert len(found) == 1 and "1000" in found[0]
