"""Kept runs are reused only by the model that made them: after a model change (simulated by
patching the model fingerprint and the function that runs the model), ``ecosim compare`` and
``ecosim decompose`` on the same ``--out`` run everything again and mix in no stale run.

The commands run in this process (``--workers 1``): spawned workers would not see the patches."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ecosystem_sim import cli, compare, fingerprint
from ecosystem_sim.experiments import screening

from scenario_pairs import pair

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
NEW_MODEL = "0123456789abcdef"
"""The fingerprint of the pretend new model."""
STALE = -7.0
"""What the pretend new model reports for every measure we look at (no real run gives it)."""


def main(argv) -> int:
    return cli.main([str(a) for a in argv])


def counting(monkeypatch, module, name, change=None) -> list:
    """Replace ``module.name`` by a wrapper that records each call (and, with ``change``, changes the result)."""
    original = getattr(module, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        result = original(*args, **kwargs)
        return change(result) if change else result

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_compare_reruns_every_run_after_a_model_change(tmp_path, monkeypatch, capsys):
    a, b = pair(tmp_path)
    out = tmp_path / "cmp"
    argv = ["compare", a, b, "--set", "n_citizens=300", "--steps", 12, "--replicates", 2, "--workers", 1,
            "--out", out]
    old_model = fingerprint.model_fingerprint()
    first = counting(monkeypatch, compare, "run_one")
    assert main(argv) == 0
    assert len(first) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs_made_by_model"] == old_model == summary["provenance"]["model_fingerprint"]
    assert f"model fingerprint {old_model}" in (out / "report.md").read_text()

    # the same model: every run is found again
    again = counting(monkeypatch, compare, "run_one")
    assert main(argv) == 0
    assert again == []

    # another model: nothing made by the old one is reused, and the tables hold only the new runs
    def new_model(result):
        result.measures["orgs_alive"] = STALE
        return result

    monkeypatch.setattr(fingerprint, "model_fingerprint", lambda: NEW_MODEL)
    rerun = counting(monkeypatch, compare, "run_one", new_model)
    assert main(argv) == 0, capsys.readouterr().err
    assert len(rerun) == 4
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2 * 2 * 13 and (runs["orgs_alive"] == STALE).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs_made_by_model"] == NEW_MODEL == summary["provenance"]["model_fingerprint"]
    assert summary["kept_runs_not_used"] == 4  # the old model's files are left, not read
    report = (out / "report.md").read_text()
    assert f"model fingerprint {NEW_MODEL}" in report and "also keeps 4 runs not used here" in report
    for f in (out / "runs").glob("*.json"):  # every run file records the model that made it
        assert json.loads(f.read_text())["provenance"]["model_fingerprint"] in (old_model, NEW_MODEL)


def test_decompose_does_not_resume_from_runs_of_another_model(tmp_path, monkeypatch, capsys):
    a, b = pair(tmp_path)
    out = tmp_path / "dec"
    argv = ["decompose", a, b, "--population", 300, "--steps", 12, "--replicates", 2, "--workers", 1, "--quiet",
            "--out", out]
    total = (2 + 2 * 2) * 2  # A, B and each of the two levers from both ends, on two seeds
    cache = tmp_path / ".ecosim-decompose-runs-dec"

    # the old model: interrupted after three finished runs, which stay in the cache for a resume
    original = screening.final_means
    done = []

    def interrupted(task):
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(task)
        return original(task)

    monkeypatch.setattr(screening, "final_means", interrupted)
    assert main(argv) == 130
    assert len(list(cache.glob("*.json"))) == 3

    # the same model resumes from them (the cache works) ...
    monkeypatch.setattr(screening, "final_means", original)
    kept = {f.name: f.read_bytes() for f in cache.glob("*.json")}
    resumed = counting(monkeypatch, screening, "final_means")
    assert len(screening._run_all(done, workers=1, cache=cache)) == 3 and resumed == []

    # ... another model does not: every run is made again, by the new model
    def new_model(result):
        return {k: STALE for k in result}

    monkeypatch.setattr(fingerprint, "model_fingerprint", lambda: NEW_MODEL)
    assert {f.name: f.read_bytes() for f in cache.glob("*.json")} == kept
    rerun = counting(monkeypatch, screening, "final_means", new_model)
    capsys.readouterr()
    assert main(argv) == 0, capsys.readouterr().err
    assert len(rerun) == total
    table = pd.read_csv(out / "decomposition.csv")
    assert (table["gap"] == 0).all()  # every run, A and B included, is the new model's (no stale run mixed in)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["model_fingerprint"] == NEW_MODEL
    assert f"model fingerprint {NEW_MODEL}" in (out / "decomposition.md").read_text()


@pytest.mark.parametrize("key", ["compare", "decompose"])
def test_run_keys_name_the_model(monkeypatch, key):
    from ecosystem_sim.scenario import default_scenario

    sc = default_scenario()
    make = (lambda: compare.run_key(sc, 3, 12)) if key == "compare" else (lambda: screening._task_key((sc.to_dict(), 3)))
    before = make()
    assert make() == before
    monkeypatch.setattr(fingerprint, "model_fingerprint", lambda: NEW_MODEL)
    assert make() != before
