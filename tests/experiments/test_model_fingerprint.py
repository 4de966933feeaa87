"""The model fingerprint: what it hashes, and that a sweep's store is resumed or extended only by
the model that wrote it (a model change is simulated by patching the fingerprint; the sweeps run
in this process, so the patch is seen)."""

from __future__ import annotations

import shutil
import sqlite3
from importlib import metadata, resources

import pytest

from ecosystem_sim import cli, fingerprint

from exp_helpers import SCENARIOS, read

NEW_MODEL = "0123456789abcdef"

SMALL = f"""
name = "small"
base = "{SCENARIOS / 'citizen_led.toml'}"
presets = ["{SCENARIOS / 'job_creation.toml'}", "{SCENARIOS / 'citizen_led.toml'}"]
replications = 2
seed = 5
steps = 12
measures = ["jobs_total", "need_met_share"]

[overrides]
n_citizens = 300
citizens_per_community = 100

[levers.safety_net]
values = [0.0, 1.0]
"""


# ------------------------------------------------------------------ the fingerprint itself
def package_copy(tmp_path):
    """The package's top-level modules, copied (a tree whose text a test may change)."""
    root = tmp_path / "ecosystem_sim"
    root.mkdir()
    for f in resources.files("ecosystem_sim").iterdir():
        if f.name.endswith(".py"):
            (root / f.name).write_bytes(f.read_bytes())
    return root


def test_the_fingerprint_is_stable_and_names_the_installed_model():
    first = fingerprint.model_fingerprint()
    assert fingerprint.model_fingerprint() == first
    assert len(first) == fingerprint.DIGITS and int(first, 16) >= 0
    assert first == fingerprint.fingerprint_of(resources.files("ecosystem_sim"), metadata.version("ecosystem_sim"))
    hashed = fingerprint.model_modules(resources.files("ecosystem_sim"))
    for name in ("model.py", "agents.py", "innovation.py", "diffusion.py", "population.py", "measures.py",
                 "shocks.py", "scenario.py", "levers.py", "run.py"):
        assert name in hashed
    for name in ("cli.py", "compare.py", "reporting.py", "guards.py", "glossary.py", "observables.py"):
        assert name not in hashed


def test_the_fingerprint_changes_with_the_model_text_and_the_version(tmp_path):
    root = package_copy(tmp_path)
    base = fingerprint.fingerprint_of(root, "1.0")
    assert fingerprint.fingerprint_of(root, "1.0") == base
    assert base == fingerprint.fingerprint_of(resources.files("ecosystem_sim"), "1.0")  # a copy is the same model
    assert fingerprint.fingerprint_of(root, "1.1") != base

    for name in ("model.py", "levers.py", "run.py"):
        text = (root / name).read_bytes()
        (root / name).write_bytes(text[:-2] + bytes([text[-2] ^ 1]) + text[-1:])  # one byte changed
        assert fingerprint.fingerprint_of(root, "1.0") != base, name
        (root / name).write_bytes(text)
    assert fingerprint.fingerprint_of(root, "1.0") == base

    (root / "cli.py").write_bytes((root / "cli.py").read_bytes() + b"# not the model\n")
    assert fingerprint.fingerprint_of(root, "1.0") == base  # the command line does not decide results
    (root / "networks.py").write_text("SPEED = 1\n")  # a module added later is part of the model
    assert fingerprint.fingerprint_of(root, "1.0") != base
    (root / "networks.py").unlink()
    crlf = (root / "agents.py").read_bytes().replace(b"\n", b"\r\n")
    (root / "agents.py").write_bytes(crlf)
    assert fingerprint.fingerprint_of(root, "1.0") == base  # line ends of a Windows checkout


# ------------------------------------------------------------------ sweep stores
def sweep(path, out, capsys, *extra) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["sweep", str(path), "--out", str(out), "--quiet", "--workers", "1", *extra])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def snapshot(out) -> tuple:
    return tuple(read(out, f"SELECT * FROM {t}").to_json() for t in ("manifest", "points", "runs", "sessions"))


@pytest.fixture
def store(tmp_path, capsys):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = tmp_path / "out"
    code, stdout, stderr = sweep(path, out, capsys)
    assert code == 0, stderr
    assert "8 run now" in stdout
    return path, out


def one_line_refusal(code, stdout, stderr):
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecosim sweep: error:"), stderr
    return lines[0]


def test_a_store_records_its_model_and_the_same_model_resumes_it(store, capsys):
    path, out = store
    man = read(out, "SELECT model_fingerprint, provenance_json FROM manifest").iloc[0]
    assert man.model_fingerprint == fingerprint.model_fingerprint()
    assert fingerprint.model_fingerprint() in man.provenance_json
    code, stdout, stderr = sweep(path, out, capsys)
    assert code == 0 and "8 already stored, 0 run now" in stdout, stderr


@pytest.mark.parametrize("change", ["resume", "extend"])
def test_another_model_may_not_resume_or_extend_a_store(store, capsys, monkeypatch, change):
    path, out = store
    old = fingerprint.model_fingerprint()
    if change == "extend":
        path.write_text(SMALL.replace("replications = 2", "replications = 3"))
    before = snapshot(out)
    monkeypatch.setattr(fingerprint, "model_fingerprint", lambda: NEW_MODEL)
    line = one_line_refusal(*sweep(path, out, capsys))
    for fragment in (str(out / "results.sqlite"), old, NEW_MODEL, "another model", "--out"):
        assert fragment in line, (fragment, line)
    assert snapshot(out) == before  # nothing written: no session, no run, the same manifest


def test_a_store_of_an_older_version_without_a_fingerprint_is_refused(store, capsys):
    path, out = store
    con = sqlite3.connect(out / "results.sqlite")
    con.execute("ALTER TABLE manifest DROP COLUMN model_fingerprint")  # as stores were written before
    con.commit()
    con.close()
    before = snapshot(out)
    line = one_line_refusal(*sweep(path, out, capsys))
    for fragment in (str(out / "results.sqlite"), "older version", fingerprint.model_fingerprint(), "--out"):
        assert fragment in line, (fragment, line)
    assert snapshot(out) == before
    shutil.rmtree(out)  # and a new folder is the way out
    code, stdout, stderr = sweep(path, out, capsys)
    assert code == 0, stderr
