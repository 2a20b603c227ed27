"""Rule module ``tiers``: supply tiers (货源档位), published per period.

Periods: months (or quarters, ``tiers.period``) from the first with sales
to the one containing ``as_of``.

**Locked.** A period's tiers stand only on the purchases of the
``tiers.weeks`` × 7 days *before the period starts* (and the archive's floor
area), so once a period has begun its tiers are final: sales that arrive
later — the period's own orders — never change them; recalculation gives
the same list (公示 = published on the period's first day). A change by hand
is a separate, reviewed record ``records/tier-overrides/<period>/<retailer>.yaml``
(tier, reason, approver = the department's market manager, date); the
computed tier stays visible beside it.

Score (active retailers that bought before the period, ranked within their
county unit): percentile ranks (100 × peers strictly lower ÷ (peers − 1)) of
purchase quantity, purchase amount and business capability (floor area),
score = Σ weight × rank (policy ``tiers.weights``), 2 decimals.

* ranking: score_rank = percentile rank of the score; tier =
  min(count, 1 + floor(score_rank × count ÷ 100));
* bands: the tier of the band with the highest ``min`` ≤ score, else 1.

A new retailer (never bought before the period) starts at the tier of
``tiers.new_retailer``: same network, the highest ``min_area`` ≤ its floor
area (1 when none fits).

Files: ``<period>/tiers/<department>.yaml`` (:class:`TiersFile`);
``ctx.shared["tiers"]`` = period → retailer → tier in force.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from crmdocs.schemas.computed_retailers import TierDerivation, TierOverrideRef, TiersFile, Window

from .. import sales as S
from .. import yamlwrite
from ..kinds import path_for
from .retail import Archives, deferred, fast_model, pct_rank, period_files, retail, without_gc

NAME = "tiers"


def periods(ctx) -> list[tuple[str, dt.date, dt.date]]:
    """(key, first day, day after) of every period to publish."""
    R = retail(ctx)
    last = S.month_of(ctx.as_of)
    first = S.month_of(R.day0) if R.day0 is not None else last
    out = []
    quarterly = ctx.policy.tiers.period == "quarter"
    seen = set()
    for m in range(min(first, last), last + 1):
        if quarterly:
            q0 = m - m % 3
            key = f"{q0 // 12:04d}-Q{(q0 % 12) // 3 + 1}"
            start, end = S.month_first(q0), S.month_first(q0 + 3)
        else:
            key, start, end = S.month_key(m), S.month_first(m), S.month_first(m + 1)
        if key not in seen:
            seen.add(key)
            out.append((key, start, end))
    return out


def new_retailer_tier(policy, network: str, area: float) -> int:
    best = None
    for entry in policy.tiers.new_retailer:
        if entry.network == network and area >= entry.min_area and (best is None or entry.min_area > best.min_area):
            best = entry
    return best.tier if best is not None else 1


def new_retailer_tiers(policy, records: list) -> np.ndarray:
    """:func:`new_retailer_tier` of every archive (the policy's entries tried
    once each over all archives, in their order, as that loop does)."""
    areas = np.array([float(r.basic.floor_area) for r in records])
    networks = np.array([r.basic.network.value for r in records], dtype=object)
    out = np.ones(len(records), np.int64)
    best = np.full(len(records), -np.inf)
    found = np.zeros(len(records), bool)
    for entry in policy.tiers.new_retailer:
        take = (networks == entry.network) & (areas >= entry.min_area) & (~found | (entry.min_area > best))
        out[take] = entry.tier
        best[take] = entry.min_area
        found |= take
    return out


def band_tier(policy, score: np.ndarray) -> np.ndarray:
    bands = sorted(policy.tiers.bands, key=lambda b: b.min)
    out = np.ones(len(score), np.int64)
    for b in bands:  # ascending: the highest reached min wins
        out = np.where(score >= b.min, b.tier, out)
    return out


@without_gc
def compute(ctx) -> dict:
    R = retail(ctx)
    pt = ctx.policy.tiers
    w = pt.weights
    out: dict = {}
    shared: dict[str, dict[str, int]] = {}
    details: dict[str, dict] = {}
    area = np.array([float(r.basic.floor_area) for r in R.records])
    new_tier = new_retailer_tiers(ctx.policy, R.records)
    at = {rid: i for i, rid in enumerate(R.ids)}
    current_key = None
    for key, start, end in periods(ctx):
        if start <= ctx.as_of < end:
            current_key = key
    for key, start, _end in periods(ctx):
        wstart = start - dt.timedelta(days=7 * pt.weeks)
        qty = R.window("quantity", wstart, start)
        amt = R.window("amount", wstart, start)
        new = R.active & ~R.bought_before(start)
        ranked = R.active & ~new
        q_rank, _, _ = pct_rank(qty, R.county, ranked)
        a_rank, _, _ = pct_rank(amt, R.county, ranked)
        q_rank = np.where(qty > 0, q_rank, 0.0)  # nothing bought in the window ranks 0, even alone
        a_rank = np.where(amt > 0, a_rank, 0.0)
        c_rank, _, _ = pct_rank(area, R.county, ranked)
        score = np.round(w.quantity * q_rank + w.amount * a_rank + w.capability * c_rank, 2)
        if pt.mode == "ranking":
            s_rank, _, _ = pct_rank(score, R.county, ranked)
            tier = np.minimum(pt.count, 1 + np.floor(s_rank * pt.count / 100 + 1e-9)).astype(np.int64)
        else:
            s_rank = None
            tier = band_tier(ctx.policy, score)
        computed = np.where(new, new_tier, tier)
        final = computed.copy()
        for (period, rid), o in ctx.repo.tier_overrides.items():
            if period == key and rid in at and R.active[at[rid]]:
                final[at[rid]] = o.tier
        detail = {
            "start": start, "window": Window(start=wstart, end=start - dt.timedelta(days=1)), "new": new,
            "qty": qty, "amt": amt, "area": area, "q_rank": q_rank, "a_rank": a_rank, "c_rank": c_rank,
            "score": score, "s_rank": s_rank, "computed": computed, "final": final,
        }
        details[key] = detail
        act, rids, groups = R.active_groups()
        final_act = final[act]
        shared[key] = dict(zip(rids, final_act.tolist()))
        current = key == current_key
        if current and deferred():  # its files written by whoever takes the shipped columns
            ctx.shared[CURRENT] = {
                "ids": [R.ids[i] for i in act.tolist()], "key": key, "final": final_act, "groups": groups,
                "detail": {k: (v[act] if isinstance(v, np.ndarray) and v.shape[:1] == (R.n,) else v) for k, v in detail.items()},
            }
        else:
            out.update(_files(R, pt, ctx.repo, key, detail, act, groups, final_act, current))
    ctx.shared["tiers"] = shared
    ctx.shared["tier_detail"] = details
    return out


def _files(R, pt, repo, key: str, detail: dict, act: np.ndarray, groups: list, final_act: np.ndarray,
           current: bool) -> dict:
    """The tiers files of one period: per department its published list and,
    for the current period, each retailer's derivation (as texts under
    ``retail.as_texts`` unless one is a text only PyYAML may write)."""
    w = pt.weights
    return period_files(
        groups, final_act, current, lambda as_text: _derive(R, pt, repo, key, detail, act, as_text=as_text),
        lambda dep, listed, derivations: fast_model(TiersFile, {
            "period": key, "department": dep, "mode": pt.mode, "count": pt.count, "window": detail["window"],
            "weights": {"quantity": w.quantity, "amount": w.amount, "capability": w.capability},
            "tiers": listed, "retailers": derivations,
        }),
        lambda dep: f"{key}/tiers/{dep}.yaml",
    )


# the current period's files elsewhere: as classes.CURRENT (see there)
CURRENT = "tiers_current"


def current_files(repo, shipped: dict) -> dict[str, str]:
    """The current period's tiers files (path → text) from what the side worker
    shipped and ``repo`` (its policy, archives, tier overrides and their sources)."""
    policy = repo.policy
    from ..recalc import render_record
    from .retail import as_texts

    ids = shipped["ids"]
    R = Archives(ids, [repo.retailers[rid] for rid in ids])
    with as_texts():
        files = _files(R, policy.tiers, repo, shipped["key"], shipped["detail"], np.arange(len(ids)), shipped["groups"],
                       shipped["final"], True)
    return {path: value if isinstance(value, str) else render_record(value) for path, value in files.items()}


def derivations(ctx, key: str, idx: np.ndarray, detail: dict | None = None, as_text: bool = False) -> dict:
    """The tier derivation (:class:`TierDerivation`) of the retailers at
    positions ``idx`` for period ``key``; ``as_text``: its lines in a tiers
    file, as the record is written."""
    detail = detail if detail is not None else ctx.shared["tier_detail"][key]
    return _derive(retail(ctx), ctx.policy.tiers, ctx.repo, key, detail, np.asarray(idx, np.int64), as_text)


def _derive(R, pt, repo, key: str, detail: dict, idx: np.ndarray, as_text: bool) -> dict:
    """:func:`derivations` of the retailers at positions ``idx`` of ``R``
    (anything with ``ids`` and ``records`` lists) and of ``detail``'s arrays;
    ``repo``: the tier overrides and where they were read from."""
    rd = lambda name: (np.round(detail[name][idx].astype(float), 2) + 0.0).tolist()  # noqa: E731
    s_rank = rd("s_rank") if detail["s_rank"] is not None else [None] * len(idx)
    cols = zip(
        idx.tolist(), detail["new"][idx].tolist(), detail["qty"][idx].astype(np.int64).tolist(), rd("amt"), rd("area"),
        rd("q_rank"), rd("a_rank"), rd("c_rank"), rd("score"), s_rank, detail["computed"][idx].tolist(),
        detail["final"][idx].tolist(),
    )
    out: dict = {}
    if as_text:
        texts = _texts(R, pt.mode, idx, detail, s_rank, {rid for period, rid in repo.tier_overrides if period == key})
        cols = ((i, *rest) for i, *rest in cols if R.ids[i] not in texts)  # those with an override: below
    for i, is_new, q, a, ar, qr, amr, cr, sc, sr, computed, final in cols:
        rec = R.records[i]
        rid = R.ids[i]
        override = repo.tier_overrides.get((key, rid))
        if is_new:
            fields = {
                "name": rec.basic.shop_name, "basis": "new_retailer", "network": rec.basic.network.value,
                "floor_area": ar, "computed_tier": computed,
            }
        else:
            fields = {
                "name": rec.basic.shop_name, "basis": pt.mode, "quantity": q, "amount": a, "capability": ar,
                "quantity_rank": qr, "amount_rank": amr, "capability_rank": cr, "score": sc, "computed_tier": computed,
            }
            if sr is not None:
                fields["score_rank"] = sr
        if override is not None:
            fields["override"] = TierOverrideRef(
                tier=override.tier, reason=override.reason, approver=override.approver, date=override.date,
                source=repo.source("tier_override", (key, rid)) or f"records/{path_for('tier_override', override)}",
            )
        fields["tier"] = final
        out[rid] = fast_model(TierDerivation, fields)
        if as_text:
            texts[rid] = f"  {yamlwrite.str_text(rid)}:\n" + yamlwrite.fields_text(out[rid], "    ")
    return texts if as_text else out


def _texts(R, mode: str, idx: np.ndarray, detail: dict, s_rank: list, overridden: set) -> dict[str, str]:
    """:func:`derivations` as the lines a tiers file holds for each retailer
    (the record's fields in order, None left out), column by column — but
    for the retailers ``overridden`` (their lines are their records')."""
    sts, fts = yamlwrite.str_texts, yamlwrite.float_texts
    rd = lambda name: fts((np.round(detail[name][idx].astype(float), 2) + 0.0).tolist())  # noqa: E731
    at = idx.tolist()
    basis = f"    basis: {sts([mode])[0]}\n"
    out: dict[str, str] = {}
    for i, rid, name, network, is_new, q, a, ar, qr, amr, cr, sc, sr, computed, final in zip(
        at, sts([R.ids[i] for i in at]), sts([R.records[i].basic.shop_name for i in at]),
        sts([R.records[i].basic.network.value for i in at]), detail["new"][idx].tolist(),
        detail["qty"][idx].astype(np.int64).tolist(), rd("amt"), rd("area"), rd("q_rank"), rd("a_rank"), rd("c_rank"),
        rd("score"), fts([x for x in s_rank if x is not None]) if s_rank and s_rank[0] is not None else s_rank,
        detail["computed"][idx].tolist(), detail["final"][idx].tolist(),
    ):
        if R.ids[i] in overridden:
            continue
        if is_new:
            lines = f"    basis: new_retailer\n    network: {network}\n    floor_area: {ar}\n"
        else:
            lines = (f"{basis}    quantity: {q}\n    amount: {a}\n    capability: {ar}\n    quantity_rank: {qr}\n"
                     f"    amount_rank: {amr}\n    capability_rank: {cr}\n    score: {sc}\n"
                     + (f"    score_rank: {sr}\n" if sr is not None else ""))
        out[R.ids[i]] = f"  {rid}:\n    name: {name}\n{lines}    computed_tier: {computed}\n    tier: {final}\n"
    return out
