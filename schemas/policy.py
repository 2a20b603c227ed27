"""The policy: every weight, threshold, ladder, coefficient and deadline.

File: ``records/policy.yaml``. Defaults here are DOMAIN.md §3; an office
changes them in its policy file, never in code. Rules read only this model.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Optional, Union

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .common import Fraction, NonNeg, NonNegInt, NumberRecord, PosInt, Record, Slug, Text, desc


def _check_weights(weights: dict[str, float], what: str) -> None:
    total = sum(weights.values())
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise PydanticCustomError(
            "weights_sum",
            "{what}的权重合计应为 1，现在是 {total}（{parts}）(weights must sum to 1)",
            {
                "what": what,
                "total": round(total, 6),
                "parts": " + ".join(f"{k} {v}" for k, v in weights.items()),
            },
        )


# ---------------------------------------------------------------- grades


class GradeStep(Record):
    id: Slug = Field(description=desc("等级编号", "grade id"))
    name: Text = Field(description=desc("等级名称", "grade name"))


class GradeRules(NumberRecord):
    promote_score: NonNeg = Field(default=90, description=desc("晋级分数线（季度）", "promotion score per quarter"))
    promote_quarters: PosInt = Field(default=2, description=desc("连续达到晋级线的季度数", "consecutive quarters for promotion"))
    demote_score: NonNeg = Field(default=70, description=desc("降级分数线（季度，低于）", "demotion below this quarterly score"))
    eliminate_score: NonNeg = Field(default=60, description=desc("淘汰审查线（低于）", "elimination review below this score"))
    eliminate_quarters: PosInt = Field(default=2, description=desc("连续低于淘汰线的季度数", "consecutive quarters for elimination review"))
    probation_months: PosInt = Field(default=3, description=desc("见习期（月）", "probation, months"))
    probation_average: NonNeg = Field(default=75, description=desc("见习期满转正所需月平均分", "average monthly score to pass probation"))


class Grades(Record):
    ladder: list[GradeStep] = Field(
        default_factory=lambda: [
            GradeStep(id="trainee", name="见习客户经理"),
            GradeStep(id="level-3", name="三级客户经理"),
            GradeStep(id="level-2", name="二级客户经理"),
            GradeStep(id="level-1", name="一级客户经理"),
        ],
        min_length=2,
        description=desc("等级阶梯，从低到高；第一级是见习", "grade ladder, lowest (probation) first"),
    )
    rules: GradeRules = Field(default_factory=GradeRules, description=desc("升降级规则", "promotion and demotion rules"))

    def ids(self) -> list[str]:
        return [g.id for g in self.ladder]


# ---------------------------------------------------------------- classes


class ClassStep(NumberRecord):
    id: Slug = Field(description=desc("类别编号", "class id"))
    name: Text = Field(description=desc("类别名称", "class name"))
    min: float = Field(description=desc("下限（含）", "lower bound, inclusive"))


class PointsBand(NumberRecord):
    min: float = Field(description=desc("从（含）", "from, inclusive"))
    points: float = Field(ge=0, le=100, description=desc("得分", "points"))


def _default_classes() -> list[ClassStep]:
    return [
        ClassStep(id="a", name="A 类", min=85),
        ClassStep(id="b", name="B 类", min=70),
        ClassStep(id="c", name="C 类", min=55),
        ClassStep(id="d", name="D 类", min=40),
        ClassStep(id="e", name="E 类", min=0),
    ]


class ValueWeights(NumberRecord):
    contribution: Fraction = 0.40
    integrity: Fraction = 0.25
    own: Fraction = 0.20
    development: Fraction = 0.15


class Integrity(NumberRecord):
    start: NonNeg = Field(default=100, description=desc("起始分", "starting points"))
    per_violation: NonNeg = Field(default=20, description=desc("每次查实违规扣分", "points off per confirmed violation"))
    per_late_payment: NonNeg = Field(default=10, description=desc("每次迟付扣分", "points off per late payment"))
    months: PosInt = Field(default=12, description=desc("统计最近几个月", "months looked back"))


class OwnValue(Record):
    """Points tables for the retailer's own value; the four parts are averaged."""

    floor_area: list[PointsBand] = Field(
        default_factory=lambda: [
            PointsBand(min=0, points=30), PointsBand(min=20, points=50),
            PointsBand(min=40, points=70), PointsBand(min=80, points=90), PointsBand(min=150, points=100),
        ],
        description=desc("经营面积分档（平方米）", "floor-area bands, m²"),
    )
    format: dict[str, float] = Field(
        default_factory=lambda: {
            "mall": 100, "supermarket": 90, "tobacco_liquor": 85, "convenience": 75,
            "entertainment": 60, "grocery": 50, "other": 40,
        },
        description=desc("业态得分", "points by business format"),
    )
    location: dict[str, float] = Field(
        default_factory=lambda: {
            "commercial": 100, "transport": 90, "school": 70, "residential": 70,
            "market": 80, "village": 50, "other": 50,
        },
        description=desc("商圈得分", "points by location type"),
    )
    image: dict[int, float] = Field(
        default_factory=lambda: {0: 40, 1: 60, 2: 80, 3: 100},
        description=desc("形象等级得分", "points by store image level"),
    )


class Development(NumberRecord):
    worst: float = Field(default=-0.20, description=desc("增长率不高于此得 0 分", "growth at or below: 0 points"))
    best: float = Field(default=0.20, description=desc("增长率不低于此得 100 分", "growth at or above: 100 points"))
    flat_points: NonNeg = Field(default=50, description=desc("零增长得分", "points for no growth"))


class CompositeClassRule(NumberRecord):
    """Four values → composite → class (seed 000)."""

    mode: Literal["composite"] = "composite"
    weeks: PosInt = Field(default=12, description=desc("贡献/发展价值看最近几周", "weeks of sales looked at"))
    weights: ValueWeights = Field(default_factory=ValueWeights, description=desc("四项价值权重", "weights of the four values"))
    integrity: Integrity = Field(default_factory=Integrity)
    own: OwnValue = Field(default_factory=OwnValue)
    development: Development = Field(default_factory=Development)
    classes: list[ClassStep] = Field(default_factory=_default_classes, min_length=2, description=desc("类别及分数下限，从高到低", "classes, best first"))

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: ValueWeights) -> ValueWeights:
        # on the field, so the error points at `weights:` in policy.yaml
        _check_weights(weights.model_dump(), "零售户四项价值")
        return weights


class VolumeClassRule(Record):
    """Plain monthly volume bands (seed 001: 普通 / 一星 / 二星 / 三星)."""

    mode: Literal["volume_bands"]
    measure: Literal["quantity", "amount"] = Field(default="quantity", description=desc("按销量或销售额", "by quantity or amount"))
    classes: list[ClassStep] = Field(min_length=2, description=desc("类别及月量下限，从高到低", "classes by monthly volume, best first"))


ClassRule = Annotated[Union[CompositeClassRule, VolumeClassRule], Field(discriminator="mode")]


class RetailerClasses(NumberRecord):
    rule: ClassRule = Field(default_factory=CompositeClassRule, description=desc("分类规则", "class rule"))
    max_step: PosInt = Field(default=1, description=desc("每次评定最多升降几级", "steps a class may move per evaluation"))
    key_classes: list[Slug] = Field(default_factory=lambda: ["a"], description=desc("重点客户所在类别", "classes that are key customers"))
    key_response_hours: PosInt = Field(default=24, description=desc("重点客户诉求答复时限（小时）", "hours to answer a key customer"))
    representative_share: Fraction = Field(default=0.20, description=desc("客户代表占比上限", "cap on customer representatives"))

    @model_validator(mode="after")
    def _classes(self):
        ids = [c.id for c in self.rule.classes]
        mins = [c.min for c in self.rule.classes]
        if len(set(ids)) != len(ids):
            raise PydanticCustomError("class_ids", "类别编号重复 (class ids repeat)", {"at": ("rule", "classes")})
        if mins != sorted(mins, reverse=True):
            raise PydanticCustomError("class_order", "类别要从高到低排列，下限逐级变小 (classes best first)", {"at": ("rule", "classes")})
        for key in self.key_classes:
            if key not in ids:
                raise PydanticCustomError(
                    "unknown_class", "重点客户类别 {key} 不在类别表里 {ids} (unknown class)",
                    {"key": key, "ids": ids, "at": ("key_classes", self.key_classes.index(key))},
                )
        return self

    def ids(self) -> list[str]:
        return [c.id for c in self.rule.classes]


# ---------------------------------------------------------------- base class, tiers


class BaseClass(NumberRecord):
    large_share: Fraction = Field(default=0.20, description=desc("同业态前百分之几为大", "top share that is large"))
    medium_share: Fraction = Field(default=0.30, description=desc("其后百分之几为中", "next share that is medium"))
    other_format_cap: Fraction = Field(default=0.05, description=desc("业态“其他”占比上限（超出告警）", "cap on format 'other'"))


class TierWeights(NumberRecord):
    quantity: Fraction = 0.3
    amount: Fraction = 0.5
    capability: Fraction = 0.2


class TierBand(NumberRecord):
    tier: PosInt
    min: float = Field(description=desc("得分下限（含）", "score from, inclusive"))


class NewRetailerTier(NumberRecord):
    network: Literal["urban", "rural"]
    min_area: NonNeg = Field(description=desc("面积不小于", "floor area at least"))
    tier: PosInt


class Tiers(NumberRecord):
    count: PosInt = Field(default=30, description=desc("档位数（最高档）", "number of tiers, highest"))
    mode: Literal["ranking", "bands"] = Field(default="ranking", description=desc("ranking 按名次 / bands 按分数段", "ranking or bands"))
    weights: TierWeights = Field(default_factory=TierWeights, description=desc("订购量/订购额/经营能力的权重", "weights"))
    bands: list[TierBand] = Field(default_factory=list, description=desc("bands 模式的分数段", "score bands for mode bands"))
    period: Literal["month", "quarter"] = Field(default="month", description=desc("档位评定周期", "how often tiers are set"))
    weeks: PosInt = Field(default=4, description=desc("看上一期几周的订购", "weeks of purchases looked at"))
    new_retailer: list[NewRetailerTier] = Field(
        default_factory=lambda: [
            NewRetailerTier(network="urban", min_area=80, tier=12),
            NewRetailerTier(network="urban", min_area=30, tier=8),
            NewRetailerTier(network="urban", min_area=0, tier=5),
            NewRetailerTier(network="rural", min_area=60, tier=8),
            NewRetailerTier(network="rural", min_area=0, tier=3),
        ],
        description=desc("新户起始档位（按城网/农网和面积）", "starting tier of a new retailer"),
    )

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: TierWeights) -> TierWeights:
        _check_weights(weights.model_dump(), "档位得分")
        return weights

    @model_validator(mode="after")
    def _check(self):
        if self.mode == "bands" and not self.bands:
            raise PydanticCustomError("tier_bands", "mode 为 bands 时要写分数段 bands (bands mode needs bands)", {"at": ("bands",)})
        for item in [*self.bands, *self.new_retailer]:
            if item.tier > self.count:
                raise PydanticCustomError(
                    "tier_range", "档位 {tier} 超过最高档 {count} (tier above count)", {"tier": item.tier, "count": self.count}
                )
        return self


# ---------------------------------------------------------------- limits


class Factors(NumberRecord):
    lower: NonNeg
    upper: NonNeg


class Coefficient(NumberRecord):
    default: float = Field(default=1.0, gt=0)
    min: float = Field(default=0.5, gt=0)
    max: float = Field(default=2.0, gt=0)


class Limits(NumberRecord):
    turnover_weeks: PosInt = Field(default=8, description=desc("周转数取最近几周平均", "weeks averaged for turnover"))
    factors: dict[str, Factors] = Field(
        default_factory=lambda: {
            "a": Factors(lower=0.5, upper=1.5), "b": Factors(lower=0.6, upper=1.4),
            "c": Factors(lower=0.7, upper=1.3), "d": Factors(lower=0.8, upper=1.2),
            "e": Factors(lower=0.8, upper=1.1),
        },
        description=desc("各类别上下限系数", "limit factors by class"),
    )
    default_turnover: dict[str, NonNeg] = Field(
        default_factory=lambda: {"a": 60, "b": 40, "c": 25, "d": 15, "e": 8},
        description=desc("无历史零售户按类别的默认周转数（条/周）", "turnover for a retailer without history, by class"),
    )
    coefficient: Coefficient = Field(default_factory=Coefficient, description=desc("调整系数默认值和范围", "adjustment coefficient"))
    main_brand_share: Fraction = Field(default=0.80, description=desc("主销品牌覆盖的销量比例", "share of quantity main brands cover"))
    lower_limits: bool = Field(default=True, description=desc("是否设下限", "lower limits on"))
    brand_limits: bool = Field(default=True, description=desc("是否按品牌设限", "per-brand limits on"))


# ---------------------------------------------------------------- abnormal orders


class OutsideLimits(Record):
    enabled: bool = True


class Spike(NumberRecord):
    enabled: bool = True
    ratio: float = Field(default=2.0, gt=0, description=desc("超过前几个周期均值的倍数", "times the mean of earlier cycles"))
    cycles: PosInt = Field(default=3, description=desc("比较前几个订货周期", "earlier cycles compared"))
    min_quantity: NonNeg = Field(default=20, description=desc("低于此量（条）的订单不查", "orders below this are exempt"))
    min_history: PosInt = Field(default=3, description=desc("少于几个周期的零售户不查", "retailers with fewer cycles are exempt"))


class MonthJump(NumberRecord):
    enabled: bool = True
    ratio: float = Field(default=2.0, gt=0, description=desc("超过上月的倍数", "times last month's total"))


class Abnormal(Record):
    outside_limits: OutsideLimits = Field(default_factory=OutsideLimits)
    spike: Spike = Field(default_factory=Spike)
    month_jump: MonthJump = Field(default_factory=MonthJump)


# ---------------------------------------------------------------- visits


class Deadline(NumberRecord):
    days_after: NonNegInt = Field(description=desc("在之后第几个工作日", "working days after the day"))
    time: str = Field(pattern=r"^\d{2}:\d{2}$", description=desc("截止时刻 HH:MM", "clock time"))


class Visits(NumberRecord):
    cycle_days: dict[str, PosInt] = Field(
        default_factory=lambda: {"a": 7, "b": 14, "c": 14, "d": 30, "e": 30},
        description=desc("各类别拜访周期（天）", "required visit cycle by class, days"),
    )
    plan_max: PosInt = Field(default=40, description=desc("每日计划拜访上限", "most visits in a plan"))
    daily_min: dict[str, NonNegInt] = Field(
        default_factory=lambda: {"urban": 30, "rural": 25},
        description=desc("每日最少拜访（低于只告警）", "daily minimum by network, a warning"),
    )
    plan_deadline: Deadline = Field(default_factory=lambda: Deadline(days_after=0, time="08:30"), description=desc("计划提交截止", "plan due"))
    diary_deadline: Deadline = Field(default_factory=lambda: Deadline(days_after=1, time="09:00"), description=desc("日记提交截止", "diary due"))
    review_working_days: NonNegInt = Field(default=2, description=desc("批阅时限（工作日）", "working days to review"))


# ---------------------------------------------------------------- complaints


class Complaints(Record):
    working_days: dict[str, NonNegInt] = Field(
        default_factory=lambda: {"general": 1, "major": 3, "special": 7},
        description=desc("各性质处理时限（工作日）", "working days to handle, by severity"),
    )
    needs_approver: list[str] = Field(default_factory=lambda: ["special"], description=desc("需批准人才可延期的性质", "severities whose time needs an approver"))
    fallback: str = Field(default="major", description=desc("未获批准时按此性质计时", "severity used when the approver is missing"))


# ---------------------------------------------------------------- appraisal


class Indicator(NumberRecord):
    points: NonNeg = Field(description=desc("满分", "full marks"))
    floor: Fraction = Field(default=0.0, description=desc("得 0 分的完成率", "ratio that scores 0"))
    full: float = Field(default=1.0, gt=0, description=desc("得满分的完成率", "ratio that scores full marks"))


class Appraisal(NumberRecord):
    indicators: dict[str, Indicator] = Field(
        default_factory=lambda: {
            "sales": Indicator(points=30, floor=0.60),
            "key_brands": Indicator(points=20, floor=0.60),
            "plan_execution": Indicator(points=15, floor=0.50),
            "coverage": Indicator(points=10, floor=0.0),
            "diary_on_time": Indicator(points=10, floor=0.0),
            "satisfaction": Indicator(points=10, floor=0.0),
            "information": Indicator(points=5, floor=0.0),
        },
        description=desc("考核指标：满分与 0 分线", "indicators"),
    )
    information_target: PosInt = Field(default=8, description=desc("每月有价值信息目标条数", "valuable items a month"))
    complaint_deduction: NonNeg = Field(default=2, description=desc("每件超期投诉扣分", "points off per overdue complaint"))

    @model_validator(mode="after")
    def _total(self):
        total = sum(i.points for i in self.indicators.values())
        if not math.isclose(total, 100):
            raise PydanticCustomError(
                "points_sum", "考核指标满分合计应为 100（百分制），现在是 {total} (indicator points must sum to 100)",
                {"total": total, "at": ("indicators",)},
            )
        for name, ind in self.indicators.items():
            if ind.floor >= ind.full:
                raise PydanticCustomError(
                    "indicator_floor", "指标 {name} 的 0 分线应低于满分线 (floor below full)", {"name": name, "at": ("indicators", name, "floor")}
                )
        return self


# ---------------------------------------------------------------- surveys, privacy, warnings


class SurveyScores(Record):
    quality: dict[str, NonNeg] = Field(
        default_factory=lambda: {"非常优良": 100, "优良": 90, "良好": 85, "一般": 80, "合格": 70, "不合格": 60}
    )
    service: dict[str, NonNeg] = Field(
        default_factory=lambda: {"非常优良": 100, "优良": 90, "良好": 85, "一般": 80, "不好": 30, "恶劣": 0}
    )
    brand_awareness: dict[str, NonNeg] = Field(
        default_factory=lambda: {"非常驰名": 100, "驰名": 90, "知名度高": 85, "知名度较高": 80, "知名": 70, "知道": 60, "不知道": 50}
    )


class Privacy(Record):
    mask_owner_names: bool = Field(default=True, description=desc("公开站点隐藏负责人姓名", "mask owner names on public builds"))


class Warnings(NumberRecord):
    licence_expiry_days: NonNegInt = Field(default=30, description=desc("许可证到期前几天告警", "warn this many days before a licence expires"))


class Policy(Record):
    """The office's rules. File: ``records/policy.yaml``."""

    grades: Grades = Field(default_factory=Grades, description=desc("客户经理等级", "customer-manager grades"))
    classes: RetailerClasses = Field(default_factory=RetailerClasses, description=desc("零售户分类", "retailer classes"))
    base_class: BaseClass = Field(default_factory=BaseClass, description=desc("基础分类", "base classification"))
    tiers: Tiers = Field(default_factory=Tiers, description=desc("货源档位", "supply tiers"))
    limits: Limits = Field(default_factory=Limits, description=desc("周转数与订货上下限", "turnover and limits"))
    abnormal: Abnormal = Field(default_factory=Abnormal, description=desc("异常订单规则", "abnormal-order rules"))
    visits: Visits = Field(default_factory=Visits, description=desc("拜访与提交时限", "visits and deadlines"))
    complaints: Complaints = Field(default_factory=Complaints, description=desc("投诉处理时限", "complaint deadlines"))
    appraisal: Appraisal = Field(default_factory=Appraisal, description=desc("客户经理考核（百分制）", "appraisal"))
    survey_scores: SurveyScores = Field(default_factory=SurveyScores, description=desc("走访报告单分值表", "survey scoring table"))
    privacy: Privacy = Field(default_factory=Privacy)
    warnings: Warnings = Field(default_factory=Warnings)

    @model_validator(mode="after")
    def _per_class_tables(self):
        ids = self.classes.ids()
        for table, name in (
            (self.limits.factors, "limits.factors"),
            (self.limits.default_turnover, "limits.default_turnover"),
            (self.visits.cycle_days, "visits.cycle_days"),
        ):
            missing = [c for c in ids if c not in table]
            extra = [k for k in table if k not in ids]
            if missing or extra:
                raise PydanticCustomError(
                    "class_table",
                    "{name} 要为每个类别写一项：缺少 {missing}，多出 {extra} (expected one entry per class {ids})",
                    {"name": name, "missing": missing, "extra": extra, "ids": ids, "at": tuple(name.split("."))},
                )
        for sev in self.complaints.needs_approver + [self.complaints.fallback]:
            if sev not in self.complaints.working_days:
                raise PydanticCustomError(
                    "severity", "投诉性质 {sev} 没有处理时限 (no deadline for severity)", {"sev": sev, "at": ("complaints", "working_days")}
                )
        return self
