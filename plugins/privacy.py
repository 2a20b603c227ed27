"""Personal data on the site: shown on internal builds, masked on public ones.

Personal fields are the retailer archive's ``personal`` group (owner name,
phone, birthday, ID number, care group). Masking happens before anything is
rendered, so a public page — and the search index built from it — never holds
the values. Owner names are masked only when the policy says so
(``privacy.mask_owner_names``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from crmdocs.schemas import Policy, Retailer
from crmdocs.schemas.retailer import CARE_GROUP_ZH

Profile = Literal["public", "internal"]
PROFILES: tuple[str, ...] = ("public", "internal")
MASK = "（已隐藏）"


@dataclass(frozen=True)
class Privacy:
    profile: Profile
    mask_owner_names: bool = True

    @classmethod
    def for_policy(cls, profile: Profile, policy: Optional[Policy]) -> "Privacy":
        mask_names = True if policy is None else policy.privacy.mask_owner_names
        return cls(profile, mask_names)

    @property
    def public(self) -> bool:
        return self.profile == "public"

    @property
    def hides_all(self) -> bool:
        """Every personal field is masked (public profile, owner names masked
        too): pages say so once instead of under each retailer."""
        return self.public and self.mask_owner_names

    def owner_name(self, r: Retailer) -> str:
        if self.public and self.mask_owner_names:
            return MASK
        return r.personal.owner_name

    def phone(self, r: Retailer) -> str:
        if self.public:
            return MASK
        return r.personal.phone or "—"

    def birthday(self, r: Retailer) -> str:
        if self.public:
            return MASK
        return r.personal.birthday.isoformat() if r.personal.birthday else "—"

    def id_number(self, r: Retailer) -> str:
        if self.public:
            return MASK
        return r.personal.id_number or "—"

    def care_group(self, r: Retailer) -> str:
        if self.public:
            return MASK
        return CARE_GROUP_ZH[r.personal.care_group] if r.personal.care_group else "—"

    def rows(self, r: Retailer) -> list[tuple[str, str]]:
        """The personal group as (label, value) rows, masked as the profile says."""
        values = (self.owner_name(r), self.phone(r), self.birthday(r), self.id_number(r), self.care_group(r))
        return list(zip(LABELS, values, strict=True))


LABELS = ("负责人", "联系电话", "生日", "身份证号", "关爱群体")  # Privacy.rows' labels, in its order
