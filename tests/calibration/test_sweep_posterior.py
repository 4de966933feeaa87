"""``ecosim sweep EXPERIMENT --posterior DIR``: behaviour levers drawn per run from a calibration's
posterior, the same whatever the number of workers, recorded in the store; levers the experiment
sets keep the experiment's values; a bad ``--posterior`` is refused before anything is written.

The posterior is made by ``ecosim calibrate`` itself (the planted problem of ``calib_planted``, one
small generation), so the tests read what the calibration really writes, not a hand-made file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from calib_planted import PLANTED, write_targets
from ecosystem_sim.cli import main
from ecosystem_sim.levers import LEVERS
from ecosystem_sim.run import run_one
from ecosystem_sim.scenario import from_dict

ROOT = Path(__file__).resolve().parents[2]
SHORT_CALIBRATION = ROOT / "docs" / "data" / "calibration-short-2026-11-30"
DRAWN = sorted(PLANTED)  # the levers the planted calibration fits: capacity_gain, capacity_decay


@pytest.fixture(scope="module")
def posterior_dir(tmp_path_factory) -> Path:
    """A real (tiny) calibration folder: 8 particles, one generation, 600 citizens x 24 months."""
    folder = tmp_path_factory.mktemp("calibration")
    targets = write_targets(folder, population=8, generations=1, draws=2)
    out = folder / "out"
    assert main(["calibrate", str(targets), "--out", str(out), "--quiet"]) == 0
    return out


def particles(folder: Path) -> pd.DataFrame:
    df = pd.read_csv(folder / "posterior.csv")
    assert set(DRAWN) <= set(df.columns) and len(df) >= 4
    return df


def experiment(folder: Path, levers: str = "", overrides: str = "", replications: int = 4) -> Path:
    """A small sweep: a strong policy lever at two values, ``replications`` seeds per point."""
    path = folder / "exp.toml"
    path.write_text(f"""
name = "posterior_sweep"
base = "{(ROOT / 'scenarios' / 'citizen_led.toml').as_posix()}"
replications = {replications}
seed = 5
steps = 12
measures = ["jobs_total", "need_met_share"]

[overrides]
n_citizens = 300
citizens_per_community = 100
{overrides}

[levers.budget_per_1000]
values = [0.5, 40.0]
{levers}
""")
    return path


def runs(folder: Path) -> pd.DataFrame:
    con = sqlite3.connect(folder / "results.sqlite")
    try:
        df = pd.read_sql("SELECT r.*, p.scenario_json FROM runs r JOIN points p USING (point_id) ORDER BY run_id", con)
    finally:
        con.close()
    assert (df.status == "ok").all(), df.error.dropna().tolist()[:1]
    df["draw"] = [json.loads(s).get("posterior_draw") for s in df.summary_json]
    return df


def manifest_provenance(folder: Path) -> dict:
    con = sqlite3.connect(folder / "results.sqlite")
    try:
        return json.loads(con.execute("SELECT provenance_json FROM manifest").fetchone()[0])
    finally:
        con.close()


def rerun(row, draw: dict) -> dict:
    """The run again, outside the sweep: the point's stored scenario with ``draw`` applied."""
    sc = from_dict(json.loads(row.scenario_json), where="test")
    sc = sc.with_overrides({k: int(v) if LEVERS[k].integer else v for k, v in draw.items()}, where="test")
    return run_one(sc, int(row.seed), twin=False).summary["final"]


@pytest.fixture(scope="module")
def swept(posterior_dir, tmp_path_factory) -> dict:
    """The same sweep with 1 and with 2 workers."""
    folder = tmp_path_factory.mktemp("sweep")
    exp = experiment(folder)
    out = {}
    for workers in (1, 2):
        target = folder / f"w{workers}"
        assert main(["sweep", str(exp), "--out", str(target), "--posterior", str(posterior_dir),
                     "--workers", str(workers), "--quiet"]) == 0
        out[workers] = target
    return out


def test_each_run_draws_one_posterior_particle_by_its_seed(swept, posterior_dir):
    df = runs(swept[1])
    post = particles(posterior_dir)
    rows = {tuple(r) for r in post[DRAWN].itertuples(index=False)}
    assert len(df) == 2 * 4
    for draw in df.draw:
        assert sorted(draw) == DRAWN
        assert tuple(draw[k] for k in DRAWN) in rows  # one particle of posterior.csv, not an average
    # replicates (different seeds) get different draws: 4 seeds per point, 8 weighted particles
    for _, group in df.groupby("point_id"):
        assert group.seed.nunique() == 4
        assert len({tuple(sorted(d.items())) for d in group.draw}) > 1


def test_the_draw_reaches_the_model_and_the_design_lever_is_kept(swept):
    df = runs(swept[1])
    # the two design points differ by the policy lever only; each run is the model at the design's
    # value with the stored draw, bit for bit
    assert sorted(df.param_budget_per_1000.unique()) == [0.5, 40.0]
    for _, row in df.groupby("point_id").head(1).iterrows():
        params = json.loads(row.scenario_json)["params"]
        assert params["budget_per_1000"] == row.param_budget_per_1000
        final = rerun(row, row.draw)
        assert final["jobs_total"] == row.final_jobs_total
        assert final["need_met_share"] == row.final_need_met_share
    # the policy lever matters at this size, so keeping it is a real check
    first = df.groupby("param_budget_per_1000").final_jobs_total.mean()
    assert first[0.5] != first[40.0]


def test_same_draws_and_results_bit_for_bit_whatever_the_workers(swept):
    a, b = runs(swept[1]), runs(swept[2])
    cols = ["run_id", "seed", "param_budget_per_1000", "final_jobs_total", "final_need_met_share"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a.draw.tolist() == b.draw.tolist()


def test_the_store_records_which_posterior(swept, posterior_dir):
    prov = manifest_provenance(swept[1])
    draws = prov.get("parameter_draws") or {}
    assert draws.get("posterior") == f"{posterior_dir.name}/posterior.csv"
    assert len(draws.get("digest", "")) == 16
    assert sorted(draws.get("levers", [])) == DRAWN


def test_a_store_is_not_continued_with_another_posterior_or_none(swept, posterior_dir, tmp_path, capsys):
    # a second posterior: the same particles, other weights
    other = tmp_path / "other"
    other.mkdir()
    post = particles(posterior_dir)
    post["weight"] = list(range(1, len(post) + 1))
    post.to_csv(other / "posterior.csv", index=False)
    exp = experiment(tmp_path)
    before = runs(swept[1])
    for extra in (["--posterior", str(other)], []):
        capsys.readouterr()
        assert main(["sweep", str(exp), "--out", str(swept[1]), "--quiet", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "different" in err[0], err
    after = runs(swept[1])
    pd.testing.assert_frame_equal(before.drop(columns="draw"), after.drop(columns="draw"))
    # the same posterior, more replications: extends the store, the stored draws are kept
    more = experiment(tmp_path, replications=5)
    assert main(["sweep", str(more), "--out", str(swept[1]), "--posterior", str(posterior_dir), "--quiet"]) == 0
    extended = runs(swept[1])
    assert len(extended) == 10
    kept = extended.set_index("seed").loc[before.seed]
    assert kept.draw.tolist() == before.draw.tolist()


def test_levers_the_experiment_sets_are_not_drawn(posterior_dir, tmp_path):
    # capacity_gain varied by the design, capacity_decay fixed in [overrides]: both are in the posterior
    exp = experiment(tmp_path, levers="[levers.capacity_gain]\nvalues = [0.02, 0.4]",
                     overrides="capacity_decay = 0.08", replications=2)
    out = tmp_path / "out"
    assert main(["sweep", str(exp), "--out", str(out), "--posterior", str(posterior_dir), "--quiet"]) == 0
    df = runs(out)
    for _, row in df.iterrows():
        params = json.loads(row.scenario_json)["params"]
        assert params["capacity_gain"] == row.param_capacity_gain
        assert params["capacity_decay"] == 0.08
        assert row.draw == {}  # nothing left to draw
    row = df.iloc[0]
    final = rerun(row, {})
    assert final["jobs_total"] == row.final_jobs_total


@pytest.mark.parametrize("case", ["missing", "no_posterior", "summary_tables_only", "unknown_lever"])
def test_bad_posterior_one_line_exit_2_nothing_written(case, posterior_dir, tmp_path, capsys):
    if case == "missing":
        folder = tmp_path / "does-not-exist"
    elif case == "no_posterior":
        folder = tmp_path / "empty"
        folder.mkdir()
        (folder / "report.md").write_text("not a calibration\n")
    elif case == "summary_tables_only":
        # a calibration's summary tables (as kept in docs/data) without its posterior.csv
        folder = tmp_path / "tables"
        folder.mkdir()
        for name in ("parameters.csv", "targets_fit.csv", "report.md"):
            shutil.copy(SHORT_CALIBRATION / name, folder / name)
    else:
        folder = tmp_path / "renamed"
        folder.mkdir()
        post = particles(posterior_dir).rename(columns={"capacity_gain": "capacity_gian"})
        post.to_csv(folder / "posterior.csv", index=False)
    exp = experiment(tmp_path)
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["sweep", str(exp), "--out", str(out), "--posterior", str(folder), "--quiet"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ecosim sweep: error:") and "Traceback" not in captured.err
    assert "posterior.csv" in lines[0]
    if case == "unknown_lever":
        assert "capacity_gian" in lines[0] and "allowed" in lines[0]
    assert not out.exists()
