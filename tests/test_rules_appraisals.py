"""The customer-manager appraisal (百分制) and grade recommendations, worked by hand.

The mini repository as of Tue 2026-09-01 (the only plan/diary day), with
September sales set so that cm-li sold 400 cartons, 150 of the key brand
b-hongtashan, against targets 500 / 200:

  sales          400 ÷ 500 = 80 %  → 30 × (80 % − 60 %) ÷ (100 % − 60 %) = 15
  key brands     150 ÷ 200 = 75 %  → 20 × (75 % − 60 %) ÷ 40 %            = 7.5
  plan execution 2 ÷ 2 visits       → 15
  coverage       2 ÷ 2 retailers    → 10
  diary on time  1 ÷ 1 (time unknown: not late) → 10
  satisfaction   survey 优良 90, 良好 85, 驰名 90 → 88.33 ÷ 100 → 8.83
  information    4 valuable ÷ 8     → 5 × 50 % = 2.5
  total          15 + 7.5 + 15 + 10 + 10 + 8.83 + 2.5 = 68.83
"""

import datetime as dt

import pytest

from conftest import CM_LI, POLICY, RETAILER_2, SURVEY, TARGETS
from manager_fixtures import add_manager, context, run_rules, sale, set_sales

from crmdocs.scripts.rules import appraisals

D = dt.date
SEP_SALES = [
    sale("2026-09-01", "r-0001", "b-hongtashan", 150),
    sale("2026-09-01", "r-0001", "b-yunyan", 100),
    sale("2026-09-01", "r-0002", "b-yunyan", 150),
]


@pytest.fixture
def office(mini):
    set_sales(mini, SEP_SALES)
    mini.edit("diaries/cm-li/2026/2026-09-01.yaml", lambda d: d.update(
        market_info=[{"category": "price", "content": f"信息 {i}"} for i in range(1, 5)],
        review={"reviewer": "mm-zhao", "at": "2026-09-01 18:00", "rating": 4, "valuable": [1, 2, 3, 4]},
    ))
    return mini


def appraise(mini, as_of=D(2026, 9, 1), manager="cm-li", period="2026-09"):
    ctx = context(mini, as_of=as_of)
    out = run_rules(ctx, "visits", "complaints", "appraisals")
    return out[f"{period}/managers/{manager}.yaml"]


def points(rec):
    return {i.key: i.points for i in rec.appraisal.indicators}


def test_hand_worked_month(office):
    rec = appraise(office)
    assert points(rec) == {
        "sales": 15.0, "key_brands": 7.5, "plan_execution": 15.0, "coverage": 10.0,
        "diary_on_time": 10.0, "satisfaction": 8.83, "information": 2.5,
    }
    sales = rec.appraisal.indicators[0]
    assert (sales.actual, sales.target, sales.ratio) == (400.0, 500.0, 0.8)
    assert (rec.appraisal.earned, rec.appraisal.total) == (68.83, 68.83)
    assert rec.appraisal.complete is False  # September had not ended on 09-01


def test_exactly_on_the_floor_scores_zero_and_exactly_full_scores_full_marks():
    assert appraisals.points_for(0.60, 0.60, 1.0, 30) == 0.0
    assert appraisals.points_for(0.59, 0.60, 1.0, 30) == 0.0
    assert appraisals.points_for(1.00, 0.60, 1.0, 30) == 30.0
    assert appraisals.points_for(1.25, 0.60, 1.0, 30) == 30.0  # capped
    assert appraisals.points_for(0.80, 0.60, 1.0, 30) == 15.0


def test_sales_exactly_at_the_floor_in_the_records(office):
    set_sales(office, [sale("2026-09-01", "r-0001", "b-yunyan", 300)])  # 300 ÷ 500 = 60 %
    assert points(appraise(office))["sales"] == 0.0


def test_policy_floor_changes_the_points(office):
    office.edit(POLICY, lambda d: d.update(appraisal={"indicators": {
        "sales": {"points": 30, "floor": 0.0}, "key_brands": {"points": 20, "floor": 0.6},
        "plan_execution": {"points": 15, "floor": 0.5}, "coverage": {"points": 10},
        "diary_on_time": {"points": 10}, "satisfaction": {"points": 10}, "information": {"points": 5},
    }}))
    assert points(appraise(office))["sales"] == 24.0  # 30 × 80 %


def test_zero_target_is_not_assessed_and_the_rest_is_scaled_to_100(office):
    office.edit(TARGETS, lambda d: d["targets"][0].update(sales=0))
    rec = appraise(office)
    sales = rec.appraisal.indicators[0]
    assert sales.points is None and "目标为 0" in sales.note
    # 68.83 − 15 = 53.83 earned of 70 assessable → 53.83 × 100 ÷ 70 = 76.9
    assert (rec.appraisal.earned, rec.appraisal.assessable, rec.appraisal.scaled) == (53.83, 70.0, 76.9)
    assert rec.appraisal.total == 76.9


def test_no_target_at_all_is_not_assessed(office):
    office.edit(TARGETS, lambda d: d.update(targets=[{"manager": "cm-wang", "sales": 1, "key_brands": 1}]))
    rec = appraise(office)
    assert [i.key for i in rec.appraisal.indicators if i.points is None] == ["sales", "key_brands"]


def test_overdue_complaint_deducts_the_policy_points(office):
    # general, received 09-01, due 09-02, resolved 09-03 → overdue in September
    office.write("complaints/2026/c-2026-0009.yaml", {
        "id": "c-2026-0009", "received": "2026-09-01 10:00", "retailer": "r-0002", "content": "态度差",
        "severity": "general", "handler": "cm-li", "resolved": "2026-09-03 10:00"})
    rec = appraise(office)
    assert (rec.appraisal.overdue_complaints, rec.appraisal.deduction, rec.appraisal.total) == (1, 2.0, 66.83)
    assert rec.complaints.ids == ["c-2026-0009"]


def test_total_is_clamped_at_zero(office):
    office.edit(POLICY, lambda d: d.update(appraisal={"complaint_deduction": 80}))
    office.write("complaints/2026/c-2026-0009.yaml", {
        "id": "c-2026-0009", "received": "2026-09-01 10:00", "retailer": "r-0002", "content": "态度差",
        "severity": "general", "handler": "cm-li", "resolved": "2026-09-03 10:00"})
    assert appraise(office).appraisal.total == 0.0  # 68.83 − 80 → 0


def test_survey_scored_by_the_seed_001_table(office):
    office.edit(SURVEY, lambda d: d.update(quality="非常优良", service="恶劣", brand_awareness="不知道"))
    # (100 + 0 + 50) ÷ 3 = 50 → 10 × 50 % = 5
    assert points(appraise(office))["satisfaction"] == 5.0


def test_sales_follow_the_manager_on_the_order_day(office):
    add_manager(office, "cm-zhou", "周杰")
    office.edit(RETAILER_2, lambda d: d["management"].update(
        manager="cm-zhou", manager_history=[{"manager": "cm-li", "until": "2026-09-15"}]))
    set_sales(office, SEP_SALES + [sale("2026-09-14", "r-0002", "b-yunyan", 50),
                                   sale("2026-09-15", "r-0002", "b-hongtashan", 70)])
    ctx = context(office, as_of=D(2026, 9, 30))
    by = appraisals.sales_by_manager(ctx.repo, ["2026-09"], ctx.as_of)
    # cm-li: 400 + 50 (09-14, before the hand-over); cm-zhou: 70 from 09-15, all key brand
    assert by.get("cm-li", ["2026-09"]) == (450.0, 150.0)
    assert by.get("cm-zhou", ["2026-09"]) == (70.0, 70.0)


def test_quarter_and_year_add_inputs_before_taking_ratios(office):
    office.write("targets/2026-10.yaml", {"period": "2026-10", "targets": [
        {"manager": "cm-li", "sales": 300, "key_brands": 100}, {"manager": "cm-wang", "sales": 1, "key_brands": 1}]})
    set_sales(office, [sale("2026-10-08", "r-0001", "b-hongtashan", 200)], month="2026-10")
    ctx = context(office, as_of=D(2026, 10, 8))
    out = run_rules(ctx, "visits", "complaints", "appraisals")
    year = out["2026/managers/cm-li.yaml"].appraisal.indicators[0]
    # (400 + 200) ÷ (500 + 300) = 75 % → 30 × 15 % ÷ 40 % = 11.25
    assert (year.actual, year.target, year.ratio, year.points) == (600.0, 800.0, 0.75, 11.25)
    oct_ = out["2026-10/managers/cm-li.yaml"].appraisal.indicators[0]
    assert (oct_.actual, oct_.target) == (200.0, 300.0)
    assert out["2026-Q3/managers/cm-li.yaml"].appraisal.complete is True


# ---------------------------------------------------------------- grades


def recommend(mini, quarters, months=None, manager="cm-li", quarter="2026-Q3", as_of=D(2026, 12, 31)):
    ctx = context(mini, as_of=as_of)
    return appraisals.recommend(ctx, manager, quarter, quarters, months or {})


def test_two_consecutive_quarters_at_exactly_90_recommend_promotion(mini):
    rec = recommend(mini, {"2026-Q2": (90.0, True), "2026-Q3": (95.0, True)})
    assert (rec.current, rec.action, rec.to) == ("level-3", "promote", "level-2")
    assert rec.evidence == ["2026-Q2 90 分", "2026-Q3 95 分"]
    assert "连续 2 个季度" in rec.rule


def test_just_below_90_or_not_consecutive_or_unfinished_is_no_promotion(mini):
    assert recommend(mini, {"2026-Q2": (89.99, True), "2026-Q3": (95.0, True)}).action == "none"
    assert recommend(mini, {"2026-Q1": (95.0, True), "2026-Q3": (95.0, True)}).action == "none"
    assert recommend(mini, {"2026-Q3": (95.0, True), "2026-Q4": (95.0, False)}, quarter="2026-Q4").action == "none"


def test_policy_promotion_score_governs(mini):
    mini.edit(POLICY, lambda d: d.update(grades={"rules": {"promote_score": 96}}))
    assert recommend(mini, {"2026-Q2": (90.0, True), "2026-Q3": (95.0, True)}).action == "none"


def test_below_70_in_a_quarter_recommends_demotion(mini):
    mini.edit(CM_LI, lambda d: d.update(grade="level-2"))
    rec = recommend(mini, {"2026-Q3": (69.99, True)})
    assert (rec.action, rec.to) == ("demote", "level-3")
    assert recommend(mini, {"2026-Q3": (70.0, True)}).action == "none"  # exactly 70 is not below


def test_lowest_regular_grade_is_not_demoted_into_probation(mini):
    rec = recommend(mini, {"2026-Q3": (65.0, True)})
    assert (rec.action, rec.to) == ("none", None)
    assert "最低" in rec.rule


def test_below_60_in_two_consecutive_quarters_recommends_elimination_review(mini):
    rec = recommend(mini, {"2026-Q2": (59.0, True), "2026-Q3": (50.0, True)})
    assert rec.action == "eliminate_review"
    assert recommend(mini, {"2026-Q2": (60.0, True), "2026-Q3": (50.0, True)}).action == "none"  # 60 is not below; 50 ≥ … lowest grade


def test_trainee_ends_probation_with_an_average_of_exactly_75(mini):
    mini.edit("people/cm-wang.yaml", lambda d: d.update(hire_date="2026-06-01"))
    months = {"2026-06": 70.0, "2026-07": 80.0, "2026-08": 75.0}  # (70 + 80 + 75) ÷ 3 = 75
    rec = recommend(mini, {}, months, manager="cm-wang")
    assert (rec.action, rec.to) == ("end_probation", "level-3")
    assert rec.evidence[-1] == "平均 75 分"
    months["2026-08"] = 74.97  # average 74.99
    assert recommend(mini, {}, months, manager="cm-wang").action == "none"


def test_trainee_still_on_probation(mini):
    mini.edit("people/cm-wang.yaml", lambda d: d.update(hire_date="2026-08-01"))
    rec = recommend(mini, {}, {"2026-08": 90.0}, manager="cm-wang", as_of=D(2026, 9, 30))
    assert rec.action == "none" and "2026-11-01" in rec.rule


def test_quarter_files_carry_the_recommendation_and_the_person_record_is_never_rewritten(office):
    before = office.path(CM_LI).read_bytes()
    rec = appraise(office, as_of=D(2026, 9, 1), period="2026-Q3")
    assert rec.grade is not None and rec.grade.current == "level-3"
    assert appraise(office, period="2026-09").grade is None
    assert office.path(CM_LI).read_bytes() == before


def test_a_survey_counts_in_the_period_it_is_about(office):
    # the September survey written on 10-08 still scores September, not October
    office.edit(SURVEY, lambda d: d.update(date="2026-10-08"))
    office.write("targets/2026-10.yaml", {"period": "2026-10", "targets": [
        {"manager": "cm-li", "sales": 300, "key_brands": 100}, {"manager": "cm-wang", "sales": 1, "key_brands": 1}]})
    ctx = context(office, as_of=D(2026, 10, 8))
    out = run_rules(ctx, "visits", "complaints", "appraisals")
    assert points(out["2026-09/managers/cm-li.yaml"])["satisfaction"] == 8.83
    assert points(out["2026-10/managers/cm-li.yaml"])["satisfaction"] is None
    assert points(out["2026-Q3/managers/cm-li.yaml"])["satisfaction"] == 8.83
