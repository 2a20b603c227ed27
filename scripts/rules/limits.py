"""Rule module ``limits``: turnover (周转数) and order limits (上下限).

**When limits are in force.** The limits of ISO week w (Monday to Sunday)
are set on its Monday from the ``limits.turnover_weeks`` (W) complete ISO
weeks before it, w−W … w−1, and the class in force that Monday
(``ctx.class_on``). Every order of week w is checked against them
(module ``abnormal``). The file ``<yyyy-mm>/limits/<department>.yaml``
(month of ``as_of``) shows the limits in force now: those of the ISO week
that contains ``as_of``. (Past limits are not kept as files; every
abnormal order carries the limit it crossed, and ``limits_for(ctx, retailer,
day)`` gives the limits of any day.)

Per retailer, with weeks without orders counting 0:

* turnover T of a brand = its quantity in the W weeks ÷ W; total T = all
  brands' quantity ÷ W;
* main brands (主销品牌) = the fewest brands covering ``main_brand_share`` of
  the quantity (largest first; ties by brand id);
* lower = floor(T × lower_factor), upper = ceil(T × upper_factor × k), factors
  by class (``limits.factors``), per main brand and in total;
* k = the archive's adjustment coefficient in force that Monday
  (``sales.adjustment``, from ``since``), held within ``coefficient.min`` …
  ``max``; else ``coefficient.default``;
* no purchases in the W weeks (no history, or zero turnover) → T = the
  class's ``default_turnover``, total limits only; before the first monthly
  evaluation the first evaluation's class is used, and a retailer never
  classed (not active) uses the lowest class;
* ``lower_limits: false`` → no lower limits; ``brand_limits: false`` → only
  the total is limited.

(floor/ceil allow 1e-9 of rounding noise: 10 ÷ 8 × 0.8 is 1, not 0.)

Files: ``<yyyy-mm>/limits/<department>.yaml`` (:class:`LimitsFile`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from crmdocs.schemas.computed_retailers import BrandLine, LimitLine, LimitsDerivation, LimitsFile, Window

from .. import sales as S
from .. import yamlwrite
from .retail import Retail, fast_model, fast_models, file_text, r4, retail, texts_wanted, without_gc

NAME = "limits"

EPS = 1e-9


def floor_(x):
    return np.floor(np.asarray(x) + EPS).astype(np.int64)


def ceil_(x):
    return np.ceil(np.asarray(x) - EPS).astype(np.int64)


@dataclass
class WeekLimits:
    """Limits in force in ISO week ``week`` for every retailer (index i) and
    every pair (retailer × brand, index p of ``sales.pairs``)."""

    week: int
    monday: dt.date
    covered: int  # window weeks the sales data covers (the divisor)
    class_pos: np.ndarray  # per retailer, class position used
    classed: np.ndarray  # per retailer: had a class that Monday
    lower_f: np.ndarray
    upper_f: np.ndarray
    k: np.ndarray
    k_req: np.ndarray  # NaN when no adjustment in force
    history: np.ndarray  # bool per retailer
    quantity: np.ndarray  # per retailer, W weeks
    turnover: np.ndarray
    lower: np.ndarray  # per retailer; -1 = none
    upper: np.ndarray
    p_quantity: np.ndarray  # per pair
    p_main: np.ndarray  # bool: main brand (and brand limits apply)
    p_turnover: np.ndarray
    p_lower: np.ndarray  # -1 = none
    p_upper: np.ndarray  # -1 = none
    pair_r: np.ndarray  # per pair: retailer index (-1 without archive)

    @functools.cached_property
    def p_share(self) -> np.ndarray:
        """Per pair: share of the retailer's quantity (for the files and
        explain only, so worked out when asked, not for every week checked)."""
        r = np.maximum(self.pair_r, 0)
        total = self.quantity[r] if len(self.quantity) else np.zeros(len(r), np.int64)  # no archives: no totals
        return np.where((self.pair_r >= 0) & (total > 0), self.p_quantity / np.maximum(total, 1), 0.0)


def class_positions(ctx, R: Retail, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Class position in force on ``day`` per retailer (lowest when never classed)."""
    n_classes = len(ctx.policy.classes.ids())
    idx = ctx.shared.get("class_index")
    pos = np.full(R.n, -1, np.int64)
    kept: dict = {}
    if idx is not None and idx[0].shape[1]:
        mat, m0 = idx
        # before the first evaluation: the first evaluation's class
        col = min(max(S.month_of(day) - m0, 0), mat.shape[1] - 1)
        kept = ctx.shared.setdefault("_class_positions", {})  # the same for each week of a month: made once
        if col in kept and kept[col][0] is mat:
            return kept[col][1]
        # latest evaluation at or before that month with a class
        for c in range(col, -1, -1):
            pos = np.where(pos < 0, mat[:, c], pos)
            if (pos >= 0).all():
                break
    classed = pos >= 0
    out = np.where(classed, pos, n_classes - 1), classed
    if idx is not None and idx[0].shape[1]:
        kept[col] = (mat, out)
    return out


def coefficients(ctx, R: Retail, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
    co = ctx.policy.limits.coefficient
    if "adjust" not in R._cache:
        coef = np.full(R.n, np.nan)
        since = np.full(R.n, np.datetime64("NaT"), dtype="datetime64[D]")
        for i, rec in enumerate(R.records):
            adj = rec.sales.adjustment
            if adj is not None:
                coef[i] = adj.coefficient
                since[i] = np.datetime64(adj.since.isoformat(), "D")
        R._cache["adjust"] = (coef, since)
    coef, since = R._cache["adjust"]
    in_force = ~np.isnat(since) & (since <= np.datetime64(day.isoformat(), "D"))
    req = np.where(in_force, coef, np.nan)
    k = np.where(np.isnan(req), co.default, np.clip(np.nan_to_num(req, nan=co.default), co.min, co.max))
    return k, req


def main_brands(pair_r: np.ndarray, brand: np.ndarray, q: np.ndarray, totals: np.ndarray, share: float,
                layout: tuple | None = None, grid: np.ndarray | None = None) -> np.ndarray:
    """Bool per pair: among the fewest brands covering ``share`` of the
    retailer's quantity (largest first, ties by brand code).

    A brand is main when the brands ahead of it (more quantity, or as much
    and a smaller brand code) cover less than ``share``. With ``layout``
    (pairs sorted by retailer then brand, each pair's row and column in a
    retailers × K grid) this is one sort of each retailer's K cells, no
    sort of the pairs (``grid``: ``q`` on that grid, when made already)."""
    if layout is not None:
        ok, rows, cell, K, n_rows = layout  # cell: each pair's place in the flat grid
        M = _grid(layout, q) if grid is None else grid
        # larger first, ties by column: each cell's key (−quantity, column) as
        # one int64 (one per cell, so a plain sort of the values, no argsort)
        shift = max(K - 1, 1).bit_length()
        key = M.astype(np.int64)
        np.negative(key, out=key)
        key <<= shift
        key |= np.arange(K)
        key.sort(axis=1)
        key &= (1 << shift) - 1  # the columns in that order
        key += np.arange(0, n_rows * K, K)[:, None]  # flat positions
        ranked = M.ravel()[key]
        if ranked.dtype.kind in "iu":  # whole numbers: one running sum of the flat grid less each row's start (exact)
            ahead = np.cumsum(ranked.ravel()).reshape(ranked.shape)
            ahead -= ranked
            ahead -= ahead[:, :1].copy()
        else:
            ahead = np.cumsum(ranked, axis=1)
            ahead -= ranked  # quantity ahead of each
        # ahead (whole cartons) < share × total − EPS  ⟺  ahead < its ceiling
        total = M.sum(axis=1) if grid is None else totals
        main_s = ahead < np.ceil(share * total - EPS).astype(np.int64)[:, None]
        main_s &= ranked > 0
        flat = np.empty(n_rows * K, bool)
        flat[key.ravel()] = main_s.ravel()
        hit = flat[cell]
        if ok is None:
            return hit
        main = np.zeros(len(q), bool)
        main[ok] = hit
        return main
    main = np.zeros(len(q), bool)
    sel = np.flatnonzero((pair_r >= 0) & (q > 0))
    if not len(sel):
        return main
    qsel = q[sel].astype(np.int64)
    if len(sel) and pair_r.max() < (1 << 19) and brand.max(initial=0) < (1 << 12) and qsel.max() < (1 << 32):
        # one int64 key (retailer, larger quantity first, brand): a plain argsort
        key = (pair_r[sel].astype(np.int64) << 44) | (((1 << 32) - 1 - qsel) << 12) | brand[sel].astype(np.int64)
        order = sel[np.argsort(key, kind="stable")]
    else:
        order = sel[np.lexsort((brand[sel], -q[sel], pair_r[sel]))]
    r = pair_r[order]
    qs = q[order].astype(np.float64)
    cum = np.cumsum(qs)
    start = np.r_[True, r[1:] != r[:-1]]
    base = np.maximum.accumulate(np.where(start, cum - qs, 0))
    before = cum - qs - base  # quantity of the brands ahead within the retailer
    main[order] = before < share * totals[r] - EPS
    return main


def _grid(layout, q: np.ndarray) -> np.ndarray:
    """Per-pair values ``q`` on the layout's (retailers × K) grid, 0 elsewhere."""
    ok, rows, cell, K, n_rows = layout
    M = np.zeros(n_rows * K, q.dtype)
    M[cell] = q if ok is None else q[ok]
    return M.reshape(n_rows, K)


def _layout(R: Retail, pair_r: np.ndarray):
    """Where each pair with an archive sits in a retailers × K grid, when
    retailers buy few brands (K ≤ 24) and pairs come sorted by retailer:
    (ok — mask of pairs with an archive, None when all have one —, their
    row, their flat cell row × K + column, K, rows); else None (main_brands
    sorts)."""
    if "pair_layout" not in R._cache:
        layout = None
        if len(pair_r):
            ok = pair_r >= 0
            rows = pair_r[ok]
            counts = np.bincount(rows, minlength=R.n)
            K = int(counts.max(initial=0))
            if 0 < K <= 24 and np.all(np.diff(rows) >= 0):
                starts = np.r_[0, np.cumsum(counts)[:-1]]
                cols = np.arange(len(rows)) - starts[rows]
                layout = (None if ok.all() else ok, rows, rows * K + cols, K, R.n)
        R._cache["pair_layout"] = layout
    return R._cache["pair_layout"]


def limits_at(ctx, week: int) -> WeekLimits:
    cache = ctx.shared.setdefault("_limits_at", {})
    if week in cache:
        return cache[week]
    R = retail(ctx)
    pl = ctx.policy.limits
    W = pl.turnover_weeks
    monday = S.week_start(week)
    ids = ctx.policy.classes.ids()
    lower_tab = np.array([pl.factors[c].lower for c in ids])
    upper_tab = np.array([pl.factors[c].upper for c in ids])
    default_tab = np.array([pl.default_turnover[c] for c in ids], float)
    pos, classed = class_positions(ctx, R, monday)
    lf, uf = lower_tab[pos], upper_tab[pos]
    k, req = coefficients(ctx, R, monday)
    pairs = R.pairs()
    pair_r = R.pair_r()
    pq = R.pair_window(week - W, week) if len(pairs) else np.zeros(0, np.int64)
    layout = _layout(R, pair_r)
    grid = None
    if layout is not None:  # one row per retailer: the total is a row sum
        grid = _grid(layout, pq)
        rq = grid.sum(axis=1)
    elif R.n:
        valid = pair_r >= 0
        rq = np.bincount(pair_r[valid], weights=pq[valid], minlength=R.n).astype(np.int64)
    else:
        rq = np.zeros(0, np.int64)
    # weeks before the sales data begins are unknown, not zero: divide by the
    # window weeks the data covers (all W once the data is W weeks old)
    first_week = R.week_range()[0]
    covered = int(min(max(week - first_week, 0), W)) if R.day0 is not None else 0
    history = (rq > 0) & (covered > 0)
    turnover = np.where(history, rq / max(covered, 1), default_tab[pos])
    lower = np.where(pl.lower_limits, floor_(turnover * lf), -1)
    upper = ceil_(turnover * uf * k)
    p_main = main_brands(pair_r, pairs.brand if len(pairs) else np.zeros(0, np.int64), pq, rq, pl.main_brand_share,
                         layout, grid)
    p_turn = pq / max(covered, 1)
    # brand limits only where they apply (main brands): the rest stay -1
    p_lower = np.full(len(pq), -1, np.int64)
    p_upper = np.full(len(pq), -1, np.int64)
    if pl.brand_limits:
        at = np.flatnonzero(p_main)
        r = pair_r[at]
        if pl.lower_limits:
            p_lower[at] = floor_(p_turn[at] * lf[r])
        p_upper[at] = ceil_(p_turn[at] * uf[r] * k[r])
    out = WeekLimits(
        week=week, monday=monday, covered=covered, class_pos=pos, classed=classed, lower_f=lf, upper_f=uf, k=k,
        k_req=req, history=history, quantity=rq, turnover=turnover, lower=lower, upper=upper,
        p_quantity=pq, p_main=p_main, p_turnover=p_turn, p_lower=p_lower, p_upper=p_upper, pair_r=pair_r,
    )
    cache[week] = out
    if len(cache) > 2:  # module abnormal asks for every week once: keep two, not a year's (~23 MB a week at city scale)
        del cache[next(iter(cache))]
    return out


@without_gc
def compute(ctx) -> dict:
    """The limits in force now: the ISO week that contains ``as_of``."""
    pl = ctx.policy.limits
    W = pl.turnover_weeks
    week = int(S.week_of(ctx.as_of))
    L = limits_at(ctx, week)
    texts = texts_wanted()
    if texts:  # the files' texts straight from the columns (recalc's side worker)
        try:
            files = _derivations(ctx, L, as_text=True)
        except ValueError:  # a text only PyYAML may write: the records, rendered as usual
            texts, files = False, None
    if not texts:
        files = _derivations(ctx, L, as_text=False)
    mkey = S.month_key(S.month_of(ctx.as_of))
    out: dict = {}
    for dep, items in sorted(files.items()):
        record = fast_model(LimitsFile, {
            "month": mkey, "department": dep, "week": S.iso_week_label(week),
            "window": Window(start=S.week_start(week - W), end=L.monday - dt.timedelta(days=1)),
            "weeks": W, "lower_limits": pl.lower_limits, "brand_limits": pl.brand_limits,
            "retailers": {} if texts else dict(sorted(items.items())),
        })
        path = f"{mkey}/limits/{dep}.yaml"
        out[path] = file_text(record, "".join(text for _, text in sorted(items.items())), "retailers") if texts else record
    return out


def _derivations(ctx, L: WeekLimits, as_text: bool) -> dict[str, dict]:
    """department → retailer → its :class:`LimitsDerivation` (``as_text``:
    its lines in a limits file, as the record is written)."""
    R = retail(ctx)
    pl = ctx.policy.limits
    ids = ctx.policy.classes.ids()
    co = pl.coefficient
    pairs = R.pairs()
    pair_r = R.pair_r()
    brand_ids = R.sales.brand_ids
    if as_text:
        return _texts(ctx, L)
    brands_of: dict[int, dict] = {}
    if len(pairs):
        sel = np.flatnonzero((pair_r >= 0) & (L.p_quantity > 0) & L.p_main)  # main brands only
        limit = lambda a: [v if v >= 0 else None for v in a[sel].tolist()]  # noqa: E731 - -1 = no limit
        lines = fast_models(BrandLine, zip(
            L.p_quantity[sel].tolist(), _rounded(L.p_share[sel], 4), L.p_main[sel].tolist(),
            _rounded(L.p_turnover[sel], 2), limit(L.p_lower), limit(L.p_upper),
        ))
        mine: dict = {}
        current = -1
        for i, b, line in zip(pair_r[sel].tolist(), pairs.brand[sel].tolist(), lines):  # pairs by retailer
            if i != current:
                current, mine = i, brands_of.setdefault(i, {})
            mine[brand_ids[b]] = line
    act = np.flatnonzero(R.active)
    req_l = L.k_req[act].tolist()
    cols2 = zip(
        act.tolist(), L.class_pos[act].tolist(), L.classed[act].tolist(), _rounded(L.lower_f[act], 4),
        _rounded(L.upper_f[act], 4), _rounded(L.k[act], 4), req_l, L.history[act].tolist(),
        L.quantity[act].tolist(), _rounded(L.turnover[act], 2), L.lower[act].tolist(), L.upper[act].tolist(),
    )
    files: dict[str, dict] = {}
    for i, pos, classed, lf, uf, k, req, hist, q, turn, lo, up in cols2:
        rec = R.records[i]
        item = {
            "name": rec.basic.shop_name, "lower_factor": lf, "upper_factor": uf, "k": k,
            "basis": "history" if hist else "class_default", "weeks": L.covered,
        }
        if classed:
            item["class_"] = ids[pos]
        if req != req:  # NaN: no adjustment in force
            item["k_source"] = "default"
        else:
            item["k_requested"] = r4(req)
            item["k_source"] = "adjustment" if co.min <= req <= co.max else "adjustment_bounded"
        total = {"quantity": q, "turnover": turn, "upper": up}
        if lo >= 0:
            total["lower"] = lo
        item["total"] = fast_model(LimitLine, total)
        if hist and i in brands_of:
            item["brands"] = dict(sorted(brands_of[i].items()))
        files.setdefault(rec.management.department, {})[R.ids[i]] = fast_model(LimitsDerivation, item)
    return files


def _texts(ctx, L: WeekLimits) -> dict[str, dict]:
    """:func:`_derivations` as the lines a limits file holds for each retailer
    (the record's fields in order; None left out; the total and each main
    brand one-line rows), column by column."""
    R = retail(ctx)
    pl = ctx.policy.limits
    co = pl.coefficient
    sts, fts = yamlwrite.str_texts, yamlwrite.float_texts
    pairs = R.pairs()
    pair_r = R.pair_r()
    brand_ids = R.sales.brand_ids
    brands_of: dict[int, str] = {}  # retailer → its brands' lines
    if len(pairs):
        sel = np.flatnonzero((pair_r >= 0) & (L.p_quantity > 0) & L.p_main)  # main brands only (pairs by retailer)
        brand = pairs.brand[sel].tolist()
        names = sts(brand_ids)
        lines = [
            f"      {names[b]}: {{quantity: {q}, turnover: {t}{f', lower: {lo}' if lo >= 0 else ''}"
            f"{f', upper: {up}' if up >= 0 else ''}}}\n"  # (−1: no limit, left out)
            for b, q, t, lo, up in zip(brand, L.p_quantity[sel].tolist(), fts(_rounded(L.p_turnover[sel], 2)),
                                       L.p_lower[sel].tolist(), L.p_upper[sel].tolist())
        ]
        r = pair_r[sel]
        cuts = (np.flatnonzero(np.r_[True, r[1:] != r[:-1]]).tolist() if len(sel) else []) + [len(sel)]  # (none selected: no run)
        ordered = brand_ids == sorted(brand_ids)  # then a retailer's brands come in id order
        for a, b in zip(cuts, cuts[1:]):
            mine = lines[a:b] if ordered else [line for _, line in sorted(zip((brand_ids[c] for c in brand[a:b]), lines[a:b]))]
            brands_of[int(r[a])] = "".join(mine)
    act = np.flatnonzero(R.active)
    at = act.tolist()
    class_t = sts(ctx.policy.classes.ids())
    files: dict[str, dict] = {}
    weeks = f"    weeks: {L.covered}\n"
    for i, rid, name, pos, classed, lf, uf, k, req, hist, q, turn, lo, up in zip(
        at, sts([R.ids[i] for i in at]), sts([R.records[i].basic.shop_name for i in at]), L.class_pos[act].tolist(),
        L.classed[act].tolist(), fts(_rounded(L.lower_f[act], 4)), fts(_rounded(L.upper_f[act], 4)),
        fts(_rounded(L.k[act], 4)), L.k_req[act].tolist(), L.history[act].tolist(), L.quantity[act].tolist(),
        fts(_rounded(L.turnover[act], 2)), L.lower[act].tolist(), L.upper[act].tolist(),
    ):
        if req != req:  # NaN: no adjustment in force
            source = "    k_source: default\n"
        else:
            source = (f"    k_source: {'adjustment' if co.min <= req <= co.max else 'adjustment_bounded'}\n"
                      f"    k_requested: {yamlwrite.float_text(r4(req))}\n")
        brands = brands_of.get(i) if hist else None
        files.setdefault(R.records[i].management.department, {})[R.ids[i]] = "".join((
            f"  {rid}:\n    name: {name}\n", f"    class: {class_t[pos]}\n" if classed else "",
            f"    lower_factor: {lf}\n    upper_factor: {uf}\n    k: {k}\n", source,
            "    basis: history\n" if hist else "    basis: class_default\n", weeks,
            f"    total: {{quantity: {q}, turnover: {turn}{f', lower: {lo}' if lo >= 0 else ''}, upper: {up}}}\n",
            f"    brands:\n{brands}" if brands else "    brands: {}\n",
        ))
    return files

def _rounded(arr: np.ndarray, nd: int) -> list:
    return (np.round(np.asarray(arr, dtype=float), nd) + 0.0).tolist()


def limits_for(ctx, retailer: str, day: dt.date) -> Optional[dict]:
    """The limits in force for one retailer on ``day`` (for explain and tests):
    {"total": (lower, upper), "brands": {brand: (lower, upper)}, ...}."""
    R = retail(ctx)
    try:
        i = R.ids.index(retailer)
    except ValueError:
        return None
    L = limits_at(ctx, int(S.week_of(day)))
    out = {
        "total": (int(L.lower[i]) if L.lower[i] >= 0 else None, int(L.upper[i])),
        "turnover": float(L.turnover[i]), "history": bool(L.history[i]), "k": float(L.k[i]), "brands": {},
    }
    pairs = R.pairs()
    pair_r = R.pair_r()
    for p in np.flatnonzero(pair_r == i):
        if L.p_main[p] and L.p_upper[p] >= 0:
            out["brands"][R.sales.brand_ids[pairs.brand[p]]] = (
                int(L.p_lower[p]) if L.p_lower[p] >= 0 else None, int(L.p_upper[p]),
            )
    return out
