"""Rule module ``classes``: retailer value and class (分级分类), base classification.

Evaluated once a month for every month from the first month with sales to
the month of ``as_of``. The evaluation of month M is in force from M's 1st
and stands on the sales *before* the 1st, so it never changes when sales of
M arrive:

* composite mode (seed 000), N = ``classes.rule.weeks``:
  - contribution = percentile rank (100 × peers with a strictly lower amount
    ÷ (peers − 1); 100 when alone) of the amount of the N×7 days before the
    1st, among the *active* retailers of the same county unit; 0 without
    purchases;
  - integrity = start − per_violation × confirmed violations − per_late_payment
    × late payments dated in the ``months`` months before the 1st, ≥ 0;
  - own value = mean of the points for floor area (highest band reached),
    format, location type and image level (policy tables);
  - development from growth g = amount / amount of the N weeks before − 1:
    g ≤ worst → 0, g = 0 → flat_points, g ≥ best → 100, linear between; no
    purchases in the earlier N weeks → flat_points (no base to compare);
  - composite = Σ weight × value, rounded to 2 decimals, then the first class
    (best first) whose ``min`` it reaches.
* volume_bands mode (seed 001): last calendar month's quantity or amount,
  first class whose ``min`` it reaches.

Then at most ``max_step`` classes up or down from the previous month's class
when that evaluation stood on purchases (a first evaluation or one without
history does not hold the next back). Classes in ``key_classes`` are key
customers. Only active retailers are classed.

Base classification (基础分类): market type (urban 城镇 / rural 乡村) × format ×
scale: share = mean of the retailer's share of its format's quantity and
amount (same county, same window); ``ahead`` = retailers of the format with
a larger share; ahead ÷ count < large_share → 大, < large+medium → 中, else
小; a retailer without purchases is 小.

Results: ``ctx.shared["classes"]`` = month "YYYY-MM" → retailer → class id,
``ctx.shared["class_index"]`` = (matrix retailers × months of class
positions, −1 none; first month index) for vectorised readers.
Files: ``<yyyy-mm>/classes/<department>.yaml`` (:class:`ClassesFile`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from crmdocs.schemas.computed_retailers import BaseClassResult, ClassDerivation, ClassesFile, OwnParts, Window
from crmdocs.schemas.retailer import FORMAT_ZH, Network

from .. import sales as S
from .. import yamlwrite
from .retail import (
    Archives, add_months, deferred, fast_model, months_to_evaluate, pct_rank, period_files, r4, retail, without_gc,
)

NAME = "classes"

MARKET_ZH = {Network.urban: "城镇", Network.rural: "乡村"}
SCALE_ZH = ("大", "中", "小")


def _band_points(bands, value: float) -> float:
    best = None
    for b in bands:
        if value >= b.min and (best is None or b.min > best.min):
            best = b
    return float(best.points) if best is not None else 0.0


def own_parts(rule, rec) -> tuple[float, float, float, float]:
    own = rule.own
    return (
        _band_points(own.floor_area, rec.basic.floor_area),
        float(own.format.get(rec.basic.format.value, 0.0)),
        float(own.location.get(rec.basic.location.value, 0.0)),
        float(own.image.get(rec.image.level, 0.0)),
    )


def own_parts_of(rule, records: list) -> np.ndarray:
    """:func:`own_parts` of every archive, as an (n, 4) array: each column
    from one list of the archives' values, the tables looked up once per
    distinct value (20,000 archives: ~4 × faster than a call per archive)."""
    own = rule.own
    out = np.zeros((len(records), 4))
    if not records:
        return out
    areas = np.array([float(r.basic.floor_area) for r in records])
    best = np.full(len(records), -np.inf)
    found = np.zeros(len(records), bool)
    for band in own.floor_area:  # as _band_points: the first band of the highest min reached
        take = (areas >= band.min) & (~found | (band.min > best))
        out[take, 0] = float(band.points)
        best[take] = band.min
        found |= take
    for col, table, values in (
        (1, own.format, [r.basic.format.value for r in records]),
        (2, own.location, [r.basic.location.value for r in records]),
        (3, own.image, [r.image.level for r in records]),
    ):
        points = {v: float(table.get(v, 0.0)) for v in set(values)}
        out[:, col] = [points[v] for v in values]
    return out


def development_points(rule, growth: np.ndarray, has_base: np.ndarray) -> np.ndarray:
    d = rule.development
    g = np.where(has_base, growth, 0.0)
    low = np.clip((g - d.worst) / (0 - d.worst), 0, 1) * d.flat_points if d.worst < 0 else np.full_like(g, d.flat_points)
    high = d.flat_points + np.clip(g / d.best, 0, 1) * (100 - d.flat_points) if d.best > 0 else np.full_like(g, d.flat_points)
    out = np.where(g < 0, low, high)
    return np.where(has_base, out, float(d.flat_points))


def class_position(mins: list[float], score: np.ndarray) -> np.ndarray:
    """Index of the first class (best first) whose min the score reaches;
    the last class when none."""
    m = np.asarray(mins, dtype=float)
    pos = (score[:, None] < m[None, :]).sum(axis=1)
    return np.minimum(pos, len(mins) - 1)


def _events(dates_by_r: list[list[dt.date]]) -> tuple[np.ndarray, np.ndarray]:
    """(retailer index, day) of every dated event, flat."""
    who = [i for i, ds in enumerate(dates_by_r) for _ in ds]
    days = [d.isoformat() for ds in dates_by_r for d in ds]
    return np.array(who, np.int64), np.array(days, dtype="datetime64[D]")


def _counts_in(events: tuple[np.ndarray, np.ndarray], n: int, start: dt.date, end: dt.date) -> np.ndarray:
    who, days = events
    hit = (days >= np.datetime64(start.isoformat(), "D")) & (days < np.datetime64(end.isoformat(), "D"))
    return np.bincount(who[hit], minlength=n).astype(np.int64)


@without_gc
def compute(ctx) -> dict:
    R = retail(ctx)
    policy = ctx.policy
    pc = policy.classes
    rule = pc.rule
    ids = pc.ids()
    mins = [c.min for c in rule.classes]
    months = months_to_evaluate(ctx)
    m_first = months[0] if months else 0
    class_idx = np.full((R.n, len(months)), -1, np.int64)
    had_history = np.zeros(R.n, bool)
    prev_pos = np.full(R.n, -1, np.int64)
    shared: dict[str, dict[str, str]] = {}
    details: dict[str, dict] = {}
    weights: dict[str, float] = {}
    out: dict = {}
    composite_mode = rule.mode == "composite"
    if composite_mode:
        parts = own_parts_of(rule, R.records)
        own = parts.mean(axis=1)
        violations = _events([[v.date for v in r.management.violations if v.confirmed] for r in R.records])
        late = _events([[p.date for p in r.management.late_payments] for r in R.records])
        w = rule.weights
        weights = {"contribution": w.contribution, "integrity": w.integrity, "own": w.own, "development": w.development}
    fmt_code = np.array([list(FORMAT_ZH).index(r.basic.format) for r in R.records], np.int64)
    bc = policy.base_class
    act, rids, groups = R.active_groups()
    class_names = np.array(ids, dtype=object)
    for j, month in enumerate(months):
        first = S.month_first(month)
        if composite_mode:
            span = 7 * rule.weeks
            start = first - dt.timedelta(days=span)
            amount = R.window("amount", start, first)
            before = R.window("amount", first - dt.timedelta(days=2 * span), start)
            contribution, below, peers = pct_rank(amount, R.county, R.active)
            contribution = np.where(amount > 0, contribution, 0.0)  # no purchases, no contribution (even alone)
            since = add_months(first, -rule.integrity.months)
            n_v = _counts_in(violations, R.n, since, first)
            n_l = _counts_in(late, R.n, since, first)
            integrity = np.maximum(
                rule.integrity.start - rule.integrity.per_violation * n_v - rule.integrity.per_late_payment * n_l, 0.0
            )
            has_base = before > 0
            growth = np.where(has_base, amount / np.where(has_base, before, 1) - 1, 0.0)
            development = development_points(rule, growth, has_base)
            composite = np.round(
                w.contribution * contribution + w.integrity * integrity + w.own * own + w.development * development, 2
            )
            raw = class_position(mins, composite)
            history = amount > 0
            window = Window(start=start, end=first - dt.timedelta(days=1))
        else:
            start = add_months(first, -1)
            volume = R.window(rule.measure, start, first)
            raw = class_position(mins, np.round(volume, 2))
            history = volume > 0
            window = Window(start=start, end=first - dt.timedelta(days=1))
        # the step limit
        capped_pos = raw.copy()
        hold = (prev_pos >= 0) & had_history
        lo = prev_pos - pc.max_step
        hi = prev_pos + pc.max_step
        capped_pos = np.where(hold, np.clip(raw, lo, hi), raw)
        capped_pos = np.where(R.active, capped_pos, -1)
        class_idx[:, j] = capped_pos
        # base classification, same window as the class
        qty = R.window("quantity", window.start, first)
        amt = R.window("amount", window.start, first)
        group = R.county * 16 + fmt_code
        q_tot = np.bincount(group, weights=np.where(R.active, qty, 0), minlength=int(group.max(initial=0)) + 1)
        a_tot = np.bincount(group, weights=np.where(R.active, amt, 0), minlength=int(group.max(initial=0)) + 1)
        q_share = np.where(q_tot[group] > 0, qty / np.where(q_tot[group] > 0, q_tot[group], 1), 0.0)
        a_share = np.where(a_tot[group] > 0, amt / np.where(a_tot[group] > 0, a_tot[group], 1), 0.0)
        share = np.round((q_share + a_share) / 2, 12)
        _, ahead, of = pct_rank(-share, group, R.active)
        frac = ahead / np.maximum(of, 1)
        scale = np.where(frac < bc.large_share, 0, np.where(frac < bc.large_share + bc.medium_share, 1, 2))
        scale = np.where((qty > 0) | (amt > 0), scale, 2)

        mkey = S.month_key(month)
        detail = {
            "first": first, "window": window, "raw": raw, "capped_pos": capped_pos, "prev_pos": prev_pos.copy(),
            "history": history, "scale": scale, "q_share": q_share, "a_share": a_share, "ahead": ahead, "of": of,
        }
        if composite_mode:
            detail.update(
                amount=amount, before=before, peers=peers, below=below, contribution=contribution, n_v=n_v, n_l=n_l,
                integrity=integrity, parts=parts, own=own, growth=growth, has_base=has_base,
                development=development, composite=composite,
            )
        else:
            detail["volume"] = volume
        details[mkey] = detail
        cls = class_names[capped_pos[act]]
        shared[mkey] = dict(zip(rids, cls.tolist()))
        current = month == S.month_of(ctx.as_of)
        if current and deferred():  # its files written by whoever takes the shipped columns
            ctx.shared[CURRENT] = _shipped(R, detail, act, groups, cls, mkey, rule.mode, window,
                                           {k: r4(v) for k, v in weights.items()} if composite_mode else {})
        else:
            out.update(_files(R, pc, detail, act, groups, cls, mkey, rule.mode, window,
                              {k: r4(v) for k, v in weights.items()} if composite_mode else {}, current))
        had_history = np.where(R.active, history, had_history)
        prev_pos = np.where(R.active, capped_pos, prev_pos)
    ctx.shared["classes"] = shared
    ctx.shared["class_index"] = (class_idx, m_first)
    ctx.shared["class_detail"] = details
    return out


def _files(R, pc, detail: dict, act: np.ndarray, groups: list, cls: np.ndarray, mkey: str, mode: str, window,
           weights: dict, current: bool) -> dict:
    """The classes files of one month: per department its published list and,
    for the current month, each retailer's derivation (as texts under
    ``retail.as_texts`` unless one is a text only PyYAML may write)."""
    return period_files(
        groups, cls, current, lambda as_text: _derive(R, pc, detail, act, as_text=as_text),
        lambda dep, listed, derivations: fast_model(ClassesFile, {
            "month": mkey, "department": dep, "rule": mode, "window": window, "weights": dict(weights),
            "classes": listed, "retailers": derivations,
        }),
        lambda dep: f"{mkey}/classes/{dep}.yaml",
    )


# ---------------------------------------------------------------- the current month's files elsewhere
# recalc's side worker (``retail.deferring()``) leaves the current month's
# classes files — each active retailer's derivation written out, ~0.2 s at city
# scale — to the process that takes its first part, which has the archives too
# and would only wait for the worker meanwhile: ``ctx.shared[CURRENT]`` holds
# what they are written from (the month's columns of the active retailers), and
# :func:`current_files` writes them, the bytes the worker would have written.

CURRENT = "classes_current"


def _shipped(R, detail: dict, act: np.ndarray, groups: list, cls: np.ndarray, mkey: str, mode: str, window,
             weights: dict) -> dict:
    """What :func:`current_files` needs: plain values and the active retailers' rows of the month's arrays."""
    rows = {k: (v[act] if isinstance(v, np.ndarray) and v.shape[:1] == (R.n,) else v) for k, v in detail.items()}
    return {
        "ids": [R.ids[i] for i in act.tolist()], "detail": rows, "cls": cls, "mkey": mkey, "mode": mode,
        "window": (window.start, window.end), "weights": weights,
        "groups": [(dep, places, dep_rids) for dep, places, dep_rids in groups],
    }


def current_files(repo, shipped: dict) -> dict[str, str]:
    """The current month's classes files (path → text) from what the side worker
    shipped (:func:`_shipped`) and ``repo`` (its policy and archives)."""
    policy = repo.policy
    ids = shipped["ids"]
    R = Archives(ids, [repo.retailers[rid] for rid in ids])
    act = np.arange(len(ids))
    window = Window(start=shipped["window"][0], end=shipped["window"][1])
    from .retail import as_texts

    from ..recalc import render_record

    with as_texts():
        files = _files(R, policy.classes, shipped["detail"], act, shipped["groups"], shipped["cls"], shipped["mkey"],
                       shipped["mode"], window, shipped["weights"], True)
    return {path: value if isinstance(value, str) else render_record(value) for path, value in files.items()}


def derivations(ctx, mkey: str, idx: np.ndarray, detail: dict | None = None, as_text: bool = False) -> dict:
    """The full derivation (:class:`ClassDerivation`) of the retailers at
    positions ``idx`` for the evaluation of month ``mkey`` (from
    ``ctx.shared["class_detail"]``); ``as_text``: its lines in a classes file,
    as the record is written."""
    detail = detail if detail is not None else ctx.shared["class_detail"][mkey]
    return _derive(retail(ctx), ctx.policy.classes, detail, np.asarray(idx, np.int64), as_text)


def _derive(R, pc, detail: dict, idx: np.ndarray, as_text: bool) -> dict:
    """:func:`derivations` of the retailers at positions ``idx`` of ``R``
    (anything with ``ids`` and ``records`` lists) and of ``detail``'s arrays."""
    ids = pc.ids()
    composite_mode = "composite" in detail
    first = detail["first"]
    L = lambda name, nd=2: _rounded(detail[name][idx], nd)  # noqa: E731 - column → rounded Python list
    T = lambda name: detail[name][idx].tolist()  # noqa: E731
    key_classes = set(pc.key_classes)
    cols = {
        "raw": T("raw"), "cap": T("capped_pos"), "prev": T("prev_pos"), "history": T("history"),
        "scale": T("scale"), "q_share": L("q_share", 4), "a_share": L("a_share", 4), "ahead": T("ahead"), "of": T("of"),
    }
    if composite_mode:
        parts = detail["parts"][idx]
        cols.update(
            amount=L("amount"), before=L("before"), peers=T("peers"), below=T("below"), contribution=L("contribution"),
            n_v=T("n_v"), n_l=T("n_l"), integrity=L("integrity"), own=L("own"), growth=L("growth", 4),
            has_base=T("has_base"), development=L("development"), composite=L("composite"),
            p0=_rounded(parts[:, 0], 2), p1=_rounded(parts[:, 1], 2), p2=_rounded(parts[:, 2], 2), p3=_rounded(parts[:, 3], 2),
        )
    else:
        cols["volume"] = L("volume")
    if as_text:
        return _texts(R, ids, key_classes, first, composite_mode, idx, cols)
    out: dict[str, ClassDerivation] = {}
    blank = dict.fromkeys(ClassDerivation.__pydantic_fields__)  # every field in order, empty: filled below
    for j, i in enumerate(idx.tolist()):
        rec = R.records[i]
        mg = rec.management
        cid = ids[cols["cap"][j]] if cols["cap"][j] >= 0 else ids[-1]
        item = blank.copy()
        item["name"] = rec.basic.shop_name
        item["manager"] = mg.manager_on(first) if mg.manager_history else mg.manager
        item["history"] = cols["history"][j]
        if composite_mode:
            item.update({
                "amount": cols["amount"][j], "amount_before": cols["before"][j], "peers": cols["peers"][j],
                "peers_below": cols["below"][j], "contribution": cols["contribution"][j],
                "violations": cols["n_v"][j], "late_payments": cols["n_l"][j], "integrity": cols["integrity"][j],
                "own_parts": fast_model(OwnParts, {
                    "floor_area": cols["p0"][j], "format": cols["p1"][j], "location": cols["p2"][j], "image": cols["p3"][j],
                }),
                "own": cols["own"][j], "development": cols["development"][j], "composite": cols["composite"][j],
            })
            if cols["has_base"][j]:
                item["growth"] = cols["growth"][j]
        else:
            item["volume"] = cols["volume"][j]
        item.update({
            "raw_class": ids[cols["raw"][j]], "capped": cols["cap"][j] != cols["raw"][j],
            "class_": cid, "key": cid in key_classes,
            "base": fast_model(BaseClassResult, {
                "market": MARKET_ZH[rec.basic.network], "format": FORMAT_ZH[rec.basic.format],
                "scale": SCALE_ZH[cols["scale"][j]], "quantity_share": cols["q_share"][j],
                "amount_share": cols["a_share"][j], "ahead": cols["ahead"][j], "of": cols["of"][j],
            }),
        })
        if cols["prev"][j] >= 0:
            item["previous_class"] = ids[cols["prev"][j]]
        out[R.ids[i]] = fast_model(ClassDerivation, item)
    return out


def _texts(R, ids: list[str], key_classes: set, first: dt.date, composite_mode: bool, idx: np.ndarray,
           cols: dict) -> dict[str, str]:
    """:func:`derivations` as the lines a classes file holds for each
    retailer (the record's fields in order; None left out; own parts and base
    classification one-line rows), column by column."""
    fts, sts, rt = yamlwrite.float_texts, yamlwrite.str_texts, yamlwrite.row_str_text
    tf = ("false", "true")
    at = idx.tolist()
    rids = [R.ids[i] for i in at]
    recs = [R.records[i] for i in at]
    managers = [r.management.manager_on(first) if r.management.manager_history else r.management.manager for r in recs]
    manager_line = {m: f"    manager: {yamlwrite.str_text(m)}\n" for m in set(managers) if m is not None}
    manager_line[None] = ""
    head = [
        f"  {rid}:\n    name: {name}\n{manager_line[m]}    history: {tf[h]}\n"
        for rid, name, m, h in zip(sts(rids), sts([r.basic.shop_name for r in recs]), managers, cols["history"])
    ]
    if composite_mode:
        F = {name: fts(cols[name]) for name in (
            "amount", "before", "contribution", "integrity", "own", "growth", "development", "composite", "p0", "p1", "p2", "p3")}
        values = [
            f"    amount: {a}\n    amount_before: {b}\n    peers: {pe}\n    peers_below: {be}\n    contribution: {c}\n"
            f"    violations: {v}\n    late_payments: {la}\n    integrity: {i}\n"
            f"    own_parts: {{floor_area: {p0}, format: {p1}, location: {p2}, image: {p3}}}\n    own: {o}\n"
            + (f"    growth: {g}\n" if hb else "") + f"    development: {d}\n    composite: {co}\n"
            for a, b, pe, be, c, v, la, i, p0, p1, p2, p3, o, g, hb, d, co in zip(
                F["amount"], F["before"], cols["peers"], cols["below"], F["contribution"], cols["n_v"], cols["n_l"],
                F["integrity"], F["p0"], F["p1"], F["p2"], F["p3"], F["own"], F["growth"], cols["has_base"],
                F["development"], F["composite"],
            )
        ]
    else:
        values = [f"    volume: {v}\n" for v in fts(cols["volume"])]
    id_text = sts(ids)
    market = {k: rt(v) for k, v in MARKET_ZH.items()}
    fmt = {k: rt(v) for k, v in FORMAT_ZH.items()}
    scale = [rt(v) for v in SCALE_ZH]
    out: dict[str, str] = {}
    for rid, rec, h, val, raw, cap, prev, sc, qs, as_, ahead, of in zip(
        rids, recs, head, values, cols["raw"], cols["cap"], cols["prev"], cols["scale"], fts(cols["q_share"]),
        fts(cols["a_share"]), cols["ahead"], cols["of"],
    ):
        cid = cap if cap >= 0 else len(ids) - 1
        out[rid] = "".join((
            h, val, f"    raw_class: {id_text[raw]}\n",
            f"    previous_class: {id_text[prev]}\n" if prev >= 0 else "",
            f"    capped: {tf[cap != raw]}\n    class: {id_text[cid]}\n    key: {tf[ids[cid] in key_classes]}\n"
            f"    base: {{market: {market[rec.basic.network]}, format: {fmt[rec.basic.format]}, scale: {scale[sc]}, "
            f"quantity_share: {qs}, amount_share: {as_}, ahead: {ahead}, of: {of}}}\n",
        ))
    return out

def _rounded(arr: np.ndarray, nd: int) -> list:
    """Rounded Python floats (no negative zero) for byte-stable output."""
    return (np.round(arr.astype(float), nd) + 0.0).tolist()


def explain_retailer(computed, retailer: str, period=None) -> list[str]:
    """Hook for ``crmdocs explain retailer``: the retailer-side derivation
    (class, base class, tier, limits, abnormal orders) as lines."""
    from ..diagnostics import CrmdocsError
    from .explain_retailer import explain_retailer as text

    try:
        return text(computed, retailer, period).rstrip("\n").splitlines()
    except CrmdocsError as exc:  # e.g. a month without sales: say so, let the rest print
        return [str(exc)]
