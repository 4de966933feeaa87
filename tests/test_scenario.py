"""Scenario files: reading, inheritance, overrides, and every kind of bad input.

Expected values come from the TOML text written in each test (parsed with ``tomllib``
independently of the code under test) or from the lever table's documented ranges.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from ecosystem_sim.levers import BUDGET_SHARES, FIRM_KINDS, FOUNDED_KINDS, LEVERS
from ecosystem_sim.scenario import (
    Scenario,
    ScenarioError,
    Shock,
    default_scenario,
    from_dict,
    load_scenario,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ good files
@pytest.mark.parametrize("fname", ["citizen_led.toml", "job_creation.toml"])
def test_presets_load_with_their_file_values_and_defaults_elsewhere(fname):
    path = SCENARIOS / fname
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    sc = load_scenario(path)
    assert sc.name == raw["name"]
    assert sc.description == raw["description"]
    assert sc.shocks == ()
    assert sc.source == str(path)
    set_here = {k: v for section in ("policy", "region", "behaviour") for k, v in raw.get(section, {}).items()}
    for name, lever in LEVERS.items():
        expected = set_here.get(name, lever.default)
        assert sc.params[name] == expected, name
        assert getattr(sc, name) == expected


def test_presets_are_the_two_regimes_of_the_sources():
    """000 table: job creation vs citizen-led differ in the direction the sources describe."""
    jc = load_scenario(SCENARIOS / "job_creation.toml")
    cl = load_scenario(SCENARIOS / "citizen_led.toml")
    assert jc.budget_split["share_wage_subsidy"] > cl.budget_split["share_wage_subsidy"]
    assert jc.citizen_problem_definition < cl.citizen_problem_definition
    assert jc.safety_net < cl.safety_net
    assert jc.commons_share < cl.commons_share
    assert jc.programme_length < cl.programme_length
    assert jc.local_cocreation < cl.local_cocreation


def test_integer_levers_are_ints_and_others_floats(tmp_path):
    p = write(tmp_path, "s.toml", "[policy]\nprogramme_length = 12.0\nsafety_net = 1\n")
    sc = load_scenario(p)
    assert sc.programme_length == 12 and type(sc.programme_length) is int
    assert sc.safety_net == 1.0 and type(sc.safety_net) is float


def test_budget_split_is_normalised_weights(tmp_path):
    p = write(tmp_path, "s.toml", "[policy]\n" + "".join(f"{k} = 0\n" for k in BUDGET_SHARES[2:])
              + "share_wage_subsidy = 0.2\nshare_project_funding = 0.6\n")
    split = load_scenario(p).budget_split
    assert split == pytest.approx({"share_wage_subsidy": 0.25, "share_project_funding": 0.75,
                                   **{k: 0.0 for k in BUDGET_SHARES[2:]}})


def test_name_defaults_to_file_stem(tmp_path):
    p = write(tmp_path, "my_region.toml", "[policy]\nsafety_net = 0.2\n")
    assert load_scenario(p).name == "my_region"


def test_inheritance_overrides_key_by_key_and_replaces_shocks(tmp_path):
    write(tmp_path, "base.toml", """
name = "base"
description = "the parent"
[policy]
safety_net = 0.1
commons_share = 0.2
[region]
n_citizens = 2000
[[shocks]]
kind = "budget_cut"
step = 10
strength = 0.3
[[shocks]]
kind = "downturn"
step = 20
""")
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub", "child.toml", """
inherits = "../base.toml"
[policy]
safety_net = 0.9
[[shocks]]
kind = "need_surge"
step = 5
domain = "migration"
strength = 0.25
""")
    sc = load_scenario(child)
    assert sc.name == "child"                    # the child's own name (file stem)
    assert sc.description == "the parent"        # inherited
    assert sc.safety_net == 0.9                  # overridden
    assert sc.commons_share == 0.2               # kept from the parent
    assert sc.n_citizens == 2000                 # kept from the parent
    assert sc.shocks == (Shock(kind="need_surge", step=5, domain="migration", strength=0.25),)


def test_inheriting_without_shocks_keeps_the_parents(tmp_path):
    write(tmp_path, "base.toml", "[[shocks]]\nkind = 'programme_end'\nstep = 7\n")
    child = write(tmp_path, "child.toml", "inherits = 'base.toml'\n[policy]\nsafety_net = 0.3\n")
    sc = load_scenario(child)
    assert sc.shocks == (Shock(kind="programme_end", step=7),)


def test_shock_defaults_and_full_options(tmp_path):
    p = write(tmp_path, "s.toml", """
[[shocks]]
kind = "keystone_loss"
step = 3
target = "any"
count = 2
[[shocks]]
kind = "budget_cut"
step = 4
strength = 1
duration = 6
""")
    a, b = load_scenario(p).shocks
    assert (a.kind, a.step, a.target, a.count) == ("keystone_loss", 3, "any", 2)
    assert (b.kind, b.step, b.strength, b.duration) == ("budget_cut", 4, 1.0, 6)
    assert type(b.strength) is float


def test_overrides_apply_last_and_are_validated(tmp_path):
    p = write(tmp_path, "s.toml", "[policy]\nsafety_net = 0.2\n")
    sc = load_scenario(p, {"safety_net": 0.7, "n_citizens": 1000})
    assert sc.safety_net == 0.7 and sc.n_citizens == 1000
    with pytest.raises(ScenarioError) as e:
        load_scenario(p, {"safety_net": 7})
    assert e.value.key == "safety_net" and e.value.value == 7
    assert "command line" in str(e.value)


def test_with_overrides_does_not_change_the_original():
    sc = default_scenario()
    other = sc.with_overrides({"safety_net": 0.9})
    assert sc.safety_net == LEVERS["safety_net"].default
    assert other.safety_net == 0.9
    with pytest.raises(TypeError):
        sc.params["safety_net"] = 0.1  # read-only mapping


def test_round_trip_through_to_dict(tmp_path):
    p = write(tmp_path, "s.toml", """
name = "x"
description = "d"
[policy]
safety_net = 0.25
[[shocks]]
kind = "downturn"
step = 12
strength = 0.4
duration = 6
""")
    sc = load_scenario(p)
    back = from_dict(sc.to_dict())
    assert back.name == sc.name and back.description == sc.description
    assert dict(back.params) == dict(sc.params)
    assert back.shocks == sc.shocks


def test_without_shocks_is_the_same_scenario_with_no_shocks(tmp_path):
    p = write(tmp_path, "s.toml", "[[shocks]]\nkind = 'downturn'\nstep = 3\n")
    sc = load_scenario(p)
    twin = sc.without_shocks()
    assert twin.shocks == () and dict(twin.params) == dict(sc.params) and twin.name == sc.name


def test_attribute_access_to_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError):
        default_scenario().no_such_lever  # noqa: B018


# ------------------------------------------------------------------ bad files
BAD = {
    # id: (file text, key named, value named (repr), words of what is allowed)
    "unknown_key": ("[policy]\nsafety_nett = 0.5\n", "policy.safety_nett", "0.5", "unknown lever"),
    "wrong_type": ("[policy]\nsafety_net = \"high\"\n", "policy.safety_net", "'high'", "must be a number in [0, 1]"),
    "out_of_range": ("[policy]\nsafety_net = 1.5\n", "policy.safety_net", "1.5", "must be in [0, 1]"),
    "negative": ("[region]\nn_citizens = -5\n", "region.n_citizens", "-5", "must be in [200, 2000000]"),
    "not_integer": ("[policy]\nprogramme_length = 12.5\n", "policy.programme_length", "12.5", "must be an integer"),
    "bool_for_number": ("[policy]\nsafety_net = true\n", "policy.safety_net", "True", "must be a number"),
    "nan": ("[policy]\nsafety_net = nan\n", "policy.safety_net", "nan", "must be in [0, 1]"),
    "wrong_section": ("[region]\nsafety_net = 0.5\n", "region.safety_net", "0.5", "belongs in [policy]"),
    "unknown_section": ("[polcy]\nsafety_net = 0.5\n", "polcy", "{'safety_net': 0.5}",
                        "unknown key; allowed at top level"),
    "section_not_table": ("policy = 3\n", "policy", "3", "must be a table"),
    "bad_toml": ("[policy\nsafety_net = 0.5\n", "file", "'<TOML>'", "is not valid TOML"),
    "shock_after_end": ("[region]\nsteps = 24\n[[shocks]]\nkind = 'budget_cut'\nstep = 30\n",
                        "shocks[0].step", "30", "must be before the end of the run (steps = 24)"),
    "shock_at_end": ("[region]\nsteps = 24\n[[shocks]]\nkind = 'budget_cut'\nstep = 24\n",
                     "shocks[0].step", "24", "before the end of the run"),
    "shock_kind": ("[[shocks]]\nkind = 'earthquake'\nstep = 3\n", "shocks[0].kind", "'earthquake'",
                   "must be one of: programme_end, budget_cut, downturn, keystone_loss, need_surge"),
    "shock_no_step": ("[[shocks]]\nkind = 'downturn'\n", "shocks[0].step", "None", "is required"),
    "shock_step_zero": ("[[shocks]]\nkind = 'downturn'\nstep = 0\n", "shocks[0].step", "0", "integer month >= 1"),
    "shock_strength": ("[[shocks]]\nkind = 'downturn'\nstep = 3\nstrength = 2\n", "shocks[0].strength", "2",
                       "must be a number in [0, 1]"),
    "shock_domain": ("[[shocks]]\nkind = 'need_surge'\nstep = 3\ndomain = 'housing'\n", "shocks[0].domain",
                     "'housing'", "must be one of: health_welfare"),
    "shock_target": ("[[shocks]]\nkind = 'keystone_loss'\nstep = 3\ntarget = 'bank'\n", "shocks[0].target",
                     "'bank'", "must be one of"),
    "shock_count": ("[[shocks]]\nkind = 'keystone_loss'\nstep = 3\ncount = 0\n", "shocks[0].count", "0",
                    "integer >= 1"),
    "shock_unknown_key": ("[[shocks]]\nkind = 'downturn'\nstep = 3\nsevere = true\n", "shocks[0].severe", "True",
                          "unknown key"),
    "second_shock_bad": ("[[shocks]]\nkind = 'downturn'\nstep = 3\n[[shocks]]\nkind = 'downturn'\nstep = 4\n"
                         "duration = -1\n", "shocks[1].duration", "-1", ">= 0"),
    "shocks_not_array": ("shocks = 3\n", "shocks", "3", "must be an array of tables"),
    "no_budget": ("[policy]\n" + "".join(f"{k} = 0\n" for k in BUDGET_SHARES), "policy.share_*", "0",
                  "at least one budget share must be above 0"),
    "no_firm_kinds": ("[region]\n" + "".join(f"mix_{k} = 0\n" for k in FIRM_KINDS), "region.mix_*", "0",
                      "at least one mix_* weight must be above 0"),
    "no_founded_kinds": ("[behaviour]\n" + "".join(f"founded_{k} = 0\n" for k in FOUNDED_KINDS), "behaviour.founded_*",
                         "0", "at least one founded_* weight must be above 0"),
    "name_not_string": ("name = 3\n", "name", "3", "must be a string"),
    "inherits_not_string": ("inherits = 3\n", "inherits", "3", "must be a path"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_raises_scenario_error_naming_file_key_value_and_allowed(tmp_path, case):
    text, key, value, allowed = BAD[case]
    p = write(tmp_path, "bad.toml", text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert isinstance(e.value, ValueError)
    assert str(p) in msg
    assert e.value.key == key
    assert f"{key} = {value}" in msg
    assert allowed in msg
    assert "\n" not in msg


def test_unknown_lever_message_lists_allowed_levers_of_the_section(tmp_path):
    p = write(tmp_path, "bad.toml", "[policy]\nsafety_nett = 0.5\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "safety_net" in e.value.allowed and "commons_share" in e.value.allowed
    assert "n_citizens" not in e.value.allowed  # a region lever is not allowed in [policy]


def test_missing_file(tmp_path):
    p = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert str(p) in str(e.value) and "no such scenario file" in str(e.value)


def test_missing_parent_names_the_parent(tmp_path):
    p = write(tmp_path, "child.toml", "inherits = 'parent.toml'\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "parent.toml" in str(e.value) and "no such scenario file" in str(e.value)


def test_error_in_parent_names_the_parent_file(tmp_path):
    write(tmp_path, "parent.toml", "[policy]\nsafety_net = 3\n")
    child = write(tmp_path, "child.toml", "inherits = 'parent.toml'\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(child)
    assert e.value.where == str(tmp_path / "parent.toml")


@pytest.mark.parametrize("files", [
    {"a.toml": "inherits = 'a.toml'\n"},
    {"a.toml": "inherits = 'b.toml'\n", "b.toml": "inherits = 'a.toml'\n"},
    {"a.toml": "inherits = 'b.toml'\n", "b.toml": "inherits = 'c.toml'\n", "c.toml": "inherits = 'a.toml'\n"},
], ids=["self", "two", "three"])
def test_inheritance_loop(tmp_path, files):
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path / "a.toml")
    assert e.value.key == "inherits"
    assert "loops back" in str(e.value)
    assert "a.toml" in str(e.value)


def test_non_utf8_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_bytes("name = 'caf\u00e9'\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "UTF-8" in str(e.value) and str(p) in str(e.value)


def test_override_of_shocks_is_validated_and_checked_against_steps():
    sc = default_scenario().with_overrides({"steps": 24})
    with pytest.raises(ScenarioError) as e:
        sc.with_overrides({"shocks": [{"kind": "downturn", "step": 24}]})
    assert e.value.key == "shocks[0].step"
    # shortening the run below an existing shock is refused too
    shocked = sc.with_overrides({"shocks": [{"kind": "downturn", "step": 20}]})
    with pytest.raises(ScenarioError) as e:
        shocked.with_overrides({"steps": 12})
    assert e.value.key == "shocks[0].step" and e.value.value == 20


def test_from_dict_rejects_unknown_params():
    with pytest.raises(ScenarioError) as e:
        from_dict({"params": {"bogus": 1}})
    assert e.value.key == "params.bogus"


def test_from_dict_rejects_bad_values():
    with pytest.raises(ScenarioError) as e:
        from_dict({"params": {"safety_net": -1}})
    assert "[0, 1]" in str(e.value)


def test_scenario_error_is_a_value_error_with_parts():
    err = ScenarioError("f.toml", "policy.x", 3, "allowed: y")
    assert isinstance(err, ValueError)
    assert str(err) == "f.toml: policy.x = 3: allowed: y"
    assert (err.where, err.key, err.value, err.allowed) == ("f.toml", "policy.x", 3, "allowed: y")


def test_default_scenario_is_valid_and_has_every_default():
    sc = default_scenario()
    assert isinstance(sc, Scenario)
    assert all(sc.params[k] == LEVERS[k].default for k in LEVERS)
    assert math.isclose(sum(sc.budget_split.values()), 1.0)
