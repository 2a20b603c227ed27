"""City-scale timing of the manager-side rules (visits, complaints, appraisals)
and of rendering their computed files, on synthetic in-memory data: 100
customer managers × 200 retailers, a plan and a diary (30 visits) on each of
250 working days (25,000 of each), 1,000 complaints, 12 monthly targets and
≈ 12.5 M sales rows. No files are read, so only the rules are measured.

    .venv/bin/python benchmarks/rules_managers.py          # city
    MN=20 .venv/bin/python benchmarks/rules_managers.py    # county (20 managers)
    .venv/bin/python benchmarks/rules_managers.py prof     # profiled

Figures are CPU seconds of this process (``time.process_time``), which stay
meaningful on a shared, busy machine.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import os
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from retail_fixtures import repo, retailer  # noqa: E402

from crmdocs.schemas import Calendar, Complaint, Person, Targets  # noqa: E402
from crmdocs.schemas.daily import Diary, PlannedVisit, Plan, Review, Visit  # noqa: E402
from crmdocs.scripts import recalc  # noqa: E402
from crmdocs.scripts.rules import appraisals, complaints, make_context, visits  # noqa: E402
from crmdocs.scripts.sales import SalesData  # noqa: E402

M_N, PER, DAYS, B, WEEKS = int(os.environ.get("MN", 100)), 200, 250, 12, 52


def build():
    rng = np.random.default_rng(3)
    managers = [f"cm-{i:03d}" for i in range(M_N)]
    rs = [retailer(f"r-{m * PER + k:05d}", dept="d-east", manager=managers[m]) for m in range(M_N) for k in range(PER)]
    rep = repo(rs)
    for m in managers:
        rep.people[m] = Person(id=m, name=f"经理{m[-3:]}", role="customer_manager", unit="d-east", grade="level-2",
                               emails=[f"{m}@example.com"], hire_date=dt.date(2020, 1, 1))
    rep.calendars = {2026: Calendar(year=2026)}
    days, day = [], dt.date(2026, 1, 1)
    while len(days) < DAYS:
        if day.isoweekday() <= 5:
            days.append(day)
        day += dt.timedelta(days=1)
    review = Review.model_construct(reviewer="mm-zhao", at=None, rating=4, comment="", valuable=[1])
    for mi, m in enumerate(managers):
        mine = [f"r-{mi * PER + k:05d}" for k in range(PER)]
        for i, d in enumerate(days):
            todo = [mine[(i * 30 + k) % PER] for k in range(30)]
            rep.plans[(m, d)] = Plan.model_construct(
                manager=m, date=d, visits=[PlannedVisit.model_construct(retailer=r) for r in todo], note="", approval=None)
            rv = review.model_copy(update={"at": dt.datetime.combine(d, dt.time(18, 0))})
            rep.diaries[(m, d)] = Diary.model_construct(
                manager=m, date=d, absence=None, market_info=[], review=rv,
                visits=[Visit.model_construct(retailer=r, time=dt.time(9, 0)) for r in todo[:27]])
            rep.sources[("plan", (m, d))] = f"records/plans/{m}/2026/{d}.yaml"
            rep.sources[("diary", (m, d))] = f"records/diaries/{m}/2026/{d}.yaml"
    for c in range(1000):
        d = days[c % len(days)]
        received = dt.datetime.combine(d, dt.time(9, 0))
        rep.complaints[f"c-{c:04d}"] = Complaint(
            id=f"c-{c:04d}", received=received, retailer=f"r-{c * 7 % (M_N * PER):05d}", content="断货",
            severity=("general", "major", "special")[c % 3], handler=managers[c % M_N],
            resolved=received + dt.timedelta(days=int(c % 5)))
    for month in range(1, 13):
        period = f"2026-{month:02d}"
        rep.targets[period] = Targets(period=period, targets=[
            {"manager": m, "sales": 12000, "key_brands": 3000} for m in managers])
    rid = sorted(rep.retailers)
    n_r = len(rid)
    w = np.repeat(np.arange(WEEKS), n_r * B)
    r = np.tile(np.repeat(np.arange(n_r), B), WEEKS)
    b = np.tile(np.arange(B), n_r * WEEKS)
    q = rng.integers(0, 8, len(r))
    day0 = np.datetime64("2026-01-05") + (w * 7).astype("timedelta64[D]")
    rep.sales = SalesData.from_arrays(day0, r, b, q, q * 120.0, rid, sorted(rep.brands) or [f"b-{i:02d}" for i in range(B)])
    return rep, days


def main() -> None:
    t = time.process_time()
    rep, days = build()
    print(f"{M_N} managers, {len(rep.retailers):,} retailers, {len(rep.plans):,} plans and diaries, "
          f"{len(rep.sales):,} sales rows; synthetic data {time.process_time() - t:.1f} s")
    ctx = make_context(rep, as_of=days[-1])
    handed = {rep.sources[("diary", k)]: dt.datetime.combine(k[1] + dt.timedelta(days=1), dt.time(8, 0)) for k in rep.diaries}
    ctx.handed_in = handed
    total = 0.0
    out: dict = {}
    for mod in (visits, complaints, appraisals):
        prof = cProfile.Profile() if "prof" in sys.argv else None
        t = time.process_time()
        if prof:
            prof.enable()
        out.update(mod.compute(ctx))
        if prof:
            prof.disable()
        el = time.process_time() - t
        total += el
        print(f"{mod.NAME:10s} {el:6.2f} s CPU")
        if prof:
            pstats.Stats(prof).sort_stats("tottime").print_stats(8)
    t = time.process_time()
    texts = {k: recalc.render_record(v) for k, v in sorted(out.items())}
    el = time.process_time() - t
    print(f"render     {el:6.2f} s CPU  {len(texts)} files, {sum(map(len, texts.values())) / 1e6:.1f} MB")
    print(f"total {total + el:.2f} s CPU")


if __name__ == "__main__":
    main()
