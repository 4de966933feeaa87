"""The optimised code paths give exactly (bit for bit) what the straightforward ones give.

``tests/test_reference.py`` pins whole runs; these tests pin each shortcut against the numpy
expression it replaces, on inputs the reference runs may not reach (numpy could change its
summation order in a later release; these tests would say so).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ecosystem_sim.agents import _row_sum
from ecosystem_sim.diffusion import _neighbour_counts


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3000), k=st.integers(1, 7),
       scale=st.floats(1e-6, 1e6))
def test_row_sum_is_numpy_sum_bit_for_bit(seed, n, k, scale):
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0.0, 2.0, (n, k)) * scale
    assert np.array_equal(_row_sum(a), a.sum(axis=1))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 400), share=st.floats(0.0, 1.0))
def test_neighbour_counts_both_ways_equal_the_full_product(seed, n, share):
    """Whether few pairs (gathered ties) or many (the whole product) are asked for, the counts
    are the entries of ``ties @ using`` at those pairs."""
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n)
    keep = src != dst
    ties = sp.csr_matrix((np.ones(2 * keep.sum(), np.float32),
                          (np.r_[src[keep], dst[keep]], np.r_[dst[keep], src[keep]])), shape=(n, n))
    ties.data[:] = 1.0
    using = rng.random((n, 5)) < 0.3
    expected = np.asarray(ties @ using.astype(np.float32))
    pairs = np.flatnonzero(rng.random(n * 5) < share)
    rows, doms = np.divmod(pairs, 5)
    got = _neighbour_counts(ties, using.reshape(-1), rows, doms, 5)
    assert got.dtype == np.float32
    assert np.array_equal(got, expected[rows, doms])


def test_tie_counts_kept_between_months_equal_the_full_product():
    """The neighbour counts diffusion keeps between months (updated for the pairs whose use
    changed) are, after any sequence of changes small or large, the entries of ``ties @ using``."""
    from ecosystem_sim.diffusion import _tie_counts
    from ecosystem_sim.model import EcosystemModel
    from ecosystem_sim.scenario import default_scenario

    m = EcosystemModel(default_scenario().with_overrides({"n_citizens": 600}, where="test"), rng=3)
    ties = m.population.ties
    rng = np.random.default_rng(11)
    using = rng.random((600, 5)) < 0.2
    for month in range(40):
        # Mostly a few changes a month (the incremental path), now and then most pairs (a recount).
        share = 0.9 if month % 10 == 9 else 0.01
        flip = rng.random(using.shape) < share
        using = using ^ flip
        got = _tie_counts(m, using.reshape(-1))
        assert got.dtype == np.float32
        assert np.array_equal(got.reshape(-1, 5), np.asarray(ties @ using.astype(np.float32)))
    # Another network (not the one the population built) is not counted incrementally.
    m.population.ties = ties.copy()
    assert _tie_counts(m, using.reshape(-1)) is None


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 120), m=st.integers(0, 300))
def test_partnership_measures_python_and_array_ways_agree(seed, n, m):
    """The plain-Python way (small networks) and the numpy / scipy way (large ones) give the
    same density, mean degree and giant-component share, including partnerships with
    organisations no longer alive."""
    from types import SimpleNamespace

    import ecosystem_sim.measures as measures

    rng = np.random.default_rng(seed)
    ids = rng.choice(10 * n, size=n + 5, replace=False)
    orgs = [SimpleNamespace(unique_id=int(i)) for i in ids[:n]]  # the last 5 ids: closed ones
    pairs = rng.choice(ids, size=(m, 2))
    model = SimpleNamespace(partnerships={(int(min(a, b)), int(max(a, b))) for a, b in pairs if a != b})
    small = measures._partnership_measures(model, orgs)
    saved = measures._SMALL_GRAPH
    try:
        measures._SMALL_GRAPH = -1  # every graph takes the array way
        large = measures._partnership_measures(model, orgs)
    finally:
        measures._SMALL_GRAPH = saved
    assert small == large


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 500), k=st.integers(1, 7), low=st.integers(-2**31, -1))
def test_uses_any_is_any_nonnegative_entry(seed, n, k, low):
    """Column ANDs of the solution ids say whether a row holds any id >= 0, for any integers."""
    from ecosystem_sim.model import _uses_any

    rng = np.random.default_rng(seed)
    adopted = rng.integers(low, 2**31 - 1, (n, k), dtype=np.int32, endpoint=True)
    adopted[rng.random((n, k)) < 0.6] = -1
    assert np.array_equal(_uses_any(adopted), (adopted >= 0).any(axis=1))
