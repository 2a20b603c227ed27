"""crmdocs.schemas: one Pydantic model per record kind (DOMAIN.md §2)."""

from .common import Record
from .daily import Diary, Plan
from .org import Brand, OrgUnit, Person
from .policy import Policy
from .retailer import Retailer, TierOverride
from .service import Calendar, Complaint, Survey, Targets

__all__ = [
    "Brand", "Calendar", "Complaint", "Diary", "OrgUnit", "Person", "Plan", "Policy",
    "Record", "Retailer", "Survey", "Targets", "TierOverride",
]
