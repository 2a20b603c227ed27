"""City-scale timing of the retailer rules (classes, tiers, limits, abnormal)
on synthetic in-memory data: 20,000 retailers × 12 brands × 52 weekly orders
(≈ 12.5 M sales rows), no files, so only the rules are measured.

    .venv/bin/python benchmarks/rules_retailers.py            # all four modules
    RN=4000 .venv/bin/python benchmarks/rules_retailers.py    # county scale
    .venv/bin/python benchmarks/rules_retailers.py limits prof # one module, profiled

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

from crmdocs.scripts.rules import abnormal, classes, limits, make_context, tiers  # noqa: E402
from crmdocs.scripts.sales import SalesData  # noqa: E402

R_N, B, WEEKS = int(os.environ.get("RN", 20000)), 12, 52


def main() -> None:
    rng = np.random.default_rng(7)
    t = time.process_time()
    formats = ["grocery", "convenience", "supermarket", "tobacco_liquor"]
    rs = [
        retailer(f"r-{i:05d}", dept="d-east" if i % 2 else "d-west", manager="cm-li" if i % 3 else "cm-wang",
                 area=float(rng.integers(10, 200)), fmt=formats[i % 4], network="urban" if i % 5 else "rural")
        for i in range(R_N)
    ]
    rid = sorted(r.id for r in rs)
    start = np.datetime64("2025-12-01")
    order_day = rng.integers(0, 7, R_N)
    brands = np.array([rng.choice(60, B, replace=False) for _ in range(R_N)])
    base = rng.gamma(2.0, 5.0, size=(R_N, B)) + 1
    n = R_N * B * WEEKS
    w = np.repeat(np.arange(WEEKS), R_N * B)
    r = np.tile(np.repeat(np.arange(R_N), B), WEEKS)
    b = np.tile(brands.reshape(-1), WEEKS)
    day = start + (w * 7 + order_day[r]).astype("timedelta64[D]")
    q = np.maximum(0, np.rint(np.tile(base.reshape(-1), WEEKS) * rng.normal(1, 0.08, n))).astype(np.int64)
    keep = q > 0
    sales = SalesData.from_arrays(day[keep], r[keep], b[keep], q[keep], q[keep] * 150.0, rid,
                                  [f"b-{i:03d}" for i in range(60)])
    print(f"{R_N:,} retailers, {int(keep.sum()):,} sales rows; synthetic data {time.process_time() - t:.1f} s")
    rep = repo(rs)
    rep.sales = sales
    ctx = make_context(rep, as_of=dt.date(2026, 11, 29))
    wanted = [m for m in (classes, tiers, limits, abnormal) if m.NAME in sys.argv[1:]] or [classes, tiers, limits, abnormal]
    total = 0.0
    for mod in wanted:
        prof = cProfile.Profile() if "prof" in sys.argv else None
        t = time.process_time()
        if prof:
            prof.enable()
        out = mod.compute(ctx)
        if prof:
            prof.disable()
        el = time.process_time() - t
        total += el
        print(f"{mod.NAME:10s} {el:6.2f} s CPU  {len(out)} files")
        if prof:
            pstats.Stats(prof).sort_stats("tottime").print_stats(10)
    print(f"total {total:.2f} s CPU; abnormal orders {len(ctx.shared.get('abnormal', [])):,}")


if __name__ == "__main__":
    main()
