"""Retailer value and class (分级分类) and base classification, with numbers
worked by hand in the comments. The October 2026 evaluation stands on the
84 days before 2026-10-01: [2026-07-09, 2026-10-01); the 84 before those,
[2026-04-16, 2026-07-09), are the base of the growth."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import POLICY
from retail_fixtures import repo, retailer, run

from crmdocs.scripts.rules.explain_retailer import explain_retailer

AS_OF = dt.date(2026, 10, 20)


def order(day: str, rid: str, amount: float, qty: int = 10, brand: str = "b-1") -> tuple:
    return (dt.date.fromisoformat(day), rid, brand, qty, amount)


def october(computed, dept: str = "d-east"):
    return computed.records[f"2026-10/classes/{dept}.yaml"]


def hand_worked_office():
    rs = [
        # own = (floor area 50 m² → 70, grocery 50, residential 70, image 1 → 60) / 4 = 62.5
        retailer("r-1", area=50, image=1),
        # own = (30 m² → 50, 50, 70, image 0 → 40) / 4 = 52.5
        retailer("r-2"),
        # own 52.5; integrity 100 − 20 × 1 violation − 10 × 1 late payment = 70
        # (the 2025-09-30 violation is more than 12 months before 2026-10-01)
        retailer(
            "r-3",
            violations=[
                {"date": "2026-03-10", "kind": "price"},
                {"date": "2025-09-30", "kind": "price"},
                {"date": "2026-05-01", "kind": "price", "confirmed": False},
            ],
            late_payments=[{"date": "2026-09-01"}],
        ),
        # another county: ranked on its own
        retailer("r-9", dept="d-far", manager="cm-wang"),
    ]
    sales = [
        order("2026-06-01", "r-1", 1000), order("2026-09-01", "r-1", 1200),  # growth +20 %
        order("2026-06-02", "r-2", 600), order("2026-09-02", "r-2", 660),  # growth +10 %
        order("2026-06-03", "r-3", 500), order("2026-09-03", "r-3", 450),  # growth −10 %
        order("2026-09-04", "r-9", 5000),
    ]
    return rs, sales


def test_four_values_composite_and_class_worked_by_hand():
    rs, sales = hand_worked_office()
    c = run(repo(rs, sales), AS_OF)
    f = october(c)
    r1, r2, r3 = (f.retailers[r] for r in ("r-1", "r-2", "r-3"))
    # contribution: amounts 1200 > 660 > 450 among the 3 active retailers of k-county
    # r-1: 2 below → 100 × 2 / (3 − 1) = 100; r-2: 1 below → 50; r-3: 0 below → 0
    assert (r1.peers, r1.peers_below, r1.contribution) == (3, 2, 100.0)
    assert (r2.contribution, r3.contribution) == (50.0, 0.0)
    assert (r3.violations, r3.late_payments, r3.integrity) == (1, 1, 70.0)
    assert (r1.own, r2.own) == (62.5, 52.5)
    assert r1.own_parts.floor_area == 70.0 and r1.own_parts.image == 60.0
    # development: +20 % → 100; +10 % → 50 + 0.1/0.2 × 50 = 75; −10 % → (−0.1 + 0.2)/0.2 × 50 = 25
    assert (r1.growth, r2.growth, r3.growth) == (0.2, 0.1, -0.1)
    assert (r1.development, r2.development, r3.development) == (100.0, 75.0, 25.0)
    # composite = 0.40 c + 0.25 i + 0.20 o + 0.15 d
    # r-1: 40 + 25 + 12.5 + 15 = 92.5 → A; r-2: 20 + 25 + 10.5 + 11.25 = 66.75 → C
    # r-3: 0 + 17.5 + 10.5 + 3.75 = 31.75 → E
    assert (r1.composite, r2.composite, r3.composite) == (92.5, 66.75, 31.75)
    assert [f.classes[r] for r in ("r-1", "r-2", "r-3")] == ["a", "c", "e"]
    assert r1.key and not r2.key  # class A are key customers
    # the other county's only retailer is alone: rank 100
    assert october(c, "d-far").retailers["r-9"].contribution == 100.0


def test_exactly_on_the_threshold_is_the_higher_class_and_the_policy_moves_it():
    # r-1: contribution 100 (r-2 bought less), integrity 100, own 62.5, no base → development 50
    # 0.4 × 100 + 0.25 × 100 + 0.2 × 62.5 + 0.15 × 50 = 40 + 25 + 12.5 + 7.5 = 85.0 = A's floor
    rs = [retailer("r-1", area=50, image=1), retailer("r-2")]
    sales = [order("2026-09-01", "r-1", 500), order("2026-09-01", "r-2", 100)]
    f = october(run(repo(rs, sales), AS_OF))
    assert f.retailers["r-1"].composite == 85.0
    assert f.retailers["r-1"].class_ == "a"
    ladder = [
        {"id": "a", "name": "A 类", "min": 85.01}, {"id": "b", "name": "B 类", "min": 70},
        {"id": "c", "name": "C 类", "min": 55}, {"id": "d", "name": "D 类", "min": 40}, {"id": "e", "name": "E 类", "min": 0},
    ]
    f = october(run(repo(rs, sales, policy={"classes": {"rule": {"mode": "composite", "classes": ladder}}}), AS_OF))
    assert f.retailers["r-1"].class_ == "b"


def test_a_weight_in_the_policy_changes_the_composite():
    rs = [retailer("r-1", area=50, image=1), retailer("r-2")]
    sales = [order("2026-09-01", "r-1", 500), order("2026-09-01", "r-2", 100)]
    weights = {"contribution": 0.10, "integrity": 0.55, "own": 0.20, "development": 0.15}
    f = october(run(repo(rs, sales, policy={"classes": {"rule": {"mode": "composite", "weights": weights}}}), AS_OF))
    # r-2: 0.1 × 0 + 0.55 × 100 + 0.2 × 52.5 + 0.15 × 50 = 55 + 10.5 + 7.5 = 73 → B (was 43 → D)
    assert f.retailers["r-2"].composite == 73.0
    assert f.classes["r-2"] == "b"
    assert f.weights == weights


def test_no_sales_history_gets_flat_development_and_zero_contribution():
    rs = [retailer("r-1"), retailer("r-2")]
    f = october(run(repo(rs, [order("2026-06-01", "r-2", 0, qty=0)]), AS_OF))
    d = f.retailers["r-1"]
    # 0.4 × 0 + 0.25 × 100 + 0.2 × 52.5 + 0.15 × 50 (flat) = 25 + 10.5 + 7.5 = 43 → D
    assert (d.history, d.amount, d.contribution, d.development, d.composite) == (False, 0.0, 0.0, 50.0, 43.0)
    assert d.growth is None
    assert d.class_ == "d"


def test_weights_that_do_not_sum_to_one_name_the_file_line_and_field(mini):
    mini.write(POLICY, {"classes": {"rule": {"mode": "composite", "weights": {
        "contribution": 0.5, "integrity": 0.25, "own": 0.2, "development": 0.15}}}})
    errors = mini.validate().errors
    assert len(errors) == 1
    d = errors[0]
    assert (d.path, d.line, d.field) == ("records/policy.yaml", mini.line_of(POLICY, "weights:"), "classes.rule.weights")
    # 0.5 + 0.25 + 0.2 + 0.15 = 1.1
    assert "合计应为 1" in d.message and "1.1" in d.message


SEED_001 = {
    "classes": {
        "rule": {
            "mode": "volume_bands",
            "measure": "quantity",
            "classes": [
                {"id": "three-star", "name": "三星", "min": 3000},
                {"id": "two-star", "name": "二星", "min": 2000},
                {"id": "one-star", "name": "一星", "min": 1000},
                {"id": "ordinary", "name": "普通", "min": 0},
            ],
        },
        "key_classes": ["three-star"],
    },
    "limits": {
        "factors": {k: {"lower": 0.8, "upper": 1.2} for k in ("three-star", "two-star", "one-star", "ordinary")},
        "default_turnover": {"three-star": 700, "two-star": 500, "one-star": 250, "ordinary": 50},
    },
    "visits": {"cycle_days": {"three-star": 7, "two-star": 14, "one-star": 14, "ordinary": 30}},
}


def volume_office(policy=SEED_001):
    rs = [retailer(f"r-{i}") for i in range(1, 5)]
    sales = [
        order("2026-08-10", "r-1", 1, qty=999), order("2026-09-10", "r-1", 1, qty=1000),
        order("2026-08-10", "r-2", 1, qty=3000), order("2026-09-10", "r-2", 1, qty=500),
        order("2026-08-10", "r-3", 1, qty=2999), order("2026-09-10", "r-3", 1, qty=2000),
        order("2026-08-10", "r-4", 1, qty=1999), order("2026-08-20", "r-4", 1, qty=1),
    ]
    return run(repo(rs, sales, policy=policy), AS_OF)


def test_seed_001_plain_volume_bands_1000_2000_3000():
    c = volume_office()
    sept, octo = c.ctx.shared["classes"]["2026-09"], c.ctx.shared["classes"]["2026-10"]
    # September from August's quantity: 999 → 普通; 3000 → 三星 (on the line); 2999 → 二星; 1999 + 1 = 2000 → 二星
    assert sept == {"r-1": "ordinary", "r-2": "three-star", "r-3": "two-star", "r-4": "two-star"}
    # October from September's: r-1 1000 → 一星 (exactly on the line)
    assert octo["r-1"] == "one-star"
    d = october(c).retailers["r-1"]
    assert (d.volume, d.raw_class, d.previous_class, d.class_) == (1000.0, "one-star", "ordinary", "one-star")
    assert october(c).rule == "volume_bands"
    assert october(c).retailers["r-2"].composite is None


def test_a_class_moves_at_most_max_step_per_evaluation():
    c = volume_office()
    d = october(c).retailers["r-2"]
    # September 500 → 普通 by volume, but it was 三星 with purchases: one step down → 二星
    assert (d.raw_class, d.previous_class, d.capped, d.class_) == ("ordinary", "three-star", True, "two-star")
    assert not d.key and c.ctx.shared["classes"]["2026-09"]["r-2"] == "three-star"
    # r-4 bought nothing in September: raw 普通, two steps down from 二星 → 一星
    assert october(c).retailers["r-4"].class_ == "one-star"
    policy = {**SEED_001, "classes": {**SEED_001["classes"], "max_step": 3}}
    assert october(volume_office(policy)).retailers["r-2"].class_ == "ordinary"


@pytest.mark.parametrize("step", [1, 2])
def test_the_archive_says_the_policy_s_step_for_a_capped_class(step):
    """The archive's class table said 每次最多升降一级 whatever classes.max_step was."""
    from types import SimpleNamespace

    from crmdocs.plugins.results import retailer_results_html

    c = volume_office({**SEED_001, "classes": {**SEED_001["classes"], "max_step": step}})
    capped = [rid for rid, d in october(c).retailers.items() if d.capped]
    assert capped
    data = SimpleNamespace(
        retailer_results={"d-east": list(c.records.items())}, rules_ran=True, policy=c.ctx.policy,
        class_name=lambda cid: cid, person_name=lambda pid: pid, brand_name=lambda bid: bid,
    )
    text = str(retailer_results_html(data, "retailers/", capped[0]))
    assert f"每次最多升降 {step} 级" in text and "升降一级" not in text


def test_first_evaluation_and_one_without_purchases_do_not_hold_the_next_back():
    c = volume_office()
    # August's evaluation looked at July (no sales at all): every class there stood on nothing,
    # so September may jump straight to 三星
    assert c.ctx.shared["classes"]["2026-08"]["r-2"] == "ordinary"
    assert c.ctx.shared["classes"]["2026-09"]["r-2"] == "three-star"
    # …and the explanation says why the jump was allowed (it said only 上次为 普通 → 本月 三星)
    text = explain_retailer(c, "r-2", "2026-09")
    assert "没有订购，不受每次最多升降 1 级的限制" in text, text
    assert "不受每次最多升降" not in explain_retailer(c, "r-1", "2026-10")  # one step: nothing to say
    # the step is the policy's, not a word in the code (it said 一级 whatever max_step was)
    two = volume_office({**SEED_001, "classes": {**SEED_001["classes"], "max_step": 2}})
    assert "不受每次最多升降 2 级的限制" in explain_retailer(two, "r-2", "2026-09")


def test_base_classification_top_20_percent_large_next_30_medium():
    # ten groceries bought 10, 9, …, 1 cartons (100 yuan each) in the window: shares 10/55 … 1/55
    # ahead 0 and 1 → 0/10, 1/10 < 0.2 → 大; ahead 2, 3, 4 → < 0.5 → 中; the other five → 小
    rs = [retailer(f"r-{i:02d}") for i in range(10)]
    rs += [retailer("r-conv", fmt="convenience", network="rural"), retailer("r-none", fmt="other")]
    sales = [order("2026-09-01", f"r-{i:02d}", (10 - i) * 100, qty=10 - i) for i in range(10)]
    sales.append(order("2026-09-01", "r-conv", 100, qty=1))
    f = october(run(repo(rs, sales), AS_OF))
    scales = [f.retailers[f"r-{i:02d}"].base.scale for i in range(10)]
    assert scales == ["大"] * 2 + ["中"] * 3 + ["小"] * 5
    top = f.retailers["r-00"].base
    assert (top.market, top.format, top.quantity_share, top.ahead, top.of) == ("城镇", "食杂店", round(10 / 55, 4), 0, 10)
    conv = f.retailers["r-conv"].base
    assert (conv.market, conv.format, conv.scale) == ("乡村", "便利店", "大")  # alone in its format
    assert f.retailers["r-none"].base.scale == "小"  # no purchases


def test_base_class_shares_come_from_the_policy():
    rs = [retailer(f"r-{i:02d}") for i in range(10)]
    sales = [order("2026-09-01", f"r-{i:02d}", (10 - i) * 100, qty=10 - i) for i in range(10)]
    f = october(run(repo(rs, sales, policy={"base_class": {"large_share": 0.5, "medium_share": 0.1}}), AS_OF))
    assert [f.retailers[f"r-{i:02d}"].base.scale for i in range(10)] == ["大"] * 5 + ["中"] + ["小"] * 4


def test_only_active_retailers_are_classed_and_class_on_reads_the_month():
    rs = [retailer("r-1"), retailer("r-2", status="suspended")]
    c = run(repo(rs, [order("2026-09-01", "r-1", 100)]), AS_OF)
    assert "r-2" not in october(c).classes
    assert c.ctx.class_on("r-2", AS_OF) is None
    assert c.ctx.class_on("r-1", AS_OF) == october(c).classes["r-1"]
    # peers are the active retailers only: r-1 is alone → contribution 100
    assert october(c).retailers["r-1"].peers == 1


def test_only_the_current_month_carries_derivations():
    rs, sales = hand_worked_office()
    c = run(repo(rs, sales), AS_OF)
    sept = c.records["2026-09/classes/d-east.yaml"]
    assert sept.retailers == {} and set(sept.classes) == {"r-1", "r-2", "r-3"}
    assert set(october(c).retailers) == {"r-1", "r-2", "r-3"}
    # …and any month is still explained from the same numbers
    text = explain_retailer(c, "r-3", "2026-10")
    assert "31.75" in text and "E 类" in text and "70 分" in text


def test_the_manager_shown_is_the_one_in_charge_on_the_first_of_the_month():
    r = retailer("r-1", manager="cm-wang", manager_history=[{"manager": "cm-li", "until": "2026-10-15"}])
    c = run(repo([r], [order("2026-09-01", "r-1", 100)]), AS_OF)
    assert october(c).retailers["r-1"].manager == "cm-li"


@pytest.mark.parametrize("bad_month", ["2026-13", "oct"])
def test_explain_refuses_an_unknown_month(bad_month):
    from crmdocs.scripts.diagnostics import CrmdocsError

    c = run(repo([retailer("r-1")], [order("2026-09-01", "r-1", 100)]), AS_OF)
    with pytest.raises(CrmdocsError):
        explain_retailer(c, "r-1", bad_month)
    with pytest.raises(CrmdocsError):
        explain_retailer(c, "r-nobody")


def test_a_retailer_alone_in_its_county_contributes_only_when_it_bought():
    # alone: percentile rank 100 if it bought, 0 if it did not
    c = run(repo([retailer("r-1"), retailer("r-far", dept="d-far")], [order("2026-09-01", "r-1", 100)]), AS_OF)
    assert october(c).retailers["r-1"].contribution == 100.0
    assert october(c, "d-far").retailers["r-far"].contribution == 0.0
    assert "没有订购 → 0 分" in explain_retailer(c, "r-far")


def test_format_other_above_its_cap_is_a_warning(mini):
    # 1 of the 3 mini retailers is "other": 33 % > 5 % → a warning, not an error
    from conftest import RETAILER

    mini.edit(RETAILER, lambda d: d["basic"].update(format="other"))
    report = mini.validate()
    assert report.errors == []
    [w] = [d for d in report.warnings if d.code == "other_format_share"]
    assert "33.3%" in w.message and "5%" in w.message
    mini.write(POLICY, {"visits": {"daily_min": {"urban": 1, "rural": 1}}, "base_class": {"other_format_cap": 0.5}})
    assert [d for d in mini.validate().warnings if d.code == "other_format_share"] == []
