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

import numpy as np

from crmdocs.schemas.computed_retailers import AbnormalFile, AbnormalOrder

from .. import sales as S
from .. import yamlwrite
from .limits import limits_at
from . import retail as retail_mod
from .retail import CHUNK, fast_model, file_text, r2, retail, texts_wanted, without_gc

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
        for a in range(0, len(o_inv), CHUNK):
            key = o_inv[a:a + CHUNK].astype(np.int64)
            key *= nb
            key += row_brand[a:a + CHUNK]
            seen[key] = True
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


def _order_managers(R, mgr_ids: list[str], orders, o_r: np.ndarray, o_day: np.ndarray) -> np.ndarray:
    """Each order's customer manager (its code in ``mgr_ids``): the
    archive's manager on the order's day (``manager_on``) — the archives'
    managers, then the days of the few retailers that changed hands (their
    orders are contiguous: sorted by retailer then day)."""
    at = {m: i for i, m in enumerate(mgr_ids)}
    out = np.array([at[rec.management.manager] for rec in R.records], np.int32)[o_r] if R.n else np.zeros(0, np.int32)
    for i, rec in enumerate(R.records):
        history = rec.management.manager_history
        if history:
            a, b = int(orders.starts[i]), int(orders.starts[i + 1])
            mine, days = out[a:b], o_day[a:b]
            for past in sorted(history, key=lambda p: p.until, reverse=True):  # the earliest that holds wins
                mine[days < (past.until - R.day0).days] = at[past.manager]
    return out


def _in_day_order(day: np.ndarray) -> bool:
    """Whether the rows come sorted by day (checked block by block)."""
    n = len(day)
    return all(bool(np.all(day[a + 1:min(a + CHUNK + 1, n)] >= day[a:min(a + CHUNK, n - 1)])) for a in range(0, n, CHUNK))


def find(ctx) -> list[dict]:
    """Every abnormal order as a plain dict (date, retailer, manager, rule, …;
    under ``retail.as_texts`` its message is empty: the files do not hold it)."""
    R = retail(ctx)
    pa = ctx.policy.abnormal
    sales = R.sales
    sel = R.rows_with_archive()
    if R.day0 is None or (not isinstance(sel, slice) and not len(sel)):
        return []
    D = R.days
    d0 = np.datetime64(R.day0.isoformat(), "D")
    _, mgr_ids = S.managers(sales, ctx.repo.retailers)  # the archives R holds (shared with appraisals)
    orders = R.orders()  # sorted by retailer then day
    okey, o_inv = orders.key, orders.inv
    o_q = np.rint(orders.totals["quantity"]).astype(np.int64)
    o_r = okey // D
    o_day = okey % D
    o_mgr = _order_managers(R, mgr_ids, orders, o_r, o_day)
    o_week = np.asarray(S.week_of(d0 + o_day.astype("timedelta64[D]")), np.int32)  # per line below: 4 bytes
    found: list[dict] = []
    day_list = [R.day0 + dt.timedelta(days=d) for d in range(D)]
    # the explanation each order carries (the site's, spreadsheets'); not in the
    # files, so not written for recalc's side worker, which only writes those
    say = not texts_wanted()

    def add(o: int, rule: str, quantity: int, message: str, brand=None, limit=None, mean=None, previous=None,
            ratio=None) -> None:
        r, m = int(o_r[o]), int(o_mgr[o])
        found.append({  # AbnormalOrder's fields in its order (a whole record: fast_model takes it as it is)
            "date": day_list[o_day[o]], "retailer": R.ids[r], "name": R.records[r].basic.shop_name,
            "rule": rule, "brand": brand, "quantity": int(quantity), "limit": limit, "mean": mean,
            "previous": previous, "ratio": ratio, "message": message,
            "manager": mgr_ids[m] if m >= 0 else "",
        })

    # ------------------------------------------------------------ outside limits
    if pa.outside_limits.enabled:
        pairs = R.pairs()
        l_pair, l_q, l_order = _lines(pairs.pair[sel], sales.brand[sel], sales.quantity[sel], o_inv, len(okey))
        w0 = int(o_week.min())
        # orders and lines grouped by week once (radix sort of small ints), sliced per week
        o_by_w = np.argsort((o_week - w0).astype(np.int16), kind="stable")
        o_cut = np.searchsorted(o_week[o_by_w], np.unique(o_week), side="left")
        l_days = l_by_w = l_sorted_w = None
        if l_order is o_inv and _in_day_order(sales.day[sel]):
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
            hit = ow[above | below]
            ii = o_r[hit]
            for o, q, up, lo, turn, uf, lf, k in zip(
                hit.tolist(), o_q[hit].tolist(), L.upper[ii].tolist(), L.lower[ii].tolist(), L.turnover[ii].tolist(),
                L.upper_f[ii].tolist(), L.lower_f[ii].tolist(), L.k[ii].tolist(),
            ):
                if q > up:
                    add(o, "above_upper", q,
                        f"订购总量 {q} 条，超过上限 {up} 条（周转数 {_fmt(turn)} × 上限系数 "
                        f"{_fmt(uf)} × 调整系数 {_fmt(k)}，向上取整）(above the upper limit)" if say else "",
                        limit=up)
                else:
                    add(o, "below_lower", q,
                        f"订购总量 {q} 条，低于下限 {lo} 条（周转数 {_fmt(turn)} × 下限系数 "
                        f"{_fmt(lf)}，向下取整）(below the lower limit)" if say else "",
                        limit=lo)
            if l_days is not None:
                monday = np.datetime64(S.week_start(int(week)).isoformat(), "D")
                lw = np.arange(np.searchsorted(l_days, monday), np.searchsorted(l_days, monday + 7))
            else:
                a, b = np.searchsorted(l_sorted_w, week, "left"), np.searchsorted(l_sorted_w, week, "right")
                lw = np.arange(a, b) if l_by_w is None else l_by_w[a:b]
            p, q = l_pair[lw], l_q[lw]
            up, lo = L.p_upper[p], L.p_lower[p]
            limited = up >= 0
            above = limited & (q > up)
            below = limited & ~above & (lo >= 0) & (q < lo)
            hit = lw[above | below]
            pp = l_pair[hit]
            pr = L.pair_r[pp]
            for o, q, b, up, lo, turn, uf, lf, k in zip(
                l_order[hit].tolist(), l_q[hit].tolist(), pairs.brand[pp].tolist(), L.p_upper[pp].tolist(),
                L.p_lower[pp].tolist(), L.p_turnover[pp].tolist(), L.upper_f[pr].tolist(), L.lower_f[pr].tolist(),
                L.k[pr].tolist(),
            ):
                brand = sales.brand_ids[b]
                if q > up:
                    add(o, "above_upper", q,
                        f"品牌 {brand} 订购 {q} 条，超过该品牌上限 {up} 条（该品牌周转数 {_fmt(turn)} × 上限系数 "
                        f"{_fmt(uf)} × 调整系数 {_fmt(k)}，向上取整）(above the brand's upper limit)" if say else "",
                        brand=brand, limit=up)
                else:
                    add(o, "below_lower", q,
                        f"品牌 {brand} 订购 {q} 条，低于该品牌下限 {lo} 条（该品牌周转数 {_fmt(turn)} × 下限系数 "
                        f"{_fmt(lf)}，向下取整）(below the brand's lower limit)" if say else "", brand=brand, limit=lo)

    # ------------------------------------------------------------ spike
    sp = pa.spike
    n = len(okey)
    start = np.r_[True, o_r[1:] != o_r[:-1]]
    first_of = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    n_prev = np.arange(n) - first_of
    if sp.enabled and n:
        cs = np.r_[0, np.cumsum(o_q)]
        c = np.minimum(n_prev, sp.cycles)
        idx = np.arange(n)
        mean = np.where(c > 0, (cs[idx] - cs[idx - c]) / np.maximum(c, 1), 0.0)
        hit = (n_prev >= sp.min_history) & (c > 0) & (o_q >= sp.min_quantity) & (o_q > sp.ratio * mean + 1e-9)
        for o in np.flatnonzero(hit):
            add(o, "spike", o_q[o],
                f"本次订购 {o_q[o]} 条，是前 {c[o]} 次订货平均 {_fmt(mean[o])} 条的 {_fmt(o_q[o] / mean[o])} 倍"
                f"（超过 {_fmt(sp.ratio)} 倍）(above {_fmt(sp.ratio)} × the mean of earlier cycles)" if say else "",
                mean=r2(mean[o]), ratio=r2(o_q[o] / mean[o]))

    # ------------------------------------------------------------ month jump
    mj = pa.month_jump
    if mj.enabled and n:
        o_month = np.asarray(S.month_of(d0 + o_day.astype("timedelta64[D]")), np.int64)
        m0 = int(o_month.min())
        width = int(o_month.max()) - m0 + 1
        mkey = o_r * width + (o_month - m0)
        tot = np.bincount(mkey, weights=o_q, minlength=len(R.ids) * width).astype(np.int64)
        prev = np.where(o_month > m0, tot[np.maximum(mkey - 1, 0)], 0)
        mstart = np.r_[True, mkey[1:] != mkey[:-1]]
        cum = np.cumsum(o_q)
        base = np.maximum.accumulate(np.where(mstart, cum - o_q, 0))
        running = cum - base
        thr = mj.ratio * prev
        hit = (prev > 0) & (running > thr + 1e-9) & (running - o_q <= thr + 1e-9)
        for o in np.flatnonzero(hit):
            add(o, "month_jump", running[o],
                f"本月累计订购 {running[o]} 条，是上月 {prev[o]} 条的 {_fmt(running[o] / prev[o])} 倍"
                f"（超过 {_fmt(mj.ratio)} 倍）(month above {_fmt(mj.ratio)} × last month)" if say else "",
                previous=int(prev[o]), ratio=r2(running[o] / prev[o]))
    return found


@without_gc
def compute(ctx) -> dict:
    items = find(ctx)
    groups: dict[tuple[str, str], dict[str, list[dict]]] = {}
    labels: dict[dt.date, tuple[str, str]] = {}
    for it in items:
        it = dict(it)
        day: dt.date = it["date"]
        if day not in labels:
            labels[day] = (f"{day.year:04d}-{day.month:02d}", S.iso_week_label(S.week_of(day)))
        mkey, week = labels[day]
        manager = it.pop("manager") or "unassigned"
        groups.setdefault((mkey, manager), {}).setdefault(week, []).append(it)
    out: dict = {}
    texts = texts_wanted()  # the files as texts (recalc's side worker)
    for (mkey, manager), weeks in sorted(groups.items()):
        for lst in weeks.values():
            lst.sort(key=lambda x: (x["date"], x["retailer"], x["rule"], x.get("brand") or ""))
        record = fast_model(AbnormalFile, {
            "month": mkey, "manager": manager, "count": sum(len(v) for v in weeks.values()),
            "weeks": {} if texts else {w: [fast_model(AbnormalOrder, x) for x in lst] for w, lst in sorted(weeks.items())},
        })
        path = f"{mkey}/abnormal/{manager}.yaml"
        if texts:
            try:
                body = "".join(f"  {yamlwrite.str_text(w)}:\n" + "".join(map(_row, lst)) for w, lst in sorted(weeks.items()))
                out[path] = file_text(record, body, "weeks")
                continue
            except ValueError:  # a text only PyYAML may write: the record, rendered as usual
                record.weeks = {w: [fast_model(AbnormalOrder, x) for x in lst] for w, lst in sorted(weeks.items())}
        out[path] = record
    ctx.shared["abnormal"] = items
    return out


def _row(it: dict) -> str:
    """An abnormal order's line in its file (:class:`AbnormalOrder` as written: a one-line row, None left out)."""
    rt, ft = yamlwrite.row_str_text, yamlwrite.float_text
    brand, limit, mean, previous, ratio = it["brand"], it["limit"], it["mean"], it["previous"], it["ratio"]
    return "".join((
        f"  - {{date: {it['date'].isoformat()}, retailer: {rt(it['retailer'])}, name: {rt(it['name'])}, rule: {it['rule']}",
        f", brand: {rt(brand)}" if brand is not None else "", f", quantity: {it['quantity']}",
        f", limit: {limit}" if limit is not None else "", f", mean: {ft(mean)}" if mean is not None else "",
        f", previous: {previous}" if previous is not None else "", f", ratio: {ft(ratio)}" if ratio is not None else "",
        "}\n",
    ))
