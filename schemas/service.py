"""Complaints, satisfaction surveys, targets and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from .common import Date, DateTime, NonNeg, NumberRecord, OptText, Period, Record, Slug, Text, desc, unique_list


class Severity(str, Enum):
    general = "general"  # 一般
    major = "major"  # 重大
    special = "special"  # 特殊


SEVERITY_ZH = {Severity.general: "一般", Severity.major: "重大", Severity.special: "特殊"}


class Channel(str, Enum):
    phone = "phone"
    visit = "visit"
    letter = "letter"
    online = "online"


class Action(Record):
    at: DateTime = Field(description=desc("时间", "when"))
    by: Slug = Field(description=desc("处理人", "by whom"))
    text: Text = Field(description=desc("采取的措施", "action taken"))


class Complaint(Record):
    """A retailer's complaint (seed 001 appendix 2). File: ``records/complaints/<yyyy>/<id>.yaml``."""

    id: Slug = Field(description=desc("投诉编号", "complaint id"))
    received: DateTime = Field(description=desc("受理时间", "received at"))
    retailer: Slug = Field(description=desc("零售户编号", "retailer id"))
    channel: Channel = Field(default=Channel.phone, description=desc("渠道", "channel"))
    content: Text = Field(description=desc("投诉内容", "what the complaint says"))
    severity: Severity = Field(description=desc("性质：general 一般 / major 重大 / special 特殊", "severity"))
    handler: Slug = Field(description=desc("处理人", "handler"))
    approver: Optional[Slug] = Field(
        default=None, description=desc("特殊投诉延期的批准人", "approver of a special complaint's extension")
    )
    actions: list[Action] = Field(default_factory=list, description=desc("处理过程", "actions"))
    resolved: Optional[DateTime] = Field(default=None, description=desc("办结时间", "resolved at"))
    result: OptText = Field(default="", description=desc("处理结果", "result"))
    satisfied: Optional[bool] = Field(default=None, description=desc("客户是否满意", "retailer satisfied"))

    @model_validator(mode="after")
    def _order(self):
        minute = "%Y-%m-%d %H:%M"  # as the record writes it (str() added :00 seconds)
        if self.resolved is not None and self.resolved < self.received:
            raise PydanticCustomError(
                "resolved_before_received",
                "办结时间 {resolved} 早于受理时间 {received} (resolved before received)",
                {"resolved": self.resolved.strftime(minute), "received": self.received.strftime(minute), "at": ("resolved",)},
            )
        for i, action in enumerate(self.actions):
            if action.at < self.received:
                raise PydanticCustomError(
                    "action_before_received",
                    "处理时间 {when} 早于受理时间 {received} (action before the complaint was received)",
                    {"when": action.at.strftime(minute), "received": self.received.strftime(minute), "at": ("actions", i, "at")},
                )
        return self


Quality = Literal["非常优良", "优良", "良好", "一般", "合格", "不合格"]
Service = Literal["非常优良", "优良", "良好", "一般", "不好", "恶劣"]
Awareness = Literal["非常驰名", "驰名", "知名度高", "知名度较高", "知名", "知道", "不知道"]


class Survey(Record):
    """A visit report / satisfaction survey (走访客户报告单, seed 001 appendix 1).

    File: ``records/surveys/<yyyy>/<id>.yaml``. Answers are the form's words;
    their scores come from the policy's table."""

    id: Slug = Field(description=desc("调查编号", "survey id"))
    retailer: Slug = Field(description=desc("零售户编号", "retailer id"))
    period: Period = Field(description=desc("调查期间", "period surveyed"))
    date: Date = Field(description=desc("走访日期", "date of the visit"))
    surveyor: Slug = Field(description=desc("走访人", "surveyor"))
    quality: Quality = Field(description=desc("产品质量评价", "product quality"))
    service: Service = Field(description=desc("服务评价", "service"))
    brand_awareness: Awareness = Field(description=desc("品牌知名度", "brand awareness"))
    opinions: OptText = Field(default="", description=desc("意见和建议", "opinions"))


class ManagerTarget(NumberRecord):
    manager: Slug = Field(description=desc("客户经理编号", "customer manager id"))
    sales: NonNeg = Field(description=desc("销量目标（条）", "sales target, cartons"))
    key_brands: NonNeg = Field(description=desc("重点品牌销量目标（条）", "key-brand target, cartons"))


def _unique_managers(targets: list) -> list:
    return unique_list([t.manager for t in targets], ("manager",)) and targets


class Targets(Record):
    """Sales targets of one period. File: ``records/targets/<period>.yaml``."""

    period: Period = Field(description=desc("期间（月 2026-09）", "period, a month"))
    targets: Annotated[list[ManagerTarget], AfterValidator(_unique_managers)] = Field(
        description=desc("各客户经理目标", "one line per customer manager")
    )


class Holiday(Record):
    name: Text = Field(description=desc("节日", "holiday"))
    start: Date = Field(alias="from", description=desc("放假开始", "first day off"))
    end: Date = Field(alias="to", description=desc("放假结束（含）", "last day off"))

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise PydanticCustomError(
                "holiday_order", "放假结束日早于开始日 (holiday ends before it starts)", {"at": ("to",)}
            )
        return self


def _days(start: dt.date, end: dt.date):
    """Each day from ``start`` to ``end``, both included."""
    while start <= end:
        yield start
        start += dt.timedelta(days=1)


class Calendar(NumberRecord):
    """Working days of a year. File: ``records/calendar/<yyyy>.yaml``.

    Saturdays and Sundays are off unless listed in ``workdays`` (调休上班);
    days inside ``holidays`` are off."""

    year: Annotated[int, Field(ge=2000, le=2100)] = Field(description=desc("年份", "year"))
    weekend: Annotated[list[Annotated[int, Field(ge=1, le=7)]], AfterValidator(unique_list)] = Field(
        default_factory=lambda: [6, 7], description=desc("每周休息日（6=周六 7=周日）", "weekly days off")
    )
    holidays: list[Holiday] = Field(default_factory=list, description=desc("法定节假日", "public holidays"))
    workdays: Annotated[list[Date], AfterValidator(unique_list)] = Field(
        default_factory=list, description=desc("调休上班日", "make-up working days")
    )

    @model_validator(mode="after")
    def _in_year(self):
        places = [(d, ("workdays", i)) for i, d in enumerate(self.workdays)]
        for i, h in enumerate(self.holidays):
            places += [(h.start, ("holidays", i, "from")), (h.end, ("holidays", i, "to"))]
        for day, at in places:
            if day.year != self.year:
                raise PydanticCustomError(
                    "calendar_year", "日期 {day} 不在 {year} 年 (date outside the calendar's year)",
                    {"day": str(day), "year": self.year, "at": at},
                )
        return self

    @model_validator(mode="after")
    def _workdays_are_days_off(self):
        # a 调休 day is a weekend day worked; a weekday listed there is a typo (the
        # weekend day meant stays off), one inside a holiday contradicts it
        off = {day: h.name for h in self.holidays for day in _days(h.start, h.end)}
        for i, day in enumerate(self.workdays):
            if day in off:
                raise PydanticCustomError(
                    "workday_in_holiday", "调休上班日 {day} 在{name}的放假日期里：请删去其中一处 (a make-up day inside a holiday)",
                    {"day": str(day), "name": off[day], "at": ("workdays", i)},
                )
            if day.isoweekday() not in self.weekend:
                raise PydanticCustomError(
                    "workday_not_weekend",
                    "调休上班日 {day} 是星期{weekday}，本来就上班；这里只写要上班的周末（休息日），是不是写错了日期？"
                    " (a make-up day that is no day off)",
                    {"day": str(day), "weekday": "一二三四五六日"[day.isoweekday() - 1], "at": ("workdays", i)},
                )
        return self

    def days_off(self) -> set[dt.date]:
        return {day for holiday in self.holidays for day in _days(holiday.start, holiday.end)}
