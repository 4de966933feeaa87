"""ecosim robustness on a tiny region: shares with exact binomial intervals, kept draws reused."""

from __future__ import annotations

import pandas as pd
from scipy.stats import binomtest

from ecosystem_sim.cli import main
from test_posterior import write_posterior


def test_robustness_shares_and_resume(tmp_path):
    post = write_posterior(tmp_path / "post")
    out = tmp_path / "rob"
    args = ["robustness", "--posterior", str(post), "--out", str(out), "--draws", "3", "--prior-draws", "2",
            "--steps", "12", "--set", "n_citizens=300", "--set", "citizens_per_community=100", "--quiet"]
    assert main(args) == 0
    shares = pd.read_csv(out / "shares.csv")
    assert set(shares.draws_from) == {"posterior", "prior"}
    assert len(shares) == 2 * 7
    for r in shares.itertuples():
        ci = binomtest(int(r.holds), int(r.n)).proportion_ci()
        assert (r.ci_low, r.ci_high) == (ci.low, ci.high) and r.share == r.holds / r.n
    draws = pd.read_csv(out / "draws.csv")
    post_gains = set(draws.loc[draws.kind == "posterior", "param.capacity_gain"])
    assert post_gains <= {0.05, 0.45}                          # only particles with weight > 0
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "draws").glob("*.json")}
    assert main(args) == 0                                       # second call: every draw reused
    assert {p.name: p.stat().st_mtime_ns for p in (out / "draws").glob("*.json")} == stamp
    assert "Robustness" in (out / "report.md").read_text()
    from ecosystem_sim.experiments import load_experiment
    from ecosystem_sim.levers import by_group

    sobol = load_experiment(out / "sobol_policy_behaviour.toml")   # a valid experiment file
    assert {f.name for f in sobol.factors} == {l.name for l in by_group("policy")} | {"capacity_gain", "dev_months"}
