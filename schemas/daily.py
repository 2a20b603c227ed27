"""What customer managers write every working day: visit plans and diaries."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from .common import Clock, Date, DateTime, OptText, Record, Slug, Text, desc, unique_list


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


class Review(Record):
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
