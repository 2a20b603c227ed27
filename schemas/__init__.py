"""crmdocs.schemas: one Pydantic model per record kind (DOMAIN.md §2)."""

from .common import Record
from .daily import Diary, MonthlySummary, Plan, WeeklyAnalysis
from .org import Brand, OrgUnit, Person
from .policy import Policy
from .retailer import Retailer, TierOverride
from .service import Calendar, Complaint, Survey, Targets

__all__ = [
    "Brand", "Calendar", "Complaint", "Diary", "MonthlySummary", "OrgUnit", "Person", "Plan", "Policy",
    "Record", "Retailer", "Survey", "Targets", "TierOverride", "WeeklyAnalysis",
]
