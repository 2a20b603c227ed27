"""Tiny in-memory repositories for the retailer-rule tests (classes, tiers,
limits, abnormal). Built in code: no files, so each test states its numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable, Optional

from crmdocs.schemas import OrgUnit, Person, Policy, Retailer
from crmdocs.scripts.repository import Repository
from crmdocs.scripts.rules import compute_all, make_context
from crmdocs.scripts.sales import SalesData


def retailer(
    rid: str,
    dept: str = "d-east",
    manager: str = "cm-li",
    *,
    network: str = "urban",
    fmt: str = "grocery",
    area: float = 30,
    location: str = "residential",
    image: int = 0,
    status: str = "active",
    adjustment: Optional[dict] = None,
    **management: Any,
) -> Retailer:
    data = {
        "id": rid,
        "status": status,
        "basic": {
            "licence_no": "530102" + rid[-6:].replace("-", "0").rjust(6, "0"),
            "licence_expiry": "2028-12-31",
            "shop_name": f"店{rid}",
            "address": "人民路 1 号",
            "district": "城关镇",
            "network": network,
            "format": fmt,
            "floor_area": area,
            "location": location,
        },
        "personal": {"owner_name": "张三"},
        "management": {"department": dept, "manager": manager, "order_day": 2, **management},
        "image": {"level": image},
    }
    if adjustment is not None:
        data["sales"] = {"adjustment": {"reason": "旺季", "approver": "mm-zhao", "since": "2026-01-01", **adjustment}}
    return Retailer.model_validate(data)


def repo(
    retailers: Iterable[Retailer],
    sales: Iterable[tuple] = (),
    policy: Optional[dict] = None,
    root: Path = Path("/nonexistent"),
) -> Repository:
    r = Repository(root=root)
    r.policy = Policy.model_validate(policy or {})
    r.org = {
        u.id: u
        for u in (
            OrgUnit(id="c-city", name="市公司", kind="city"),
            OrgUnit(id="k-county", name="县公司", kind="county", parent="c-city"),
            OrgUnit(id="k-other", name="另一县", kind="county", parent="c-city"),
            OrgUnit(id="d-east", name="城东", kind="department", parent="k-county"),
            OrgUnit(id="d-west", name="城西", kind="department", parent="k-county"),
            OrgUnit(id="d-far", name="远方", kind="department", parent="k-other"),
        )
    }
    r.people = {
        p.id: p
        for p in (
            Person(id="cm-li", name="李明", role="customer_manager", unit="d-east", grade="level-3", emails=["li@example.com"]),
            Person(id="cm-wang", name="王芳", role="customer_manager", unit="d-east", grade="level-3", emails=["wang@example.com"]),
            Person(id="mm-zhao", name="赵强", role="market_manager", unit="d-east", emails=["zhao@example.com"]),
            Person(id="mm-qian", name="钱伟", role="market_manager", unit="d-west", emails=["qian@example.com"]),
        )
    }
    r.retailers = {x.id: x for x in retailers}
    rows = list(sales)
    r.sales = SalesData.from_rows(rows) if rows else SalesData()
    return r


def ctx_for(repository: Repository, as_of: dt.date):
    return make_context(repository, as_of=as_of)


def run(repository: Repository, as_of: dt.date):
    return compute_all(repository, as_of=as_of)


def weekly(retailer_id: str, brand: str, first: dt.date, weeks: int, quantity: int, price: float = 100.0) -> list[tuple]:
    """One order a week (on ``first`` + 7k) of ``quantity`` cartons."""
    return [
        (first + dt.timedelta(days=7 * k), retailer_id, brand, quantity, quantity * price) for k in range(weeks)
    ]
