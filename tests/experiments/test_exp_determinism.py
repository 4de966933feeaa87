"""Stored results do not depend on the number of workers or the executor (processes or Dask)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ecosystem_sim.experiments import build_design, load_experiment, sweep

from exp_helpers import read


def _content(folder):
    runs = read(folder, "SELECT * FROM runs ORDER BY run_id").drop(columns=["duration", "finished_utc"])
    ts = read(folder, "SELECT * FROM timeseries ORDER BY run_id, step")
    res = read(folder, "SELECT * FROM resilience ORDER BY run_id, shock, measure")
    diff = read(folder, "SELECT * FROM diffusion ORDER BY run_id, domain")
    return runs, ts, res, diff


def test_seeds_come_from_one_seed_sequence_by_content(tiny_file):
    import numpy as np

    d = build_design(load_experiment(tiny_file))
    for r in d.runs:
        key = d.points[r.point_id].key
        words = tuple(int(key[i:i + 8], 16) for i in range(0, 32, 8))
        assert r.seed == int(np.random.SeedSequence(11, spawn_key=(*words, r.replicate)).generate_state(1)[0])
    assert len({r.seed for r in d.runs}) == len(d.runs)
    assert build_design(load_experiment(tiny_file)).hash == d.hash


def test_a_runs_seed_does_not_depend_on_replications_or_other_points(tiny_file):
    small = build_design(load_experiment(tiny_file))
    tiny_file.write_text(tiny_file.read_text().replace("replications = 2", "replications = 5")
                         .replace("values = [0.0, 1.0]", "values = [0.0, 0.3, 1.0]"))
    big = build_design(load_experiment(tiny_file))
    seed_of = {(big.points[r.point_id].key, r.replicate): r.seed for r in big.runs}
    for r in small.runs:
        assert seed_of[(small.points[r.point_id].key, r.replicate)] == r.seed
    assert big.identity == small.identity and big.hash != small.hash


def test_common_random_numbers_share_the_replicate_seed(tiny_file):
    import numpy as np

    tiny_file.write_text(tiny_file.read_text().replace("seed = 11", "seed = 11\ncommon_random_numbers = true"))
    d = build_design(load_experiment(tiny_file))
    expected = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(11).spawn(2)]
    assert [r.seed for r in d.runs] == expected * (len(d.runs) // 2)


def test_same_results_with_1_2_workers_and_dask(tiny_file, tmp_path):
    pytest.importorskip("distributed")
    exp = load_experiment(tiny_file)
    sweep(exp, tmp_path / "w1", workers=1, progress=False)
    sweep(exp, tmp_path / "w2", workers=2, progress=False)
    sweep(exp, tmp_path / "dask", workers=2, scheduler="local", progress=False)
    ref = _content(tmp_path / "w1")
    assert len(ref[0]) == 8 and (ref[0].status == "ok").all()
    for other in ("w2", "dask"):
        for a, b in zip(ref, _content(tmp_path / other)):
            pd.testing.assert_frame_equal(a, b)
    hashes = {read(tmp_path / f, "SELECT design_hash FROM manifest").iloc[0, 0] for f in ("w1", "w2", "dask")}
    assert len(hashes) == 1
    summary = json.loads(ref[0].summary_json.iloc[0])
    assert {"final", "resilience", "diffusion"} <= set(summary)
