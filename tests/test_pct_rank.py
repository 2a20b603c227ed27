"""Percentile ranks within groups (``rules.retail.pct_rank``, used by classes
and tiers for every month and period) against their definition: 100 × peers
with a strictly lower value ÷ (peers − 1), 100 alone, nothing outside the
mask — with many ties (equal values rank alike, whatever order a sort puts
them in), 0.0 and -0.0, and group codes beyond 16 bits."""

from __future__ import annotations

import random

import numpy as np
import pytest

from crmdocs.scripts.rules.retail import pct_rank


def by_definition(values, groups, mask):
    n = len(values)
    rank, below, size = [0.0] * n, [0] * n, [0] * n
    for i in range(n):
        if not mask[i]:
            continue
        peers = [j for j in range(n) if mask[j] and groups[j] == groups[i]]
        lower = sum(values[j] < values[i] for j in peers)
        rank[i] = 100.0 * lower / (len(peers) - 1) if len(peers) > 1 else 100.0
        below[i], size[i] = lower, len(peers)
    return rank, below, size


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("wide_groups", [False, True])
def test_ranks_are_the_definition(seed, wide_groups):
    rng = random.Random(seed)
    n = rng.randint(1, 300)
    values = np.array([rng.choice([0.0, -0.0, 1.5, 2.25, rng.random() * 10, float(rng.randint(0, 5))]) for _ in range(n)])
    groups = np.array([rng.randint(0, 6) * (100_003 if wide_groups else 1) - (50_000 if wide_groups else 0)
                       for _ in range(n)], np.int64)
    mask = np.array([rng.random() < 0.85 for _ in range(n)])
    rank, below, size = pct_rank(values, groups, mask)
    want = by_definition(values.tolist(), groups.tolist(), mask.tolist())
    assert rank.tolist() == want[0] and below.tolist() == want[1] and size.tolist() == want[2]


def test_nothing_in_the_mask():
    rank, below, size = pct_rank(np.array([1.0, 2.0]), np.array([0, 0]), np.array([False, False]))
    assert rank.tolist() == [0.0, 0.0] and below.tolist() == [0, 0] and size.tolist() == [0, 0]
