"""``screening.decompose`` and ``screening.moved``: identities that follow from the definitions,
same seed same table whatever the workers, and the two rules of ``moved`` on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecosystem_sim.experiments import screening
from ecosystem_sim.experiments.screening import HEADLINE
from ecosystem_sim.scenario import load_scenario

from exp_helpers import SCENARIOS

TINY = {"n_citizens": 300, "citizens_per_community": 100, "steps": 24}
SEEDS = [3, 4]


def tiny(name: str, **levers):
    return load_scenario(SCENARIOS / f"{name}.toml", {**TINY, **levers})


def mean_of_runs(scenario, seeds) -> pd.Series:
    """Headline means of ``scenario`` over ``seeds``, run here one by one (not through decompose)."""
    return pd.DataFrame([screening.final_means((scenario.to_dict(), s)) for s in seeds])[list(HEADLINE)].mean()


# ------------------------------------------------------------------ decompose
def test_one_differing_lever_carries_the_whole_gap_from_both_ends():
    # A and B differ in one policy lever only: switching it alone from A gives B exactly, and
    # switching it back from B gives A exactly, so both shares are gap / gap = 1 wherever the gap
    # is not zero (and undefined where it is).
    a = tiny("citizen_led")
    b = tiny("citizen_led", share_wage_subsidy=0.5)
    assert screening.differing_levers(a, b) == ["share_wage_subsidy"]
    table = screening.decompose(a, b, SEEDS)
    assert list(table.lever.unique()) == ["share_wage_subsidy"]
    assert list(table.measure) == list(HEADLINE)
    assert (table.a_value == 0.05).all() and (table.b_value == 0.5).all()

    # the gap is B's mean minus A's, measured here without decompose
    expected_gap = mean_of_runs(b, SEEDS) - mean_of_runs(a, SEEDS)
    assert table.set_index("measure")["gap"].to_dict() == pytest.approx(expected_gap.to_dict(), abs=1e-12)
    moving = table[table.gap.abs() > 1e-12]
    assert len(moving) >= 2, "the test needs measures with a non-zero gap to mean anything"
    assert (moving.share_from_a == 1.0).all(), moving
    assert (moving.share_from_b == 1.0).all(), moving
    assert (moving.effect_from_a == moving.gap).all() and (moving.effect_from_b == moving.gap).all()
    still = table[table.gap.abs() <= 1e-12]
    assert still.share_from_a.isna().all() and still.share_from_b.isna().all()


def test_each_end_is_measured_against_its_own_switched_run():
    # Two differing levers: a lever's effect from A is (A with that lever at B's value) - A, its
    # effect from B is B - (B with that lever at A's value). Both are recomputed here from runs of
    # those scenarios, so a share taken against the wrong run (e.g. from B against A+lever) fails.
    a = tiny("citizen_led")
    b = tiny("citizen_led", share_wage_subsidy=0.5, share_education=0.0)
    assert screening.differing_levers(a, b) == ["share_wage_subsidy", "share_education"]
    table = screening.decompose(a, b, SEEDS).set_index(["lever", "measure"])
    mean_a, mean_b = mean_of_runs(a, SEEDS), mean_of_runs(b, SEEDS)
    for lever in ("share_wage_subsidy", "share_education"):
        a_plus = mean_of_runs(a.with_overrides({lever: getattr(b, lever)}), SEEDS)
        b_minus = mean_of_runs(b.with_overrides({lever: getattr(a, lever)}), SEEDS)
        for m in HEADLINE:
            row = table.loc[(lever, m)]
            assert row.effect_from_a == pytest.approx(a_plus[m] - mean_a[m], abs=1e-9), (lever, m)
            assert row.effect_from_b == pytest.approx(mean_b[m] - b_minus[m], abs=1e-9), (lever, m)
            if abs(mean_b[m] - mean_a[m]) > 1e-9:
                assert row.share_from_b == pytest.approx((mean_b[m] - b_minus[m]) / (mean_b[m] - mean_a[m]))
    # the two ends are really different runs here (otherwise the test above could not tell them apart)
    assert not np.allclose(table.effect_from_a, table.effect_from_b)


def test_same_seeds_same_table_with_one_and_two_workers():
    a = tiny("job_creation")
    b = tiny("job_creation", share_wage_subsidy=0.05)
    one = screening.decompose(a, b, SEEDS, workers=1)
    two = screening.decompose(a, b, SEEDS, workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


# ------------------------------------------------------------------ moved, on hand-made tables
def hand_table(high_over_low: list[float], low: float = 100.0) -> pd.DataFrame:
    """One lever "x" on len(high_over_low) seeds: every headline measure is ``low`` at the low
    setting and ``low * ratio`` at the high one."""
    rows = []
    for seed, ratio in enumerate(high_over_low):
        for side, value in (("low", low), ("high", low * ratio)):
            rows.append({"lever": "x", "side": side, "value": 0.0 if side == "low" else 1.0, "seed": seed,
                         **{m: value for m in HEADLINE}})
    return pd.DataFrame(rows)


def test_plus_20_percent_on_every_seed_moves():
    table = hand_table([1.2] * 10)
    # exact two-sided Wilcoxon, 10 positive differences: only the all-positive and all-negative
    # sign patterns are as extreme, so p = 2 / 2**10; below 0.05 / 8 (Bonferroni over 8 measures)
    for alpha in (None, 0.05):
        res = screening.moved(table, threshold=0.10, alpha=alpha)
        assert len(res) == len(HEADLINE)
        assert res.moves.all(), (alpha, res)
        assert res.rel_change.to_numpy() == pytest.approx(0.2)
        assert res.p_wilcoxon.to_numpy() == pytest.approx(2 / 2**10)


def test_alternating_plus_minus_20_percent_does_not_move():
    table = hand_table([1.2, 0.8] * 5)
    for alpha in (None, 0.05):
        res = screening.moved(table, threshold=0.10, alpha=alpha)
        assert not res.moves.any(), (alpha, res)
        assert res.rel_change.to_numpy() == pytest.approx(0.0)


def test_one_seed_against_moves_only_with_the_test():
    # nine seeds +21..+29 %, one seed -1 %: not "the same direction on every seed", but the mean is
    # +21.6 % and the exact Wilcoxon p = 2 * P(W- <= 1) = 2 * 2 / 2**10 (the -1 % difference has
    # rank 1; the subsets of ranks with sum <= 1 are {} and {1}) = 0.0039 < 0.05 / 8.
    table = hand_table([1.21 + 0.01 * i for i in range(9)] + [0.99])
    rule = screening.moved(table, threshold=0.10)
    test = screening.moved(table, threshold=0.10, alpha=0.05)
    assert not rule.moves.any()
    assert test.moves.all()
    assert test.p_wilcoxon.to_numpy() == pytest.approx(4 / 2**10)
    assert test.rel_change.to_numpy() == pytest.approx((sum(0.21 + 0.01 * i for i in range(9)) - 0.01) / 10)
    # and a stricter alpha makes the same table not move: 0.0039 > 0.01 / 8
    assert not screening.moved(table, threshold=0.10, alpha=0.01).moves.any()


def test_judging_more_measures_divides_alpha_by_their_number_and_sees_the_programme_measure():
    # Ranks 1 and 2 are +1 % and -2 %, the other eight seeds +20 %: exact two-sided Wilcoxon
    # p = 2 * P(W- <= 2) = 2 * 3 / 2**10 = 0.00586 (subsets {}, {1}, {2}), which is below
    # 0.05 / 8 and above 0.05 / 9. Only the programme measure changes in the second table.
    ratios = [1.2] * 8 + [1.01, 0.98]
    table = hand_table(ratios)
    assert len(screening.SCREENED) == len(HEADLINE) + 1
    eight = screening.moved(table, threshold=0.10, alpha=0.05)
    nine = screening.moved(table.assign(adopters_rd_only=table[HEADLINE[0]]), threshold=0.10, alpha=0.05,
                           measures=screening.SCREENED)
    assert eight.p_wilcoxon.to_numpy() == pytest.approx(6 / 2**10)
    assert eight.moves.all() and len(eight) == len(HEADLINE)
    assert not nine.moves.any() and len(nine) == len(screening.SCREENED)
    flat = hand_table([1.0] * 10).assign(adopters_rd_only=[100.0 * (1.2 if i % 2 else 1.0) for i in range(20)])
    assert not screening.moved(flat, threshold=0.10, alpha=0.05).moves.any()
    judged = screening.moved(flat, threshold=0.10, alpha=0.05, measures=screening.SCREENED).set_index("measure")
    assert judged.moves.to_dict() == {m: m == "adopters_rd_only" for m in screening.SCREENED}


def test_small_consistent_change_is_below_the_threshold():
    table = hand_table([1.05] * 10)
    assert not screening.moved(table, threshold=0.10).moves.any()
    assert not screening.moved(table, threshold=0.10, alpha=0.05).moves.any()
    assert screening.moved(table, threshold=0.04).moves.all()


def test_finished_runs_are_kept_so_an_interrupted_job_loses_nothing(tmp_path, monkeypatch):
    tasks = [(tiny("citizen_led").to_dict(), s) for s in (1, 2, 3)]
    fresh = screening._run_all(tasks, workers=1)
    cache = tmp_path / "runs"
    assert screening._run_all(tasks, workers=1, cache=cache) == fresh
    assert len(list(cache.glob("*.json"))) == 3

    calls = []
    real = screening.final_means
    monkeypatch.setattr(screening, "final_means", lambda t: calls.append(t[1]) or real(t))
    assert screening._run_all(tasks, workers=1, cache=cache) == fresh  # bit for bit, from the cache
    assert calls == []
    sorted(cache.glob("*.json"))[0].unlink()                          # as if killed before that run ended
    assert screening._run_all(tasks, workers=1, cache=cache) == fresh
    assert len(calls) == 1
