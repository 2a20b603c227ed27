"""What customer managers write: visit plans and diaries every working day,
a market analysis every week and a work summary every month (seed 003)."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from .common import Clock, Date, DateTime, NumberRecord, OptText, Record, Slug, Text, _text_only, desc, unique_list


class Purpose(str, Enum):
    routine = "routine"  # 例行拜访
    brand_promotion = "brand_promotion"  # 品牌推广
    policy_briefing = "policy_briefing"  # 政策宣传
    information = "information"  # 信息收集
    complaint = "complaint"  # 投诉回访
    new_retailer = "new_retailer"  # 新户走访
    survey = "survey"  # 满意度调查
    other = "other"


PURPOSE_ZH = {
    Purpose.routine: "例行拜访",
    Purpose.brand_promotion: "品牌推广",
    Purpose.policy_briefing: "政策宣传",
    Purpose.information: "信息收集",
    Purpose.complaint: "投诉回访",
    Purpose.new_retailer: "新户走访",
    Purpose.survey: "满意度调查",
    Purpose.other: "其他",
}


class PlannedVisit(Record):
    retailer: Slug = Field(description=desc("零售户编号", "retailer id"))
    purpose: Purpose = Field(default=Purpose.routine, description=desc("拜访目的", "purpose"))
    note: OptText = Field(default="", description=desc("备注", "note"))


class Approval(Record):
    """The market manager's approval of a plan (审核同意)."""

    by: Slug = Field(description=desc("审核人（市场经理）", "approved by"))
    at: DateTime = Field(description=desc("审核时间", "approved at"))
    approved: bool = Field(default=True, description=desc("同意", "approved"))
    comment: OptText = Field(default="", description=desc("意见", "comment"))


def _no_repeat_retailer(visits: list) -> list:
    if len({visit.retailer for visit in visits}) == len(visits):  # the common case, first
        return visits
    seen = set()
    for index, visit in enumerate(visits):
        if visit.retailer in seen:
            raise PydanticCustomError(
                "visit_twice",
                "零售户 {found} 在计划里出现了两次 (retailer listed twice)",
                {"found": visit.retailer, "at": (index, "retailer")},
            )
        seen.add(visit.retailer)
    return visits


class Plan(Record):
    """A day's visit plan. File: ``records/plans/<manager>/<yyyy>/<yyyy-mm-dd>.yaml``."""

    manager: Slug = Field(description=desc("客户经理编号", "customer manager id"))
    date: Date = Field(description=desc("计划日期", "day planned"))
    visits: Annotated[list[PlannedVisit], AfterValidator(_no_repeat_retailer)] = Field(
        default_factory=list, description=desc("计划拜访的零售户", "retailers to visit")
    )
    note: OptText = Field(default="", description=desc("备注（如请假）", "note, e.g. leave"))
    approval: Optional[Approval] = Field(default=None, description=desc("市场经理审核", "market manager's approval"))


class PriceTags(str, Enum):
    ok = "ok"
    partial = "partial"
    missing = "missing"


class Display(str, Enum):
    good = "good"
    fair = "fair"
    poor = "poor"


PRICE_TAGS_ZH = {PriceTags.ok: "齐全", PriceTags.partial: "部分", PriceTags.missing: "没有"}
DISPLAY_ZH = {Display.good: "好", Display.fair: "一般", Display.poor: "差"}


class Findings(Record):
    price_tags: Optional[PriceTags] = Field(default=None, description=desc("明码标价：ok 全部 / partial 部分 / missing 没有", "price tags"))
    display: Optional[Display] = Field(default=None, description=desc("陈列：good / fair / poor", "display"))
    suspected_illegal: bool = Field(default=False, description=desc("发现疑似假烟私烟", "suspected illegal cigarettes"))
    stock_outs: Annotated[list[Slug], AfterValidator(unique_list)] = Field(
        default_factory=list, description=desc("断货品牌", "brands out of stock")
    )


class Visit(Record):
    retailer: Slug = Field(description=desc("零售户编号", "retailer id"))
    time: Clock = Field(description=desc("到店时刻（加引号，如 \"09:30\"）", "arrival time, quoted"))
    purpose: Purpose = Field(default=Purpose.routine, description=desc("拜访目的", "purpose"))
    findings: Findings = Field(default_factory=Findings, description=desc("检查发现", "what was found"))
    brand_feedback: OptText = Field(default="", description=desc("品牌反馈", "brand feedback"))
    opinions: OptText = Field(default="", description=desc("客户意见和建议", "retailer's opinions"))
    help_given: OptText = Field(default="", description=desc("提供的帮助", "help given"))
    follow_up: OptText = Field(default="", description=desc("需跟进事项", "follow-up"))


class InfoCategory(str, Enum):
    price = "price"  # 价格
    competitor = "competitor"  # 竞争
    consumption = "consumption"  # 消费
    policy = "policy"  # 政策
    violation = "violation"  # 违规


INFO_CATEGORY_ZH = {
    InfoCategory.price: "价格",
    InfoCategory.competitor: "竞争",
    InfoCategory.consumption: "消费",
    InfoCategory.policy: "政策",
    InfoCategory.violation: "违规",
}


class MarketInfo(Record):
    category: InfoCategory = Field(description=desc("类别：price 价格 / competitor 竞争 / consumption 消费 / policy 政策 / violation 违规", "category"))
    content: Text = Field(description=desc("内容", "content"))
    retailer: Optional[Slug] = Field(default=None, description=desc("相关零售户", "retailer concerned"))
    brand: Optional[Slug] = Field(default=None, description=desc("相关品牌", "brand concerned"))


class Review(NumberRecord):
    """The market manager's review (批阅)."""

    reviewer: Slug = Field(description=desc("批阅人（市场经理）", "reviewer"))
    at: DateTime = Field(description=desc("批阅时间", "reviewed at"))
    rating: Annotated[int, Field(ge=1, le=5)] = Field(description=desc("评分 1–5", "rating 1-5"))
    comment: OptText = Field(default="", description=desc("批阅意见", "comment"))
    valuable: Annotated[list[Annotated[int, Field(ge=1)]], AfterValidator(unique_list)] = Field(
        default_factory=list,
        description=desc("有价值的市场信息条目序号（从 1 数）", "market-information items marked valuable, numbered from 1"),
    )


class Absence(str, Enum):
    sick = "sick"  # 病假
    leave = "leave"  # 事假/年假
    training = "training"  # 培训
    meeting = "meeting"  # 会议


ABSENCE_ZH = {Absence.sick: "病假", Absence.leave: "请假", Absence.training: "培训", Absence.meeting: "会议"}


class Diary(Record):
    """A day's diary (客户经理日记). File: ``records/diaries/<manager>/<yyyy>/<yyyy-mm-dd>.yaml``."""

    manager: Slug = Field(description=desc("客户经理编号", "customer manager id"))
    date: Date = Field(description=desc("日记日期", "day"))
    absence: Optional[Absence] = Field(default=None, description=desc("当天未拜访的原因：sick 病假 / leave 请假 / training 培训 / meeting 会议", "why there were no visits"))
    visits: list[Visit] = Field(default_factory=list, description=desc("当天拜访", "visits done"))
    business_analysis: OptText = Field(default="", description=desc("经营分析", "business analysis"))
    market_analysis: OptText = Field(default="", description=desc("市场分析", "market analysis"))
    market_info: list[MarketInfo] = Field(default_factory=list, description=desc("市场信息", "market information items"))
    review: Optional[Review] = Field(default=None, description=desc("市场经理批阅", "market manager's review"))

    @model_validator(mode="after")
    def _shape(self):
        if not self.visits and self.absence is None:
            raise PydanticCustomError(
                "no_visits",
                "没有拜访记录时要写明原因 absence（sick 病假 / leave 请假 / training 培训 / meeting 会议）"
                " (a diary without visits needs an absence reason)",
                {"at": ("absence",)},
            )
        if self.review is not None:
            for index, number in enumerate(self.review.valuable):
                if number > len(self.market_info):
                    raise PydanticCustomError(
                        "valuable_out_of_range",
                        "批阅标记的第 {n} 条市场信息不存在（日记只有 {count} 条）"
                        " (review marks an item that does not exist)",
                        {"n": number, "count": len(self.market_info), "at": ("review", "valuable", index)},
                    )
        return self


# ---------------------------------------------------------------- weekly and monthly writing (seed 003)
# "客户经理每天写一篇工作日记，每周写一篇市场分析，每月写一篇工作总结"

_WEEK_RE = re.compile(r"(\d{4})-W(\d{2})")
_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _week(value: Any) -> Any:
    value = _text_only(value)
    if isinstance(value, str):
        m = _WEEK_RE.fullmatch(value)
        if m:
            try:
                dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            except ValueError:
                pass
            else:
                return value
    raise PydanticCustomError(
        "bad_week",
        "周 “{found}” 不对，应写成 ISO 周 YYYY-Www，例如 2026-W48 (expected an ISO week)",
        {"found": value},
    )


IsoWeek = Annotated[str, BeforeValidator(_week), WithJsonSchema({"type": "string", "pattern": r"^\d{4}-W\d{2}$"})]
"""An ISO week ``2026-W48`` (Monday to Sunday; the year is the ISO year)."""


def _month(value: Any) -> Any:
    value = _text_only(value)
    if isinstance(value, str) and _MONTH_RE.fullmatch(value):
        return value
    raise PydanticCustomError(
        "bad_month",
        "月份 “{found}” 不对，应写成 YYYY-MM，例如 2026-09 (expected a month)",
        {"found": value},
    )


Month = Annotated[str, BeforeValidator(_month), WithJsonSchema({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"})]


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week ``2026-W48``."""
    year, number = int(week[:4]), int(week[6:])
    return dt.date.fromisocalendar(year, number, 1), dt.date.fromisocalendar(year, number, 7)


def week_of(day: dt.date) -> str:
    """The ISO week label of a day, ``2026-W48``."""
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


class WeeklyAnalysis(Record):
    """A week's market analysis (周市场分析).
    File: ``records/analyses/<manager>/<iso-year>/<yyyy-Www>.yaml``."""

    manager: Slug = Field(description=desc("客户经理编号", "customer manager id"))
    week: IsoWeek = Field(description=desc("ISO 周，如 2026-W48", "ISO week"))
    market_situation: Text = Field(description=desc("本周市场形势", "the week's market situation"))
    observations: list[MarketInfo] = Field(
        default_factory=list, description=desc("品牌、价格、竞争等市场观察", "brand, price and competitor observations"),
    )
    problems: OptText = Field(default="", description=desc("存在的问题", "problems"))
    suggestions: OptText = Field(default="", description=desc("建议", "suggestions"))
    review: Optional[Review] = Field(default=None, description=desc("市场经理批阅", "market manager's review"))

    @model_validator(mode="after")
    def _valuable(self):
        if self.review is not None:
            for index, number in enumerate(self.review.valuable):
                if number > len(self.observations):
                    raise PydanticCustomError(
                        "valuable_out_of_range",
                        "批阅标记的第 {n} 条市场观察不存在（分析只有 {count} 条）"
                        " (review marks an observation that does not exist)",
                        {"n": number, "count": len(self.observations), "at": ("review", "valuable", index)},
                    )
        return self


class Figure(NumberRecord):
    """A result the manager cites in a monthly summary (销量、拜访户数 …)."""

    label: Text = Field(description=desc("项目，如 销量", "what, e.g. sales"))
    value: float = Field(description=desc("数值（数字，不加引号）", "value, a number"))
    unit: OptText = Field(default="", description=desc("单位，如 条、户、%", "unit"))


class MonthlySummary(Record):
    """A month's work summary (月工作总结).
    File: ``records/summaries/<manager>/<yyyy>/<yyyy-mm>.yaml``."""

    manager: Slug = Field(description=desc("客户经理编号", "customer manager id"))
    month: Month = Field(description=desc("月份，如 2026-09", "month"))
    work_done: Text = Field(description=desc("本月完成的工作", "work done"))
    results: list[Figure] = Field(default_factory=list, description=desc("工作成效（引用的数字）", "results and figures cited"))
    problems: OptText = Field(default="", description=desc("存在的问题", "problems"))
    next_month: OptText = Field(default="", description=desc("下月工作计划", "next month's plan"))
    review: Optional[Review] = Field(default=None, description=desc("市场经理批阅", "market manager's review"))

    @model_validator(mode="after")
    def _no_valuable(self):
        if self.review is not None and self.review.valuable:
            raise PydanticCustomError(
                "valuable_out_of_range",
                "工作总结没有市场信息条目，批阅不能标记 valuable (a summary has no items to mark valuable)",
                {"at": ("review", "valuable")},
            )
        return self
