"""Abnormal orders (异常订单). Orders on Tuesdays from 2026-08-04; the order
checked is on Tuesday 2026-10-20 (ISO week 2026-W43, Monday 10-19), whose
limits stand on the 8 weeks 2026-08-24 … 10-18. Limit factors 0.5 / 1.5
for every class, so the numbers do not depend on the class."""

from __future__ import annotations

import datetime as dt

from retail_fixtures import repo, retailer, run, weekly

START = dt.date(2026, 8, 4)
DAY = dt.date(2026, 10, 20)
AS_OF = dt.date(2026, 10, 21)
UNIFORM = {"limits": {"factors": {c: {"lower": 0.5, "upper": 1.5} for c in "abcde"}}}


def found(c, day=DAY, rid=None):
    """(rule, brand, quantity, limit/mean/previous, ratio) of the abnormal orders on ``day``."""
    out = []
    for path, f in c.records.items():
        if "/abnormal/" not in path:
            continue
        for week, items in f.weeks.items():
            for it in items:
                if it.date == day and (rid is None or it.retailer == rid):
                    out.append((it.rule, it.brand, it.quantity, it.limit or it.mean or it.previous, it.ratio))
    return sorted(out, key=lambda x: (x[0], x[1] or ""))


def steady(rid: str, quantity: int, last: int, weeks: int = 11) -> list[tuple]:
    """``weeks`` weekly orders of ``quantity`` from START, then ``last`` on DAY."""
    return weekly(rid, "b-1", START, weeks, quantity) + [(DAY, rid, "b-1", last, last * 100.0)]


def check(sales, policy=UNIFORM, retailers=None, as_of=AS_OF):
    rs = retailers or [retailer(r) for r in sorted({s[1] for s in sales})]
    return run(repo(rs, sales, policy=policy), as_of)


def test_above_the_upper_limit_but_exactly_twice_the_mean_is_no_spike():
    c = check(steady("r-1", 100, 200))
    # turnover 8 × 100 / 8 = 100 → upper ⌈100 × 1.5⌉ = 150 for the total and for b-1 (the only main brand)
    # spike: 200 is not above 2 × mean(100, 100, 100) = 200 → exactly on the line, not flagged
    assert found(c) == [("above_upper", None, 200, 150, None), ("above_upper", "b-1", 200, 150, None)]


def test_a_spike_above_twice_the_last_three_cycles():
    c = check(steady("r-1", 100, 201))
    # 201 > 2 × 100 → spike, ratio 201 / 100 = 2.01
    assert ("spike", None, 201, 100.0, 2.01) in found(c)


def test_spike_ratio_is_policy():
    policy = {**UNIFORM, "abnormal": {"spike": {"ratio": 1.5}}}
    c = check(steady("r-1", 100, 149), policy=policy)
    # 149 > 1.5 × 100 = 150? no; 151 would be
    assert [x[0] for x in found(c)] == []
    c = check(steady("r-1", 100, 151), policy=policy)
    assert ("spike", None, 151, 100.0, 1.51) in found(c)


def test_below_the_lower_limit():
    c = check(steady("r-1", 100, 40))
    # lower ⌊100 × 0.5⌋ = 50
    assert found(c) == [("below_lower", None, 40, 50, None), ("below_lower", "b-1", 40, 50, None)]
    policy = {"limits": {**UNIFORM["limits"], "lower_limits": False}}
    assert found(check(steady("r-1", 100, 40), policy=policy)) == []


def test_small_orders_are_exempt_from_the_spike_rule():
    c = check(steady("r-2", 5, 15))
    # 15 > 2 × 5 but 15 < 20 cartons: no spike; still above the upper limit ⌈5 × 1.5⌉ = 8
    assert [x[0] for x in found(c)] == ["above_upper", "above_upper"]


def test_retailers_with_fewer_than_three_cycles_are_exempt():
    sales = weekly("r-3", "b-1", dt.date(2026, 10, 6), 2, 10) + [(DAY, "r-3", "b-1", 50, 5000.0)]
    c = check(sales)
    # only 2 earlier orders (10-06, 10-13): no spike although 50 > 2 × 10
    assert "spike" not in [x[0] for x in found(c)]
    policy = {**UNIFORM, "abnormal": {"spike": {"min_history": 2}}}
    # with min_history 2 the mean is over the 2 there are: 50 / 10 = 5 times
    assert ("spike", None, 50, 10.0, 5.0) in found(check(sales, policy=policy))


def test_month_jump_fires_once_on_the_order_that_crosses_twice_last_month():
    sales = [
        (dt.date(2026, 9, 15), "r-4", "b-1", 100, 10000.0),  # September: 100
        (dt.date(2026, 10, 6), "r-4", "b-1", 100, 10000.0),
        (dt.date(2026, 10, 13), "r-4", "b-1", 100, 10000.0),  # running 200 = 2 × 100: not above
        (DAY, "r-4", "b-1", 1, 100.0),  # running 201 > 200
    ]
    policy = {**UNIFORM, "abnormal": {"outside_limits": {"enabled": False}, "spike": {"enabled": False}}}
    c = check(sales, policy=policy)
    assert found(c) == [("month_jump", None, 201, 100, 2.01)]
    assert found(c, dt.date(2026, 10, 13)) == []


def test_each_rule_can_be_switched_off():
    off = {"enabled": False}
    policy = {**UNIFORM, "abnormal": {"outside_limits": off, "spike": off, "month_jump": off}}
    c = check(steady("r-1", 100, 500), policy=policy)
    assert [p for p in c.records if "/abnormal/" in p] == []


def test_orders_go_to_the_manager_in_charge_on_the_day_grouped_by_iso_week():
    # r-5 was cm-li's until 2026-10-15, cm-wang's from then on
    r5 = retailer("r-5", manager="cm-wang", manager_history=[{"manager": "cm-li", "until": "2026-10-15"}])
    sales = weekly("r-5", "b-1", START, 10, 100) + [
        (dt.date(2026, 10, 13), "r-5", "b-1", 400, 40000.0),
        (DAY, "r-5", "b-1", 400, 40000.0),
    ]
    c = check(sales, retailers=[r5])
    li, wang = c.records["2026-10/abnormal/cm-li.yaml"], c.records["2026-10/abnormal/cm-wang.yaml"]
    assert {it.date for items in li.weeks.values() for it in items} == {dt.date(2026, 10, 13)}
    assert list(wang.weeks) == ["2026-W43"]
    assert {it.date for it in wang.weeks["2026-W43"]} == {DAY}
    assert wang.count == len(wang.weeks["2026-W43"])
    item = wang.weeks["2026-W43"][0]
    assert "超过上限" in item.message and str(item.limit) in item.message


def test_limits_in_force_are_those_of_the_orders_week():
    # the same 300-carton order is fine after weeks of 300 and abnormal after weeks of 100:
    # each week's limits come from the 8 weeks before that week's Monday
    c = check(weekly("r-1", "b-1", START, 11, 300) + [(DAY, "r-1", "b-1", 300, 30000.0)])
    assert found(c) == []
    c = check(steady("r-1", 100, 300))
    assert ("above_upper", None, 300, 150, None) in found(c)


def test_rows_of_one_brand_on_one_day_are_one_line_and_two_days_two_orders():
    # two rows of b-1 on DAY (60 + 60 = 120) are one line and one order; a second order on
    # Thursday 10-22 of 70 is checked on its own — same week, same limits (upper 150)
    sales = weekly("r-1", "b-1", START, 11, 100) + [
        (DAY, "r-1", "b-1", 60, 6000.0), (DAY, "r-1", "b-1", 60, 6000.0),
        (dt.date(2026, 10, 22), "r-1", "b-1", 160, 16000.0),
    ]
    c = check(sales, as_of=dt.date(2026, 10, 22))
    assert found(c) == []  # 120 is within 50 … 150 for the order and for b-1
    assert found(c, dt.date(2026, 10, 22)) == [
        ("above_upper", None, 160, 150, None), ("above_upper", "b-1", 160, 150, None),
    ]


def test_orders_of_the_first_weeks_of_the_data_are_not_checked_against_limits():
    # the data starts 2026-08-04; limits stand on the 8 weeks before a week, so
    # up to week 8 of the data every retailer would look new (class default
    # turnover) — 500 cartons in the third week is no "above the upper limit"
    early = dt.date(2026, 8, 18)
    sales = weekly("r-1", "b-1", START, 2, 100) + [(early, "r-1", "b-1", 500, 50000.0)]
    assert [x[0] for x in found(check(sales), day=early) if x[0] in ("above_upper", "below_lower")] == []
    # the same order after eight weeks of data is checked: turnover 100 → upper 150
    assert ("above_upper", None, 200, 150, None) in found(check(steady("r-1", 100, 200)))


def test_lines_are_the_same_whether_the_sales_rows_come_sorted_or_not():
    # one line of b-1 split over two rows (60 + 100 = 160 > 150), once in date order
    # (neighbours) and once shuffled with another retailer's rows between them
    rows = weekly("r-1", "b-1", START, 11, 100) + weekly("r-2", "b-1", START, 11, 100) + [
        (DAY, "r-1", "b-1", 60, 6000.0), (DAY, "r-2", "b-1", 100, 10000.0), (DAY, "r-1", "b-1", 100, 10000.0),
    ]
    expected = [("above_upper", None, 160, 150, None), ("above_upper", "b-1", 160, 150, None)]
    assert found(check(sorted(rows)), rid="r-1") == expected
    assert found(check(rows[::-1]), rid="r-1") == expected
    assert found(check(rows[::-1]), rid="r-2") == []


def test_sales_of_a_retailer_without_an_archive_change_no_other_result():
    sales = steady("r-1", 10, 40) + steady("r-2", 10, 10)
    stray = [(START + dt.timedelta(days=3 * k), "r-stray", "b-1", 25, 2500.0) for k in range(20)]
    archives = [retailer("r-1"), retailer("r-2")]
    a, b = check(sales, retailers=archives), check(sales + stray, retailers=archives)
    # r-1's 40 cartons cross ⌈10 × 1.5⌉ = 15 (total and brand) and 2 × the mean 10
    assert found(a) == found(b) == [("above_upper", None, 40, 15, None), ("above_upper", "b-1", 40, 15, None),
                                    ("spike", None, 40, 10.0, 4.0)]
    assert {p: r.model_dump() for p, r in a.records.items()} == {p: r.model_dump() for p, r in b.records.items()}


def test_an_order_of_zero_cartons_is_still_an_ordering_cycle():
    sales = weekly("r-1", "b-1", START, 10, 10) + [(DAY - dt.timedelta(days=7), "r-1", "b-1", 0, 0.0),
                                                   (DAY, "r-1", "b-1", 40, 4000.0)]
    spikes = [f for f in found(check(sales)) if f[0] == "spike"]
    # the 3 cycles before: 10, 10, 0 → mean 6.67, 40 is 6 × that
    assert spikes == [("spike", None, 40, 6.67, 6.0)]


def messages(c, day=DAY):
    return {(it.rule, it.brand): it.message for path, f in c.records.items() if "/abnormal/" in path
            for items in f.weeks.values() for it in items if it.date == day}


def test_a_brand_limit_note_says_how_its_limit_was_made_as_the_total_does():
    # the brand's note said only "b-1 订购 200 条，超过该品牌上限 150 条（周转数 100）": no factors, no rounding
    m = messages(check(steady("r-1", 100, 200)))
    assert "超过上限 150 条（周转数 100 × 上限系数 1.5 × 调整系数 1，向上取整）" in m["above_upper", None]
    assert m["above_upper", "b-1"].startswith(
        "品牌 b-1 订购 200 条，超过该品牌上限 150 条（该品牌周转数 100 × 上限系数 1.5 × 调整系数 1，向上取整）")
    m = messages(check(steady("r-1", 100, 40)))
    assert m["below_lower", "b-1"].startswith(
        "品牌 b-1 订购 40 条，低于该品牌下限 50 条（该品牌周转数 100 × 下限系数 0.5，向下取整）")
