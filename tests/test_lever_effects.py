"""Issue 8's lever test: no policy lever is inert, follow-up raises adoption, and allocation by
need and merit serves needs at least as well as a uniform split.

The inert-lever test runs the default region (10,000 citizens x 240 months, the shipped
scenarios' size and length) on 10 paired seeds. A lever *moves* a headline measure
(``screening.HEADLINE``, mean of the last 12 months) when moving it from its low to its high
setting, everything else at the defaults, changes the measure by at least 10 % on average
over the seeds and an exact two-sided Wilcoxon signed-rank test of the paired differences
gives p < 0.05 / 8 (Bonferroni over the 8 headline measures) (``screening.moved`` with
``alpha``).

Why not "the same direction on each of 3 seeds", the issue's first wording, used by an earlier
version of this file: a run of the default region creates about 30 solutions in 20 years, so
its outcomes rest on few events and a real effect can reverse on a single seed. Measured before
this version was written (seeds 7001-7008, not used below): programme_length 12 -> 60 raises
adopters by 61 % at 10,000 citizens (Wilcoxon p = 0.008, smallest change +14 %), yet lowers them on
seed 8001 (the earlier file's first seed). The seeds below (8401-8410) were fixed with this
rule, before any of their results was seen.

A second look, added on 2026-11-30 after the first left five levers undetermined: a run of the
default region rests on about 30 solutions, so a lever's paired effect varies from seed to seed
by 20-45 % of the measure (measured on development seeds 7101-7106, not used below), and 10
seeds detect only effects of about a third. A lever that moves no measure on seeds 8401-8410 is
run on 30 more seeds, 8411-8440 (fixed before any of them was run), and judged again on all 40
with the same rule (mean change >= 10 %, exact Wilcoxon p < 0.05/8). Two looks at 0.05/8 each:
the chance that a lever with no effect on a measure passes is at most 2 x 0.05/8 per measure,
0.10 per lever over its 8 measures (Bonferroni).

A third look, added on 2026-11-30 (a later session) after the model gained persistent officials'
salience (ODD 7.8): on 40 seeds ``citizen_problem_definition`` raised adopters by 15 % (p =
0.007, bound 0.00625) and needs served by 11 % (p = 0.03), and ``national_duplication``, which had
moved solutions on the first look of the earlier model, moved nothing. Effects of 10-15 % against a
seed-to-seed spread of 20-45 % need about a hundred paired seeds. A lever that moves nothing
after the second look is run on 80 more seeds, 8441-8520 (fixed before any of them was run), and
judged again on all 120 by the same rule. The bound holds whatever made us add the look, because
it is a union bound over at most three looks: a lever with no effect on a measure passes with
chance at most 3 x 0.05/8 per measure, 0.15 per lever over its 8 measures. The threshold (10 %)
and the per-look level are unchanged.

After duplicated national grants became double support and the shortlist size is rounded
stochastically (ODD 7.20 and 10 row 22, 2026-11-30, a later session; no new look, no new seeds):
``national_duplication`` moves solutions created by -23 % on the first look (p = 0.002),
``citizen_problem_definition`` adopters +19 % and ``national_local_match`` on the second;
``national_citizen_topics`` now moves nothing on 120 seeds (``INERT``). With the call order of
the local and national programmes drawn at each round (so national calls get living labs), the
national levers were re-run on the same seeds: ``national_duplication``, ``national_local_match``
and ``national_rd_share`` move on the first look, ``national_citizen_topics`` still on none.

The national levers are judged on one more measure, added on 2026-11-30 (a sixth session) and
written here before any run of it on the seeds above: ``adopters_rd_only``, users of solutions
developed without follow-up money (``screening.PROGRAMME_MEASURES``). A national R&D call's
solutions are all of this kind, so the measure is the national programme's own result, the
"adoption of R&D results" of the issue's follow-up test and of 001 talk 2. Why: on development
seeds 7801-7808 (scripts/national_topics_diagnostic.py) ``national_citizen_topics`` raised those
solutions' users by 56 % while the local programme lost 11 % in the same cells, so the region's
headline measures could not show it. A national lever moves when it moves any of the 9 measures
by the same rule, with Bonferroni over 9 (p < 0.05/9); local levers are judged on the 8 headline
measures as before. The substitution itself stays a finding (ODD 10 row 3). Result, the same day:
``national_duplication``, ``national_local_match`` and ``national_rd_share`` still move on the first
look; ``national_citizen_topics`` moves none of the 9 on 120 seeds (users of R&D-only solutions
5,779 -> 6,593 on the means, p = 0.097).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ecosystem_sim.experiments import screening
from ecosystem_sim.levers import by_group
from ecosystem_sim.scenario import default_scenario

pytestmark = pytest.mark.slow

REGION = {"n_citizens": 10_000, "steps": 240}
SEEDS = list(range(8401, 8411))
SEEDS_SECOND_LOOK = list(range(8411, 8441))
SEEDS_THIRD_LOOK = list(range(8441, 8521))
ALPHA_INERT = 0.05
SMALL_REGION = {"n_citizens": 5_000, "steps": 240}
"""The region of the two source-direction tests below (their seeds and rules were set with it)."""
WORKERS = 2

NATIONAL = [lv.name for lv in by_group("policy") if lv.name.startswith("national_") and lv.name != "national_budget_per_1000"]
SETTINGS = {
    "programme_length": (12, 60),
    "budget_per_1000": (5.0, 50.0),
    "national_budget_per_1000": (0.0, 10.0),  # off -> the scenario national_rd_local_followup's level
}
"""(low, high) pairs that differ from the lever table's range: the issue's settings. Others move
over their whole range."""

LOCAL = [lv.name for lv in by_group("policy") if lv.name not in NATIONAL]


@pytest.fixture(scope="module")
def lever_table():
    base = default_scenario().with_overrides(REGION)
    national_base = base.with_overrides({"national_budget_per_1000": 10.0})
    local = screening.screen(base, LOCAL, SEEDS, workers=WORKERS, settings=SETTINGS)
    national = screening.screen(national_base, NATIONAL, SEEDS, workers=WORKERS, settings=SETTINGS)
    return pd.concat([local, national], ignore_index=True)


def _measures(lever: str) -> tuple[str, ...]:
    """The measures a lever is judged on: a national programme's levers also on its own results."""
    return screening.SCREENED if lever in NATIONAL else screening.HEADLINE


def _moves(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`screening.moved` for one lever's rows, on that lever's measures."""
    (lever,) = table.lever.unique()
    return screening.moved(table, threshold=0.10, alpha=ALPHA_INERT, measures=_measures(lever))


def _next_look(table: pd.DataFrame, seeds: list[int]) -> pd.DataFrame:
    """The rows of ``table`` for the levers that move nothing in it, with those levers run on
    ``seeds`` too (the next look)."""
    undetermined = [lv for lv in table.lever.unique() if not _moves(table[table.lever == lv]).moves.any()]
    if not undetermined:
        return table.iloc[:0]
    base = default_scenario().with_overrides(REGION)
    parts = [table[table.lever.isin(undetermined)]]
    local = [lv for lv in undetermined if lv in LOCAL]
    national = [lv for lv in undetermined if lv in NATIONAL]
    if local:
        parts.append(screening.screen(base, local, seeds, workers=WORKERS, settings=SETTINGS))
    if national:
        parts.append(screening.screen(base.with_overrides({"national_budget_per_1000": 10.0}), national,
                                      seeds, workers=WORKERS, settings=SETTINGS))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def second_look(lever_table):
    """All 40 seeds of the levers that moved nothing on the first 10 (the second look)."""
    return _next_look(lever_table, SEEDS_SECOND_LOOK)


@pytest.fixture(scope="module")
def third_look(second_look):
    """All 120 seeds of the levers that moved nothing on the first 40 (the third look)."""
    return _next_look(second_look, SEEDS_THIRD_LOOK)


def test_every_policy_lever_is_covered():
    assert set(LOCAL) | set(NATIONAL) == {lv.name for lv in by_group("policy")}
    assert len(NATIONAL) == 4


MEASURED = ("seeds 8401-8520 (three looks); 10,000 citizens x 240 months, national budget 10, means low -> high, "
            "paired Wilcoxon p; 2026-11-30, model with double support, the stochastic shortlist and the drawn call order "
            "(ODD 10 row 22)")
INERT = {
    "national_citizen_topics": f"0 -> 1 moves none of its 9 measures on 120 seeds ({MEASURED}): needs served +3.2 % "
                               "(p = 0.38), participation +5.3 % (p = 0.025), solutions -3.5 % (p = 0.002), users of "
                               "R&D-only solutions (the national programme's own results) 5,779 -> 6,593 (p = 0.097), "
                               "every other change below 5 %. On development seeds 7801-7808 "
                               "(scripts/national_topics_diagnostic.py) the national R&D-only solutions' fit went "
                               "0.80 -> 0.88, monitors 0.1 -> 1.4 per solution and users +56 %, but they replaced "
                               "local solutions in the same cells (local users -11 %), so the region's needs served "
                               "moved +2 %: at the default local levers the two programmes substitute. Panels that "
                               "set aside issues they already pay a project for do not change that (branch "
                               "portfolio-awareness-experiment: 0.838 -> 0.815 on seeds 7801-7810). Neither giving national calls living labs "
                               "(random call order, ODD 10 row 22: before it they had almost none; on 120 seeds then "
                               "needs served +1.5 %) nor removing the old copies changed that. On the model before "
                               "double support it moved participation +19 % on the first look, through the old copies "
                               "of funded topics (with national_duplication = 0 the same seeds gave +5.5 %, p = 0.43).",
}
"""Levers found inert by this test: a finding of issue 8, not tuned away. Strict: when the model
changes so that one of them moves a measure, the test says so (XPASS fails) and the entry goes."""


@pytest.mark.parametrize("lever", [
    pytest.param(lv.name, marks=pytest.mark.xfail(strict=True, reason=INERT[lv.name])) if lv.name in INERT
    else lv.name for lv in by_group("policy")])
def test_no_policy_lever_is_inert(lever_table, second_look, third_look, lever):
    columns = ["measure", "low", "high", "rel_change", "p_wilcoxon", "moves"]
    report, moves = "", False
    for name, table, last in (("first look", lever_table, SEEDS[-1]), ("second look", second_look, SEEDS_SECOND_LOOK[-1]),
                              ("third look", third_look, SEEDS_THIRD_LOOK[-1])):
        look = _moves(table[table.lever == lever])
        report += f"\n{name}, seeds {SEEDS[0]}-{last}:\n" + look[columns].to_string(index=False)
        moves = look.moves.any()
        if moves:
            break
    print(f"\n{lever}\n{report}")
    assert moves, (f"{lever} moves none of its {len(_measures(lever))} measures by >= 10 % "
                   f"(Wilcoxon p < 0.05/{len(_measures(lever))}):\n{report}")


# ------------------------------------------------------------------ the two source directions
def _paired(base, lever, low, high, seeds):
    """Headline means with ``lever`` at ``low`` and at ``high`` on the same seeds: (low rows, high rows)."""
    lo = base.with_overrides({lever: low}).to_dict()
    hi = base.with_overrides({lever: high}).to_dict()
    tasks = [(lo, s) for s in seeds] + [(hi, s) for s in seeds]
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(screening.final_means, tasks, chunksize=1))
    return rows[:len(seeds)], rows[len(seeds):]


FOLLOWUP_SEEDS = [8101, 8102, 8103, 8104, 8105]


def test_follow_up_raises_adoption_of_solutions():
    """001 talk 2: R&D alone reaches almost no users. With procurement off (so contracts cannot
    stand in for follow-up) and problem definition held at its default, keeping 40 % of project
    money for follow-up must give more adopters than none, on every seed."""
    base = default_scenario().with_overrides({**SMALL_REGION, "share_procurement": 0.0,
                                              "citizen_problem_definition": 0.5})
    none, some = _paired(base, "followup_share", 0.0, 0.4, FOLLOWUP_SEEDS)
    a0 = np.array([r["adopters"] for r in none])
    a1 = np.array([r["adopters"] for r in some])
    print(f"\nadopters, followup_share 0: {a0.round(0)}\nadopters, followup_share 0.4: {a1.round(0)}")
    assert (a1 > a0).all(), (a0, a1)


MERIT_SEEDS = list(range(8201, 8211))  # 10 paired seeds
ALPHA = 0.05


def test_allocation_by_need_and_merit_serves_needs_at_least_as_well_as_uniform():
    """000 table: comprehensive funding by need and merit vs 'equal fairness'. Stated before
    looking: on 10 paired seeds, the claim fails if a one-sided Wilcoxon signed-rank test of
    'need_met_share is lower with allocation_by_merit = 1 than with 0' rejects at alpha = 0.05
    (scipy.stats.wilcoxon, exact distribution)."""
    base = default_scenario().with_overrides(SMALL_REGION)
    uniform, merit = _paired(base, "allocation_by_merit", 0.0, 1.0, MERIT_SEEDS)
    u = np.array([r["need_met_share"] for r in uniform])
    m = np.array([r["need_met_share"] for r in merit])
    res = stats.wilcoxon(m, u, alternative="less")
    print(f"\nneed_met_share uniform: {u.round(3)}\nneed_met_share merit:   {m.round(3)}\n"
          f"mean difference {np.mean(m - u):+.3f}, one-sided Wilcoxon p = {res.pvalue:.4f}")
    assert res.pvalue >= ALPHA, (u, m, res.pvalue)
