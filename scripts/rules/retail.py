"""Shared, vectorised views of the retailers and their sales for the
retailer-side rules (classes, tiers, limits, abnormal). Not a rule module.

``retail(ctx)`` builds (once per context, cached in ``ctx.shared["retail"]``)
a :class:`Retail` with the retailers in id order (index ``i``) and:

* ``orders()``: the orders (a retailer's rows of one day) with their
  totals, and per retailer running totals of its orders, so any day window
  ``[a, b)`` is ``window(value, a, b)`` in one subtraction;
* ``row_chunks()``: the sales rows block by block with their (retailer,
  day) cell, for per-row work without 100 MB per-row temporaries;
* per pair (retailer × brand) weekly quantities (``pair_weeks``, ``pair_window``);
* percentile ranks within groups (``pct_rank``).

Windows are half-open day ranges ``[start, end)``; a window of N weeks
ending before day D is ``[D − 7N, D)``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import numpy as np

from crmdocs.schemas.org import UnitKind
from crmdocs.schemas.retailer import Status

from .. import sales as S
from ..repository import gc_paused


CHUNK = S.CHUNK  # rows per block of per-row work: ~8 MB temporaries instead of 100 MB ones
GRID_CELLS = 60_000_000  # the largest dense grid of cells (orders, order lines) before sorting instead


def r2(x: float) -> float:
    """Round for byte-stable output (2 decimals, no negative zero)."""
    v = round(float(x), 2)
    return 0.0 if v == 0 else v


def r4(x: float) -> float:
    v = round(float(x), 4)
    return 0.0 if v == 0 else v


def pct_rank(values: np.ndarray, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile rank 0–100 of each value within its group, over the rows
    where ``mask`` holds: 100 × (peers with a strictly lower value) ÷ (peers
    − 1); a group of one gets 100. Returns (rank, below, group size); rows
    outside the mask get rank 0, below 0, size 0."""
    n = len(values)
    rank = np.zeros(n)
    below = np.zeros(n, np.int64)
    size = np.zeros(n, np.int64)
    idx = np.flatnonzero(mask)
    if not len(idx):
        return rank, below, size
    v = values[idx]
    g = groups[idx]
    if g.min() >= -(2**15) and g.max() < 2**15:
        # by value (any order among equal values: they get equal ranks), then by group keeping
        # that order (a radix sort of 16-bit groups): ~8 × faster than lexsort on 20,000 values
        by_v = np.argsort(v)
        order = by_v[np.argsort(g[by_v].astype(np.int16), kind="stable")]
    else:
        order = np.lexsort((v, g))
    vs, gs = v[order], g[order]
    pos = np.arange(len(order))
    new_group = np.r_[True, gs[1:] != gs[:-1]]
    new_run = new_group | np.r_[True, vs[1:] != vs[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
    counts = np.bincount(np.cumsum(new_group) - 1)
    gsize = counts[np.cumsum(new_group) - 1]
    b = run_start - group_start
    rk = np.where(gsize > 1, 100.0 * b / np.maximum(gsize - 1, 1), 100.0)
    out_rank = np.empty(len(idx))
    out_below = np.empty(len(idx), np.int64)
    out_size = np.empty(len(idx), np.int64)
    out_rank[order] = rk
    out_below[order] = b
    out_size[order] = gsize
    rank[idx] = out_rank
    below[idx] = out_below
    size[idx] = out_size
    return rank, below, size


@dataclass
class Orders:
    """The orders of :meth:`Retail.orders` (an order = a retailer's rows of one day)."""

    key: np.ndarray  # per order: retailer × days + day offset, ascending
    inv: np.ndarray  # per row with an archive (``rows_with_archive``): its order (int32)
    totals: dict[str, np.ndarray]  # "quantity" / "amount" per order (float64)
    starts: np.ndarray  # per retailer: its first order (length n + 1)


@dataclass
class Retail:
    ids: list[str]
    records: list[Any]
    department: np.ndarray  # codes into departments
    departments: list[str]
    county: np.ndarray  # codes into counties
    counties: list[str]
    active: np.ndarray  # bool
    sales: S.SalesData
    code: np.ndarray  # sales retailer code -> retailer index (-1 none)
    day0: Optional[dt.date]  # first sales day
    day1: Optional[dt.date]  # last sales day
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)

    def active_groups(self) -> tuple[np.ndarray, list[str], list[tuple[str, np.ndarray, list[str]]]]:
        """(act, ids, groups): the positions and ids of the active retailers
        (id order), and per department with any (sorted by name) the places
        in ``act`` of its retailers and their ids (id order): the files of
        the retailer rules without a dict built per retailer and month."""
        if "active_groups" not in self._cache:
            act = np.flatnonzero(self.active)
            rids = [self.ids[i] for i in act.tolist()]
            dep = self.department[act]
            order = np.argsort(dep, kind="stable")
            cuts = np.flatnonzero(np.r_[True, dep[order][1:] != dep[order][:-1]]) if len(act) else np.zeros(0, np.int64)
            groups = []
            for a, b in zip(cuts.tolist(), np.r_[cuts[1:], len(act)].tolist()):
                at = order[a:b]
                groups.append((self.departments[int(dep[at[0]])], at, [rids[j] for j in at.tolist()]))
            self._cache["active_groups"] = (act, rids, groups)
        return self._cache["active_groups"]

    # ------------------------------------------------------------ day windows

    @property
    def days(self) -> int:
        """Days from the first to the last sales day (the width of a day grid)."""
        return 0 if self.day0 is None else (self.day1 - self.day0).days + 1

    def rows_with_archive(self) -> Any:
        """The sales rows whose retailer has an archive: ``slice(None)`` when
        that is every row (the usual case: views, not copies), else their
        positions."""
        if not len(self.code) or self.code.min() >= 0:
            return slice(None)
        return np.flatnonzero(self.code[self.sales.retailer] >= 0)

    def row_chunks(self) -> Iterator[tuple[Any, np.ndarray]]:
        """(rows, cell) per block of ``CHUNK`` sales rows, in row order: the
        block's rows with an archive (a slice when that is every row of it)
        and their cell ``retailer × days + day offset from day0`` in a
        (retailers × days) grid. Worked out per block, so no per-row cell
        array (100 MB at city scale) is kept or made whole."""
        days = self.days
        d0 = np.datetime64(self.day0.isoformat(), "D").astype(np.int64) if days else 0
        day = self.sales.day.view(np.int64)
        n = len(self.sales.retailer)
        for a in range(0, n, CHUNK):
            rows: Any = slice(a, min(a + CHUNK, n))
            r = self.code[self.sales.retailer[rows]]  # the rows' retailer index (-1 without archive)
            if r.min() < 0:
                keep = np.flatnonzero(r >= 0)
                rows, r = keep + a, r[keep]
            cell = r.astype(np.int64)
            cell *= days
            cell += day[rows]
            cell -= d0
            yield rows, cell

    def orders(self) -> Orders:
        """The orders — (retailer, day) cells with a sales row — sorted by
        retailer then day, with each row's order and each order's totals
        (rows added in row order, as ``np.bincount`` would). Worked out once,
        block by block over a dense (retailer × day) grid of bools: no sort and
        no per-row cell array."""
        if "orders" not in self._cache:
            D = self.days
            cells = self.n * D
            sel = self.rows_with_archive()
            inv = np.empty(len(self.sales.day) if isinstance(sel, slice) else len(sel), np.int32)
            columns = {"quantity": self.sales.quantity, "amount": self.sales.amount}
            runs = self._order_runs() if cells <= GRID_CELLS and isinstance(sel, slice) and self.in_day_order() else None
            if runs is not None:  # rows sorted by day then retailer (the usual export): an order is a run of rows
                run_start, run_cell = runs
                # the runs come in day order: a stable sort by retailer puts them in (retailer, day)
                # order (a radix sort of 16-bit codes; no grid of cells)
                by_r = np.argsort((run_cell // D).astype(np.int16 if self.n < 2**15 else np.int32), kind="stable")
                key = run_cell[by_r]
                rank = np.empty(len(by_r), np.int32)
                rank[by_r] = np.arange(len(by_r), dtype=np.int32)  # each run's order number
                del by_r, run_cell
                inv = np.repeat(rank, np.diff(np.r_[run_start, len(inv)]))
                # whole cartons: summed exactly in any order; the amounts row by row in row order, as below
                totals = {"quantity": np.zeros(len(key)), "amount": np.zeros(len(key))}
                totals["quantity"][rank] = np.add.reduceat(columns["quantity"], run_start) if len(run_start) else 0
                amount = columns["amount"]
                for a in range(0, len(inv), CHUNK):
                    np.add.at(totals["amount"], inv[a:a + CHUNK], amount[a:a + CHUNK].astype(np.float64, copy=False))
            elif cells <= GRID_CELLS:
                occupied = np.zeros(cells, bool)
                for _, cell in self.row_chunks():
                    occupied[cell] = True
                key = np.flatnonzero(occupied)
                pos = np.cumsum(occupied, dtype=np.int32)  # an occupied cell's order number + 1
                del occupied
                pos -= 1
                totals = {name: np.zeros(len(key)) for name in columns}
                at = 0
                for rows, cell in self.row_chunks():
                    mine = pos[cell]
                    inv[at:at + len(mine)] = mine
                    at += len(mine)
                    for name, column in columns.items():
                        # float64 values (the quantities converted block by block): np.add.at's fast path
                        np.add.at(totals[name], mine, column[rows].astype(np.float64, copy=False))
                del pos
            else:  # a grid too large: sort the cells
                flat = np.concatenate([cell for _, cell in self.row_chunks()] or [np.zeros(0, np.int64)])
                key, found = np.unique(flat, return_inverse=True)
                inv[:] = found.ravel()
                totals = {name: np.bincount(inv, weights=column[sel], minlength=len(key))
                          for name, column in columns.items()}
            starts = np.searchsorted(key, np.arange(self.n + 1, dtype=np.int64) * D)
            self._cache["orders"] = Orders(key, inv, totals, starts)
        return self._cache["orders"]

    def _order_runs(self) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """When the sales rows come sorted by day then retailer and every row
        has an archive: where each run of rows of one retailer and day (an
        order) starts, and its (retailer × day) cell; else None."""
        sales = self.sales
        n = len(sales.day)
        if not n or not len(self.code) or self.code.min() < 0:
            return None
        day = sales.day.view(np.int64)
        ret = sales.retailer
        starts = [np.zeros(1, np.int64)]
        for a in range(0, n, CHUNK):
            lo, b = max(a - 1, 0), min(a + CHUNK, n)
            d, r = day[lo:b], ret[lo:b]
            same_day = d[1:] == d[:-1]
            if not np.all(~same_day | (r[1:] >= r[:-1])):  # (the days are in order: known)
                return None
            new = ~same_day
            new |= r[1:] != r[:-1]
            starts.append(np.flatnonzero(new) + (lo + 1))
        run_start = np.concatenate(starts)
        cell = self.code[ret[run_start]].astype(np.int64)
        cell *= self.days
        cell += day[run_start]
        cell -= np.datetime64(self.day0.isoformat(), "D").astype(np.int64)
        return run_start, cell

    def _running(self, value: str) -> np.ndarray:
        """(n, most orders of a retailer) running totals of each retailer's
        orders in day order: the sums a (retailers × days) grid's running
        totals hold on the order days (an empty day adds 0), at 1/7 of its
        size when retailers order weekly."""
        key = f"running_{value}"
        if key not in self._cache:
            r, slot, width = self._order_slots()
            m = np.zeros((self.n, width))
            if len(r):
                m[r, slot] = self.orders().totals[value]
            np.cumsum(m, axis=1, out=m)
            self._cache[key] = m
        return self._cache[key]

    def _order_slots(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Where each order stands in a (retailers × most orders) table: its
        retailer (row), its place among that retailer's orders in day order
        (column), and the table's width."""
        O = self.orders()
        width = int(np.diff(O.starts).max(initial=0))
        r = O.key // self.days if len(O.key) else np.zeros(0, np.int64)
        return r, np.arange(len(O.key)) - O.starts[r], width

    def _before(self, j: int) -> np.ndarray:
        """Per retailer: how many of its orders fall on days 0 … j − 1 (orders
        sorted by retailer then day: one search per retailer; kept per j: the
        rules ask for the same month boundaries again)."""
        key = f"before_{j}"
        if key not in self._cache:
            O = self.orders()
            self._cache[key] = np.searchsorted(O.key, np.arange(self.n, dtype=np.int64) * self.days + j) - O.starts[:-1]
        return self._cache[key]

    def _upto(self, value: str, j: int) -> np.ndarray:
        """Totals per retailer of days 0 … j − 1 (j clamped to 0 … days)."""
        j = min(max(j, 0), self.days)
        if not j:
            return np.zeros(self.n)
        cum = self._running(value)
        if not cum.shape[1]:
            return np.zeros(self.n)
        before = self._before(j)
        return np.where(before > 0, cum[np.arange(self.n), np.maximum(before - 1, 0)], 0.0)

    def window(self, value: str, start: dt.date, end: dt.date) -> np.ndarray:
        """Totals per retailer over days ``start <= day < end``."""
        if self.day0 is None:
            return np.zeros(self.n)
        out = self._upto(value, (end - self.day0).days) - self._upto(value, (start - self.day0).days)
        return np.rint(out) if value == "quantity" else out

    def bought_before(self, day: dt.date) -> np.ndarray:
        """Bool per retailer: any purchase before ``day``."""
        if self.day0 is None:
            return np.zeros(self.n, bool)
        return self.window("quantity", self.day0, day) > 0

    # ------------------------------------------------------------ pairs and weeks

    def in_day_order(self) -> bool:
        """Whether the sales rows come sorted by day (the usual export; checked block by block, once)."""
        if "in_day_order" not in self._cache:
            self._cache["in_day_order"] = in_day_order(self.sales.day)
        return self._cache["in_day_order"]

    def pairs(self) -> S.Pairs:
        if "pairs" not in self._cache:
            self._cache["pairs"] = S.pairs(self.sales)
        return self._cache["pairs"]

    def pair_r(self) -> np.ndarray:
        """Retailer index of each pair (-1 without archive)."""
        if "pair_r" not in self._cache:
            self._cache["pair_r"] = self.code[self.pairs().retailer] if len(self.code) else np.zeros(0, np.int64)
        return self._cache["pair_r"]

    def week_range(self) -> tuple[int, int]:
        if self.day0 is None:
            return 0, 0
        return int(S.week_of(self.day0)), int(S.week_of(self.day1)) + 1

    def pair_weeks(self) -> np.ndarray:
        """(weeks, n_pairs) quantities per pair and week from ``week_range()[0]``
        (a week's row is contiguous), whole numbers summed exactly: int32
        when the data's cartons cannot reach 2³¹ in any sum, else int64."""
        if "pair_weeks" not in self._cache:
            w0, w1 = self.week_range()
            pairs = self.pairs()
            n_p = len(pairs)
            sales = self.sales
            q = sales.quantity
            bound = sum(int(np.abs(q[a:a + CHUNK]).sum()) for a in range(0, len(q), CHUNK))
            m = np.zeros((w1 - w0) * n_p, np.int32 if bound < 2**31 else np.int64)
            day = sales.day.view(np.int64)
            if bound < 2**53 and self.in_day_order():
                # rows in day order (the usual export): a week's rows are one slice,
                # summed by one bincount (whole numbers, exact in float64 below 2⁵³)
                edges = np.searchsorted(day, np.arange(w0, w1 + 1, dtype=np.int64) * 7 - S._EPOCH_MONDAY_SHIFT)
                for k, (a, b) in enumerate(zip(edges.tolist(), edges[1:].tolist())):
                    if b > a:
                        m[k * n_p:(k + 1) * n_p] = np.bincount(pairs.pair[a:b], weights=q[a:b], minlength=n_p)
                self._cache["pair_weeks"] = m.reshape(w1 - w0, n_p)
                return self._cache["pair_weeks"]
            for a in range(0, len(q), CHUNK):
                s = slice(a, a + CHUNK)
                # week-major cells: every row lies in [w0, w1) (day0 … day1)
                cell = day[s] + (S._EPOCH_MONDAY_SHIFT - 7 * w0)
                cell //= 7  # (day + 3) // 7 − w0, as week_of
                cell *= n_p
                cell += pairs.pair[s]
                np.add.at(m, cell, q[s].astype(m.dtype))
            self._cache["pair_weeks"] = m.reshape(w1 - w0, n_p)
        return self._cache["pair_weeks"]

    def pair_window(self, wa: int, wb: int) -> np.ndarray:
        """Quantity per pair over weeks ``wa <= w < wb`` (int64)."""
        m = self.pair_weeks()
        w0, _ = self.week_range()
        a, b = min(max(wa - w0, 0), len(m)), min(max(wb - w0, 0), len(m))
        if b <= a:
            return np.zeros(m.shape[1], np.int64)
        last = self._cache.get("pair_window_last")  # module abnormal asks week after week: slide by one
        if last is not None and last[0] == a - 1 and last[1] == b - 1:
            out = last[2] + m[b - 1]
            out -= m[a - 1]
        else:
            out = m[a:b].sum(axis=0, dtype=np.int64)
        self._cache["pair_window_last"] = (a, b, out)
        return out.copy()


def in_day_order(day: np.ndarray) -> bool:
    """Whether the rows come sorted by day (checked block by block)."""
    n = len(day)
    return all(bool(np.all(day[a + 1:min(a + CHUNK + 1, n)] >= day[a:min(a + CHUNK, n - 1)])) for a in range(0, n, CHUNK))


def _county_of(repo, department: str) -> str:
    unit = repo.org.get(department)
    seen = set()
    top = department
    while unit is not None and unit.id not in seen:
        seen.add(unit.id)
        if unit.kind is UnitKind.county:
            return unit.id
        top = unit.id
        unit = repo.org.get(unit.parent) if unit.parent else None
    return top


def retail(ctx) -> Retail:
    if "retail" in ctx.shared:
        return ctx.shared["retail"]
    repo = ctx.repo
    ids = sorted(repo.retailers)
    records = [repo.retailers[i] for i in ids]
    deps = sorted({r.management.department for r in records})
    dep_at = {d: i for i, d in enumerate(deps)}
    counties_of = {d: _county_of(repo, d) for d in deps}
    counties = sorted(set(counties_of.values()))
    c_at = {c: i for i, c in enumerate(counties)}
    sales = repo.sales
    sales.finish()
    code = np.full(len(sales.retailer_ids), -1, np.int32)
    if sales.retailer_ids and ids:
        pos = np.searchsorted(np.array(ids, dtype=object), np.array(sales.retailer_ids, dtype=object))
        pos = np.minimum(pos, len(ids) - 1)
        hit = np.array(ids, dtype=object)[pos] == np.array(sales.retailer_ids, dtype=object)
        code[hit] = pos[hit]
    day0 = day1 = None
    ordered = sales._cache.get("in_day_order")  # (the sales cache's header may say it)
    if ordered is None:
        ordered = in_day_order(sales.day)  # (asked later anyway: orders, pairs' weeks, abnormal)
    if len(sales.day):
        if ordered:  # the first and last rows' days (no pass over the rows)
            day0, day1 = sales.day[0].astype(dt.date), sales.day[-1].astype(dt.date)
        else:
            day0 = sales.day.min().astype(dt.date)
            day1 = sales.day.max().astype(dt.date)
    out = Retail(
        ids=ids, records=records,
        department=np.array([dep_at[r.management.department] for r in records], np.int64),
        departments=deps,
        county=np.array([c_at[counties_of[r.management.department]] for r in records], np.int64),
        counties=counties,
        active=np.array([r.status is Status.active for r in records], bool),
        sales=sales, code=code, day0=day0, day1=day1,
    )
    out._cache["in_day_order"] = ordered
    ctx.shared["retail"] = out
    return out


def months_to_evaluate(ctx) -> list[int]:
    """Month indexes from the first month with sales to the month of ``as_of``."""
    R = retail(ctx)
    last = S.month_of(ctx.as_of)
    first = S.month_of(R.day0) if R.day0 is not None else last
    return list(range(min(first, last), last + 1))


def add_months(day: dt.date, months: int) -> dt.date:
    m = day.year * 12 + day.month - 1 + months
    y, mo = divmod(m, 12)
    import calendar

    return dt.date(y, mo + 1, min(day.day, calendar.monthrange(y, mo + 1)[1]))


_new = object.__new__
_set = object.__setattr__
# ``__pydantic_fields_set__`` of the records built here: one set per distinct
# list of given fields, shared by every record built with it, not one per
# record (a set of 5+ names is 728 bytes: 330,000 records at city scale made
# ~240 MB of fresh pages). Pydantic only ever adds to it (assigning a field
# adds its name: a no-op for a field that was given), and nothing reads it
# for computed records: they are dumped with ``exclude_none``, not
# ``exclude_unset``.
_GIVEN: dict[tuple[str, ...], set[str]] = {}


def _given(keys: tuple[str, ...]) -> set[str]:
    found = _GIVEN.get(keys)
    if found is None:
        found = _GIVEN[keys] = set(keys)
    return found


_PLANS: dict[tuple[type, tuple[str, ...]], tuple[Optional[dict], tuple]] = {}


def _plan(cls, keys: tuple[str, ...]) -> tuple[Optional[dict], tuple]:
    """How :func:`fast_model` fills a record of ``cls`` given ``keys``: None
    when they are every field in order, else a dict of every field in order
    holding the plain defaults (given values replace them) and the fields
    whose default comes from a factory (a fresh value per record)."""
    found = _PLANS.get((cls, keys))
    if found is None:
        template: dict[str, Any] = {}
        factories = []
        for name, f in cls.__pydantic_fields__.items():
            template[name] = None
            if name in keys:
                continue
            if f.default_factory is not None:
                factories.append((name, f.default_factory))
            elif not f.is_required():
                template[name] = f.default
            else:
                raise KeyError(f"{cls.__name__}.{name} missing")
        if not set(keys) <= set(template):  # names the model does not have are left out, as before
            factories.append((None, frozenset(template)))
        found = _PLANS[(cls, keys)] = (None if keys == tuple(template) else template, tuple(factories))
    return found


def fast_model(cls, data: dict):
    """Build a computed-record model from values the rules produced
    themselves (already of the right types), without validation: ~1 µs
    instead of ~50 µs, which matters for 20,000 retailers × 12 months.
    Keys are field names (``class_``, not the alias); missing fields take
    their defaults. A dict with every field in the model's order becomes
    the model's own (not copied: build a fresh one per call). Only for
    trusted, rule-made values."""
    keys = tuple(data)
    template, factories = _PLANS.get((cls, keys)) or _plan(cls, keys)
    if template is None:  # every field, in the model's order: the usual call
        values = data
    else:
        values = {**template, **data}  # the model's field order, given values over defaults
        for name, factory in factories:
            if name is None:  # factory: the model's field names
                values = {k: v for k, v in values.items() if k in factory}
            else:
                values[name] = factory()
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", _given(keys))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def fast_models(cls, rows) -> list:
    """:func:`fast_model` for many records of one class, each row a tuple of
    every field's value in the model's order (the loop of a file's table
    lines: 180,000 brand lines at city scale)."""
    names = tuple(cls.__pydantic_fields__)
    every = _given(names)
    out = []
    for values in rows:
        obj = _new(cls)
        _set(obj, "__dict__", dict(zip(names, values, strict=True)))
        _set(obj, "__pydantic_fields_set__", every)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        out.append(obj)
    return out


# ---------------------------------------------------------------- files as texts
# recalc's side worker only renders the retailer rules' records and hands the
# texts over. Under :func:`as_texts` the rules whose files are large (limits,
# the current month's classes and tiers, abnormal orders) write those files'
# texts straight from their columns — the bytes ``recalc.render_record`` writes
# for the records (tests render both ways) — instead of building ~330,000
# small models only to walk them again; their results in ``ctx.shared`` are the
# same. Elsewhere (this process, the site, explain) they build the records.

_AS_TEXTS = False


@contextlib.contextmanager
def as_texts():
    """Within: the retailer rules may give a file's text (a ``str``) in place of its record."""
    global _AS_TEXTS
    before, _AS_TEXTS = _AS_TEXTS, True
    try:
        yield
    finally:
        _AS_TEXTS = before


def texts_wanted() -> bool:
    return _AS_TEXTS


_DEFER = False


@contextlib.contextmanager
def deferring():
    """Within (and under :func:`as_texts`): the current period's classes and tiers
    files are not written but what they are written from is put in
    ``ctx.shared`` (``classes.CURRENT``, ``tiers.CURRENT``), for recalc's side
    worker to ship to the process that takes its first part, which writes them
    (``current_files``) while it would only wait for the worker."""
    global _DEFER
    before, _DEFER = _DEFER, True
    try:
        yield
    finally:
        _DEFER = before


def deferred() -> bool:
    return _DEFER and _AS_TEXTS


class Archives:
    """``ids`` and ``records`` (the archives, models or facts) as the rules'
    derivation writers read them from a :class:`Retail` — for the process that
    writes the current period's files from what the side worker shipped."""

    def __init__(self, ids: list, records: list) -> None:
        self.ids, self.records = ids, records


def period_files(groups: list, values, current: bool, derive, record, path) -> dict:
    """One period's files of classes or tiers: per department of ``groups``
    (department, places, its retailers' ids) the record ``record(department,
    listed, derivations)`` of its published list (``values`` at its places)
    and, for the current period, each retailer's derivation — ``derive(as_text)``
    gives them by id, as texts under :func:`as_texts` unless one is a text only
    PyYAML may write. ``path(department)``: the file's path."""
    full, texts = None, False
    if current:
        if texts_wanted():
            try:
                full, texts = derive(True), True
            except ValueError:  # a text only PyYAML may write: the records, rendered as usual
                pass
        if not texts:
            full = derive(False)
    out: dict = {}
    for dep, places, dep_rids in groups:
        listed = dict(zip(dep_rids, values[places].tolist()))
        made = record(dep, listed, {rid: full[rid] for rid in listed} if current and not texts else {})
        out[path(dep)] = file_text(made, "".join(full[rid] for rid in listed), "retailers") if texts else made
    return out


def file_text(head_record, body: str, last: str) -> str:
    """The text of a computed file whose last field ``last`` (a mapping) is
    ``body``, already written (its lines indented by two): the record's own
    text for the other fields (``head_record`` holds ``last`` empty), then
    ``last:`` and the body."""
    from ..recalc import render_record

    head = render_record(head_record)
    empty = f"{last}: {{}}\n"
    if not head.endswith(empty):
        raise ValueError(f"{type(head_record).__name__}: {last} is not the last field written")
    return head[: -len(empty)] + (f"{last}:\n{body}" if body else empty)


def without_gc(fn):
    """Decorator form of :func:`crmdocs.scripts.repository.gc_paused` for a
    module's ``compute``: the rules build hundreds of thousands of small
    records, and with 20,000 archives alive each automatic collection walks
    them all (record building was 5× slower)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def small_pages():
    """While the rules run, numpy does not advise huge pages for its big
    arrays. A city's rules made hundreds of 100 MB temporaries (one value per
    sales row; per-row work is now done in blocks of ``CHUNK`` rows); with
    transparent huge pages in "madvise" mode the kernel compacts memory to
    find a huge page at each first touch, and that system time was 40 % of
    the rules' CPU (city: 2.8 s of system time → 1.8 s without). The setting
    is numpy's own switch, restored afterwards. What system time is left is
    the first touch of fresh pages (~4 µs each here): ~210,000 minor faults
    at city scale, most of them the few per-row arrays the rules keep."""
    with S.small_pages(), _reused_memory():
        yield


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)


@contextlib.contextmanager
def _reused_memory():
    """With glibc, big blocks come from the heap and freed ones stay there
    while the rules run, so the next 100 MB temporary reuses pages already
    touched instead of mapping (and faulting in) fresh ones: city rules'
    system time 4.2 → 2.3 s. Afterwards glibc's defaults are set again and the
    kept memory is given back. Elsewhere (no glibc): nothing changes."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        yield
        return
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    try:
        yield
    finally:
        mallopt(_M_MMAP_MAX, 65536)  # glibc's defaults
        mallopt(_M_TRIM_THRESHOLD, 128 * 1024)
        trim(0)
