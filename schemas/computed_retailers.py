"""Computed records of the retailer-side rules: classes, tiers, limits, abnormal orders.

Written only by ``crmdocs recalc`` under ``records/computed/``; nobody edits
them by hand. Grouped so a city (20,000 retailers) stays a few hundred files:

* ``<yyyy-mm>/classes/<department>.yaml`` — :class:`ClassesFile`: every
  retailer's class for the month (in force from the 1st); the current month's
  file also carries each retailer's full derivation and base classification;
* ``<period>/tiers/<department>.yaml`` — :class:`TiersFile`: the published
  supply tiers (档位) of the period; the current period's file also carries
  the derivations and overrides.

Full derivations are written for the current month only: 20,000 retailers ×
12 months of them would be millions of YAML lines nobody reads; any earlier
month's derivation is printed by ``crmdocs explain`` from the same numbers.
* ``<yyyy-mm>/limits/<department>.yaml`` — :class:`LimitsFile`: turnover and
  order limits in force now (the ISO week that contains ``as_of``; the month
  is ``as_of``'s — only the current limits are kept as a file);
* ``<yyyy-mm>/abnormal/<manager>.yaml`` — :class:`AbnormalFile`: the month's
  abnormal orders of one customer manager's retailers, per ISO week.

Floats are rounded (amounts 2 decimals, scores and ranks 2, coefficients 4)
so the files are byte-stable. Field order is the order of the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Computed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)  # made on first use (common.Record)


def _d(zh: str, en: str) -> str:
    return f"{zh} ({en})"


# ---------------------------------------------------------------- classes


class Window(Computed):
    start: dt.date = Field(description=_d("起（含）", "from, inclusive"))
    end: dt.date = Field(description=_d("止（含）", "to, inclusive"))


class OwnParts(Computed):
    floor_area: float = Field(description=_d("经营面积得分", "floor-area points"))
    format: float = Field(description=_d("业态得分", "format points"))
    location: float = Field(description=_d("商圈得分", "location points"))
    image: float = Field(description=_d("形象等级得分", "image points"))


class BaseClassResult(Computed):
    """基础分类：市场类型 × 业态 × 规模."""

    market: str = Field(description=_d("市场类型 城镇/乡村", "market type"))
    format: str = Field(description=_d("业态", "business format"))
    scale: str = Field(description=_d("规模 大/中/小", "scale"))
    quantity_share: float = Field(description=_d("占本业态订购量的比例", "share of the format's quantity"))
    amount_share: float = Field(description=_d("占本业态订购额的比例", "share of the format's amount"))
    ahead: int = Field(description=_d("同业态中份额高于本户的户数", "retailers of the format with a larger share"))
    of: int = Field(description=_d("同业态户数", "retailers of the format"))


class ClassDerivation(Computed):
    """One retailer's class evaluation: inputs, each value, the steps."""

    name: str = Field(default="", description=_d("店名", "shop name"))
    manager: str = Field(description=_d("客户经理（评定当日）", "customer manager on the day"))
    history: bool = Field(description=_d("统计期内有订购", "bought in the window"))
    # composite mode
    amount: Optional[float] = Field(default=None, description=_d("最近几周订购额（元）", "amount, recent weeks"))
    amount_before: Optional[float] = Field(default=None, description=_d("再之前同样几周订购额（元）", "amount, the weeks before"))
    peers: Optional[int] = Field(default=None, description=_d("同县区正常经营户数", "active retailers of the county"))
    peers_below: Optional[int] = Field(default=None, description=_d("订购额低于本户的户数", "peers with a lower amount"))
    contribution: Optional[float] = Field(default=None, description=_d("贡献价值", "contribution value"))
    violations: Optional[int] = Field(default=None, description=_d("统计期内查实违规次数", "confirmed violations"))
    late_payments: Optional[int] = Field(default=None, description=_d("统计期内迟付次数", "late payments"))
    integrity: Optional[float] = Field(default=None, description=_d("诚信价值", "integrity value"))
    own_parts: Optional[OwnParts] = Field(default=None, description=_d("自身价值四项得分", "own-value parts"))
    own: Optional[float] = Field(default=None, description=_d("自身价值（四项平均）", "own value"))
    growth: Optional[float] = Field(default=None, description=_d("增长率（无可比时为空）", "growth; empty without a base"))
    development: Optional[float] = Field(default=None, description=_d("发展价值", "development value"))
    composite: Optional[float] = Field(default=None, description=_d("综合得分", "composite score"))
    # volume_bands mode
    volume: Optional[float] = Field(default=None, description=_d("上月订购量或订购额", "last month's volume"))
    # the steps
    raw_class: str = Field(description=_d("按分数应得类别", "class by score"))
    previous_class: Optional[str] = Field(default=None, description=_d("上次评定类别", "previous class"))
    capped: bool = Field(default=False, description=_d("受每次最多升降级数限制", "held back by the step limit"))
    class_: str = Field(alias="class", description=_d("评定类别", "class"))
    key: bool = Field(default=False, description=_d("重点客户", "key customer"))
    base: Optional[BaseClassResult] = Field(default=None, description=_d("基础分类", "base classification"))


class ClassesFile(Computed):
    """``records/computed/<yyyy-mm>/classes/<department>.yaml``."""

    kind: Literal["retailer_classes"] = "retailer_classes"
    month: str = Field(description=_d("评定月份（当月 1 日起执行）", "month, in force from the 1st"))
    department: str = Field(description=_d("客户服务部", "department"))
    rule: Literal["composite", "volume_bands"] = Field(description=_d("分类规则", "class rule"))
    window: Window = Field(description=_d("统计期", "sales window"))
    weights: dict[str, float] = Field(default_factory=dict, description=_d("四项价值权重", "value weights"))
    classes: dict[str, str] = Field(description=_d("各零售户类别（公示名单）", "class of each retailer"))
    retailers: dict[str, ClassDerivation] = Field(
        default_factory=dict,
        description=_d("各零售户评定过程：只在当前月（计算日所在月）的文件里写出；以前月份用 crmdocs explain 查看",
                       "derivations: only in the current month's file; earlier months via crmdocs explain"),
    )


# ---------------------------------------------------------------- tiers


class TierOverrideRef(Computed):
    tier: int
    reason: str
    approver: str
    date: dt.date
    source: str = Field(description=_d("调整记录文件", "override record file"))


class TierDerivation(Computed):
    name: str = Field(default="", description=_d("店名", "shop name"))
    basis: Literal["ranking", "bands", "new_retailer"] = Field(description=_d("档位来源", "how the tier was set"))
    quantity: Optional[int] = Field(default=None, description=_d("上期订购量（条）", "quantity last period"))
    amount: Optional[float] = Field(default=None, description=_d("上期订购额（元）", "amount last period"))
    capability: Optional[float] = Field(default=None, description=_d("经营能力（经营面积，平方米）", "business capability (floor area)"))
    quantity_rank: Optional[float] = Field(default=None, description=_d("订购量百分位", "percentile rank of quantity"))
    amount_rank: Optional[float] = Field(default=None, description=_d("订购额百分位", "percentile rank of amount"))
    capability_rank: Optional[float] = Field(default=None, description=_d("经营能力百分位", "percentile rank of capability"))
    score: Optional[float] = Field(default=None, description=_d("档位得分", "tier score"))
    score_rank: Optional[float] = Field(default=None, description=_d("得分百分位（ranking 模式）", "percentile of the score"))
    network: Optional[str] = Field(default=None, description=_d("城网/农网（新户）", "network (new retailer)"))
    floor_area: Optional[float] = Field(default=None, description=_d("经营面积（新户）", "floor area (new retailer)"))
    computed_tier: int = Field(description=_d("计算档位", "computed tier"))
    override: Optional[TierOverrideRef] = Field(default=None, description=_d("人工调整（经审核）", "reviewed override"))
    tier: int = Field(description=_d("执行档位", "tier in force"))


class TiersFile(Computed):
    """``records/computed/<period>/tiers/<department>.yaml``: published (公示)."""

    kind: Literal["retailer_tiers"] = "retailer_tiers"
    period: str = Field(description=_d("档位期间", "period"))
    department: str
    mode: Literal["ranking", "bands"]
    count: int = Field(description=_d("最高档", "highest tier"))
    window: Window = Field(description=_d("计算所用的订购期（期间开始之前，公布后不变）", "purchases used: before the period, so the tier is locked"))
    weights: dict[str, float]
    tiers: dict[str, int] = Field(description=_d("各零售户执行档位（公示名单）", "tier of each retailer"))
    retailers: dict[str, TierDerivation] = Field(
        default_factory=dict,
        description=_d("各零售户档位计算过程：只在当前期的文件里写出；以前各期用 crmdocs explain 查看",
                       "derivations: only in the current period's file; earlier periods via crmdocs explain"),
    )


# ---------------------------------------------------------------- limits


class LimitLine(Computed):
    quantity: int = Field(description=_d("统计期订购量（条）", "quantity in the window"))
    turnover: float = Field(description=_d("周转数（条/周）", "turnover, cartons a week"))
    lower: Optional[int] = Field(default=None, description=_d("下限（条）；关闭时为空", "lower limit; empty when off"))
    upper: int = Field(description=_d("上限（条）", "upper limit"))


class BrandLine(Computed):
    quantity: int = Field(description=_d("统计期订购量（条）", "quantity in the window"))
    # share and main are shown on the site but not written to the file: only
    # main brands are listed, and the share is quantity ÷ the total quantity
    share: float = Field(exclude=True, description=_d("占本户订购量比例（不写入文件）", "share of the retailer's quantity; not in the file"))
    main: bool = Field(exclude=True, description=_d("主销品牌（文件只列主销品牌）", "main brand; the file lists main brands only"))
    turnover: float = Field(description=_d("周转数（条/周）", "turnover"))
    lower: Optional[int] = None
    upper: Optional[int] = None


class LimitsDerivation(Computed):
    name: str = ""
    class_: Optional[str] = Field(default=None, alias="class", description=_d("所用类别", "class used"))
    lower_factor: float
    upper_factor: float
    k: float = Field(description=_d("调整系数（已限定在政策范围内）", "adjustment coefficient, within bounds"))
    k_source: Literal["default", "adjustment", "adjustment_bounded"]
    k_requested: Optional[float] = Field(default=None, description=_d("档案里的调整系数", "coefficient in the archive"))
    basis: Literal["history", "class_default"]
    weeks: int = Field(description=_d("周转数的除数：统计期内销售数据已覆盖的周数", "weeks divided by: window weeks the sales data covers"))
    total: LimitLine
    brands: dict[str, BrandLine] = Field(
        default_factory=dict, description=_d("主销品牌（其余品牌只计入总量）", "main brands; the others count in the total only"),
    )


class LimitsFile(Computed):
    """``records/computed/<yyyy-mm>/limits/<department>.yaml``."""

    kind: Literal["retailer_limits"] = "retailer_limits"
    month: str
    department: str
    week: str = Field(description=_d("上下限执行周（计算日所在的 ISO 周）", "ISO week the limits are in force"))
    window: Window = Field(description=_d("周转数统计期（之前若干整周）", "turnover weeks"))
    weeks: int
    lower_limits: bool
    brand_limits: bool
    retailers: dict[str, LimitsDerivation]


# ---------------------------------------------------------------- abnormal orders


class AbnormalOrder(Computed):
    date: dt.date
    retailer: str
    name: str = ""
    rule: Literal["above_upper", "below_lower", "spike", "month_jump"]
    brand: Optional[str] = Field(default=None, description=_d("品牌（按品牌限量时）", "brand, for brand limits"))
    quantity: int = Field(description=_d("订购量（条）", "quantity"))
    limit: Optional[int] = Field(default=None, description=_d("所超的上限或下限", "limit crossed"))
    mean: Optional[float] = Field(default=None, description=_d("前几个订货周期平均", "mean of earlier cycles"))
    previous: Optional[int] = Field(default=None, description=_d("上月订购量", "last month's quantity"))
    ratio: Optional[float] = Field(default=None, description=_d("倍数", "times"))
    # the rule's explanation, shown on the site and in spreadsheets; the file
    # keeps the numbers (rule, quantity, limit, mean, previous, ratio) only
    message: str = Field(exclude=True, description=_d("说明（不写入文件）", "explanation; not in the file"))


class AbnormalFile(Computed):
    """``records/computed/<yyyy-mm>/abnormal/<manager>.yaml``."""

    kind: Literal["abnormal_orders"] = "abnormal_orders"
    month: str
    manager: str
    count: int
    weeks: dict[str, list[AbnormalOrder]] = Field(description=_d("按 ISO 周", "by ISO week"))
