"""`crmdocs explain`: the appraisal derivation in words and numbers.

Same office as test_rules_appraisals.py: as of 2026-09-01 cm-li sold 400 of a
500-carton target (80 %), 150 of 200 key-brand cartons (75 %)."""

import pytest

from conftest import TARGETS
from manager_fixtures import sale, set_sales


@pytest.fixture
def office(mini):
    set_sales(mini, [
        sale("2026-09-01", "r-0001", "b-hongtashan", 150),
        sale("2026-09-01", "r-0001", "b-yunyan", 100),
        sale("2026-09-01", "r-0002", "b-yunyan", 150),
    ])
    return mini


def explain(mini, *args):
    return mini.cli("explain", *args)


def test_manager_explanation_shows_the_arithmetic(office):
    code, out = explain(office, "manager", "cm-li", "--period", "2026-09")
    assert code == 0, out
    assert "客户经理 李明（cm-li，城东客户服务部）2026-09 考核" in out  # the unit by name, as the site says
    assert "销售目标完成率 = 实际 400 条 ÷ 目标 500 条 = 80 %，得分 = 30 × (80 % − 60 %) ÷ (100 % − 60 %) = 15" in out
    assert "重点品牌完成率 = 实际 150 条 ÷ 目标 200 条 = 75 %，得分 = 20 × (75 % − 60 %) ÷ (100 % − 60 %) = 7.5" in out
    assert "计划执行率 = 完成 2 户次 ÷ 计划 2 户次 = 100 %，达到 100 %，得满分 15" in out
    # information: 1 valuable item of 8 → 5 × 12.5 % = 0.625, rounded 0.62
    assert "总分 = " in out and "等级建议：当前 三级客户经理" in out  # the ladder's name, not the id level-3


def test_default_period_is_the_latest_month(office):
    code, out = explain(office, "manager", "cm-li")
    assert code == 0 and "2026-09 考核" in out


def test_not_assessed_indicator_and_scaling_are_explained(office):
    office.edit(TARGETS, lambda d: d["targets"][0].update(sales=0))
    code, out = explain(office, "manager", "cm-li")
    assert code == 0, out
    assert "销售目标完成率：不考核——目标为 0" in out
    assert "有 1 项不考核，按已考核指标折算" in out


def test_overdue_complaint_deduction_is_explained(office):
    office.write("complaints/2026/c-2026-0009.yaml", {
        "id": "c-2026-0009", "received": "2026-09-01 10:00", "retailer": "r-0002", "content": "态度差",
        "severity": "general", "handler": "cm-li", "resolved": "2026-09-03 10:00"})
    code, out = explain(office, "manager", "cm-li")
    assert "超期投诉 1 件 × 2 分 = −2 分（c-2026-0009）" in out


def test_retailer_explanation_tells_visits_and_complaints(office):
    code, out = explain(office, "retailer", "r-0001")
    assert code == 0, out
    assert "零售户 r-0001 李记便利店" in out
    assert "，拜访周期" in out and "类别 a，" not in out and "active" not in out  # class and status in words
    assert "最近一次 2026-09-01（李明）" in out  # the name, as the site shows it
    assert "投诉 c-2026-0001" in out and "按一般投诉 1 个工作日" in out and "按时办结" in out


def test_retailer_explanation_knows_the_hand_over_and_the_period(office):
    from manager_fixtures import add_manager

    from conftest import RETAILER_2

    add_manager(office, "cm-zhou", "周杰")
    office.edit(RETAILER_2, lambda d: d["management"].update(
        manager="cm-zhou", manager_history=[{"manager": "cm-li", "until": "2026-09-15"}]))
    office.write("complaints/2026/c-2026-0009.yaml", {
        "id": "c-2026-0009", "received": "2026-09-20 10:00", "retailer": "r-0002", "content": "态度差",
        "severity": "general", "handler": "cm-zhou"})  # the records now reach 09-20
    code, out = explain(office, "retailer", "r-0002")
    assert code == 0, out
    assert "零售户 r-0002 王家食杂店：2026-09-20 由 周杰（cm-zhou）负责" in out
    assert "2026-09-15 之前由 李明（cm-li）负责" in out
    # last visit 09-01, 19 days before 09-20; class unknown → longest cycle 30 days
    assert "最近一次 2026-09-01（李明），距 2026-09-20 19 天，在周期内" in out
    # received on the make-up Sunday 09-20; 1 working day → Mon 09-21; as of 09-20 still open
    assert "投诉 c-2026-0009（2026-09-20 10:00 受理，按一般投诉 1 个工作日，应在 2026-09-21 前办结）：处理中" in out


@pytest.mark.parametrize("args, needle", [
    (("manager", "cm-nobody"), "找不到客户经理 cm-nobody"),
    (("retailer", "r-9999"), "找不到零售户 r-9999"),
    (("manager", "cm-li", "--period", "2026-13"), "期间"),
    (("manager", "cm-li", "--period", "2025-01"), "有的期间：2026-09"),
])
def test_unknown_things_are_clean_errors(office, args, needle):
    code, out = explain(office, *args)
    assert code == 1
    assert needle in out and "Traceback" not in out


def test_explain_refuses_records_with_errors(office):
    office.edit(TARGETS, lambda d: d["targets"][0].update(manager="cm-nobody"))
    code, out = explain(office, "manager", "cm-li")
    assert code == 1 and "records/targets/2026-09.yaml" in out


def test_a_closed_shop_is_not_overdue_for_a_visit(office):
    from conftest import RETAILER

    office.edit(RETAILER, lambda d: d.update(status="closed", status_reason="店面转让"))
    code, out = explain(office, "retailer", "r-0001")
    assert code == 0, out
    assert "不计拜访周期" in out and "超期" not in out and "类别未知" not in out  # coverage counts active shops only


def test_an_overdue_visit_is_called_超期_as_on_the_site_and_in_the_plan(office):
    # explain said 逾期 where the manager pages say 超期未拜访 / 超期天数 and new plan writes 超期 5 天
    office.write("diaries/cm-li/2026/2026-10-20.yaml", {
        "manager": "cm-li", "date": "2026-10-20", "visits": [{"retailer": "r-0002", "time": "10:00"}]})
    code, out = explain(office, "retailer", "r-0001")
    assert code == 0, out
    assert "最近一次 2026-09-01（李明），距 2026-10-20 49 天，超期" in out and "逾期" not in out, out
    code, out = explain(office, "manager", "cm-li", "--period", "2026-10")
    assert code == 0 and "超期" in out and "逾期" not in out, out


def test_retailer_explanation_names_brands_and_managers_as_the_site_does():
    # explain printed brand ids (b-hongmei 47.9%, 品牌 b-hongmei 订购 25 条) and manager ids where the
    # site's archive and abnormal-order pages show 红梅（软黄） and 曹峰凯
    from pathlib import Path

    from conftest import run_cli

    root = Path(__file__).resolve().parents[1]
    code, out = run_cli("--root", str(root), "explain", "retailer", "r-00294", "--period", "2026-11")
    assert code == 0, out
    assert "主销品牌（覆盖 80% 订购量的最少品牌）：红梅（软黄） " in out
    assert "\n  红梅（软黄）：" in out  # the brand's own limits
    assert "品牌 红梅（软黄） 订购 25 条，超过该品牌上限" in out
    assert "b-hongmei" not in out
    assert "（城关客户服务部，客户经理 曹峰凯，状态 正常）" in out  # was d-chengguan
    assert "由 曹峰凯（cm-cao-fengkai）负责" in out


def test_tier_override_names_its_approver(mini):
    # the mini office's r-0001 has mm-zhao's override for 2026-09: explain said （mm-zhao 于 … 批准）
    code, out = explain(mini, "retailer", "r-0001", "--period", "2026-09")
    assert code == 0, out
    assert "人工调整为" in out and "（赵强（mm-zhao）于 2026-" in out
    # the window is 8 weeks from 07-13, the sales start 09-01: it said 1 周共订 10 条 → 周转数 10 without why
    assert "总量：1 周共订 10 条 → 周转数 10 条/周（8 周里只有 1 周在销售数据之内，按 1 周平均）" in out


def test_a_leavers_appraisal_says_they_have_left(office):
    # the site's ranking and the export say 离岗; explain gave a leaver's half month with no word of it
    office.edit("people/cm-li.yaml", lambda d: d.update(active=False))
    code, out = explain(office, "manager", "cm-li")
    assert code == 0, out
    assert out.splitlines()[1].startswith("  已离岗（人员记录 active: false）")
    code, out = explain(office, "manager", "cm-wang")
    assert code == 0 and "已离岗" not in out, out
