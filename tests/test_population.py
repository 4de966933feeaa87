"""Citizens' arrays and their social network; the Gini coefficient."""

from __future__ import annotations

import numpy as np

from ecosystem_sim.scenario import default_scenario
import pytest

from ecosystem_sim.population import MAINSTREAM, N_DOMAINS, UNEMPLOYED, Population, gini


def make(n=3000, per_community=100, degree=8.0, within=0.85, employment=0.6, seed=0) -> Population:
    spec = default_scenario().with_overrides({"n_citizens": n, "citizens_per_community": per_community,
                                              "mean_degree": degree, "within_community_ties": within,
                                              "mainstream_employment": employment})
    return Population(np.random.default_rng(seed), spec)


# ------------------------------------------------------------------ gini
@pytest.mark.parametrize("values, expected", [
    ([5, 5, 5, 5], 0.0),
    ([0, 0, 0, 1], 0.75),            # one holds all: (n - 1) / n
    ([1, 2, 3, 4], 0.25),            # sum |xi - xj| over ordered pairs = 20; 20 / (2 * 16 * 2.5)
    ([1, 3], 0.25),                  # |1 - 3| * 2 / (2 * 4 * 2)
    ([0, 0, 10, 10], 0.5),           # pairs: 8 of 16 differ by 10 -> 80 / (2 * 16 * 5)
    ([7], 0.0),
])
def test_gini_of_known_arrays(values, expected):
    assert gini(np.array(values, dtype=float)) == pytest.approx(expected, abs=1e-12)


def test_gini_degenerate_inputs():
    assert gini(np.array([])) == 0.0
    assert gini(np.zeros(5)) == 0.0


def test_gini_is_invariant_to_order_and_scale():
    rng = np.random.default_rng(3)
    v = rng.gamma(2.0, 1.0, 200)
    g = gini(v)
    assert gini(rng.permutation(v)) == pytest.approx(g, rel=1e-12)
    assert gini(7.5 * v) == pytest.approx(g, rel=1e-12)
    # The mean-absolute-difference definition, computed the slow way.
    slow = np.abs(v[:, None] - v[None, :]).sum() / (2 * v.size ** 2 * v.mean())
    assert g == pytest.approx(slow, rel=1e-9)


# ------------------------------------------------------------------ network
def test_network_is_symmetric_binary_without_self_ties():
    pop = make()
    t = pop.ties
    assert t.shape == (pop.n, pop.n)
    assert (t != t.T).nnz == 0
    assert t.diagonal().sum() == 0
    assert set(np.unique(t.data)) == {1.0}
    np.testing.assert_array_equal(pop.degree, np.diff(t.indptr))


@pytest.mark.parametrize("within", [0.0, 0.3, 0.6, 0.85, 1.0])
def test_network_has_community_structure_set_by_the_lever(within):
    """Share of ties inside a community ~ the lever, plus the chance that a random
    partner happens to live in the same community (sum of squared community shares)."""
    pop = make(n=5000, per_community=100, within=within, seed=11)
    t = pop.ties.tocoo()
    share_within = float(np.mean(pop.community[t.row] == pop.community[t.col]))
    by_chance = float(np.sum((pop.community_size / pop.n) ** 2))
    expected = within + (1 - within) * by_chance
    assert share_within == pytest.approx(expected, abs=0.03)
    if within == 1.0:
        assert share_within == 1.0


def test_more_within_community_ties_means_more_clustering_by_community():
    low = make(within=0.2, seed=5)
    high = make(within=0.95, seed=5)

    def share(pop):
        t = pop.ties.tocoo()
        return np.mean(pop.community[t.row] == pop.community[t.col])

    assert share(high) > share(low) + 0.5


@pytest.mark.parametrize("degree", [4.0, 8.0, 20.0])
def test_mean_degree_follows_the_lever(degree):
    pop = make(n=4000, degree=degree, seed=2)
    # duplicates are dropped, so a little below the lever, never above it
    assert degree * 0.9 <= pop.degree.mean() <= degree + 1e-9


def test_communities_partition_the_citizens():
    pop = make(n=2500, per_community=100)
    assert pop.n_communities == 25
    assert pop.community_size.sum() == pop.n
    assert (pop.community_size > 0).all()
    seen = np.concatenate([pop.members(c) for c in range(pop.n_communities)])
    np.testing.assert_array_equal(np.sort(seen), np.arange(pop.n))
    for c in (0, 7, 24):
        assert (pop.community[pop.members(c)] == c).all()


def test_community_mean_matches_a_direct_average():
    pop = make(n=1200, per_community=100)
    rng = np.random.default_rng(9)
    x = rng.random(pop.n)
    expected = np.array([x[pop.community == c].mean() for c in range(pop.n_communities)])
    np.testing.assert_allclose(pop.community_mean(x), expected, rtol=1e-12)
    xx = rng.random((pop.n, 3))
    expected2 = np.stack([[xx[pop.community == c, k].mean() for k in range(3)] for c in range(pop.n_communities)])
    np.testing.assert_allclose(pop.community_mean(xx), expected2, rtol=1e-12)


# ------------------------------------------------------------------ initial state
def test_initial_states_are_in_range_and_shaped():
    pop = make()
    for name in ("capacity", "capacity0", "capital", "activeness", "trust", "fit_required"):
        a = getattr(pop, name)
        assert a.shape == (pop.n,)
        assert np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1, name
    assert pop.need.shape == (pop.n, N_DOMAINS)
    assert pop.need.min() >= 0 and pop.need.max() <= 1
    assert (pop.adopted == -1).all()
    assert not pop.participating.any()
    assert set(np.unique(pop.employment)) <= {UNEMPLOYED, MAINSTREAM}
    np.testing.assert_array_equal(pop.capacity, pop.capacity0)


def test_mainstream_employment_lever_sets_the_employed_share():
    low = (make(employment=0.2).employment == MAINSTREAM).mean()
    high = (make(employment=0.8).employment == MAINSTREAM).mean()
    none = (make(employment=0.0).employment == MAINSTREAM).mean()
    assert none == 0.0
    assert abs(low - 0.2) < 0.05 and abs(high - 0.8) < 0.08
    assert high > low


def test_poorer_citizens_start_with_more_need():
    """000: polarisation - need falls with socio-economic capital."""
    pop = make(n=5000)
    r = np.corrcoef(pop.capital, pop.need.sum(axis=1))[0, 1]
    assert r < -0.1


def test_same_generator_seed_gives_same_population():
    a, b = make(seed=4), make(seed=4)
    np.testing.assert_array_equal(a.need, b.need)
    assert (a.ties != b.ties).nnz == 0
    c = make(seed=5)
    assert not np.array_equal(a.need, c.need)
