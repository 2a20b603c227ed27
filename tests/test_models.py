"""Record models, one kind at a time: the valid fixture passes, each mutation
fails with a message naming the file, the line and the field (Chinese, with
the English field name)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import (
    CALENDAR,
    CM_LI,
    COMPLAINT,
    DIARY,
    ANALYSIS,
    SUMMARY,
    PLAN,
    POLICY,
    RETAILER,
    SURVEY,
    TARGETS,
    TIER_OVERRIDE,
    valid_record,
    valid_records,
)

from crmdocs.schemas import (
    Brand, Calendar, Complaint, Diary, MonthlySummary, OrgUnit, Person, Plan, Policy, Retailer, Survey, Targets, TierOverride,
    WeeklyAnalysis,
)
from crmdocs.scripts.kinds import KINDS, kind_of, path_for

BRAND = "brands/b-hongtashan.yaml"
ORG = "org/d-east.yaml"

MODELS = {
    POLICY: Policy, CALENDAR: Calendar, ORG: OrgUnit, CM_LI: Person, BRAND: Brand, RETAILER: Retailer,
    PLAN: Plan, DIARY: Diary, COMPLAINT: Complaint, SURVEY: Survey, TARGETS: Targets,
    TIER_OVERRIDE: TierOverride, ANALYSIS: WeeklyAnalysis, SUMMARY: MonthlySummary,
}


def error_in(mini, rel):
    """The one error the loader reports for ``rel`` (fails showing all of them otherwise)."""
    _, report = mini.load()
    errors = [d for d in report.errors if d.path == f"records/{rel}"]
    assert len(errors) == 1, report.to_text()
    d = errors[0]
    assert d.line >= 1 and d.column >= 1, d
    assert d.format().startswith(f"records/{rel}:{d.line}:{d.column}: 错误 error:")
    return d


@pytest.mark.parametrize("rel", sorted(MODELS))
def test_valid_fixture_of_every_kind(rel):
    record = MODELS[rel].model_validate(valid_record(rel))
    kind, _ = kind_of(rel)
    assert kind.model is MODELS[rel]
    assert path_for(kind.name, record) == rel  # the writer's path agrees with the reader's


def test_every_kind_has_a_fixture():
    fixture_kinds = {kind_of(rel)[0].name for rel in valid_records() if kind_of(rel)}
    assert fixture_kinds == {k.name for k in KINDS}


def _set(path, value):
    """A change setting ``path`` (keys/indexes) to ``value``; ``...`` deletes it."""

    def change(data):
        target = data
        for part in path[:-1]:
            target = target[part]
        if value is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


# (file, path to change, new value, expected field, text on the expected line, words in the message)
CASES = [
    # org
    (ORG, ("kind",), "region", "kind", "kind: region", "department"),
    (ORG, ("name",), ..., "name", "id: d-east", "缺少"),
    (ORG, ("id",), "../d-east", "id", "id: ../d-east", "编号"),
    (ORG, ("id",), "D East", "id", "id: D East", "小写"),
    (ORG, ("colour",), "red", "colour", "colour: red", "不认识"),
    # people
    (CM_LI, ("role",), "boss", "role", "role: boss", "customer_manager"),
    (CM_LI, ("emails", 0), "not-an-address", "emails[0]", "not-an-address", "邮箱"),
    (CM_LI, ("hire_date",), "2026-02-30", "hire_date", "2026-02-30", "YYYY-MM-DD"),
    (CM_LI, ("active",), "maybe", "active", "active: maybe", "true"),
    (CM_LI, ("unit_history",), [{"unit": "d-west"}], "unit_history[0].until", "unit: d-west", "缺少"),
    # brands
    (BRAND, ("price_class",), 7, "price_class", "price_class: 7", "5"),
    (BRAND, ("price",), "cheap", "price", "price: cheap", "数字"),
    (BRAND, ("price",), 0, "price", "price: 0", "大于"),
    # retailer archive, all six groups
    (RETAILER, ("basic", "network"), "city", "basic.network", "network: city", "urban"),
    (RETAILER, ("basic", "format"), "kiosk", "basic.format", "format: kiosk", "grocery"),
    (RETAILER, ("basic", "floor_area"), -3, "basic.floor_area", "floor_area: -3", "0"),
    (RETAILER, ("basic", "licence_expiry"), "2026-02-30", "basic.licence_expiry", "2026-02-30", "日期"),
    (RETAILER, ("basic", "shop_name"), ..., "basic.shop_name", "basic:", "缺少"),
    (RETAILER, ("basic", "licence_no"), "53-01", "basic.licence_no", "53-01", "许可证号"),
    (RETAILER, ("personal", "phone"), "call me", "personal.phone", "call me", "电话"),
    (RETAILER, ("personal", "care_group"), "poor", "personal.care_group", "care_group: poor", "wubaohu"),
    (RETAILER, ("personal", "id_number"), "12345", "personal.id_number", "id_number", "格式"),
    (RETAILER, ("management", "order_day"), 8, "management.order_day", "order_day: 8", "7"),
    (RETAILER, ("management", "violations"), [{"date": "2026-01-05", "kind": "smuggling"}],
     "management.violations[0].kind", "kind: smuggling", "illegal_cigarettes"),
    (RETAILER, ("sales",), {"adjustment": {"coefficient": 1.2, "reason": "旺季", "approver": "mm-zhao"}},
     "sales.adjustment.since", "adjustment:", "缺少"),
    (RETAILER, ("evaluation",), {"representative_criteria": ["G"]}, "evaluation.representative_criteria[0]", "- G", "A"),
    (RETAILER, ("image",), {"level": 4}, "image.level", "level: 4", "3"),
    (RETAILER, ("status",), "gone", "status", "status: gone", "active"),
    # plan
    (PLAN, ("visits", 0, "purpose"), "chat", "visits[0].purpose", "purpose: chat", "routine"),
    (PLAN, ("approval", "at"), "tomorrow", "approval.at", "at: tomorrow", "HH:MM"),
    (PLAN, ("visits",), "r-0001", "visits", "visits: r-0001", "列表"),
    # diary
    (DIARY, ("visits", 0, "time"), "25:99", "visits[0].time", "25:99", "HH:MM"),
    (DIARY, ("visits", 0, "findings", "price_tags"), "some", "visits[0].findings.price_tags", "price_tags: some", "partial"),
    (DIARY, ("market_info", 0, "category"), "gossip", "market_info[0].category", "category: gossip", "competitor"),
    (DIARY, ("market_info", 0, "content"), "", "market_info[0].content", "content:", "不能为空"),
    (DIARY, ("review", "rating"), 6, "review.rating", "rating: 6", "5"),
    (DIARY, ("review", "valuable"), [0], "review.valuable[0]", "- 0", "1"),
    (DIARY, ("absence",), "holiday", "absence", "absence: holiday", "sick"),
    # weekly analysis, monthly summary
    (ANALYSIS, ("week",), "2026-W54", "week", "week: 2026-W54", "ISO"),
    (ANALYSIS, ("review", "valuable"), [3], "review.valuable[0]", "- 3", "不存在"),
    (SUMMARY, ("results", 0, "value"), "很多", "results[0].value", "value: 很多", "数字"),
    (SUMMARY, ("work_done",), ..., "work_done", "manager: cm-li", "缺少"),
    # complaint
    (COMPLAINT, ("severity",), "urgent", "severity", "severity: urgent", "general"),
    (COMPLAINT, ("received",), "2026-09-01", "received", "received:", "HH:MM"),
    (COMPLAINT, ("channel",), "pigeon", "channel", "channel: pigeon", "phone"),
    (COMPLAINT, ("actions", 0, "text"), ..., "actions[0].text", "at:", "缺少"),
    # survey
    (SURVEY, ("quality",), "很好", "quality", "quality: 很好", "非常优良"),
    (SURVEY, ("service",), "不合格", "service", "service: 不合格", "恶劣"),
    (SURVEY, ("brand_awareness",), "有名", "brand_awareness", "brand_awareness: 有名", "驰名"),
    (SURVEY, ("period",), "2026-13", "period", "period:", "2026-Q3"),
    # targets
    (TARGETS, ("targets", 0, "sales"), -1, "targets[0].sales", "sales: -1", "0"),
    (TARGETS, ("targets",), ..., "targets", "period:", "缺少"),
    # calendar
    (CALENDAR, ("weekend",), [6, 8], "weekend[1]", "- 8", "7"),
    (CALENDAR, ("holidays", 0, "to"), "2026-09-24", "holidays[0].to", "2026-09-24", "早于"),
    (CALENDAR, ("workdays", 1), "2027-10-10", "workdays[1]", "2027-10-10", "不在 2026 年"),
    (CALENDAR, ("workdays", 0), "2026-02-30", "workdays[0]", "2026-02-30", "日期"),
    (CALENDAR, ("year",), 1999, "year", "year: 1999", "2000"),
    # tier override
    (TIER_OVERRIDE, ("tier",), 0, "tier", "tier: 0", "大于"),
    (TIER_OVERRIDE, ("reason",), ..., "reason", "period:", "缺少"),
    # policy
    (POLICY, ("visits", "plan_max"), 0, "visits.plan_max", "plan_max: 0", "大于"),
    (POLICY, ("visits", "daily_min", "urban"), "many", "visits.daily_min.urban", "urban: many", "整数"),
    (POLICY, ("warnings",), {"licence_expiry_days": -1}, "warnings.licence_expiry_days", "licence_expiry_days: -1", "0"),
    (POLICY, ("limits",), {"coefficient": {"min": "low"}}, "limits.coefficient.min", "min: low", "数字"),
    (POLICY, ("appraisals",), {}, "appraisals", "appraisals:", "不认识"),
]


@pytest.mark.parametrize(
    "rel, path, value, field, needle, words",
    CASES,
    ids=[f"{c[0].split('/')[0].removesuffix('.yaml')}-{c[3]}" for c in CASES],
)
def test_bad_value_names_file_line_and_field(mini, rel, path, value, field, needle, words):
    mini.edit(rel, _set(path, value))
    d = error_in(mini, rel)
    assert d.field == field
    assert d.line == mini.line_of(rel, needle), mini.text(rel)
    assert words in d.message, d.message


@pytest.mark.parametrize(
    "rel, path, value, field, needle",
    [
        (PLAN, ("visits", 1, "retailer"), "r-0001", "visits[1].retailer", "retailer: r-0001"),
        (TARGETS, ("targets", 1, "manager"), "cm-li", "targets[1].manager", "manager: cm-li"),
        (DIARY, ("visits", 0, "findings", "stock_outs"), ["b-yunyan", "b-yunyan"], "visits[0].findings.stock_outs[1]", "- b-yunyan"),
        (CM_LI, ("emails",), ["a@example.com", "A@example.com"], "emails[1]", "example.com"),
    ],
)
def test_a_repeated_entry_is_reported_where_it_repeats(mini, rel, path, value, field, needle):
    mini.edit(rel, _set(path, value))
    d = error_in(mini, rel)
    assert (d.field, d.line) == (field, mini.line_of(rel, needle, nth=2))
    assert "两次" in d.message


def test_mutations_cover_every_kind():
    assert {kind_of(c[0])[0].name for c in CASES} == {k.name for k in KINDS}


# ---------------------------------------------------------------- YAML's traps in text fields


@pytest.mark.parametrize(
    "old, new, field",
    [
        ('phone: "13812345678"', "phone: 13812345678", "personal.phone"),
        ('phone: "13812345678"', "phone: 08321234567", "personal.phone"),
        ('licence_no: "530102100001"', "licence_no: 530102100001", "basic.licence_no"),
        ('licence_no: "530102100001"', "licence_no: 0530102100", "basic.licence_no"),
        ("shop_name: 李记便利店", "shop_name: 8848", "basic.shop_name"),
        ("owner_name: 张三", "owner_name: true", "personal.owner_name"),
    ],
)
def test_unquoted_numbers_in_text_fields_ask_for_quotes(mini, old, new, field):
    mini.replace(RETAILER, old, new)
    d = error_in(mini, RETAILER)
    assert d.field == field
    assert d.line == mini.line_of(RETAILER, new)
    assert "引号" in d.message and "quotes" in d.message
    assert d.code == "text_needs_quotes"


def test_unquoted_id_number_asks_for_quotes(mini):
    mini.replace(RETAILER, 'phone: "13812345678"', 'phone: "13812345678"\n  id_number: 530102199001011234')
    d = error_in(mini, RETAILER)
    assert d.field == "personal.id_number" and "引号" in d.message


def test_quoted_numbers_are_fine(mini):
    mini.replace(RETAILER, 'phone: "13812345678"', "phone: '08321234567'")
    _, report = mini.load()
    assert report.diagnostics == []


def test_unquoted_clock_time_as_a_number_asks_for_quotes(mini):
    mini.replace(DIARY, 'time: "09:30"', "time: 930")
    d = error_in(mini, DIARY)
    assert d.field == "visits[0].time" and "引号" in d.message


def test_impossible_date_is_reported_at_its_line(mini):
    mini.replace(PLAN, 'date: "2026-09-01"', "date: 2026-02-30")
    d = error_in(mini, PLAN)
    assert (d.field, d.line) == ("date", mini.line_of(PLAN, "2026-02-30"))
    assert "2026-02-30" in d.message and "不存在" in d.message


def test_target_period_as_a_plain_year(mini):
    data = valid_record(TARGETS)
    data["period"] = 2026
    mini.write("targets/2026.yaml", data)
    _, report = mini.load()
    assert report.diagnostics == [], report.to_text()


# ---------------------------------------------------------------- cross-field rules inside one record


def test_department_without_parent(mini):
    mini.edit(ORG, _set(("parent",), ...))
    d = error_in(mini, ORG)
    assert "parent" in d.message and (d.line, d.field) == (1, "parent")


def test_customer_manager_without_grade(mini):
    mini.edit(CM_LI, _set(("grade",), ...))
    d = error_in(mini, CM_LI)
    assert "grade" in d.message and "客户经理" in d.message and d.field == "grade"


def test_market_manager_with_a_grade(mini):
    mini.edit("people/mm-zhao.yaml", _set(("grade",), "level-1"))
    d = error_in(mini, "people/mm-zhao.yaml")
    assert "grade" in d.message and (d.field, d.line) == ("grade", mini.line_of("people/mm-zhao.yaml", "grade:"))


def test_diary_without_visits_needs_an_absence_reason(mini):
    mini.edit(DIARY, lambda d: d.update(visits=[], market_info=[], review={"reviewer": "mm-zhao", "at": "2026-09-01 18:00", "rating": 3}))
    d = error_in(mini, DIARY)
    assert "absence" in d.message and d.field == "absence"
    mini.edit(DIARY, lambda d: d.update(absence="sick"))
    assert mini.load()[1].diagnostics == []


def test_review_marks_an_item_that_does_not_exist(mini):
    mini.edit(DIARY, lambda d: d["review"].update(valuable=[1, 2]))
    d = error_in(mini, DIARY)
    assert "第 2 条" in d.message and d.field == "review.valuable[1]"


def test_complaint_resolved_before_received(mini):
    mini.edit(COMPLAINT, _set(("resolved",), "2026-08-31 10:00"))
    d = error_in(mini, COMPLAINT)
    assert "早于" in d.message and (d.field, d.line) == ("resolved", mini.line_of(COMPLAINT, "resolved:"))
    assert "办结时间 2026-08-31 10:00 早于受理时间 2026-09-01 09:00" in d.message  # it said 10:00:00


def test_complaint_action_before_it_was_received(mini):
    # an action dated the day before the complaint came in (a typed date) passed without a word
    mini.edit(COMPLAINT, lambda d: d.update(actions=[{"at": "2026-08-31 16:00", "by": "cm-li", "text": "电话联系"}]))
    d = error_in(mini, COMPLAINT)
    assert d.field == "actions[0].at" and d.line == mini.line_of(COMPLAINT, "2026-08-31 16:00")
    assert "处理时间 2026-08-31 16:00 早于受理时间 2026-09-01 09:00" in d.message


def test_calendar_date_outside_its_year(mini):
    mini.edit(CALENDAR, _set(("workdays",), ["2025-12-27"]))
    d = error_in(mini, CALENDAR)
    assert "2025-12-27" in d.message


def test_policy_weights_must_sum_to_one(mini):
    mini.edit(POLICY, lambda d: d.update(classes={"rule": {"mode": "composite", "weights": {"contribution": 0.5}}}))
    d = error_in(mini, POLICY)
    assert "1" in d.message and d.field.startswith("classes.rule")


def test_policy_unknown_class_rule_mode(mini):
    mini.edit(POLICY, lambda d: d.update(classes={"rule": {"mode": "astrology"}}))
    d = error_in(mini, POLICY)
    assert d.field.startswith("classes.rule") and "astrology" in d.message
    assert d.line == mini.line_of(POLICY, "astrology") or d.line == mini.line_of(POLICY, "rule:")


def test_policy_per_class_table_must_cover_every_class(mini):
    mini.edit(POLICY, lambda d: d["visits"].update(cycle_days={"a": 7}))
    d = error_in(mini, POLICY)
    assert "visits.cycle_days" in d.message and "b" in d.message
    assert (d.field, d.line) == ("visits.cycle_days", mini.line_of(POLICY, "cycle_days:"))


def test_policy_appraisal_points_must_sum_to_100(mini):
    mini.edit(POLICY, lambda d: d.update(appraisal={"indicators": {"sales": {"points": 50, "floor": 0.6}}}))
    d = error_in(mini, POLICY)
    assert d.field.startswith("appraisal") and d.line >= 2


def test_empty_policy_file_means_defaults(mini):
    mini.write(POLICY, "{}\n")
    repo, report = mini.load()
    assert report.diagnostics == [] and repo.policy == Policy()


# ---------------------------------------------------------------- the message's shape


def test_compiler_style_line(mini):
    mini.edit(PLAN, _set(("visits", 1, "retailer"), "R 9"))
    d = error_in(mini, PLAN)
    line = mini.line_of(PLAN, "retailer: R 9")
    assert d.format().startswith(f"records/{PLAN}:{line}:") and ": 错误 error: visits[1].retailer: " in d.format()


def test_extra_key_names_the_unknown_field(mini):
    mini.edit(DIARY, lambda d: d["visits"][0].update(mood="happy"))
    d = error_in(mini, DIARY)
    assert (d.field, d.line) == ("visits[0].mood", mini.line_of(DIARY, "mood: happy"))
    assert "不认识" in d.message and "spelling" in d.message


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("price_class: 3", 'price_class: "3"', "price_class"),
        ("price: 120.0", "price: '120'", "price"),
        ("price: 120.0", "price: 120元", "price"),
    ],
)
def test_numbers_in_quotes_are_refused_like_the_editor_schema_does(mini, old, new, field):
    mini.replace(BRAND, old, new)
    d = error_in(mini, BRAND)
    assert (d.field, d.line) == (field, mini.line_of(BRAND, new))
    assert "数字" in d.message and "不要加引号" in d.message


def _record_classes():
    import importlib
    import pkgutil

    import crmdocs.schemas as package
    from crmdocs.schemas.common import Record

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"crmdocs.schemas.{info.name}")
    found, todo = set(), [Record]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def test_every_record_with_a_number_field_refuses_quoted_numbers():
    from pydantic import ValidationError

    from crmdocs.schemas.common import NumberRecord, _number_fields

    numbered = [c for c in _record_classes() if _number_fields(c)]
    assert len(numbered) > 20  # policy, archives, brands, reviews, targets …
    assert all(issubclass(c, NumberRecord) for c in numbered)
    for cls in numbered:
        field = _number_fields(cls)[0]
        with pytest.raises(ValidationError) as info:
            cls.model_validate({field: "12"})
        assert any(e["loc"] == (field,) for e in info.value.errors())


def test_a_visit_pays_no_number_check():
    from crmdocs.schemas.common import NumberRecord
    from crmdocs.schemas.daily import Visit

    assert not issubclass(Visit, NumberRecord) and not issubclass(Diary, NumberRecord)


def test_a_new_record_with_a_number_field_must_say_so():
    from pydantic import ValidationError

    from crmdocs.schemas.common import NumberRecord, Record

    with pytest.raises(TypeError, match="NumberRecord"):
        type("Shelf", (Record,), {"__annotations__": {"width": int}, "__module__": __name__})

    class Shelf(NumberRecord):
        width: int

    with pytest.raises(ValidationError):
        Shelf.model_validate({"width": "12"})


def test_a_clock_time_with_a_one_digit_hour_is_read_as_the_editor_schema_allows(mini):
    # time: 9:05 was 时刻 “9:05” 不对 while VS Code (pattern \d{1,2}:\d{2}) showed no squiggle
    mini.write(DIARY, mini.text(DIARY).replace('time: "09:30"', "time: 9:05").replace("time: '09:30'", "time: 9:05"))
    assert "time: 9:05" in mini.text(DIARY)
    repo, report = mini.load()
    assert [d for d in report.errors if d.path == f"records/{DIARY}"] == []
    assert repo.diaries["cm-li", dt.date(2026, 9, 1)].visits[0].time == dt.time(9, 5)
    mini.edit(DIARY, _set(("visits", 0, "time"), "25:00"))
    assert '例如 "09:05"' in error_in(mini, DIARY).message
