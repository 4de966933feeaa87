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
        if r.n == 0:  # a loss claim no draw could judge (neither side had anything to lose)
            assert pd.isna(r.share) and pd.isna(r.ci_low) and r.holds == 0
            continue
        ci = binomtest(int(r.holds), int(r.n)).proportion_ci()
        assert (r.ci_low, r.ci_high) == (ci.low, ci.high) and r.share == r.holds / r.n
    draws = pd.read_csv(out / "draws.csv")
    post_gains = set(draws.loc[draws.kind == "posterior", "param.capacity_gain"])
    assert post_gains <= {0.05, 0.45}                          # only particles with weight > 0
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "draws").glob("*.json")}
    assert main(args) == 0                                       # second call: every draw reused
    assert {p.name: p.stat().st_mtime_ns for p in (out / "draws").glob("*.json")} == stamp
    report = (out / "report.md").read_text()
    assert "Robustness" in report
    assert "effective sample size (Kish) of 2.0" in report and "few distinct parameter sets" in report
    from ecosystem_sim.experiments import load_experiment
    from ecosystem_sim.levers import by_group

    sobol = load_experiment(out / "sobol_policy_behaviour.toml")   # a valid experiment file
    assert {f.name for f in sobol.factors} == {l.name for l in by_group("policy")} | {"capacity_gain", "dev_months"}


def test_a_loss_claim_is_judged_only_where_both_presets_have_something_to_lose():
    """Draw 0: both serve needs, B loses less (holds). Draw 1: A serves none, so A's loss is 0 and
    B cannot 'lose less' -- not judged. Draw 2: both serve, B loses more (fails). Level claims
    are judged in every draw."""
    from ecosystem_sim.calibration.robustness import claims, shares

    draws = pd.DataFrame({"kind": ["posterior"] * 3,
                          "a.need_met_share": [0.2, 0.0, 0.3], "b.need_met_share": [0.6, 0.5, 0.4],
                          "a.jobs_self_sustaining": [1, 1, 1], "b.jobs_self_sustaining": [2, 2, 2],
                          "a.orgs_alive": [1, 1, 1], "b.orgs_alive": [0, 0, 0]})
    for s in ("budget_cut", "keystone_loss"):
        draws[f"a.{s}.need_met_share"] = [0.3, 0.0, 0.1]
        draws[f"b.{s}.need_met_share"] = [0.1, 0.2, 0.2]
        draws[f"a.{s}.jobs_total"] = [0.1, 0.1, 0.1]
        draws[f"b.{s}.jobs_total"] = [0.0, 0.0, 0.0]
    holds = claims(draws, "a", "b")
    assert holds["budget_cut: less need_met_share lost"].tolist() == [True, None, False]
    table = shares(draws, holds).set_index("claim")
    assert (table.loc["budget_cut: less need_met_share lost", ["n", "holds"]] == [2, 1]).all()
    assert (table.loc["budget_cut: less jobs_total lost", ["n", "holds"]] == [3, 3]).all()
    assert (table.loc["need_met_share higher", ["n", "holds"]] == [3, 3]).all()
