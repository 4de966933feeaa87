"""Print the numbers of docs/ODD.md §1.5 from the pattern tests' own runs (same seeds, same
functions), with 95 % bootstrap intervals of the mean (``scipy.stats.bootstrap``):

    .venv/bin/python -m tests.patterns.summarise

Takes as long as the pattern tests themselves (about 15 minutes on two busy cores).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from tests.patterns.test_patterns import SEEDS, _bass, _budget_cut, _map, _programme_end, _rd


def ci(x: np.ndarray) -> str:
    x = np.asarray(x, dtype=float)
    if np.ptp(x) == 0:
        return f"{x.mean():.3f} [{x.mean():.3f}, {x.mean():.3f}]"
    lo, hi = stats.bootstrap((x,), np.mean, random_state=0).confidence_interval
    return f"{x.mean():.3f} [{lo:.3f}, {hi:.3f}]"


def main() -> None:
    for label, over in (("P1", {}), ("P1 off", {"subsidy_entry_rate": 0.0, "share_wage_subsidy": 0.0})):
        rows = _map(_programme_end, [(s, over) for s in SEEDS])
        shocked = np.array([r["orgs_after"] for r in rows])
        twin = np.array([r["orgs_after_twin"] for r in rows])
        p = stats.wilcoxon(twin, shocked, alternative="greater").pvalue if np.any(twin != shocked) else 1.0
        print(f"{label}: organisations after {ci(shocked)} vs twin {ci(twin)}; drop {ci(1 - shocked / twin)} "
              f"(ratio of means {1 - shocked.mean() / twin.mean():.3f}); p = {p:.4g}")
    rows = _map(_rd, SEEDS)
    only = np.array([r["rd_only"] for r in rows])
    follow = np.array([r["followup"] for r in rows])
    print(f"P2: users per solution R&D only {ci(only)} vs with follow-up {ci(follow)}; ratio "
          f"{follow.mean() / only.mean():.2f}; p = {stats.wilcoxon(follow, only, alternative='greater').pvalue:.4g}")
    rows = _map(_budget_cut, SEEDS)
    for measure in ("need_met_share", "jobs_total", "orgs_alive", "jobs_self_sustaining"):
        jc = np.array([r[("job_creation", measure)] for r in rows])
        cl = np.array([r[("citizen_led", measure)] for r in rows])
        p_less = stats.wilcoxon(jc, cl, alternative="greater").pvalue
        p_more = stats.wilcoxon(jc, cl, alternative="less").pvalue
        print(f"P3 {measure}: integrated loss job creation {ci(jc)}, citizen-led {ci(cl)}; "
              f"p (citizen-led loses less) = {p_less:.4g}, p (more) = {p_more:.4g}")
    fits = [f for r in _map(_bass, SEEDS) for f in r if np.isfinite(f[0]) and np.isfinite(f[1])]
    p = np.array([f[0] for f in fits])
    q = np.array([f[1] for f in fits])
    print(f"P4: {len(fits)} curves; median p {np.median(p):.4f}, q {np.median(q):.4f} per month; "
          f"q > p: p = {stats.wilcoxon(q, p, alternative='greater').pvalue:.4g}; median annual q {12 * np.median(q):.2f}")


if __name__ == "__main__":
    main()
