"""Orders (a retailer's rows of one day) are found as runs of rows when the
sales come sorted by day then retailer — the usual export — and on the dense
(retailer × day) grid otherwise. Both ways must give the same orders, rows'
orders and totals to the bit, whatever the block size, and the runs only
when the rows really are in that order."""

from __future__ import annotations

import random

import numpy as np
import pytest

from crmdocs.scripts import sales as S
from crmdocs.scripts.rules import retail as retail_mod
from crmdocs.scripts.rules.retail import retail
from retail_fixtures import ctx_for, repo
from test_rules_blocks import AS_OF, archives, office_rows


def both(rows, monkeypatch, chunk=None):
    if chunk is not None:
        for module in (S, retail_mod):
            monkeypatch.setattr(module, "CHUNK", chunk)
    R = retail(ctx_for(repo(archives(), rows), AS_OF))
    runs = R._order_runs()
    by_runs = R.orders()
    R._cache.pop("orders")
    monkeypatch.setattr(R, "_order_runs", lambda: None)
    by_grid = R.orders()
    return runs, by_runs, by_grid


def same(a, b) -> None:
    assert a.key.tolist() == b.key.tolist() and a.starts.tolist() == b.starts.tolist()
    assert a.inv.dtype == b.inv.dtype and a.inv.tolist() == b.inv.tolist()
    for name in ("quantity", "amount"):
        assert a.totals[name].view(np.int64).tolist() == b.totals[name].view(np.int64).tolist(), name


def odd_amounts(rows):
    """Amounts whose sums depend on the order they are added in."""
    rng = random.Random(11)
    return [(day, rid, brand, q, q * rng.choice((0.1, 0.7, 3.3, 25.25, 1e-3))) for day, rid, brand, q, _ in rows]


@pytest.mark.parametrize("chunk", [None, 1, 2, 5, 64])
def test_runs_and_grid_give_the_same_orders(monkeypatch, chunk):
    runs, by_runs, by_grid = both(odd_amounts(office_rows()), monkeypatch, chunk)
    assert runs is not None  # sorted by day then retailer: the runs are taken
    same(by_runs, by_grid)
    assert len(by_runs.key) < len(by_runs.inv)  # orders of several rows


def test_rows_of_a_day_out_of_retailer_order_are_not_taken_as_runs(monkeypatch):
    rows = odd_amounts(office_rows())
    rows.sort(key=lambda r: (r[0], r[2], r[1]))  # by day, then brand: a retailer's rows of a day apart
    runs, by_runs, by_grid = both(rows, monkeypatch, 3)
    assert runs is None
    same(by_runs, by_grid)
