"""Bit-identity guard: the model must reproduce the stored reference runs exactly.

Optimisations must not change results. Each ``tests/data/reference_<scenario>.json``
holds, for a few seeds, the final-step measures (full float precision) and a SHA-256 of
the whole per-step measures frame of a small run. When the model is changed on purpose
(calibration), regenerate with one command::

    .venv/bin/python benchmarks/make_reference.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ecosystem_sim.bench import reference_summary

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "tests" / "data").glob("reference_*.json"))
CASES = [(f, run["seed"]) for f in FILES for run in json.loads(f.read_text())["runs"]]
REGEN = "regenerate with: .venv/bin/python benchmarks/make_reference.py (only if the change is intended)"


def test_reference_files_exist():
    assert FILES, f"no tests/data/reference_*.json; {REGEN}"


@pytest.mark.parametrize("path,seed", CASES, ids=[f"{p.stem}-seed{s}" for p, s in CASES])
def test_matches_reference_bit_for_bit(path, seed):
    doc = json.loads(path.read_text())
    ref = next(r for r in doc["runs"] if r["seed"] == seed)
    got = reference_summary(ROOT / doc["scenario"], seed, doc["n_citizens"], doc["steps"])
    same = lambda a, b: a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    diff = {k: (ref["final"].get(k), got["final"].get(k)) for k in set(ref["final"]) | set(got["final"])
            if not same(ref["final"].get(k), got["final"].get(k))}
    assert not diff, f"final measures differ (reference, now): {dict(sorted(diff.items()))}; {REGEN}"
    assert got["frame_sha256"] == ref["frame_sha256"], (
        f"final step matches but the per-step measures frame differs somewhere; {REGEN}")
