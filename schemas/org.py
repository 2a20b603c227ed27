"""Organisation, people and brands: the records admins keep."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

from pydantic import Field, model_validator

from .common import Date, NumberRecord, OptText, Record, Slug, Text, desc, unique_list
from pydantic import AfterValidator


class UnitKind(str, Enum):
    city = "city"
    county = "county"
    department = "department"


class OrgUnit(Record):
    """An organisation unit: city company, county company, customer service department."""

    id: Slug = Field(description=desc("单位编号", "unit id"))
    name: Text = Field(description=desc("单位名称", "unit name"))
    kind: UnitKind = Field(description=desc("层级：city 市公司 / county 县区公司 / department 客户服务部", "level"))
    parent: Optional[Slug] = Field(default=None, description=desc("上级单位编号", "parent unit id"))

    @model_validator(mode="after")
    def _parent_rule(self):
        from pydantic_core import PydanticCustomError

        if self.kind is not UnitKind.city and self.parent is None:
            raise PydanticCustomError(
                "parent_missing", "县区公司和客户服务部必须写上级单位 parent (parent is required)", {"at": ("parent",)}
            )
        return self


class Role(str, Enum):
    customer_manager = "customer_manager"
    market_manager = "market_manager"
    leader = "leader"
    phone_agent = "phone_agent"
    inspector = "inspector"
    admin = "admin"
    ci = "ci"


ROLE_ZH = {
    Role.customer_manager: "客户经理",
    Role.market_manager: "市场经理",
    Role.leader: "领导",
    Role.phone_agent: "电访员",
    Role.inspector: "专管员",
    Role.admin: "管理员",
    Role.ci: "CI",
}


def _email(value: str) -> str:
    from pydantic_core import PydanticCustomError

    if "@" not in value or value.startswith("@") or value.endswith("@") or " " in value:
        raise PydanticCustomError(
            "email", "邮箱 “{found}” 格式不对 (not an e-mail address)", {"found": value}
        )
    return value.lower()


Email = Annotated[str, AfterValidator(_email)]


# a GitHub/GitLab username, without the @ (GitLab also allows "." and "_")
Handle = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}$")]


class PastUnit(Record):
    unit: Slug = Field(description=desc("原单位", "earlier unit"))
    until: Date = Field(description=desc("调离日期（当天起在下一个单位）", "left on this day"))


class Person(Record):
    """A member of staff. Customer managers carry a grade from the policy's ladder."""

    id: Slug = Field(description=desc("人员编号", "person id"))
    name: Text = Field(description=desc("姓名", "name"))
    role: Role = Field(description=desc("角色", "role"))
    unit: Slug = Field(description=desc("所在单位（当前）", "current unit"))
    emails: Annotated[list[Email], AfterValidator(unique_list)] = Field(
        default_factory=list, description=desc("提交代码用的邮箱", "git e-mail addresses")
    )
    hire_date: Optional[Date] = Field(default=None, description=desc("入职日期", "hire date"))
    active: bool = Field(default=True, description=desc("在岗", "active"))
    grade: Optional[Slug] = Field(
        default=None, description=desc("客户经理等级（见政策 grades）", "customer-manager grade")
    )
    grade_since: Optional[Date] = Field(default=None, description=desc("定级日期", "grade since"))
    unit_history: list[PastUnit] = Field(
        default_factory=list, description=desc("调动前的单位", "earlier units and when they were left")
    )
    github: Optional[Handle] = Field(default=None, description=desc("GitHub 用户名（生成 CODEOWNERS 用）", "GitHub username, for CODEOWNERS"))
    gitlab: Optional[Handle] = Field(default=None, description=desc("GitLab 用户名（生成 CODEOWNERS 用）", "GitLab username, for CODEOWNERS"))
    note: OptText = Field(default="", description=desc("备注", "note"))

    @model_validator(mode="after")
    def _grade_rule(self):
        from pydantic_core import PydanticCustomError

        if self.role is Role.customer_manager and self.grade is None:
            raise PydanticCustomError(
                "grade_missing", "客户经理必须写等级 grade (a customer manager needs a grade)", {"at": ("grade",)}
            )
        if self.role is not Role.customer_manager and self.grade is not None:
            raise PydanticCustomError(
                "grade_not_allowed", "只有客户经理有等级 grade (only customer managers have a grade)", {"at": ("grade",)}
            )
        return self

    def unit_on(self, day) -> str:
        """The unit this person belonged to on ``day``."""
        for past in sorted(self.unit_history, key=lambda p: p.until):
            if day < past.until:
                return past.unit
        return self.unit


class Brand(NumberRecord):
    """A cigarette brand (specification) the company sells."""

    id: Slug = Field(description=desc("品牌规格编号", "brand id"))
    name: Text = Field(description=desc("品牌规格名称", "brand name"))
    price_class: Annotated[int, Field(ge=1, le=5)] = Field(description=desc("价类 1–5（1 最高）", "price class 1-5"))
    price: Annotated[float, Field(gt=0)] = Field(description=desc("批发价（元/条）", "wholesale price per carton, yuan"))
    key: bool = Field(default=False, description=desc("重点品牌", "key brand"))
    scarce: bool = Field(default=False, description=desc("紧俏品牌", "scarce brand"))
