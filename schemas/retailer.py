"""The retailer archive (零售客户经营档案): six groups of information (seed 000)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

from pydantic import Field

from .common import Date, LicenceNo, NonNeg, NumberRecord, OptText, Phone, Record, Slug, Text, desc


class Status(str, Enum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


class Network(str, Enum):
    urban = "urban"
    rural = "rural"


class Format(str, Enum):
    grocery = "grocery"  # 食杂店
    convenience = "convenience"  # 便利店
    supermarket = "supermarket"  # 超市
    mall = "mall"  # 商场
    tobacco_liquor = "tobacco_liquor"  # 烟酒商店
    entertainment = "entertainment"  # 娱乐服务类
    other = "other"  # 其他


FORMAT_ZH = {
    Format.grocery: "食杂店",
    Format.convenience: "便利店",
    Format.supermarket: "超市",
    Format.mall: "商场",
    Format.tobacco_liquor: "烟酒商店",
    Format.entertainment: "娱乐服务类",
    Format.other: "其他",
}
NETWORK_ZH = {Network.urban: "城网", Network.rural: "农网"}
STATUS_ZH = {Status.active: "正常", Status.suspended: "暂停", Status.closed: "歇业"}


class Location(str, Enum):
    residential = "residential"  # 居民区
    commercial = "commercial"  # 商业区
    school = "school"  # 学校周边
    transport = "transport"  # 交通枢纽
    market = "market"  # 集贸市场
    village = "village"  # 村镇
    other = "other"


LOCATION_ZH = {
    Location.residential: "居民区",
    Location.commercial: "商业区",
    Location.school: "学校周边",
    Location.transport: "交通枢纽",
    Location.market: "集贸市场",
    Location.village: "村镇",
    Location.other: "其他",
}


class CareGroup(str, Enum):
    wubaohu = "wubaohu"  # 五保户
    disabled = "disabled"  # 残疾人
    martyr_family = "martyr_family"  # 烈士家属
    low_income = "low_income"  # 低保户
    laid_off = "laid_off"  # 下岗职工


CARE_GROUP_ZH = {
    CareGroup.wubaohu: "五保户",
    CareGroup.disabled: "残疾人",
    CareGroup.martyr_family: "烈士家属",
    CareGroup.low_income: "低保户",
    CareGroup.laid_off: "下岗职工",
}


class Basic(NumberRecord):
    licence_no: LicenceNo = Field(description=desc("烟草专卖零售许可证号（加引号）", "licence number, quoted"))
    licence_expiry: Date = Field(description=desc("许可证有效期至", "licence valid until"))
    shop_name: Text = Field(description=desc("店名", "shop name"))
    address: Text = Field(description=desc("经营地址", "address"))
    district: Text = Field(description=desc("乡镇/街道", "town or street"))
    network: Network = Field(description=desc("城网 urban / 农网 rural", "urban or rural network"))
    format: Format = Field(description=desc("业态", "business format"))
    floor_area: NonNeg = Field(description=desc("经营面积（平方米）", "floor area, m²"))
    business_scope: OptText = Field(default="", description=desc("经营范围", "business scope"))
    location: Location = Field(description=desc("商圈类型", "location type"))
    opened: Optional[Date] = Field(default=None, description=desc("开业（建档）日期", "opened on"))


class Personal(Record):
    """Personal data: masked on public builds."""

    owner_name: Text = Field(description=desc("负责人姓名（个人信息）", "owner name (personal)"))
    phone: Optional[Phone] = Field(default=None, description=desc("联系电话（加引号，个人信息）", "phone, quoted (personal)"))
    birthday: Optional[Date] = Field(default=None, description=desc("生日（个人信息）", "birthday (personal)"))
    id_number: Optional[Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$")]] = Field(
        default=None, description=desc("身份证号（18 位，加引号，个人信息）", "ID number (personal)")
    )
    care_group: Optional[CareGroup] = Field(default=None, description=desc("关爱群体（个人信息）", "care group (personal)"))


class ViolationKind(str, Enum):
    illegal_cigarettes = "illegal_cigarettes"  # 假烟私烟
    cross_region = "cross_region"  # 跨区域经营
    price = "price"  # 价格违规
    licence = "licence"  # 证照违规
    other = "other"


class Violation(Record):
    date: Date = Field(description=desc("日期", "date"))
    kind: ViolationKind = Field(description=desc("违规类型", "kind of violation"))
    confirmed: bool = Field(default=True, description=desc("已查实", "confirmed"))
    note: OptText = Field(default="", description=desc("说明", "note"))


class LatePayment(Record):
    date: Date = Field(description=desc("日期", "date"))
    note: OptText = Field(default="", description=desc("说明", "note"))


class PastManager(Record):
    manager: Slug = Field(description=desc("原客户经理", "earlier customer manager"))
    until: Date = Field(description=desc("交接日期（当天起由下一位负责）", "handed over on"))


class Management(NumberRecord):
    department: Slug = Field(description=desc("所属客户服务部", "customer service department"))
    manager: Slug = Field(description=desc("客户经理编号", "customer manager id"))
    manager_history: list[PastManager] = Field(
        default_factory=list, description=desc("以前的客户经理", "earlier customer managers")
    )
    order_day: Annotated[int, Field(ge=1, le=7)] = Field(description=desc("订货日（1=周一 … 7=周日）", "order weekday, 1=Monday"))
    price_tags: bool = Field(default=True, description=desc("明码标价", "price tags shown"))
    violations: list[Violation] = Field(default_factory=list, description=desc("违规记录", "violations"))
    late_payments: list[LatePayment] = Field(default_factory=list, description=desc("欠款/迟付记录", "late payments"))

    def manager_on(self, day) -> str:
        for past in sorted(self.manager_history, key=lambda p: p.until):
            if day < past.until:
                return past.manager
        return self.manager


class Adjustment(NumberRecord):
    coefficient: Annotated[float, Field(gt=0)] = Field(description=desc("上下限调整系数", "limit adjustment coefficient"))
    reason: Text = Field(description=desc("调整原因", "reason"))
    approver: Slug = Field(description=desc("批准人（市场经理）", "approved by (market manager)"))
    since: Date = Field(description=desc("生效日期", "effective from"))


class Sales(Record):
    adjustment: Optional[Adjustment] = Field(
        default=None, description=desc("上下限调整系数（无则为政策默认）", "limit adjustment; none = policy default")
    )


class Criterion(str, Enum):
    A = "A"  # 遵纪守法
    B = "B"  # 经营规模
    C = "C"  # 品牌结构
    D = "D"  # 店堂形象
    E = "E"  # 忠诚度
    F = "F"  # 合作度


class Evaluation(Record):
    representative: bool = Field(default=False, description=desc("客户代表", "customer representative"))
    representative_criteria: list[Criterion] = Field(
        default_factory=list, description=desc("符合的客户代表条件 A–F", "representative criteria met, A-F")
    )
    image_store: bool = Field(default=False, description=desc("形象店", "image store"))


class Image(NumberRecord):
    level: Annotated[int, Field(ge=0, le=3)] = Field(
        default=0, description=desc("店面形象等级 0 无 / 1 一般 / 2 良好 / 3 优秀", "store image level 0-3")
    )


class Retailer(Record):
    """One retailer's archive. File: ``records/retailers/<department>/<id>.yaml``."""

    id: Slug = Field(description=desc("零售户编号", "retailer id"))
    status: Status = Field(default=Status.active, description=desc("状态：active 正常 / suspended 暂停 / closed 歇业", "status"))
    status_reason: OptText = Field(default="", description=desc("状态原因", "reason for the status"))
    basic: Basic = Field(description=desc("基本信息", "basic information"))
    personal: Personal = Field(description=desc("个人信息（公开站点隐藏）", "personal information (masked)"))
    management: Management = Field(description=desc("管理信息", "management"))
    sales: Sales = Field(default_factory=Sales, description=desc("销售信息", "sales"))
    evaluation: Evaluation = Field(default_factory=Evaluation, description=desc("评价信息", "evaluation"))
    image: Image = Field(default_factory=Image, description=desc("形象信息", "store image"))


class TierOverride(NumberRecord):
    """A reviewed hand override of one retailer's supply tier (档位) for one
    period. File: ``records/tier-overrides/<period>/<retailer>.yaml``."""

    period: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")] = Field(
        description=desc("档位期间，如 2026-10 或 2026-Q4", "tier period")
    )
    retailer: Slug = Field(description=desc("零售户编号", "retailer id"))
    tier: Annotated[int, Field(gt=0)] = Field(description=desc("调整后的档位", "tier set by hand"))
    reason: Text = Field(description=desc("调整原因", "reason"))
    approver: Slug = Field(description=desc("批准人（该零售户所属部门的市场经理）", "approved by the department's market manager"))
    date: Date = Field(description=desc("批准日期", "approved on"))
