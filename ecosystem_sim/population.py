"""Citizens' state as arrays, and their social network as a sparse matrix.

Every per-citizen quantity is one numpy array indexed by citizen number, so a month of
citizen behaviour is a handful of vector operations whatever the population. The
``Citizen`` Mesa agents (see :mod:`agents`) are thin views onto one row of these arrays.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from .levers import DOMAINS

N_DOMAINS = len(DOMAINS)

# Employment states (``Population.employment``).
UNEMPLOYED, MAINSTREAM, ECOSYSTEM = 0, 1, 2


class Population:
    """All citizens of the region.

    Attributes (arrays over citizens unless noted; all dimensionless in [0, 1] unless noted):
        community      int, the neighbourhood a citizen lives in.
        need           (n, 5) unmet need per problem domain.
        situation      (n, 5) how much need arises for this citizen per unit of structural pressure (mean about 1).
        capacity       ability to define problems, take part in and found projects.
        capacity0      capacity at the start (decay pulls back toward it).
        capital        socio-economic capital (fixed, read-only).
        one_minus_capital  ``1 - capital`` (read-only).
        activeness     propensity to take part (fixed).
        trust          trust in public and collective action.
        fit_required   least fit a solution must have for this citizen to take it up (fixed).
        adopted        (n, 5) int, id of the solution in use per domain, -1 for none.
        employment     UNEMPLOYED, MAINSTREAM or ECOSYSTEM.
        participating  bool, took part in a project, living lab or training this month.
        ties           (n, n) CSR matrix of social ties (symmetric, 0/1).
        degree         number of ties.
    """

    def __init__(self, rng: np.random.Generator, spec):
        """Draw the citizens of a region with the lever values of ``spec`` (a Scenario)."""
        n = self.n = int(spec.n_citizens)
        self.n_communities = max(1, int(round(n / spec.citizens_per_community)))
        # Communities of unequal size (Dirichlet), each with its own profile of needs.
        sizes = rng.dirichlet(np.full(self.n_communities, spec.community_size_concentration)) * n
        self.community = np.minimum(
            np.searchsorted(np.cumsum(sizes), np.arange(n) + 0.5), self.n_communities - 1
        ).astype(np.int32)
        self.community_size = np.bincount(self.community, minlength=self.n_communities)
        profile = rng.dirichlet(np.full(N_DOMAINS, spec.need_profile_concentration),
                                size=self.n_communities) * N_DOMAINS

        conc = spec.citizen_concentration
        self.capital = _beta(rng, spec.capital_mean, conc, n)
        gap = self.capital - spec.capital_mean  # above (+) or below (-) the region's mean means
        self.activeness = np.clip(_beta(rng, spec.activeness_mean, conc, n)
                                  + spec.activeness_capital_slope * gap, 0.0, 1.0)
        self.capacity0 = np.clip(_beta(rng, spec.capacity_start_mean, conc, n)
                                 + spec.capacity_capital_slope * gap, 0.0, 1.0)
        self.capacity = self.capacity0.copy()
        self.trust = _beta(rng, spec.trust_start_mean, conc, n)
        self.fit_required = _beta(rng, spec.fit_required_mean, conc, n)
        # Poorer citizens and needier communities start with more need (polarisation).
        # A citizen's *situation* (their community's profile, their capital and their own
        # circumstances) sets both their initial need and the rate at which new need arises.
        self.situation = (profile[self.community] * np.maximum(0.0, 1.0 - spec.need_capital_slope * gap)[:, None]
                          * rng.lognormal(0.0, spec.need_spread, (n, N_DOMAINS)))
        # Capital is fixed and read-only: the model caches what it implies (1 - capital,
        # loudness, community means of capital).
        self.capital.flags.writeable = False
        self.one_minus_capital = 1.0 - self.capital
        self.one_minus_capital.flags.writeable = False
        self.need = np.clip(spec.need_start_mean * self.situation, 0.0, 1.0)
        self.adopted = np.full((n, N_DOMAINS), -1, dtype=np.int32)
        employed = rng.random(n) < spec.mainstream_employment * (1.0 + spec.employment_capital_slope * gap)
        self.employment = np.where(employed, MAINSTREAM, UNEMPLOYED).astype(np.int8)
        self.participating = np.zeros(n, dtype=bool)
        self.ties = _social_network(rng, self.community, self.community_size, spec.mean_degree,
                                    spec.within_community_ties)
        self.degree = np.asarray(self.ties.sum(axis=1)).ravel()
        # The network as built here is symmetric with 0/1 entries; diffusion keeps neighbour
        # counts incrementally for this matrix only (a replaced ``ties`` is not this object).
        self.symmetric_ties = self.ties
        # Members of each community, for drawing within a community without a Python loop.
        self.order = np.argsort(self.community, kind="stable").astype(np.int32)
        self.start = np.concatenate([[0], np.cumsum(self.community_size)]).astype(np.int64)

    def members(self, community: int) -> np.ndarray:
        """Citizen numbers living in ``community``."""
        return self.order[self.start[community]:self.start[community + 1]]

    def community_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of a per-citizen array (or (n, k) array) within each community."""
        if values.ndim == 1:
            return np.bincount(self.community, values, self.n_communities) / np.maximum(self.community_size, 1)
        k = values.shape[1]
        # One bincount over the flattened (n, k) array. Each (community, column) bin receives
        # its values in citizen order, as k column-wise bincounts would: the sums are identical.
        sums = np.bincount(self._cell_index(k), values.reshape(-1), self.n_communities * k)
        return sums.reshape(self.n_communities, k) / np.maximum(self.community_size, 1)[:, None]

    def _cell_index(self, k: int) -> np.ndarray:
        """``community * k + column`` for every entry of an (n, k) array, flattened (cached)."""
        cache = self.__dict__.setdefault("_cell_index_cache", {})
        idx = cache.get(k)
        if idx is None:
            idx = (self.community.astype(np.intp)[:, None] * k + np.arange(k, dtype=np.intp)).reshape(-1)
            idx.flags.writeable = False
            cache[k] = idx
        return idx


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """Beta draws with the given mean and concentration (a + b)."""
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, n)


def _social_network(rng: np.random.Generator, community: np.ndarray, size: np.ndarray,
                    mean_degree: float, within: float) -> sp.csr_matrix:
    """Ties with community structure: a stochastic block model drawn in O(edges).

    Each citizen draws ``mean_degree / 2`` partners: inside their community with
    probability ``within``, anywhere otherwise. Duplicates and self-ties are dropped.
    """
    n = community.size
    k = max(1, int(round(mean_degree / 2)))
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    start = np.concatenate([[0], np.cumsum(size)])
    order = np.argsort(community, kind="stable")
    c = community[src]
    local = order[start[c] + (rng.random(src.size) * size[c]).astype(np.int64)]
    anywhere = rng.integers(0, n, src.size)
    dst = np.where(rng.random(src.size) < within, local, anywhere)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    data = np.ones(2 * src.size, dtype=np.float32)
    ties = sp.csr_matrix((data, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n))
    ties.data[:] = 1.0  # duplicates were summed
    ties.eliminate_zeros()
    return ties


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, towards 1 = concentrated)."""
    v = sorted_values(np.asarray(values, dtype=np.float64))
    n = v.size
    total = v.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float((2.0 * np.sum(_ranks(n) * v) / (n * total)) - (n + 1) / n)


@lru_cache(maxsize=8)
def _ranks(n: int) -> np.ndarray:
    """1, 2, ..., n as float64 (what ``np.arange(1, n + 1) * v`` converts to), read-only."""
    r = np.arange(1, n + 1, dtype=np.float64)
    r.flags.writeable = False
    return r


def sorted_values(v: np.ndarray) -> np.ndarray:
    """``np.sort(v)`` for a 1-D float64 array, faster for large arrays of values in [0, 1].

    A sorted array of floats is unique, so any correct sort gives the same bits. For large
    arrays, a radix sort (O(n)) of 16-bit bucket keys first puts the values almost in order;
    a final timsort, which is linear on such input, then finishes the job. The keys only
    decide the speed: values outside [0, 1] (or NaN) are still sorted correctly.
    """
    if v.size < 50_000:
        return np.sort(v)
    with np.errstate(invalid="ignore"):
        keys = np.clip(v * 65536.0, 0.0, 65535.0).astype(np.uint16)
    return np.sort(v[np.argsort(keys, kind="stable")], kind="stable")
