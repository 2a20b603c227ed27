"""The demo office: a deterministic, believable branch written as records.

``generate(out, seed=1, scale="county")`` writes a whole ``records/`` folder:
policy, calendar, organisation, people, brands, retailers, monthly sales,
daily plans and diaries with reviews, weekly market analyses and monthly
work summaries (seed 003), complaints, surveys, targets and the hand-in
times imported from the "old system" (``handed-in.csv``).

* Same seed → byte-identical files: one ``random.Random`` per part of the
  office, seeded from the seed and the part's name; no wall clock; every
  iteration sorted.
* County files go through the models and the project's writers
  (``kinds.path_for``, ``yamlwrite.dump_record``/``write_atomic``,
  ``sales.write_sales_csv``), so generator and validator agree by
  construction. The city shape (≈ 50,000 daily files) formats YAML text
  directly with :mod:`crmdocs.scripts.demo_fast`, whose output a test
  compares byte for byte with ``dump_record``.

The office (county shape): 江州市 → 云溪县 → 3 customer service departments,
3 market managers, 9 customer managers, ≈ 900 retailers, 12 brands; sales
2026-06-01 … 2026-11-27 (26 weeks), plans and diaries for every working day
2026-09-01 … 2026-11-27.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from . import demo_words as W
from .workdays import NoCalendar, WorkCalendar

D = dt.date
MOVE_DAY = D(2026, 10, 8)  # a customer manager changes department (first working day after National Day)
HOLIDAYS_2026 = (
    # 国务院办公厅关于2026年部分节假日安排的通知（2025-11-04）
    ("元旦", D(2026, 1, 1), D(2026, 1, 3)),
    ("春节", D(2026, 2, 15), D(2026, 2, 23)),
    ("清明节", D(2026, 4, 4), D(2026, 4, 6)),
    ("劳动节", D(2026, 5, 1), D(2026, 5, 5)),
    ("端午节", D(2026, 6, 19), D(2026, 6, 21)),
    ("中秋节", D(2026, 9, 25), D(2026, 9, 27)),
    ("国庆节", D(2026, 10, 1), D(2026, 10, 7)),
)
WORKDAYS_2026 = (D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10))


@dataclass(frozen=True)
class Shape:
    """How big the office is and which period it covers."""

    scale: str
    counties: int
    departments: int  # per county
    managers: int  # customer managers per department
    retailers: int
    sales_start: dt.date
    sales_end: dt.date
    daily_start: dt.date
    daily_end: dt.date
    brands_per_order: tuple[int, int]
    surveys_per_month: int  # per customer manager
    complaints: int  # in the daily period, whole office
    handed_in: bool = True  # write records/handed-in.csv
    order_rate: tuple[float, float] = (0.985, 0.995)  # chance a shop orders in a week: small, big shops
    line_rate: float = 0.995  # chance a stocked brand is in a week's order


def county_shape() -> Shape:
    return Shape(
        scale="county", counties=1, departments=3, managers=3, retailers=900,
        sales_start=D(2026, 6, 1), sales_end=D(2026, 11, 27),
        daily_start=D(2026, 9, 1), daily_end=D(2026, 11, 27),
        brands_per_order=(3, 7), surveys_per_month=8, complaints=30,
    )


def city_shape(retailers: int = 20_000, managers: int = 100) -> Shape:
    """20,000 retailers, 100 customer managers in 25 departments, a year.
    Smaller sizes (for tests) keep 4 managers per department."""
    per_dept = 4
    departments = max(2, managers // per_dept)
    counties = 5 if departments >= 10 else 1
    return Shape(
        scale="city", counties=counties, departments=departments // counties, managers=per_dept,
        retailers=retailers,
        sales_start=D(2026, 1, 1), sales_end=D(2026, 12, 31),
        daily_start=D(2026, 1, 1), daily_end=D(2026, 12, 31),
        brands_per_order=(12, 12), surveys_per_month=2, complaints=max(10, managers * 12),
        order_rate=(0.97, 0.99), line_rate=1.0,
    )


# ---------------------------------------------------------------- people and places


@dataclass
class Manager:
    id: str
    name: str
    dept: str
    network: str  # urban/rural majority of the territory
    hired: dt.date
    starts: dt.date  # first day with plans and diaries
    previous: Optional[str] = None  # department before MOVE_DAY
    execution: float = 0.92
    territories: list[tuple[dt.date, dt.date, list[int]]] = field(default_factory=list)  # (from, until excl., shops)


@dataclass
class Shop:
    idx: int
    id: str
    dept: str
    district: str
    network: str
    format: str
    weekly: float  # mean cartons a week
    order_day: int
    manager: str = ""
    history: list[tuple[str, dt.date]] = field(default_factory=list)  # (earlier manager, until)
    opened: Optional[dt.date] = None
    stop: Optional[dt.date] = None  # no orders after this day (suspended/closed)
    status: str = "active"
    first_order: Optional[dt.date] = None  # default: the day it opened
    record: dict = field(default_factory=dict)

    def manager_on(self, day: dt.date) -> str:
        for mgr, until in self.history:
            if day < until:
                return mgr
        return self.manager

    def trades_on(self, day: dt.date) -> bool:
        return (self.opened is None or self.opened <= day) and (self.stop is None or day <= self.stop)


class Names:
    """Unique person names and pinyin slugs."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def person(self) -> tuple[str, str]:
        while True:
            s_zh, s_py = self.rng.choice(W.SURNAMES)
            parts = [self.rng.choice(W.GIVEN) for _ in range(self.rng.choice((1, 2, 2)))]
            if len(parts) == 2 and parts[0][0] == parts[1][0]:
                continue
            zh = s_zh + "".join(p[0] for p in parts)
            slug = f"{s_py}-{''.join(p[1] for p in parts)}"
            if slug not in self.used:
                self.used.add(slug)
                return zh, slug


def _pick(rng: random.Random, weighted) -> str:
    items, weights = zip(*weighted)
    return rng.choices(items, weights)[0]


def _id_number(rng: random.Random, region: str, birthday: dt.date) -> str:
    body = f"{region}{birthday:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "137", "150", "151", "158", "159", "186", "187", "133", "177", "189")) + f"{rng.randint(0, 99_999_999):08d}"


# ---------------------------------------------------------------- the office


class Office:
    """Everything the generator decides, before any file is written."""

    def __init__(self, seed: int, shape: Shape):
        self.seed = seed
        self.shape = shape
        self.records: list[tuple[str, dict]] = []  # (kind, data) except the daily ones
        self.org: list[dict] = []
        self.people: list[dict] = []
        self.departments: list[str] = []
        self.dept_name: dict[str, str] = {}
        self.dept_towns: dict[str, tuple[tuple[str, ...], float]] = {}
        self.market_manager: dict[str, str] = {}
        self.managers: list[Manager] = []
        self.shops: list[Shop] = []
        self.brands = [b for b in W.BRANDS]
        self.calendars = self._calendars()
        self.cal = WorkCalendar(self._calendar_models())
        self.special: dict[str, str] = {}  # awkward cases: name -> retailer/manager id
        self.sick: set[tuple[str, dt.date]] = set()
        self.training: set[tuple[str, dt.date]] = set()
        self.no_diary: set[tuple[str, dt.date]] = set()
        self.no_plan: set[tuple[str, dt.date]] = set()
        self.forced: dict[tuple[str, dt.date], list[tuple[int, str]]] = {}  # (manager, day) -> [(shop, purpose)]
        self.complaints: list[dict] = []

    def after(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day``; past the last calendar year,
        Monday to Friday (only hand-in and review times reach that far)."""
        try:
            return self.cal.add_working_days(day, n)
        except NoCalendar:
            while n > 0:
                day += dt.timedelta(days=1)
                if day.isoweekday() <= 5:
                    n -= 1
            return day

    def rng(self, part: str) -> random.Random:
        return random.Random(f"crmdocs-demo-{self.seed}-{part}")

    # -------------------------------------------------------- calendar

    def _calendars(self) -> list[dict]:
        years = sorted({self.shape.sales_start.year, self.shape.daily_end.year})
        out = []
        for year in years:
            if year != 2026:
                raise ValueError(f"demo calendar only knows 2026, not {year}")
            out.append({
                "year": 2026,
                "holidays": [{"name": n, "from": a, "to": b} for n, a, b in HOLIDAYS_2026],
                "workdays": list(WORKDAYS_2026),
            })
        return out

    def _calendar_models(self):
        from crmdocs.schemas import Calendar

        return [Calendar.model_validate(c) for c in self.calendars]

    # -------------------------------------------------------- organisation

    def build_org(self) -> None:
        shape = self.shape
        rng = self.rng("org")
        names = Names(self.rng("names"))
        self.names = names
        domain = "jiangzhou-tobacco.example"
        self.org.append({"id": W.CITY["id"], "name": f"{W.CITY['name']}烟草专卖局（公司）", "kind": "city"})
        if shape.scale == "county":
            counties = [(W.COUNTY["id"], W.COUNTY["name"])]
        else:
            counties = list(W.CITY_COUNTIES[: shape.counties])
        places = list(W.PLACES)
        for ci, (cid, cname) in enumerate(counties):
            self.org.append({"id": cid, "name": f"{cname}营销部", "kind": "county", "parent": W.CITY["id"]})
            for di in range(shape.departments):
                if shape.scale == "county":
                    suffix, zh, towns, urban = W.DEPARTMENTS[di]
                else:
                    suffix, zh = places[(ci * shape.departments + di) % len(places)]
                    if ci * shape.departments + di >= len(places):
                        suffix, zh = f"{suffix}{ci}", f"{zh}{ci}"
                    urban = (0.9, 0.6, 0.3, 0.45, 0.2)[di % 5]
                    towns = tuple(
                        f"{zh}{t}" for t in ("东", "西", "南", "北", "中")
                    )
                    towns = tuple(t + ("街道" if k < 3 and urban > 0.5 else "镇") for k, t in enumerate(towns))
                did = f"d-{suffix}"
                self.departments.append(did)
                self.dept_name[did] = f"{zh}客户服务部"
                self.dept_towns[did] = (towns, urban)
                self.org.append({"id": did, "name": f"{zh}客户服务部", "kind": "department", "parent": cid})

        def person(role: str, prefix: str, unit: str, hired: dt.date, **extra) -> dict:
            zh, slug = names.person()
            pid = f"{prefix}-{slug}"
            d = {"id": pid, "name": zh, "role": role, "unit": unit,
                 "emails": [f"{slug.replace('-', '.')}@{domain}"], "hire_date": hired}
            d.update(extra)
            self.people.append(d)
            return d

        county_id = counties[0][0]
        person("leader", "ld", county_id, D(2009, 3, 1))
        person("admin", "ad", county_id, D(2015, 7, 1))
        self.people.append({"id": "ci-bot", "name": "持续集成", "role": "ci", "unit": county_id,
                            "emails": [f"ci@{domain}"], "note": "CI 身份，只写 records/computed/"})
        grades = ("level-1", "level-3", "level-2", "level-3", "level-2", "level-3", "level-1", "level-3")
        n_dept = len(self.departments)
        for di, did in enumerate(self.departments):
            mm = person("market_manager", "mm", did, D(2008 + di % 8, 4, 1))
            self.market_manager[did] = mm["id"]
            towns, urban = self.dept_towns[did]
            for k in range(shape.managers):
                trainee = di == 1 % n_dept and k == shape.managers - 1
                mover = di == 0 and k == shape.managers - 1 and n_dept > 1
                hired = D(2026, 9, 28) if trainee else D(2012 + rng.randint(0, 12), rng.choice((3, 7, 9)), 1)
                grade = "trainee" if trainee else grades[(di * shape.managers + k) % len(grades)]
                extra: dict[str, Any] = {"grade": grade, "grade_since": hired if trainee else D(max(hired.year + 1, 2023), 1, 1)}
                if mover:
                    extra["unit_history"] = [{"unit": self.departments[1], "until": MOVE_DAY}]
                    extra["note"] = f"{MOVE_DAY} 由{self.dept_name[self.departments[1]]}调入"
                if trainee:
                    extra["note"] = "新入职见习客户经理，岗前培训后接管原片区"
                p = person("customer_manager", "cm", did, hired, **extra)
                m = Manager(p["id"], p["name"], did, "urban" if urban >= 0.5 else "rural", hired,
                            MOVE_DAY if trainee else shape.daily_start,
                            previous=self.departments[1] if mover else None,
                            execution=rng.uniform(0.86, 0.98))
                self.managers.append(m)
                if trainee:
                    self.special["trainee"] = m.id
                    day = hired
                    while day < MOVE_DAY:
                        if self.cal.is_working_day(day) and day >= shape.daily_start:
                            self.training.add((m.id, day))
                        day += dt.timedelta(days=1)
                if mover:
                    self.special["moved_manager"] = m.id
        n_extra = max(1, n_dept // 3)
        for i in range(n_extra):
            did = self.departments[i % n_dept]
            person("phone_agent", "pa", county_id, D(2018, 5, 1))
            person("inspector", "in", did, D(2016, 8, 1))

    # -------------------------------------------------------- brands

    def build_brands(self) -> list[dict]:
        out = []
        for bid, name, pc, price, key, scarce in self.brands:
            d: dict[str, Any] = {"id": bid, "name": name, "price_class": pc, "price": price}
            if key:
                d["key"] = True
            if scarce:
                d["scarce"] = True
            out.append(d)
        return out

    # -------------------------------------------------------- retailers

    def build_retailers(self) -> None:
        shape = self.shape
        rng = self.rng("retailers")
        n_dept = len(self.departments)
        # departments get shares of the retailers; the town centre a bit more
        weights = [1.15 if i == 0 else 1.0 for i in range(n_dept)]
        total = sum(weights)
        counts = [int(shape.retailers * w / total) for w in weights]
        counts[0] += shape.retailers - sum(counts)
        licence_seen: set[str] = set()
        idx = 0
        region = W.COUNTY["code"]
        for di, did in enumerate(self.departments):
            towns, urban_share = self.dept_towns[did]
            shops = []
            for _ in range(counts[di]):
                idx += 1
                town = towns[min(len(towns) - 1, int(rng.random() ** 1.3 * len(towns)))]
                network = "urban" if (rng.random() < urban_share or town.endswith("街道")) else "rural"
                if town.endswith(("乡",)) and rng.random() < 0.9:
                    network = "rural"
                fmt = _pick(rng, W.FORMAT_MIX[network])
                lo, hi = W.AREA[fmt]
                area = round(lo + (hi - lo) * rng.random() ** 1.6, 0)
                size = (area / hi) ** 0.6
                base = {"grocery": 9, "convenience": 16, "supermarket": 30, "mall": 45, "tobacco_liquor": 28,
                        "entertainment": 10, "other": 4}[fmt]
                weekly = max(2.0, base * (0.45 + size) * rng.lognormvariate(0, 0.35) * (1.0 if network == "urban" else 0.75))
                rid = f"r-{idx:05d}"
                shop = Shop(idx - 1, rid, did, town, network, fmt, weekly, rng.randint(1, 5))
                surname, _ = rng.choice(W.SURNAMES)
                given = "".join(g[0] for g in rng.sample(W.GIVEN, rng.choice((1, 2))))
                owner = surname + given
                r = rng.random()
                if r < 0.45:
                    prefix = rng.choice(W.SHOP_PREFIX)
                elif r < 0.65:
                    prefix = f"{surname}记"
                elif r < 0.8:
                    prefix = f"老{surname}"
                else:
                    prefix = town[:-2] if town.endswith("街道") else town[:-1]
                    prefix += rng.choice(("", "佳和", "新", "众"))
                name = prefix + rng.choice(W.FORMAT_SUFFIX[fmt])
                if network == "urban":
                    address = f"{W.COUNTY['name']}{town}{rng.choice(W.ROADS)}{rng.randint(1, 388)}号"
                else:
                    if rng.random() < 0.5:
                        address = f"{W.COUNTY['name']}{town}{rng.choice(W.VILLAGES)}{rng.randint(1, 12)}组"
                    else:
                        address = f"{W.COUNTY['name']}{town}集镇{rng.choice(W.ROADS)}{rng.randint(1, 120)}号"
                while True:
                    lic = f"{region}{rng.randint(100000, 999999)}"
                    if lic not in licence_seen:
                        licence_seen.add(lic)
                        break
                opened_year = rng.randint(2004, 2025)
                opened = D(opened_year, rng.randint(1, 12), rng.randint(1, 28))
                expiry = D(2027 + rng.randint(0, 4), rng.randint(1, 12), rng.randint(1, 28))
                if rng.random() < 0.015:  # renewals due soon → warnings
                    expiry = shape.daily_end + dt.timedelta(days=rng.randint(5, 28))
                basic = {
                    "licence_no": lic, "licence_expiry": expiry, "shop_name": name, "address": address,
                    "district": town, "network": network, "format": fmt, "floor_area": float(area),
                    "business_scope": W.SCOPE[fmt], "location": _pick(rng, W.LOCATION_MIX[network]),
                    "opened": opened,
                }
                personal: dict[str, Any] = {"owner_name": owner, "phone": _phone(rng)}
                if rng.random() < 0.6:
                    birthday = D(rng.randint(1958, 1998), rng.randint(1, 12), rng.randint(1, 28))
                    personal["birthday"] = birthday
                    if rng.random() < 0.5:
                        personal["id_number"] = _id_number(rng, region, birthday)
                if rng.random() < 0.03:
                    personal["care_group"] = rng.choice(("wubaohu", "disabled", "martyr_family", "low_income", "laid_off"))
                shop.record = {"id": rid, "basic": basic, "personal": personal}
                shop.opened = opened
                shops.append(shop)
            self.shops.extend(shops)
        self._assign_territories()
        self._retailer_details(rng)
        self._awkward_retailers(rng)

    def _assign_territories(self) -> None:
        """Each department's shops split among its managers by district; the
        moved manager's and the trainee's territories change hands on MOVE_DAY."""
        for did in self.departments:
            mgrs = [m for m in self.managers if m.dept == did]
            shops = sorted((s for s in self.shops if s.dept == did), key=lambda s: (s.district, s.idx))
            n = len(mgrs)
            chunks = [shops[i * len(shops) // n:(i + 1) * len(shops) // n] for i in range(n)]
            for m, chunk in zip(mgrs, chunks):
                for s in chunk:
                    s.manager = m.id
        moved = self.special.get("moved_manager")
        trainee = self.special.get("trainee")
        if moved and trainee:
            mover = next(m for m in self.managers if m.id == moved)
            first = next(m for m in self.managers if m.dept == mover.dept)
            for s in self.shops:
                if s.manager == moved:  # held by the department's first manager until MOVE_DAY
                    s.history = [(first.id, MOVE_DAY)]
                elif s.manager == trainee:  # the mover's old territory
                    s.history = [(moved, MOVE_DAY)]
        urban: dict[str, list[int]] = {m.id: [0, 0] for m in self.managers}
        for s in self.shops:
            for mid in {s.manager, *(h[0] for h in s.history)}:
                urban[mid][s.network == "urban"] += 1
        for m in self.managers:
            rural_n, urban_n = urban[m.id]
            m.network = "urban" if urban_n >= rural_n else "rural"

    def _retailer_details(self, rng: random.Random) -> None:
        shape = self.shape
        by_size = sorted(self.shops, key=lambda s: (-s.weekly, s.idx))
        reps = {s.id for s in by_size[: int(len(self.shops) * 0.14)] if rng.random() < 0.85}
        for s in self.shops:
            rec = s.record
            mg: dict[str, Any] = {"department": s.dept, "manager": s.manager}
            if s.history:
                mg["manager_history"] = [{"manager": m, "until": u} for m, u in s.history]
            mg["order_day"] = s.order_day
            if rng.random() < 0.06:
                mg["price_tags"] = False
            violations = []
            for _ in range(2 if rng.random() < 0.015 else (1 if rng.random() < 0.06 else 0)):
                day = shape.daily_end - dt.timedelta(days=rng.randint(20, 330))
                kind = rng.choice(("illegal_cigarettes", "cross_region", "price", "price", "licence", "other"))
                violations.append({"date": day, "kind": kind, **({"confirmed": False} if rng.random() < 0.2 else {}),
                                   "note": {"illegal_cigarettes": "店内查获无标识卷烟 2 条", "cross_region": "从外地购进卷烟销售",
                                            "price": "未按规定明码标价", "licence": "许可证未悬挂", "other": "向未成年人售烟被举报"}[kind]})
            if violations:
                mg["violations"] = sorted(violations, key=lambda v: v["date"])
            lates = []
            for _ in range(rng.choice((1, 1, 2, 3)) if rng.random() < 0.05 else 0):
                lates.append({"date": shape.daily_end - dt.timedelta(days=rng.randint(10, 300)), "note": "货款未按时结算"})
            if lates:
                mg["late_payments"] = sorted(lates, key=lambda v: v["date"])
            rec["management"] = mg
            if s.id in reps:
                crit = sorted(rng.sample(["A", "B", "C", "D", "E", "F"], rng.randint(3, 6)))
                rec["evaluation"] = {"representative": True, "representative_criteria": crit}
            if rng.random() < 0.05:
                rec.setdefault("evaluation", {})["image_store"] = True
            level = rng.choices((0, 1, 2, 3), (30, 40, 22, 8))[0]
            if rec.get("evaluation", {}).get("image_store"):
                level = 3
            if level:
                rec["image"] = {"level": level}
        # a few adjustment coefficients, approved by the department's market manager
        candidates = [s for s in by_size[: len(self.shops) // 3] if not s.history]
        for s in sorted(rng.sample(candidates, min(len(candidates), max(3, len(self.shops) // 110))), key=lambda s: s.idx):
            reason, coef = rng.choice(W.ADJUST_REASONS)
            s.record["sales"] = {"adjustment": {"coefficient": coef, "reason": reason,
                                                "approver": self.market_manager[s.dept],
                                                "since": shape.daily_start + dt.timedelta(days=rng.randint(0, 40))}}

    def _awkward_retailers(self, rng: random.Random) -> None:
        shape = self.shape
        end = shape.daily_end
        plain = [s for s in self.shops if not s.history and "sales" not in s.record and not s.record.get("evaluation")]
        chosen = rng.sample(plain, 6)
        # a suspended licence: expired, not renewed
        s = chosen[0]
        expiry = end - dt.timedelta(days=43)
        s.record["basic"]["licence_expiry"] = expiry
        s.status, s.stop = "suspended", expiry
        s.record["status_reason"] = f"许可证已于 {expiry} 到期，未办理延续，暂停供货"
        self.special["suspended"] = s.id
        # a closed shop
        s = chosen[1]
        closed = end - dt.timedelta(days=38)
        s.status, s.stop = "closed", closed
        s.record["status_reason"] = f"{closed} 歇业，店面转让"
        self.special["closed"] = s.id
        # a retailer opened last week: no sales history yet
        s = chosen[2]
        monday = end - dt.timedelta(days=end.weekday())
        opened = monday - dt.timedelta(days=5)  # Wednesday of last week
        s.opened = opened
        s.first_order = opened + dt.timedelta(days=14)  # its first order is still to come
        s.record["basic"]["opened"] = opened
        s.record["basic"]["licence_expiry"] = D(opened.year + 5, opened.month, opened.day)
        self.special["new"] = s.id
        first = self.after(opened, 1)
        self.forced.setdefault((s.manager_on(first), first), []).append((s.idx, "new_retailer"))
        # shops that opened during the sales period: a short history
        for s in chosen[3:5]:
            s.opened = shape.sales_start + dt.timedelta(days=rng.randint(30, 80))
            s.record["basic"]["opened"] = s.opened
        # one with a sudden month jump (a wedding hall opened next door)
        steady = [x for x in plain if x.weekly > 12 and x not in chosen and x.opened and x.opened.year < 2026]
        jumper = rng.choice(steady) if steady else chosen[5]
        self.special["month_jump"] = jumper.id
        self.jump_shop = jumper.idx
        for s in self.shops:
            if s.status != "active":
                s.record["status"] = s.status
            # key order of the model
            rec = s.record
            s.record = {k: rec[k] for k in ("id", "status", "status_reason", "basic", "personal", "management",
                                             "sales", "evaluation", "image") if k in rec}

    # -------------------------------------------------------- sales

    def build_sales(self, sink: Optional[Callable[[str, dict[str, np.ndarray]], None]] = None) -> None:
        """Weekly orders, month by month: ``sink(month, columns)`` gets each
        finished month (``day`` as days since 1970, ``retailer`` and ``brand``
        indexes, ``quantity``, ``cents``), sorted by day, retailer, brand.
        Without a sink the months are kept in ``self.sales``. The totals per
        customer manager (for the targets) are kept in ``self.month_totals``."""
        shape = self.shape
        rng_py = self.rng("sales")
        rng = np.random.default_rng(rng_py.getrandbits(64))
        n, nb = len(self.shops), len(self.brands)
        epoch = D(1970, 1, 1)
        price_cents = np.array([round(b[3] * 100) for b in self.brands], dtype=np.int64)
        classes = np.array([b[2] for b in self.brands])
        weekly = np.array([s.weekly for s in self.shops])
        urban = np.array([s.network == "urban" for s in self.shops])
        big = weekly > np.quantile(weekly, 0.7)
        # brand preference: cheap brands in the villages, dear ones in big town shops
        pref = np.where(urban[:, None], 1.0 / (1 + np.abs(classes[None, :] - 2.6)), 1.0 / (1 + np.abs(classes[None, :] - 3.6)))
        pref = pref * np.where(big[:, None] & (classes[None, :] <= 2), 1.8, 1.0)
        pref = pref * rng.lognormal(0, 0.6, size=(n, nb))
        lo, hi = shape.brands_per_order
        k = rng.integers(lo, hi + 1, size=n) + (big & (hi < nb)).astype(int)
        rank = np.argsort(np.argsort(-pref, axis=1), axis=1)
        stocked = rank < k[:, None]
        share = np.where(stocked, pref, 0)
        share = share / share.sum(axis=1, keepdims=True)
        growth = rng.uniform(-0.35, 0.35, size=n)
        p_order = np.where(big, shape.order_rate[1], shape.order_rate[0])
        order_day = np.array([s.order_day for s in self.shops])
        first = np.array([((s.first_order or s.opened or shape.sales_start) - epoch).days for s in self.shops])
        last = np.array([((s.stop or shape.sales_end) - epoch).days for s in self.shops])
        jump = np.zeros(n)
        jump[self.jump_shop] = 1.0
        jump_month = shape.sales_end.month
        monday0 = shape.sales_start - dt.timedelta(days=shape.sales_start.weekday())
        weeks = []
        w = monday0
        while w <= shape.sales_end:
            weeks.append(w)
            w += dt.timedelta(days=7)
        n_weeks = len(weeks)
        spikes = set()
        pool = [i for i in range(n) if self.shops[i].status == "active" and self.shops[i].opened and
                self.shops[i].opened < shape.sales_start and weekly[i] > 8]
        for i in sorted(rng_py.sample(pool, max(4, n // 150))):
            spikes.add((i, rng_py.randint(n_weeks // 2, n_weeks - 2)))
        # manager of each row: the current one, except shops that changed hands
        mgr_ids = sorted(m.id for m in self.managers)
        mgr_at = {mid: i for i, mid in enumerate(mgr_ids)}
        mgr_code = np.array([mgr_at[s.manager] for s in self.shops], dtype=np.int32)
        moved = np.array([s.idx for s in self.shops if s.history], dtype=np.int64)
        key = np.array([b[4] for b in self.brands])
        self.sales = {}
        self.month_totals: dict[str, dict[str, tuple[float, float]]] = {}
        buffers: dict[str, list] = {}

        def flush(mkey: str) -> None:
            parts = buffers.pop(mkey)
            day = np.concatenate([p[0] for p in parts]).astype(np.int32)
            r = np.concatenate([p[1] for p in parts]).astype(np.int32)
            b = np.concatenate([p[2] for p in parts]).astype(np.int32)
            q = np.concatenate([p[3] for p in parts]).astype(np.int64)
            order = np.lexsort((b, r, day))
            day, r, b, q = day[order], r[order], b[order], q[order]
            mg = mgr_code[r]
            for i in np.nonzero(np.isin(r, moved))[0]:
                mg[i] = mgr_at[self.shops[int(r[i])].manager_on(epoch + dt.timedelta(days=int(day[i])))]
            qs = np.bincount(mg, weights=q, minlength=len(mgr_ids))
            ks = np.bincount(mg, weights=q * key[b], minlength=len(mgr_ids))
            self.month_totals[mkey] = {mid: (float(qs[i]), float(ks[i])) for i, mid in enumerate(mgr_ids)}
            cols = {"day": day, "retailer": r, "brand": b, "quantity": q, "cents": q * price_cents[b]}
            if sink is None:
                self.sales[mkey] = cols
            else:
                sink(mkey, cols)

        for wi, monday in enumerate(weeks):
            # the order date of each order day this week (holidays move to the next working day)
            eff = np.full(8, -1, dtype=np.int64)
            for od in range(1, 8):
                day = monday + dt.timedelta(days=od - 1)
                nxt = day + dt.timedelta(days=7)
                if day < shape.sales_start or day > shape.sales_end:
                    continue
                while day < nxt and day <= shape.sales_end and not self.cal.is_working_day(day):
                    day += dt.timedelta(days=1)
                if day < nxt and shape.sales_start <= day <= shape.sales_end:
                    eff[od] = (day - epoch).days
            days = eff[order_day]
            t = wi / max(1, n_weeks - 1)
            month = monday.month
            # a little more before the holidays (Mid-Autumn and National Day, New Year, Spring Festival)
            season = 1.0 + 0.12 * (month == 9 and monday.day >= 14) + 0.06 * (month == 12) + 0.12 * (month == 1)
            mean = weekly * (1 + growth * (t - 0.5)) * season
            if monday.month == jump_month:
                mean = mean * np.where(jump > 0, 3.2, 1.0)
            ordered = (rng.random(n) < p_order) & (days >= first) & (days <= last) & (days >= 0)
            if monday.month == jump_month:
                ordered = ordered | ((jump > 0) & (days >= 0))
            # retailers order close to their usual quantities (a shop's week varies
            # by ~5 %), each line rounded up or down to whole cartons at random
            week_total = mean * rng.lognormal(0, 0.05, size=n)
            lam = week_total[:, None] * share
            qty = np.floor(lam + rng.random((n, nb))).astype(np.int64)
            qty = np.where(stocked & (rng.random((n, nb)) < shape.line_rate), np.maximum(qty, 1), 0)
            qty[~ordered] = 0
            for i, sw in spikes:
                if sw == wi and ordered[i]:
                    b = int(np.argmax(share[i]))
                    qty[i, b] = max(25, int(qty[i, b]) * 4)
            r_idx, b_idx = np.nonzero(qty)
            if len(r_idx):
                q = qty[r_idx, b_idx].astype(np.int32)
                day_arr = days[r_idx].astype(np.int32)
                for mkey in sorted({(epoch + dt.timedelta(days=int(d))).strftime("%Y-%m") for d in np.unique(day_arr)}):
                    y, mo = int(mkey[:4]), int(mkey[5:])
                    start = (D(y, mo, 1) - epoch).days
                    end = (D(y + (mo == 12), mo % 12 + 1, 1) - epoch).days
                    sel = (day_arr >= start) & (day_arr < end)
                    buffers.setdefault(mkey, []).append((day_arr[sel], r_idx[sel], b_idx[sel].astype(np.int8), q[sel]))
            # months that no later week can reach are finished
            upcoming = (monday + dt.timedelta(days=7)).strftime("%Y-%m")
            for mkey in sorted(buffers):
                if mkey < upcoming:
                    flush(mkey)
        for mkey in sorted(buffers):
            flush(mkey)

    # -------------------------------------------------------- targets

    def build_targets(self) -> list[dict]:
        """Monthly targets near each manager's real sales (completion 70–120 %)."""
        rng = self.rng("targets")
        first, last = self.shape.daily_start.strftime("%Y-%m"), self.shape.daily_end.strftime("%Y-%m")
        out = []
        for mkey in sorted(m for m in self.month_totals if first <= m <= last):
            lines = []
            for m in self.managers:
                q, kq = self.month_totals[mkey].get(m.id, (0.0, 0.0))
                if q == 0:
                    continue
                lines.append({"manager": m.id, "sales": float(round(q / rng.uniform(0.70, 1.20) / 10) * 10),
                              "key_brands": float(round(kq / rng.uniform(0.70, 1.20) / 10) * 10)})
            out.append({"period": mkey, "targets": lines})
        return out

    # -------------------------------------------------------- complaints

    def build_complaints(self) -> list[dict]:
        shape = self.shape
        rng = self.rng("complaints")
        days = self.cal.working_days(shape.daily_start, shape.daily_end)
        active = [s for s in self.shops if s.status == "active" and s.opened and s.opened < shape.daily_start]
        severities = ["special", "special"] + ["major"] * max(2, shape.complaints * 3 // 10) + ["general"] * shape.complaints
        severities = severities[: max(shape.complaints, 6)]
        items = []
        for i, sev in enumerate(severities):
            if i >= 2:
                day = days[min(len(days) - 1, 3 + (i * 37 + rng.randint(0, 5)) % max(1, len(days) - 4))]
            else:  # the two special ones, a few weeks apart
                day = days[min(len(days) - 1, len(days) // 3 + i * 9)]
            items.append((day, sev, rng.choice(active)))
        items.sort(key=lambda t: (t[0], t[2].idx, t[1]))
        leader = next(p["id"] for p in self.people if p["role"] == "leader")
        out = []
        special_seen = 0
        last = days[-1]
        limits = {"general": 1, "major": 3, "special": 7}
        for n, (day, sev, shop) in enumerate(items, start=1):
            handler = shop.manager_on(day)
            received = dt.datetime.combine(day, dt.time(rng.randint(8, 16), rng.choice((5, 12, 20, 35, 40, 50))))
            brand = rng.choice(self.brands)[1]
            content = rng.choice(W.COMPLAINTS[sev]).format(b=brand)
            d: dict[str, Any] = {"id": f"c-{day.year}-{n:04d}", "received": received, "retailer": shop.id}
            channel = rng.choice(("phone", "phone", "visit", "online"))
            if channel != "phone":  # the model's default
                d["channel"] = channel
            d.update({"content": content, "severity": sev, "handler": handler})
            if sev == "special":
                special_seen += 1
                if special_seen == 1:
                    d["approver"] = self.market_manager[shop.dept] if rng.random() < 0.5 else leader
            # how long it took: mostly in time, some overdue, the newest still open
            allowed = limits[sev] if (sev != "special" or "approver" in d) else 3
            r = rng.random()
            if n == len(items) or n == len(items) // 2:  # the newest, and one long overdue: still open
                took = None
            elif r < 0.72:
                took = rng.randint(0, allowed)
            elif r < 0.9:
                took = allowed + rng.randint(1, 3)
            elif r < 0.95:
                took = rng.randint(0, allowed)
            else:
                took = None
            resolved_day = self.after(day, took) if took is not None else None
            if took is not None and took == 0:
                resolved_day = day
            if resolved_day is not None and resolved_day > last:
                resolved_day = None
            actions = [{"at": received + dt.timedelta(minutes=rng.randint(20, 90)), "by": handler, "text": W.COMPLAINT_ACTIONS[0]}]
            if resolved_day is not None:
                at = dt.datetime.combine(resolved_day, dt.time(rng.randint(14, 17), rng.choice((0, 15, 30, 45))))
                if at <= actions[0]["at"]:
                    at = actions[0]["at"] + dt.timedelta(hours=1)
                actions.append({"at": at - dt.timedelta(minutes=30), "by": handler, "text": rng.choice(W.COMPLAINT_ACTIONS[1:])})
                d["actions"] = actions
                d["resolved"] = at
                d["result"] = rng.choice(W.COMPLAINT_RESULTS)
                d["satisfied"] = rng.random() < 0.85
            else:
                d["actions"] = actions
            out.append(d)
            follow = self.after(day, 1)
            if follow <= shape.daily_end:
                self.forced.setdefault((shop.manager_on(follow), follow), []).append((shop.idx, "complaint"))
        self.complaints = out
        return out

    # -------------------------------------------------------- daily plans and diaries

    def plan_days(self) -> None:
        """Pick the awkward days: a sick day, missing diaries and plans."""
        shape = self.shape
        rng = self.rng("days")
        days = self.cal.working_days(shape.daily_start, shape.daily_end)
        mgrs = sorted(self.managers, key=lambda m: m.id)
        sick_mgr = next(m for m in mgrs if m.id not in self.special.values())
        sick_day = days[len(days) * 2 // 3]
        self.sick.add((sick_mgr.id, sick_day))
        self.special["sick"] = f"{sick_mgr.id}/{sick_day}"
        n_missing = max(3, len(mgrs) * len(days) // 180)
        middle = days[5:-3] or days
        for _ in range(n_missing):
            m = rng.choice(mgrs)
            day = rng.choice(middle)
            if (m.id, day) not in self.sick and day >= m.starts:
                self.no_diary.add((m.id, day))
        for _ in range(max(2, n_missing // 2)):
            m = rng.choice(mgrs)
            day = rng.choice(middle)
            if (m.id, day) not in self.sick and (m.id, day) not in self.no_diary and day >= m.starts:
                self.no_plan.add((m.id, day))

    def territory(self, manager: str, day: dt.date) -> list[Shop]:
        return [s for s in self._candidates[manager] if s.manager_on(day) == manager and s.trades_on(day)]

    def daily_for(self, m: Manager) -> list[tuple[str, dict, Optional[dt.datetime]]]:
        """Plans and diaries of one manager: ("plan"|"diary", data, handed in at)."""
        shape = self.shape
        rng = self.rng(f"daily-{m.id}")
        days = self.cal.working_days(max(shape.daily_start, m.hired), shape.daily_end)
        out: list[tuple[str, dict, Optional[dt.datetime]]] = []
        pointer = rng.randint(0, 1000)
        brand_names = [b[1] for b in self.brands]
        brand_ids = [b[0] for b in self.brands]
        scarce = [b[0] for b in self.brands if b[5] or b[4]]
        mm_cache: dict[str, str] = {}
        last_days = set(days[-2:])
        for day in days:
            key = (m.id, day)
            dept = m.previous if (m.previous and day < MOVE_DAY) else m.dept
            mm = self.market_manager[dept]
            if key in self.training or key in self.sick:
                absence = "training" if key in self.training else "sick"
                note = "岗前培训" if absence == "training" else "病假"
                out.append(("plan", {"manager": m.id, "date": day, "note": note}, self._handed_plan(rng, day)))
                diary = {"manager": m.id, "date": day, "absence": absence}
                if absence == "training":
                    diary["business_analysis"] = "参加新入职客户经理岗前培训：客户经理制度、订货系统、卷烟真伪鉴别。"
                out.append(("diary", diary, self._handed_diary(rng, day)))
                continue
            terr = self.territory(m.id, day)
            if not terr:
                continue
            big_cut = sorted(s.weekly for s in terr)[int(len(terr) * 0.8)]
            big = [s for s in terr if s.weekly >= big_cut]
            rest = [s for s in terr if s.weekly < big_cut]
            slot = min(day.weekday(), 4)
            chosen: list[tuple[Shop, str]] = [(s, "routine") for i, s in enumerate(big) if i % 5 == slot]
            have = {s.idx for s, _ in chosen}
            for idx, purpose in self.forced.get(key, []):
                shop = self.shops[idx]
                if shop.manager_on(day) == m.id and shop.trades_on(day):
                    if idx in have:
                        chosen = [(s, purpose if s.idx == idx else p) for s, p in chosen]
                    else:
                        chosen.insert(0, (shop, purpose))
                        have.add(idx)
            if m.network == "urban":
                target = rng.randint(30, 35)
            else:
                target = rng.randint(25, 32)
            if rng.random() < 0.04:
                target = rng.randint(20, 24)
            target = min(target, len(terr))
            guard = 0
            while len(chosen) < target and rest and guard < len(rest) * 2:
                s = rest[pointer % len(rest)]
                pointer += 1
                guard += 1
                if s.idx not in have:
                    have.add(s.idx)
                    r = rng.random()
                    purpose = "routine" if r < 0.78 else ("brand_promotion" if r < 0.9 else ("policy_briefing" if r < 0.95 else "information"))
                    chosen.append((s, purpose))
            visits_plan = []
            for s, purpose in chosen:
                v: dict[str, Any] = {"retailer": s.id}
                if purpose != "routine":
                    v["purpose"] = purpose
                visits_plan.append(v)
            plan: dict[str, Any] = {"manager": m.id, "date": day, "visits": visits_plan}
            plan_in = self._handed_plan(rng, day)
            if rng.random() < 0.93:
                at_base = plan_in or dt.datetime.combine(day, dt.time(8, 0))
                at = max(at_base, dt.datetime.combine(day, dt.time(7, 50))) + dt.timedelta(minutes=rng.randint(5, 40))
                appr: dict[str, Any] = {"by": mm, "at": at}
                comment = rng.choice(W.PLAN_COMMENTS)
                if comment:
                    appr["comment"] = comment
                plan["approval"] = appr
            if key not in self.no_plan:
                out.append(("plan", plan, plan_in))
            if key in self.no_diary:
                continue
            # the diary: most planned visits done, now and then one unplanned
            done = [(s, p) for s, p in chosen if rng.random() < m.execution]
            if rng.random() < 0.1:
                extra = [s for s in terr if s.idx not in have]
                if extra:
                    done.append((rng.choice(extra), "information"))
            if not done:
                done = chosen[:1]
            clock = dt.datetime.combine(day, dt.time(8, 35)) + dt.timedelta(minutes=rng.randint(0, 20))
            visits = []
            for i, (s, purpose) in enumerate(done):
                if clock.hour == 12 or (clock.hour == 11 and clock.minute > 45):
                    clock = clock.replace(hour=13, minute=30) + dt.timedelta(minutes=rng.randint(0, 15))
                v = {"retailer": s.id, "time": clock.time().replace(second=0)}
                if purpose != "routine":
                    v["purpose"] = purpose
                findings: dict[str, Any] = {}
                r = rng.random()
                findings["price_tags"] = "ok" if r < 0.86 else ("partial" if r < 0.96 else "missing")
                r = rng.random()
                findings["display"] = "good" if r < 0.55 else ("fair" if r < 0.93 else "poor")
                if rng.random() < 0.004:
                    findings["suspected_illegal"] = True
                if rng.random() < 0.08:
                    findings["stock_outs"] = sorted(rng.sample(scarce, rng.randint(1, 2)))
                v["findings"] = findings
                if rng.random() < 0.3:
                    v["brand_feedback"] = rng.choice(W.BRAND_FEEDBACK).format(b=rng.choice(brand_names))
                if rng.random() < 0.15:
                    v["opinions"] = rng.choice(W.OPINIONS)
                if rng.random() < 0.2:
                    v["help_given"] = rng.choice(W.HELP)
                if rng.random() < 0.08 or purpose == "complaint":
                    v["follow_up"] = rng.choice(W.FOLLOW_UP)
                visits.append(v)
                step = rng.randint(9, 14) if len(done) > 30 else rng.randint(10, 18)
                clock += dt.timedelta(minutes=step)
                if clock.hour >= 18:
                    clock = clock.replace(hour=17, minute=55)
            b1, b2 = rng.sample(brand_names, 2)
            district = terr[0].district
            diary: dict[str, Any] = {"manager": m.id, "date": day, "visits": visits}
            diary["business_analysis"] = (
                f"今日拜访 {len(visits)} 户（计划 {len(chosen)} 户），整体动销{rng.choice(W.TRENDS)}。"
                f"{b1}需求旺盛，{b2}库存偏高，建议{rng.choice(W.ADVICE)}。"
            )
            price = rng.choice((80, 100, 130, 160, 200))
            diary["market_analysis"] = f"{district}" + rng.choice(W.MARKET_VIEWS).format(p=price, t=rng.choice(("上升", "平稳", "回落")))
            n_info = rng.choices((0, 1, 2, 3), (30, 38, 22, 10))[0]
            infos = []
            for _ in range(n_info):
                cat = rng.choice(("price", "price", "competitor", "consumption", "consumption", "policy", "violation"))
                bi = rng.randrange(len(self.brands))
                text = rng.choice(W.INFO[cat]).format(
                    b=brand_names[bi], p=round(self.brands[bi][3] * 1.1 / 5) * 5,
                    d=rng.choice(("上涨 5 元", "下降 5 元", "持平")), n=rng.choice((5, 10, 15)),
                )
                item: dict[str, Any] = {"category": cat, "content": text}
                if cat in ("price", "violation") and rng.random() < 0.6:
                    item["retailer"] = rng.choice(visits)["retailer"]
                if "{b}" in text or brand_names[bi] in text:
                    item["brand"] = brand_ids[bi]
                infos.append(item)
            if infos:
                diary["market_info"] = infos
            diary_in = self._handed_diary(rng, day)
            if day not in last_days and rng.random() < 0.9:
                lag = rng.choices((0, 1, 2, 3, 4), (8, 55, 25, 8, 4))[0]
                rday = self.after(day, lag) if lag else day
                at = dt.datetime.combine(rday, dt.time(rng.randint(8, 17) if lag else rng.randint(18, 21), rng.randint(0, 59)))
                if diary_in is not None and at <= diary_in:
                    at = diary_in + dt.timedelta(minutes=rng.randint(30, 240))
                if at.date() <= shape.daily_end:
                    review: dict[str, Any] = {"reviewer": mm, "at": at, "rating": rng.choices((2, 3, 4, 5), (5, 25, 50, 20))[0]}
                    if rng.random() < 0.7:
                        review["comment"] = rng.choice(W.REVIEW_COMMENTS)
                    valuable = [i + 1 for i in range(len(infos)) if rng.random() < 0.45]
                    if valuable:
                        review["valuable"] = valuable
                    diary["review"] = review
            out.append(("diary", diary, diary_in))
        return out

    def _handed_plan(self, rng: random.Random, day: dt.date) -> Optional[dt.datetime]:
        r = rng.random()
        if r < 0.03:
            return None  # not in the old system's log
        if r < 0.90:
            return dt.datetime.combine(day, dt.time(7, 30)) + dt.timedelta(minutes=rng.randint(0, 59))
        return dt.datetime.combine(day, dt.time(8, 31)) + dt.timedelta(minutes=rng.randint(0, 90))

    def _handed_diary(self, rng: random.Random, day: dt.date) -> Optional[dt.datetime]:
        r = rng.random()
        evening = dt.datetime.combine(day, dt.time(17, 0)) + dt.timedelta(minutes=rng.randint(0, 299))
        if r < 0.04:
            return None  # not in the old system's log
        if r < 0.62:
            return evening
        if r < 0.91:
            at = dt.datetime.combine(self.after(day, 1), dt.time(7, 20)) + dt.timedelta(minutes=rng.randint(0, 99))
        elif r < 0.97:
            at = dt.datetime.combine(self.after(day, 1), dt.time(9, 5)) + dt.timedelta(minutes=rng.randint(0, 180))
        else:
            at = dt.datetime.combine(self.after(day, 2), dt.time(10, 0)) + dt.timedelta(minutes=rng.randint(0, 300))
        # nothing is known after the last day of the records
        return at if at.date() <= self.shape.daily_end else evening

    # -------------------------------------------------------- weekly analyses, monthly summaries (seed 003)

    def periodic_for(self, m: Manager, diaries: list[dict]) -> list[tuple[str, dict]]:
        """One market analysis per ISO week and one work summary per month in
        which ``m`` wrote diaries (their own random stream: the daily records
        do not change). Observations are taken from the week's diaries' market
        information; figures are counted from the month's diaries. Reviews by
        the department's market manager (the department on the period's last
        day) when that falls within the records' period."""
        from crmdocs.schemas.daily import week_bounds, week_of

        from .periods import bounds

        rng = self.rng(f"periodic-{m.id}")
        if not hasattr(self, "_shop_by_id"):
            self._shop_by_id = {s.id: s for s in self.shops}
        brand_names = [b[1] for b in self.brands]
        weeks: dict[str, list[dict]] = {}
        months: dict[str, list[dict]] = {}
        for d in diaries:
            weeks.setdefault(week_of(d["date"]), []).append(d)
            months.setdefault(d["date"].strftime("%Y-%m"), []).append(d)
        out: list[tuple[str, dict]] = []

        def review(last: dt.date, comments: tuple[str, ...], chance: float) -> Optional[dict]:
            if rng.random() >= chance:
                return None
            rday = self.after(last, rng.choice((1, 1, 1, 2, 3)))
            at = dt.datetime.combine(rday, dt.time(rng.randint(9, 17), rng.randint(0, 59)))
            if at.date() > self.shape.daily_end:
                return None
            dept = m.previous if (m.previous and last < MOVE_DAY) else m.dept
            r: dict[str, Any] = {"reviewer": self.market_manager[dept], "at": at, "rating": rng.choices((3, 4, 5), (25, 55, 20))[0]}
            comment = rng.choice(comments)
            if comment:
                r["comment"] = comment
            return r

        for week, days in sorted(weeks.items()):
            visits = sum(len(d.get("visits", ())) for d in days)
            first_visit = next((v for d in days for v in d.get("visits", ())), None)
            district = self._shop_by_id[first_visit["retailer"]].district if first_visit else "片区"
            situation = rng.choice(W.WEEK_SITUATION).format(
                d=district, t=rng.choice(W.TRENDS), n=visits, b=rng.choice(brand_names), p=rng.choice((80, 100, 130, 160, 200)),
            )
            pool = [item for d in days for item in d.get("market_info", ())]
            seen: set[str] = set()
            observations = []
            for item in rng.sample(pool, len(pool)):
                if item["content"] not in seen and len(observations) < 3:
                    seen.add(item["content"])
                    observations.append(dict(item))
            data: dict[str, Any] = {"manager": m.id, "week": week, "market_situation": situation}
            if observations:
                data["observations"] = observations
            for key, words in (("problems", W.WEEK_PROBLEMS), ("suggestions", W.WEEK_SUGGESTIONS)):
                text = rng.choice(words)
                if text:
                    data[key] = text
            r = review(week_bounds(week)[1], W.ANALYSIS_REVIEW_COMMENTS, 0.85)
            if r is not None:
                valuable = [i + 1 for i in range(len(observations)) if rng.random() < 0.3]
                if valuable:
                    r["valuable"] = valuable
                data["review"] = r
            out.append(("analysis", data))
        for month, days in sorted(months.items()):
            visits = sum(len(d.get("visits", ())) for d in days)
            working = sum(1 for d in days if d.get("visits"))
            infos = sum(len(d.get("market_info", ())) for d in days)
            results = [
                {"label": "拜访户次", "value": float(visits), "unit": "户次"},
                {"label": "日均拜访", "value": round(visits / working, 1) if working else 0.0, "unit": "户"},
                {"label": "日记", "value": float(len(days)), "unit": "篇"},
                {"label": "上报市场信息", "value": float(infos), "unit": "条"},
            ]
            data = {"manager": m.id, "month": month, "work_done": rng.choice(W.MONTH_WORK), "results": results}
            text = rng.choice(W.MONTH_PROBLEMS)
            if text:
                data["problems"] = text
            data["next_month"] = rng.choice(W.NEXT_MONTH)
            r = review(bounds(month)[1], W.SUMMARY_REVIEW_COMMENTS, 0.9)
            if r is not None:
                data["review"] = r
            out.append(("summary", data))
        return out

    def prepare_daily(self) -> None:
        self._candidates: dict[str, list[Shop]] = {m.id: [] for m in self.managers}
        for s in self.shops:
            for mid in sorted({s.manager, *(h[0] for h in s.history)}):
                self._candidates[mid].append(s)
        for lst in self._candidates.values():
            lst.sort(key=lambda s: (s.district, s.idx))

    # -------------------------------------------------------- surveys

    def build_surveys(self, diaries: list[dict]) -> list[dict]:
        """Visit reports for retailers seen in diaries; that visit's purpose
        becomes ``survey``. Each manager draws from their own random stream,
        so managers can be generated in parallel."""
        by_mgr_month: dict[tuple[str, str], list[tuple[dt.date, dict]]] = {}
        for diary in diaries:
            for v in diary.get("visits", []):
                by_mgr_month.setdefault((diary["manager"], diary["date"].strftime("%Y-%m")), []).append((diary["date"], v))
        out = []
        q_words = (("非常优良", 12), ("优良", 40), ("良好", 30), ("一般", 12), ("合格", 5), ("不合格", 1))
        s_words = (("非常优良", 15), ("优良", 40), ("良好", 28), ("一般", 13), ("不好", 3), ("恶劣", 1))
        a_words = (("非常驰名", 10), ("驰名", 25), ("知名度高", 25), ("知名度较高", 20), ("知名", 12), ("知道", 6), ("不知道", 2))
        rngs: dict[str, random.Random] = {}
        for (mid, month), visits in sorted(by_mgr_month.items(), key=lambda kv: kv[0]):
            rng = rngs.setdefault(mid, self.rng(f"surveys-{mid}"))
            seen: set[str] = set()
            picks = rng.sample(range(len(visits)), min(len(visits), self.shape.surveys_per_month * 3))
            for i in picks:
                day, v = visits[i]
                if v["retailer"] in seen:
                    continue
                seen.add(v["retailer"])
                v["purpose"] = "survey"
                # keep the model's key order: retailer, time, purpose, findings, ...
                ordered = {k: v[k] for k in ("retailer", "time", "purpose", "findings", "brand_feedback", "opinions",
                                             "help_given", "follow_up") if k in v}
                v.clear()
                v.update(ordered)
                d: dict[str, Any] = {"id": f"s-{month}-{v['retailer']}", "retailer": v["retailer"], "period": month,
                                     "date": day, "surveyor": mid, "quality": _pick(rng, q_words),
                                     "service": _pick(rng, s_words), "brand_awareness": _pick(rng, a_words)}
                op = rng.choice(W.SURVEY_OPINIONS)
                if op:
                    d["opinions"] = op
                out.append(d)
                if len(seen) >= self.shape.surveys_per_month:
                    break
        out.sort(key=lambda d: d["id"])
        return out


# ---------------------------------------------------------------- the policy file

POLICY_HEADER = """\
# 政策文件（policy）：本单位客户经理制度的全部规则参数。
# 零售户分类权重与分数线、订货上下限系数、拜访周期、提交时限、投诉时限、
# 客户经理考核指标与等级升降规则，都在这里改，程序里没有写死的数字。
# 修改须由管理员（admin）提交，合并后 CI 会按新政策重新计算。
# The office's rules: every weight, threshold, ladder and deadline. Edit here, never in code.
"""

CALENDAR_HEADER = """\
# 工作日历：按《国务院办公厅关于2026年部分节假日安排的通知》（2025-11-04）。
# holidays 为放假日期（含首尾），workdays 为调休上班的周六、周日。
# Working days of 2026: public holidays and make-up working days (调休).
"""


def policy_text() -> str:
    from crmdocs.schemas import Policy

    from .yamlwrite import dumps

    return dumps(Policy().model_dump(mode="python", by_alias=True), header=POLICY_HEADER)


# ---------------------------------------------------------------- writing


@dataclass
class Summary:
    scale: str
    files: int = 0
    retailers: int = 0
    managers: int = 0
    plans: int = 0
    diaries: int = 0
    sales_rows: int = 0
    complaints: int = 0
    surveys: int = 0
    seconds: float = 0.0
    special: dict[str, str] = field(default_factory=dict)


def build(seed: int, shape: Shape) -> Office:
    office = Office(seed, shape)
    office.build_org()
    office.build_retailers()
    office.build_complaints()
    office.plan_days()
    office.prepare_daily()
    return office


def generate(
    out: Path | str,
    seed: int = 1,
    scale: str = "county",
    retailers: Optional[int] = None,
    managers: Optional[int] = None,
    jobs: int = 1,
    progress: Optional[Callable[[str], None]] = None,
    until: Optional[dt.date] = None,
) -> Summary:
    """Write the demo office into ``out`` (the ``records/`` folder).

    ``retailers``, ``managers`` and ``until`` (last day of plans and diaries)
    shrink the city shape for tests and county-sized benchmarks."""
    if scale == "county":
        if retailers or managers or until:
            raise ValueError("--retailers/--managers/--until only apply to --scale city")
        from .demo_county import write_county

        return write_county(Path(out), seed, county_shape(), progress)
    if scale == "city":
        from .demo_city import write_city

        shape = city_shape(retailers or 20_000, managers or 100)
        if until is not None:
            if not shape.daily_start < until <= shape.daily_end:
                raise ValueError(f"--until must lie in {shape.daily_start.year}")
            shape = dataclasses.replace(shape, daily_end=until)
        return write_city(Path(out), seed, shape, jobs, progress)
    raise ValueError(f"unknown scale {scale!r}")
