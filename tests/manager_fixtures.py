"""Helpers for the manager-side rule tests (visits, complaints, appraisals,
recalc, explain), on top of the ``mini`` repository of conftest.py.

The mini calendar 2026: 中秋节 09-25 (Fri) … 09-27 (Sun) off, 国庆节
10-01 … 10-07 off, make-up working days Sunday 09-20 and Saturday 10-10.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Optional

from conftest import MiniRepo, sales_csv

from crmdocs.scripts.rules import RulesContext, make_context
from crmdocs.scripts.validate import validate


def plan(mini: MiniRepo, manager: str, day: str, retailers: Iterable[str]) -> str:
    rel = f"plans/{manager}/{day[:4]}/{day}.yaml"
    mini.write(rel, {"manager": manager, "date": day, "visits": [{"retailer": r} for r in retailers]})
    return f"records/{rel}"


def diary(
    mini: MiniRepo, manager: str, day: str, retailers: Iterable[str], review: Optional[dict] = None,
    info: int = 0, absence: Optional[str] = None,
) -> str:
    rel = f"diaries/{manager}/{day[:4]}/{day}.yaml"
    data: dict[str, Any] = {"manager": manager, "date": day,
                            "visits": [{"retailer": r, "time": "10:00"} for r in retailers]}
    if absence:
        data["absence"] = absence
    if info:
        data["market_info"] = [{"category": "price", "content": f"信息 {i + 1}"} for i in range(info)]
    if review is not None:
        data["review"] = {"reviewer": "mm-zhao", "rating": 4, **review}
    mini.write(rel, data)
    return f"records/{rel}"


def add_manager(mini: MiniRepo, pid: str, name: str, unit: str = "d-east", grade: str = "level-3", **extra) -> None:
    mini.write(f"people/{pid}.yaml", {"id": pid, "name": name, "role": "customer_manager", "unit": unit,
                                      "grade": grade, **extra})


def set_sales(mini: MiniRepo, rows: list[dict], month: str = "2026-09") -> None:
    mini.write(f"sales/{month}.csv", sales_csv(rows))


def sale(day: str, retailer: str, brand: str, quantity: int) -> dict:
    return {"date": day, "retailer": retailer, "brand": brand, "quantity": quantity, "amount": float(quantity * 100)}


def context(
    mini: MiniRepo, as_of: Optional[dt.date] = None, handed_in: Optional[dict] = None,
    classes: Optional[dict] = None, check: bool = True,
) -> RulesContext:
    """The rules context of the mini repository (validated: the test data must be valid)."""
    repo, report = validate(mini.root, today=dt.date(2026, 9, 1))
    if check:
        assert report.ok, report.to_text()
    ctx = make_context(repo, handed_in, as_of)
    if classes is not None:
        ctx.shared["classes"] = classes
    return ctx


def run_rules(ctx: RulesContext, *names: str) -> dict:
    """Run rule modules in order on ``ctx``; return the records they produced."""
    import importlib

    out: dict = {}
    for name in names:
        out.update(importlib.import_module(f"crmdocs.scripts.rules.{name}").compute(ctx))
    return out
