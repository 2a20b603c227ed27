"""Turnover (周转数) and order limits (上下限). ``as_of`` 2026-10-21 lies in ISO
week 2026-W43 (Monday 2026-10-19); its limits stand on the 8 weeks Monday
2026-08-24 … Sunday 2026-10-18. Orders are on Tuesdays from 2026-08-04."""

from __future__ import annotations

import datetime as dt

from retail_fixtures import repo, retailer, run, weekly

from crmdocs.scripts.rules.limits import limits_for

AS_OF = dt.date(2026, 10, 21)
START = dt.date(2026, 8, 4)  # a Tuesday; 12 weekly orders reach 2026-10-20
CLASSES = ("a", "b", "c", "d", "e")
UNIFORM = {"limits": {"factors": {c: {"lower": 0.5, "upper": 1.5} for c in CLASSES}}}


def three_brands(rid: str) -> list[tuple]:
    return weekly(rid, "b-1", START, 12, 50) + weekly(rid, "b-2", START, 12, 30) + weekly(rid, "b-3", START, 12, 20)


def limits(c, dept="d-east"):
    return c.records[f"2026-10/limits/{dept}.yaml"]


def with_policy(extra: dict) -> dict:
    out = {"limits": {**UNIFORM["limits"], **extra.get("limits", {})}}
    return {**extra, **out}


def test_turnover_main_brands_and_limits_worked_by_hand():
    c = run(repo([retailer("r-1")], three_brands("r-1"), policy=UNIFORM), AS_OF)
    f = limits(c)
    assert (f.week, f.window.start, f.window.end, f.weeks) == ("2026-W43", dt.date(2026, 8, 24), dt.date(2026, 10, 18), 8)
    d = f.retailers["r-1"]
    # 8 orders in the window: b-1 8 × 50 = 400, b-2 240, b-3 160 → turnover 50, 30, 20; total 800 / 8 = 100
    assert (d.total.quantity, d.total.turnover) == (800, 100.0)
    # lower ⌊100 × 0.5⌋ = 50, upper ⌈100 × 1.5 × 1.0⌉ = 150
    assert (d.total.lower, d.total.upper, d.k, d.k_source, d.basis) == (50, 150, 1.0, "default", "history")
    # main brands: fewest covering 80 %: b-1 50 % + b-2 30 % = 80 % → b-3 is not main
    assert sorted(d.brands) == ["b-1", "b-2"]
    assert (d.brands["b-1"].share, d.brands["b-1"].lower, d.brands["b-1"].upper) == (0.5, 25, 75)
    assert (d.brands["b-2"].turnover, d.brands["b-2"].lower, d.brands["b-2"].upper) == (30.0, 15, 45)
    assert limits_for(c.ctx, "r-1", AS_OF)["brands"] == {"b-1": (25, 75), "b-2": (15, 45)}


def test_main_brand_share_comes_from_the_policy():
    c = run(repo([retailer("r-1")], three_brands("r-1"), policy=with_policy({"limits": {"main_brand_share": 0.5}})), AS_OF)
    # b-1 alone covers 50 %
    assert sorted(limits(c).retailers["r-1"].brands) == ["b-1"]


def test_weeks_without_orders_count_zero_and_floor_ceil_are_exact():
    # 7 cartons a week but no order on 2026-09-08: 7 × 7 = 49 in 8 weeks → 6.125 a week
    sales = [s for s in weekly("r-5", "b-1", START, 12, 7) if s[0] != dt.date(2026, 9, 8)]
    c = run(repo([retailer("r-5")], sales, policy=UNIFORM), AS_OF)
    d = limits(c).retailers["r-5"]
    # lower ⌊6.125 × 0.5 = 3.0625⌋ = 3; upper ⌈6.125 × 1.5 = 9.1875⌉ = 10
    assert (d.total.turnover, d.total.lower, d.total.upper) == (6.12, 3, 10)
    # turnover_weeks 4: Sep 22 … Oct 13, no gap → 7 a week, upper ⌈10.5⌉ = 11
    c = run(repo([retailer("r-5")], sales, policy=with_policy({"limits": {"turnover_weeks": 4}})), AS_OF)
    assert (limits(c).retailers["r-5"].total.turnover, limits(c).retailers["r-5"].total.upper) == (7.0, 11)


def test_adjustment_coefficient_with_its_bounds_and_start_day():
    rs = [
        retailer("r-2", adjustment={"coefficient": 1.2, "since": "2026-10-01"}),
        retailer("r-3", adjustment={"coefficient": 3, "since": "2026-10-01"}),
        retailer("r-4", adjustment={"coefficient": 1.2, "since": "2026-11-01"}),
    ]
    sales = three_brands("r-2") + three_brands("r-3") + three_brands("r-4")
    f = limits(run(repo(rs, sales, policy=UNIFORM), AS_OF))
    r2, r3, r4 = (f.retailers[r] for r in ("r-2", "r-3", "r-4"))
    # upper ⌈100 × 1.5 × 1.2⌉ = 180; b-1 ⌈50 × 1.5 × 1.2⌉ = 90; lower limits ignore k
    assert (r2.k, r2.k_source, r2.total.upper, r2.total.lower, r2.brands["b-1"].upper) == (1.2, "adjustment", 180, 50, 90)
    # 3 is above the allowed 0.5–2.0: held at 2 → ⌈100 × 1.5 × 2⌉ = 300
    assert (r3.k, r3.k_requested, r3.k_source, r3.total.upper) == (2.0, 3.0, "adjustment_bounded", 300)
    # not yet in force on Monday 2026-10-19
    assert (r4.k, r4.k_source, r4.total.upper) == (1.0, "default", 150)


def test_bounds_of_the_coefficient_are_policy():
    rs = [retailer("r-3", adjustment={"coefficient": 3, "since": "2026-10-01"})]
    policy = with_policy({"limits": {"coefficient": {"default": 1.0, "min": 0.5, "max": 3.0}}})
    d = limits(run(repo(rs, three_brands("r-3"), policy=policy), AS_OF)).retailers["r-3"]
    assert (d.k, d.k_source, d.total.upper) == (3.0, "adjustment", 450)


def test_no_history_and_zero_turnover_get_the_class_default():
    defaults = {"a": 60, "b": 40, "c": 25, "d": 15, "e": 8}
    rs = [retailer("r-6"), retailer("r-7"), retailer("r-1")]
    sales = three_brands("r-1") + [(dt.date(2026, 8, 4), "r-6", "b-1", 30, 3000.0)]  # r-6: before the window only
    c = run(repo(rs, sales, policy=UNIFORM), AS_OF)
    f = limits(c)
    for rid in ("r-6", "r-7"):
        d = f.retailers[rid]
        t = defaults[d.class_]
        assert (d.basis, d.total.quantity, d.total.turnover, d.brands) == ("class_default", 0, float(t), {})
        assert (d.total.lower, d.total.upper) == (int(t * 0.5), -(-t * 3 // 2))  # ⌊t × 0.5⌋, ⌈t × 1.5⌉
    # the default turnover is policy: every class 8 → r-7's upper ⌈8 × 1.5⌉ = 12
    policy = with_policy({"limits": {"default_turnover": {c: 8 for c in CLASSES}}})
    c = run(repo(rs, sales, policy=policy), AS_OF)
    assert limits(c).retailers["r-7"].total.upper == 12


def test_class_factors_follow_the_retailers_class():
    # default policy: the class decides the factors (A 0.5 / 1.5 … E 0.8 / 1.1)
    c = run(repo([retailer("r-1")], three_brands("r-1")), AS_OF)
    d = limits(c).retailers["r-1"]
    factors = {"a": (0.5, 1.5), "b": (0.6, 1.4), "c": (0.7, 1.3), "d": (0.8, 1.2), "e": (0.8, 1.1)}[d.class_]
    assert d.class_ == c.ctx.class_on("r-1", dt.date(2026, 10, 19))
    assert (d.lower_factor, d.upper_factor) == factors
    assert d.total.upper == -(-round(100 * factors[1] * 100) // 100)  # ⌈100 × upper factor⌉


def test_lower_limits_switched_off():
    c = run(repo([retailer("r-1")], three_brands("r-1"), policy=with_policy({"limits": {"lower_limits": False}})), AS_OF)
    d = limits(c).retailers["r-1"]
    assert (d.total.lower, d.total.upper) == (None, 150)
    assert (d.brands["b-1"].lower, d.brands["b-1"].upper) == (None, 75)
    assert limits(c).lower_limits is False


def test_brand_limits_switched_off_leaves_only_the_total():
    c = run(repo([retailer("r-1")], three_brands("r-1"), policy=with_policy({"limits": {"brand_limits": False}})), AS_OF)
    d = limits(c).retailers["r-1"]
    assert (d.total.lower, d.total.upper) == (50, 150)
    assert all(b.upper is None and b.lower is None for b in d.brands.values())
    assert limits_for(c.ctx, "r-1", AS_OF)["brands"] == {}


def test_weeks_before_the_sales_data_begins_are_not_counted_as_zero():
    # as_of 2026-08-20 is in W34 (Monday 08-17); the data starts in W32: 2 weeks known → 200 / 2 = 100
    c = run(repo([retailer("r-1")], three_brands("r-1")[:0] + weekly("r-1", "b-1", START, 3, 100), policy=UNIFORM),
            dt.date(2026, 8, 20))
    d = c.records["2026-08/limits/d-east.yaml"].retailers["r-1"]
    assert (d.weeks, d.total.quantity, d.total.turnover, d.total.upper) == (2, 200, 100.0, 150)


def test_main_brands_on_the_retailer_grid_are_those_of_the_plain_sort():
    import numpy as np
    from types import SimpleNamespace

    from crmdocs.scripts.rules.limits import _layout, main_brands

    rng = np.random.default_rng(7)
    for trial in range(60):
        n, n_brands = int(rng.integers(1, 12)), int(rng.integers(1, 6))
        pair_r, brand = [], []
        for i in range(-1, n):  # -1: pairs of a retailer without an archive
            for b in sorted(rng.choice(n_brands, size=int(rng.integers(0, n_brands + 1)), replace=False).tolist()):
                pair_r.append(i)
                brand.append(b)
        pair_r, brand = np.array(pair_r, np.int64), np.array(brand, np.int64)
        if trial % 2:  # pairs without an archive in between the others
            order = np.argsort(np.where(pair_r < 0, rng.integers(0, n, len(pair_r)), pair_r), kind="stable")
            pair_r, brand = pair_r[order], brand[order]
        q = rng.integers(0, 4, len(pair_r)).astype(np.int64)  # many ties and zeros
        totals = np.bincount(pair_r[pair_r >= 0], weights=q[pair_r >= 0], minlength=n)
        layout = _layout(SimpleNamespace(n=n, _cache={}), pair_r)
        plain = main_brands(pair_r, brand, q, totals, 0.8)
        assert layout is None or main_brands(pair_r, brand, q, totals, 0.8, layout).tolist() == plain.tolist()


def test_main_brands_with_the_grid_made_already_any_share_and_returns():
    import numpy as np
    from types import SimpleNamespace

    from crmdocs.scripts.rules.limits import _grid, _layout, main_brands

    rng = np.random.default_rng(11)
    for trial in range(80):
        n, n_brands = int(rng.integers(1, 10)), int(rng.integers(1, 24))
        pair_r = np.repeat(np.arange(n), rng.integers(0, n_brands + 1, n))
        brand = np.concatenate([np.arange((pair_r == i).sum()) for i in range(n)] or [np.zeros(0, np.int64)])
        q = rng.integers(-2 if trial % 3 == 0 else 0, 9, len(pair_r)).astype(np.int64)  # returns, ties, zeros
        layout = _layout(SimpleNamespace(n=n, _cache={}), pair_r)
        if layout is None:
            continue
        grid = _grid(layout, q)
        totals = grid.sum(axis=1)
        for share in (0.0, 0.5, 0.8, 1.0):
            plain = main_brands(pair_r, brand, q, totals, share)
            assert main_brands(pair_r, brand, q, totals, share, layout).tolist() == plain.tolist()
            assert main_brands(pair_r, brand, q, totals, share, layout, grid).tolist() == plain.tolist()


def test_the_side_worker_writes_limits_in_the_first_week_of_sales(mini, monkeypatch):
    """``as_of`` in the first sales week (an office's first days, a past ``build --at``, after a gap in
    the sales longer than turnover_weeks): no retailer has a main brand in the weeks before. The worker's limits
    texts failed (IndexError), so every recalc there fell back to computing everything in one process."""
    from crmdocs.scripts import recalc, sidecar

    sides: list = []
    real = sidecar.start
    monkeypatch.setattr(sidecar, "start", lambda *a, **k: sides.append(real(*a, **k)) or sides[-1])
    mini.age()
    as_of = dt.date(2026, 9, 3)  # (the sales start on 2026-09-01: no week before it)
    want = recalc.render(recalc.compute(mini.root, handed_in=None, as_of=as_of, jobs=1))
    got = recalc.render(recalc.compute(mini.root, handed_in=None, as_of=as_of, jobs=2, files_only=True))
    assert got == want and any("/limits/" in rel for rel in got)
    assert len(sides) == 1 and sides[0].why == ""
