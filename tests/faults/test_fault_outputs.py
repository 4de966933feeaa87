"""Outputs never destroy what the program did not write, and no output path leaves its folder.
(docs/guarantees.md, "Your files are never lost")"""

from __future__ import annotations

import os

import pytest

from ecosystem_sim import guards
from ecosystem_sim.cli import main

from fault_helpers import SCENARIOS, SMALL, assert_one_line, ecosim, run_in_process

JOB = SCENARIOS / "job_creation.toml"
CIT = SCENARIOS / "citizen_led.toml"




def test_run_never_replaces_the_working_folder_or_its_parents(tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    for out in (".", "..", str(work)):
        for extra in ([], ["--overwrite"]):  # not even with --overwrite
            code, stdout, err = run_in_process(["run", JOB, "--steps", 6, *SMALL, "--out", out, *extra], capsys)
            assert code == 2 and stdout == ""
            assert_one_line(err, "working folder")
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_an_empty_out_is_refused_not_replaced_by_a_default(tmp_path, capsys, monkeypatch):
    # `--out "$DIR"` with DIR unset: run once fell back to results/run-NAME-SEED and wrote there
    monkeypatch.chdir(tmp_path)
    for command in (["run", JOB, "--steps", 6, *SMALL], ["compare", JOB, CIT, "--steps", 6, *SMALL]):
        for out in ("", " "):
            code, stdout, err = run_in_process([*command, "--out", out], capsys)
            assert code == 2 and stdout == ""
            assert_one_line(err, "--out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["file", "symlink", "inside_a_file"])
def test_out_that_is_a_file_or_a_link_is_refused_and_left_alone(tmp_path, capsys, kind):
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    out = target / "sub" if kind == "inside_a_file" else target
    if kind == "symlink":
        out = tmp_path / "link"
        os.symlink(tmp_path / "elsewhere", out, target_is_directory=True)
        (tmp_path / "elsewhere").mkdir()
    for command in (["run", JOB, "--steps", 6, *SMALL], ["compare", JOB, CIT, "--steps", 6, *SMALL]):
        code, _, err = run_in_process([*command, "--out", out], capsys)
        assert code == 2
        assert_one_line(err, str(out), "symbolic link" if kind == "symlink" else "a file, not a folder")
    assert target.read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ecosim")]


def test_compare_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "table.csv").write_text("the user's own table")
    code, _, err = run_in_process(["compare", JOB, CIT, "--steps", 6, *SMALL, "--out", out], capsys)
    assert code == 2
    assert_one_line(err, "not empty", "ecosim compare", "--overwrite")
    assert (out / "table.csv").read_text() == "the user's own table"
    assert sorted(p.name for p in out.iterdir()) == ["table.csv"]


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "..", ".hidden", "x" * 81, "tab\there"])
def test_unsafe_scenario_names_are_refused_before_anything_runs(tmp_path, capsys, name):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'name = "{name}"\ninherits = "{SCENARIOS / "job_creation.toml"}"\n'.replace("\t", "\\t"))
    for argv in (["run", bad, "--steps", 6], ["compare", bad, CIT, "--steps", 6, "--out", tmp_path / "cmp"]):
        code, _, err = run_in_process(argv, capsys)
        assert code == 2
        assert_one_line(err, "bad.toml", "name =", "file names")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_non_latin_scenario_names_are_fine_and_stay_inside_their_folder(tmp_path):
    sc = tmp_path / "sc.toml"
    sc.write_text(f'name = "시민 주도 (2024)"\ninherits = "{SCENARIOS / "citizen_led.toml"}"\n')
    proc = ecosim("compare", sc, JOB, "--steps", 6, *SMALL, "--replicates", 2, "--out", tmp_path / "cmp",
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(tmp_path / "cmp") or p == sc for p in written)
    assert any("시민 주도 (2024)-000-" in p.name for p in (tmp_path / "cmp" / "runs").iterdir())
    assert not [p for p in (tmp_path / "cmp").iterdir() if p.name.startswith(guards.STAGE_PREFIX)]


@pytest.mark.parametrize("text", ["../../x", "a/b\\c", "..", "", "...", " .x", "a\x00b", "?*<>|:"])
def test_safe_name_is_one_component_inside_its_folder(tmp_path, text):
    name = guards.safe_name(text)
    assert name and not name.startswith(".") and "/" not in name and "\\" not in name and "\x00" not in name
    assert guards.inside(tmp_path, tmp_path / name) == tmp_path / name


def test_inside_refuses_a_path_that_leaves_its_folder(tmp_path):
    with pytest.raises(guards.Refused, match="outside its output folder"):
        guards.inside(tmp_path / "out", tmp_path / "out" / ".." / "elsewhere")
