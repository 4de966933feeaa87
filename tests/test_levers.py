"""The lever table: every row is self-consistent and ``Lever.check`` accepts exactly its range."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from ecosystem_sim.levers import BUDGET_SHARES, DOMAINS, FIRM_KINDS, LEVERS, ORG_KINDS, by_group, defaults

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("policy", "region", "behaviour")


@pytest.mark.parametrize("name", list(LEVERS))
def test_every_lever_row_is_consistent(name):
    lever = LEVERS[name]
    assert lever.name == name
    assert lever.group in GROUPS
    assert lever.low < lever.high
    assert lever.low <= lever.default <= lever.high
    assert lever.check(lever.default) is None
    assert lever.check(lever.low) is None
    assert lever.check(lever.high) is None
    assert lever.unit and lever.doc
    if lever.integer:
        assert float(lever.default).is_integer()
        assert float(lever.low).is_integer() and float(lever.high).is_integer()


def test_groups_partition_the_table_in_order():
    names = [l.name for g in GROUPS for l in by_group(g)]
    assert sorted(names) == sorted(LEVERS)
    assert len(names) == len(LEVERS)
    # by_group keeps table order
    for g in GROUPS:
        in_group = [n for n in LEVERS if LEVERS[n].group == g]
        assert [l.name for l in by_group(g)] == in_group


def test_defaults_cover_every_lever():
    d = defaults()
    assert set(d) == set(LEVERS)
    assert all(d[k] == LEVERS[k].default for k in d)


def test_budget_shares_are_policy_levers_with_some_default_weight():
    assert set(BUDGET_SHARES) <= set(LEVERS)
    assert all(LEVERS[k].group == "policy" for k in BUDGET_SHARES)
    assert sum(LEVERS[k].default for k in BUDGET_SHARES) > 0


def test_kinds_and_domains():
    assert len(DOMAINS) == 5 and len(set(DOMAINS)) == 5
    assert FIRM_KINDS == ORG_KINDS[:5]
    assert "intermediary" in ORG_KINDS and "nonprofit" in ORG_KINDS
    assert "intermediary" not in FIRM_KINDS


@pytest.mark.parametrize("bad", ["0.5", None, True, False, [0.5], {"v": 1}])
def test_check_rejects_non_numbers(bad):
    msg = LEVERS["safety_net"].check(bad)
    assert msg is not None
    assert "must be a number in [0, 1]" in msg


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, math.inf, -math.inf])
def test_check_rejects_out_of_range_and_nan(bad):
    msg = LEVERS["safety_net"].check(bad)
    assert msg is not None and "[0, 1]" in msg


def test_check_integer_levers():
    lever = LEVERS["programme_length"]  # 6..120 months, integer
    assert lever.check(12) is None
    assert lever.check(12.0) is None
    assert "integer" in lever.check(12.5)
    assert "integer" in lever.check("12")
    assert lever.check(5) is not None
    assert lever.check(121) is not None
    assert "months" in lever.check(121)


def test_check_accepts_ints_for_float_levers():
    assert LEVERS["safety_net"].check(1) is None
    assert LEVERS["safety_net"].check(0) is None


def test_presets_differ_only_in_policy_levers():
    """The two regimes are presets of policy levers, not code paths (domain brief §2)."""
    for f in sorted((ROOT / "scenarios").glob("*.toml")):
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        for section in ("region", "behaviour"):
            assert section not in data, f"{f.name} sets [{section}]"
        for key in data.get("policy", {}):
            assert LEVERS[key].group == "policy"
