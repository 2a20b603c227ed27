"""Rule module ``abnormal``: abnormal orders (异常订单), to the customer manager.

Every order in the sales data is checked (an *order* = all rows of one
retailer on one day; an *order line* = one brand of an order). Each rule is
switched by the policy (``abnormal.*.enabled``):

* **outside limits** — the order's total, and each main-brand line when
  brand limits are on, against the limits *in force in the order's ISO
  week* (set on its Monday from the W weeks before — see module ``limits``):
  above the upper limit → ``above_upper``; below the lower limit (when lower
  limits are on) → ``below_lower``; orders of the first W weeks of the sales
  data are not checked (their limits would stand on weeks without data);
* **spike** — the order's total above ``ratio`` × the mean of the previous
  ``cycles`` orders (ordering cycles) of the retailer; orders under
  ``min_quantity`` cartons and retailers with fewer than ``min_history``
  earlier orders are exempt (with fewer than ``cycles`` but at least
  ``min_history`` earlier orders, the mean is over those);
* **month jump** — the month's running total above ``ratio`` × the previous
  calendar month's total (which must be > 0): reported once, on the order
  that crossed the line.

Orders are attributed to the customer manager in charge on the order's day
(``management.manager_on``), so a retailer that changed manager mid-month
shows under each for their own days. Files:
``<yyyy-mm>/abnormal/<manager>.yaml`` (:class:`AbnormalFile`), items grouped
by ISO week and sorted by date, retailer, rule, brand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from crmdocs.schemas.computed_retailers import AbnormalFile, AbnormalOrder

from .. import sales as S
from .. import yamlwrite
from .limits import limits_at
from . import retail as retail_mod
from .retail import CHUNK, fast_model, file_text, in_day_order, r2, retail, texts_wanted, without_gc

NAME = "abnormal"


_FMT: dict[float, str] = {}


def _fmt(x: float) -> str:
    text = _FMT.get(x)
    if text is None:
        v = r2(x)
        text = str(int(v)) if v == int(v) else f"{v:g}"
        if len(_FMT) < 100_000:
            _FMT[float(x)] = text
    return text


def _lines(row_pair: np.ndarray, row_brand: np.ndarray, qty: np.ndarray, o_inv: np.ndarray, n_orders: int):
    """Order lines (one brand of one order): pair, quantity and order of each.
    A line is every row of one brand in one order, summed; in the usual
    export each row is a line by itself (then the rows' own arrays are
    returned), found by marking each row's (order × brand) cell in a dense
    grid of bools block by block — no sort, no per-row key array."""
    nb = int(row_brand.max(initial=0)) + 1
    if n_orders * nb <= retail_mod.GRID_CELLS:
        seen = np.zeros(n_orders * nb, bool)
        key = np.empty(min(CHUNK, len(o_inv)), np.int32)  # (the grid is at most GRID_CELLS: int32 cells)
        for a in range(0, len(o_inv), CHUNK):
            k = key[:len(o_inv[a:a + CHUNK])]
            np.multiply(o_inv[a:a + CHUNK], nb, out=k, casting="unsafe")
            np.add(k, row_brand[a:a + CHUNK], out=k, casting="unsafe")
            seen[k] = True
        if np.count_nonzero(seen) == len(o_inv):
            return row_pair, qty, o_inv
        del seen
        # a few lines span rows: only those rows are sorted and summed
        key = o_inv.astype(np.int64) * nb + row_brand
        counts = np.bincount(key, minlength=n_orders * nb)
        multi = counts[key] > 1
        one, rest = np.flatnonzero(~multi), np.flatnonzero(multi)
        _, first, line = np.unique(key[rest], return_index=True, return_inverse=True)
        q = np.bincount(line.ravel(), weights=qty[rest])
        return (np.r_[row_pair[one], row_pair[rest][first]], np.r_[qty[one], np.rint(q).astype(np.int64)],
                np.r_[o_inv[one], o_inv[rest][first]])
    key = o_inv.astype(np.int64) * nb + row_brand
    uniq, first, line = np.unique(key, return_index=True, return_inverse=True)
    q = np.bincount(line.ravel(), weights=qty, minlength=len(uniq))
    return row_pair[first], np.rint(q).astype(np.int64), o_inv[first]


def _order_managers(R, o_r: np.ndarray, o_day: np.ndarray, d0: np.datetime64) -> tuple[np.ndarray, list[str]]:
    """Each order's customer manager (its code in the list also returned,
    :func:`sales.manager_ids`): the archive's manager on the order's day
    (``manager_on``), as :class:`sales.Attribution` gives it for sales rows."""
    who = S.Attribution(R.ids, dict(zip(R.ids, R.records)))
    days = (o_day.astype(np.int64) + d0.astype(np.int64)).view("datetime64[D]")
    return who.rows(o_r, days, np.arange(-1, len(who.ids), dtype=np.int32)), who.ids


# the rules as written, in the order their names sort (the files' order within a day and retailer)
RULES = ("above_upper", "below_lower", "month_jump", "spike")
ABOVE, BELOW, JUMP, SPIKE = range(4)


class _Hits:
    """The abnormal orders found, as columns appended block by block (one
    entry per item, in the order they are found)."""

    NAMES = ("order", "rule", "quantity", "brand", "limit", "mean", "previous", "ratio", "turn", "factor", "k", "cycles")

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in self.NAMES}

    def add(self, order, rule, quantity, brand=-1, limit=-1, mean=np.nan, previous=-1, ratio=np.nan, turn=np.nan,
            factor=np.nan, k=np.nan, cycles=0) -> None:
        n = len(order)
        if not n:
            return
        for name, value, kind in (
            ("order", order, np.int64), ("rule", rule, np.int8), ("quantity", quantity, np.int64), ("brand", brand, np.int64),
            ("limit", limit, np.int64), ("mean", mean, np.float64), ("previous", previous, np.int64),
            ("ratio", ratio, np.float64), ("turn", turn, np.float64), ("factor", factor, np.float64), ("k", k, np.float64),
            ("cycles", cycles, np.int64),
        ):
            self.parts[name].append(np.broadcast_to(np.asarray(value, kind), (n,)))

    def columns(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) if parts else np.zeros(0, np.int64) for name, parts in self.parts.items()}


def find(ctx) -> list[dict]:
    """Every abnormal order as a plain dict (date, retailer, manager, rule, …;
    under ``retail.as_texts`` its message is empty: the files do not hold it)."""
    found = _find(ctx)
    return [] if found is None else found.items()


class Found:
    """The abnormal orders as columns (one entry per item, in the order
    :func:`find` lists them): each item's order, rule, values; what the items
    and the files are made from."""

    def __init__(self, ctx, R, columns: dict[str, np.ndarray], o_r, o_day, o_mgr, mgr_ids: list[str], say: bool):
        self.ctx, self.R, self.say = ctx, R, say
        self.c = columns
        o = columns["order"]
        self.r = o_r[o]
        self.day = o_day[o]
        self.mgr = o_mgr[o]
        self.mgr_ids = mgr_ids
        self.day_list = [R.day0 + dt.timedelta(days=d) for d in range(R.days)]
        self._items: "list[dict] | None" = None

    def __len__(self) -> int:
        return len(self.r)

    def _values(self):
        """Per item: (brand, limit, mean, previous, ratio) as the record holds them (None: not given)."""
        c = self.c
        brand_ids = self.R.sales.brand_ids
        brand = [brand_ids[b] if b >= 0 else None for b in c["brand"].tolist()]
        limit = [v if v >= 0 else None for v in c["limit"].tolist()]
        mean = [r2(v) if v == v else None for v in c["mean"].tolist()]
        previous = [v if v >= 0 else None for v in c["previous"].tolist()]
        ratio = [r2(v) if v == v else None for v in c["ratio"].tolist()]
        return brand, limit, mean, previous, ratio

    def items(self) -> list[dict]:
        if self._items is None:
            self._items = self._make_items()
        return self._items

    def _make_items(self) -> list[dict]:
        R, c = self.R, self.c
        ids, records, day_list, mgr_ids = R.ids, R.records, self.day_list, self.mgr_ids
        messages = self._messages() if self.say else [""] * len(self)
        brands, *values = self._values()
        return [
            {  # AbnormalOrder's fields in its order (a whole record: fast_model takes it as it is)
                "date": day_list[d], "retailer": ids[r], "name": records[r].basic.shop_name, "rule": RULES[rule],
                "brand": brand, "quantity": q, "limit": limit, "mean": mean, "previous": previous, "ratio": ratio,
                "message": message, "manager": mgr_ids[m] if m >= 0 else "",
            }
            for d, r, rule, brand, q, limit, mean, previous, ratio, message, m in zip(
                self.day.tolist(), self.r.tolist(), c["rule"].tolist(), brands, c["quantity"].tolist(), *values, messages,
                self.mgr.tolist(),
            )
        ]

    def _messages(self) -> list[str]:
        """The explanation each item carries (the site's, spreadsheets'; not in the files)."""
        pa = self.ctx.policy.abnormal
        c = self.c
        brand_ids = self.R.sales.brand_ids
        out = []
        for rule, q, b, limit, mean, previous, ratio, turn, factor, k, cycles in zip(
            c["rule"].tolist(), c["quantity"].tolist(), c["brand"].tolist(), c["limit"].tolist(), c["mean"].tolist(),
            c["previous"].tolist(), c["ratio"].tolist(), c["turn"].tolist(), c["factor"].tolist(), c["k"].tolist(),
            c["cycles"].tolist(),
        ):
            if rule == ABOVE and b < 0:
                text = (f"订购总量 {q} 条，超过上限 {limit} 条（周转数 {_fmt(turn)} × 上限系数 "
                        f"{_fmt(factor)} × 调整系数 {_fmt(k)}，向上取整）(above the upper limit)")
            elif rule == BELOW and b < 0:
                text = (f"订购总量 {q} 条，低于下限 {limit} 条（周转数 {_fmt(turn)} × 下限系数 "
                        f"{_fmt(factor)}，向下取整）(below the lower limit)")
            elif rule == ABOVE:
                text = (f"品牌 {brand_ids[b]} 订购 {q} 条，超过该品牌上限 {limit} 条（该品牌周转数 {_fmt(turn)} × 上限系数 "
                        f"{_fmt(factor)} × 调整系数 {_fmt(k)}，向上取整）(above the brand's upper limit)")
            elif rule == BELOW:
                text = (f"品牌 {brand_ids[b]} 订购 {q} 条，低于该品牌下限 {limit} 条（该品牌周转数 {_fmt(turn)} × 下限系数 "
                        f"{_fmt(factor)}，向下取整）(below the brand's lower limit)")
            elif rule == SPIKE:
                text = (f"本次订购 {q} 条，是前 {cycles} 次订货平均 {_fmt(mean)} 条的 {_fmt(ratio)} 倍"
                        f"（超过 {_fmt(pa.spike.ratio)} 倍）(above {_fmt(pa.spike.ratio)} × the mean of earlier cycles)")
            else:
                text = (f"本月累计订购 {q} 条，是上月 {previous} 条的 {_fmt(ratio)} 倍"
                        f"（超过 {_fmt(pa.month_jump.ratio)} 倍）(month above {_fmt(pa.month_jump.ratio)} × last month)")
            out.append(text)
        return out

    def files(self) -> dict:
        """The abnormal files (:class:`AbnormalFile`), under ``retail.as_texts``
        as texts written from the columns (a file holding a text only PyYAML may
        write: its record)."""
        texts = texts_wanted()
        R, c = self.R, self.c
        n = len(self)
        days = self.day_list
        # each item's file (month, manager as named) and place in it: (date, retailer, rule, brand)
        month_of_day = np.asarray(S.month_of(np.array(days, dtype="datetime64[D]")), np.int64) if days else np.zeros(0, np.int64)
        names = [m or "unassigned" for m in self.mgr_ids]
        unassigned = "unassigned"
        named = sorted(set(names) | {unassigned})
        rank_of = np.array([named.index(m) for m in names] + [named.index(unassigned)], np.int64)  # code -1: the last
        brand_ids = R.sales.brand_ids
        brand_rank = np.argsort(np.argsort(np.array(brand_ids, dtype=object), kind="stable"), kind="stable")
        b = c["brand"]
        b_key = np.where(b >= 0, brand_rank[np.maximum(b, 0)] if len(brand_ids) else 0, -1)
        month = month_of_day[self.day]
        mgr = rank_of[self.mgr]
        order = np.lexsort((b_key, c["rule"], self.r, self.day, mgr, month))
        key = month[order] * len(named) + mgr[order]
        cuts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]).tolist() + [n] if n else [0]
        labels: dict[int, tuple[str, str]] = {}
        for d in np.unique(self.day).tolist():
            day = days[d]
            labels[d] = (f"{day.year:04d}-{day.month:02d}", S.iso_week_label(S.week_of(day)))
        rows = self._rows() if texts else None
        day_at = self.day[order].tolist()
        out: dict = {}
        for a, z in zip(cuts, cuts[1:]):
            at = order[a:z].tolist()
            first_day = day_at[a]
            mkey = labels[first_day][0]
            manager = named[int(mgr[order[a]])]
            weeks: dict[str, list[int]] = {}
            for j, d in zip(at, day_at[a:z]):
                weeks.setdefault(labels[d][1], []).append(j)
            path = f"{mkey}/abnormal/{manager}.yaml"
            if texts:
                try:
                    body = "".join(f"  {yamlwrite.str_text(w)}:\n" + "".join(rows(js)) for w, js in sorted(weeks.items()))
                    head = fast_model(AbnormalFile, {"month": mkey, "manager": manager, "count": z - a, "weeks": {}})
                    out[path] = file_text(head, body, "weeks")
                    continue
                except ValueError:  # a text only PyYAML may write: the record, rendered as usual
                    pass
            items = self.items()
            out[path] = fast_model(AbnormalFile, {
                "month": mkey, "manager": manager, "count": z - a,
                "weeks": {w: [fast_model(AbnormalOrder, _without_manager(items[j])) for j in js] for w, js in sorted(weeks.items())},
            })
        return out

    def _rows(self):
        """A function giving the lines of items (by their positions) in a file
        (:class:`AbnormalOrder` as written: one-line rows, None left out);
        raises ValueError for a text a row cannot hold."""
        R, c = self.R, self.c
        rt, ft = yamlwrite.row_str_text, yamlwrite.float_text
        brand, limit, mean, previous, ratio = self._values()
        day_text = [d.isoformat() for d in self.day_list]
        shop: dict[int, str] = {}

        def who(r: int) -> str:
            text = shop.get(r)
            if text is None:
                text = shop[r] = f", retailer: {rt(R.ids[r])}, name: {rt(R.records[r].basic.shop_name)}, rule: "
            return text

        day, r, rule, q = self.day.tolist(), self.r.tolist(), c["rule"].tolist(), c["quantity"].tolist()

        def rows(js: list[int]) -> list[str]:
            return [
                "".join((
                    f"  - {{date: {day_text[day[j]]}{who(r[j])}{RULES[rule[j]]}",
                    f", brand: {rt(brand[j])}" if brand[j] is not None else "", f", quantity: {q[j]}",
                    f", limit: {limit[j]}" if limit[j] is not None else "", f", mean: {ft(mean[j])}" if mean[j] is not None else "",
                    f", previous: {previous[j]}" if previous[j] is not None else "",
                    f", ratio: {ft(ratio[j])}" if ratio[j] is not None else "", "}\n",
                ))
                for j in js
            ]

        return rows


def _without_manager(item: dict) -> dict:
    item = dict(item)
    del item["manager"]
    return item


def _find(ctx) -> "Found | None":
    R = retail(ctx)
    pa = ctx.policy.abnormal
    sales = R.sales
    sel = R.rows_with_archive()
    if R.day0 is None or (not isinstance(sel, slice) and not len(sel)):
        return None
    D = R.days
    d0 = np.datetime64(R.day0.isoformat(), "D")
    orders = R.orders()  # sorted by retailer then day
    okey, o_inv = orders.key, orders.inv
    o_q = np.rint(orders.totals["quantity"]).astype(np.int64)
    o_r = okey // D
    o_day = okey % D
    o_mgr, mgr_ids = _order_managers(R, o_r, o_day, d0)  # (the codes sales.managers gives: orders are per retailer)
    all_days = d0 + np.arange(D).astype("timedelta64[D]")  # each order's week and month from a per-day table
    o_week = np.asarray(S.week_of(all_days), np.int32)[o_day]  # per line below: 4 bytes
    hits = _Hits()

    # ------------------------------------------------------------ outside limits
    if pa.outside_limits.enabled:
        pairs = R.pairs()
        l_pair, l_q, l_order = _lines(pairs.pair[sel], sales.brand[sel], sales.quantity[sel], o_inv, len(okey))
        w0 = int(o_week.min())
        # orders and lines grouped by week once (radix sort of small ints), sliced per week
        o_by_w = np.argsort((o_week - w0).astype(np.int16), kind="stable")
        o_cut = np.searchsorted(o_week[o_by_w], np.unique(o_week), side="left")
        l_days = l_by_w = l_sorted_w = None
        if l_order is o_inv and (R.in_day_order() if isinstance(sel, slice) else in_day_order(sales.day[sel])):
            # every row a line, rows sorted by day (the usual export): a week's lines are one slice
            l_days = sales.day[sel]
        else:
            l_week = o_week[l_order]
            if bool(np.all(l_week[1:] >= l_week[:-1])):  # lines in week order
                l_sorted_w = l_week
            else:
                l_by_w = np.argsort((l_week - w0).astype(np.int16), kind="stable")
                l_sorted_w = l_week[l_by_w]
        # Limits stand on the W weeks before a week; in the first W weeks of the
        # sales data that window reaches before the data begins, so every retailer
        # would look "without history" and get its class default: those weeks'
        # orders are not checked against limits (not yet established).
        established = w0 + ctx.policy.limits.turnover_weeks
        for n_w, week in enumerate(np.unique(o_week)):
            if week < established:
                continue
            L = limits_at(ctx, int(week))
            end = o_cut[n_w + 1] if n_w + 1 < len(o_cut) else len(o_by_w)
            ow = o_by_w[o_cut[n_w]:end]
            i, q = o_r[ow], o_q[ow]
            up, lo = L.upper[i], L.lower[i]
            above = q > up
            below = ~above & (lo >= 0) & (q < lo)
            hit = above | below
            ii, ab = i[hit], above[hit]
            hits.add(ow[hit], np.where(ab, ABOVE, BELOW), q[hit], limit=np.where(ab, up[hit], lo[hit]),
                     turn=L.turnover[ii], factor=np.where(ab, L.upper_f[ii], L.lower_f[ii]), k=L.k[ii])
            if l_days is not None:
                monday = np.datetime64(S.week_start(int(week)).isoformat(), "D")
                lw = slice(int(np.searchsorted(l_days, monday)), int(np.searchsorted(l_days, monday + 7)))
            else:
                a, b = np.searchsorted(l_sorted_w, week, "left"), np.searchsorted(l_sorted_w, week, "right")
                lw = slice(a, b) if l_by_w is None else l_by_w[a:b]
            p, q = l_pair[lw], l_q[lw]
            up, lo = L.p_upper[p], L.p_lower[p]
            limited = up >= 0
            above = limited & (q > up)
            below = limited & ~above & (lo >= 0) & (q < lo)
            hit = np.flatnonzero(above | below)
            pp, ab = p[hit], above[hit]
            pr = L.pair_r[pp]
            hits.add(l_order[lw][hit], np.where(ab, ABOVE, BELOW), q[hit], brand=pairs.brand[pp],
                     limit=np.where(ab, up[hit], lo[hit]), turn=L.p_turnover[pp],
                     factor=np.where(ab, L.upper_f[pr], L.lower_f[pr]), k=L.k[pr])

    # (each in a function of its own: its ~1 M-order temporaries are gone before the next's)
    n = len(okey)
    if pa.spike.enabled and n and pa.spike.cycles > 0:
        _spikes(hits, pa.spike, o_r, o_q)
    if pa.month_jump.enabled and n:
        _month_jumps(hits, pa.month_jump, len(R.ids), all_days, o_r, o_day, o_q)
    # the explanation each order carries (the site's, spreadsheets'); not in the
    # files, so not written for recalc's side worker, which only writes those
    return Found(ctx, R, hits.columns(), o_r, o_day, o_mgr, mgr_ids, not texts_wanted())


def _spikes(hits: _Hits, sp, o_r: np.ndarray, o_q: np.ndarray) -> None:
    """Orders (sorted by retailer then day) far above the mean of the retailer's earlier ones."""
    n = len(o_r)
    start = np.r_[True, o_r[1:] != o_r[:-1]]
    first_of = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    n_prev = np.arange(n) - first_of
    cs = np.r_[0, np.cumsum(o_q)]
    # the orders that may be spikes (enough history, large enough), then the mean of their earlier cycles
    idx = np.flatnonzero((n_prev >= max(sp.min_history, 1)) & (o_q >= sp.min_quantity))
    c = np.minimum(n_prev[idx], sp.cycles)
    mean = (cs[idx] - cs[idx - c]) / c
    q = o_q[idx]
    big = q > sp.ratio * mean + 1e-9
    hit = idx[big]
    hits.add(hit, SPIKE, q[big], mean=mean[big], ratio=q[big] / mean[big], cycles=c[big])


def _month_jumps(hits: _Hits, mj, n_retailers: int, all_days: np.ndarray, o_r: np.ndarray, o_day: np.ndarray,
                 o_q: np.ndarray) -> None:
    """The order with which a retailer's month so far passes ``mj.ratio`` × the month before."""
    o_month = np.asarray(S.month_of(all_days), np.int64)[o_day]
    m0 = int(o_month.min())
    width = int(o_month.max()) - m0 + 1
    mkey = o_r * width + (o_month - m0)
    tot = np.bincount(mkey, weights=o_q, minlength=n_retailers * width).astype(np.int64)
    prev = np.where(o_month > m0, tot[np.maximum(mkey - 1, 0)], 0)
    mstart = np.r_[True, mkey[1:] != mkey[:-1]]
    cum = np.cumsum(o_q)
    base = np.maximum.accumulate(np.where(mstart, cum - o_q, 0))
    running = cum - base
    thr = mj.ratio * prev
    hit = np.flatnonzero((prev > 0) & (running > thr + 1e-9) & (running - o_q <= thr + 1e-9))
    hits.add(hit, JUMP, running[hit], previous=prev[hit], ratio=running[hit] / prev[hit])


@without_gc
def compute(ctx) -> dict:
    found = _find(ctx)
    if found is None:
        ctx.shared["abnormal"] = []
        return {}
    out = found.files()
    # the items the site and explain read; recalc's side worker (texts) never reads them: made on first use there
    ctx.shared["abnormal"] = _Items(found) if texts_wanted() else found.items()
    return out


class _Items(Sequence):
    """``ctx.shared["abnormal"]`` under ``retail.as_texts``: :meth:`Found.items`, made on first use."""

    def __init__(self, found: Found) -> None:
        self._found = found

    def _items(self) -> list[dict]:
        return self._found.items()

    def __getitem__(self, i):  # type: ignore[override]
        return self._items()[i]

    def __len__(self) -> int:
        return len(self._found)

    def __iter__(self):
        return iter(self._items())

    def __eq__(self, other: object) -> bool:
        return self._items() == (other._items() if isinstance(other, _Items) else other)

    __hash__ = None  # type: ignore[assignment]
