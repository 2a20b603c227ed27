"""Writing the city-shaped demo office fast: ≈ 50,000 daily files and a
year of weekly sales (≈ 12.5 M rows, gzip-compressed monthly CSVs).

* YAML text comes from :mod:`crmdocs.scripts.demo_fast` (no Pydantic round
  trip per file; a sample is validated with the models at the end).
* Work is split into tasks (the sales, retailer batches, groups of customer
  managers) run by forked worker processes that share the office built in
  the parent; every task draws from its own random stream, so the files do
  not depend on the number of processes.
* Everything is written into a staging folder next to ``out`` and moved into
  place at the end: a killed run leaves no half-written office.
"""

from __future__ import annotations

import datetime as dt
import gzip
import multiprocessing
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from . import demo_fast
from .demo import CALENDAR_HEADER, Office, Shape, Summary, build, policy_text
from .demo_county import MARKER, check_target, handed_in_csv
from .diagnostics import CrmdocsError
from .kinds import BY_NAME, RECORDS, path_for
from .sales import COLUMNS
from .yamlwrite import write_atomic

EPOCH = dt.date(1970, 1, 1)
_OFFICE: Optional[Office] = None  # shared with forked workers
_STAGE: Optional[Path] = None


class Files:
    """Plain writes into the staging folder (it is moved into place whole)."""

    def __init__(self, root: Path):
        self.root = root
        self.dirs: set[Path] = set()
        self.count = 0
        self.bytes = 0

    def write(self, rel: str, text: str | bytes) -> None:
        path = self.root / rel
        if path.parent not in self.dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.dirs.add(path.parent)
        data = text.encode("utf-8") if isinstance(text, str) else text
        with open(path, "wb") as fh:
            fh.write(data)
        self.count += 1
        self.bytes += len(data)


def _daily_path(kind: str, data: dict) -> str:
    folder = "plans" if kind == "plan" else "diaries"
    return f"{folder}/{data['manager']}/{data['date'].year}/{data['date'].isoformat()}.yaml"


class _Periodic:
    """A weekly analysis or monthly summary dict seen as ``kinds.path_for`` reads a record."""

    def __init__(self, data: dict):
        self.manager = data["manager"]
        self.week = data.get("week", "")
        self.month = data.get("month", "")


def write_month_csv_gz(path: Path, cols: dict[str, np.ndarray], r_ids: list[str], b_ids: list[str]) -> int:
    """One month as ``<yyyy-mm>.csv.gz`` (pyarrow formats, gzip in C++)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    day = cols["day"]
    uniq, inverse = np.unique(day, return_inverse=True)
    day_txt = pa.array([(EPOCH + dt.timedelta(days=int(d))).isoformat() for d in uniq]).take(pa.array(inverse.astype(np.int32)))
    cents = pa.array(cols["cents"])
    yuan = pc.cast(pc.divide(cents, 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pc.subtract(cents, pc.multiply(pc.divide(cents, 100), 100)), pa.string()), width=2, padding="0")
    amount = pc.binary_join_element_wise(yuan, frac, ".")
    table = pa.table({
        "date": day_txt,
        "retailer": pa.array(r_ids).take(pa.array(cols["retailer"])),
        "brand": pa.array(b_ids).take(pa.array(cols["brand"])),
        "quantity": pa.array(cols["quantity"].astype(np.int64)),
        "amount": amount,
    })
    buf = pa.BufferOutputStream()
    buf.write((",".join(COLUMNS) + "\n").encode())
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16))
    # zlib level 6 in Python is ~5x faster than pyarrow's gzip stream here; mtime=0 keeps it byte-stable
    write_atomic(path, gzip.compress(buf.getvalue().to_pybytes(), compresslevel=6, mtime=0))
    return table.num_rows


# ---------------------------------------------------------------- tasks (run in workers)


def _task(task: tuple) -> dict[str, Any]:
    office, stage = _OFFICE, _STAGE
    assert office is not None and stage is not None
    files = Files(stage)
    kind = task[0]
    result: dict[str, Any] = {"task": task, "files": 0, "rows": 0, "plans": 0, "diaries": 0, "surveys": 0,
                              "handed": [], "samples": [], "totals": {}}
    if kind == "sales":
        # the year is generated in each sales task (it is cheap); each writes
        # every other month, so formatting and compression use both cores
        part, parts = task[1], task[2]
        r_ids = [s.id for s in office.shops]
        b_ids = [b[0] for b in office.brands]
        (stage / "sales").mkdir(parents=True, exist_ok=True)

        def sink(month: str, cols: dict[str, np.ndarray]) -> None:
            if int(month[5:7]) % parts == part:
                result["rows"] += write_month_csv_gz(stage / "sales" / f"{month}.csv.gz", cols, r_ids, b_ids)
                result["files"] += 1

        office.build_sales(sink)
        result["totals"] = office.month_totals
        return result
    if kind == "retailers":
        _, lo, hi = task
        for shop in office.shops[lo:hi]:
            files.write(f"retailers/{shop.dept}/{shop.id}.yaml", demo_fast.dumps(shop.record))
        result["samples"] = [("retailer", office.shops[lo].record)]
    elif kind == "daily":
        for mid in task[1]:
            m = next(x for x in office.managers if x.id == mid)
            diaries = []
            for k, data, at in office.daily_for(m):
                if k == "diary":
                    diaries.append(data)
                rel = _daily_path(k, data)
                result["plans" if k == "plan" else "diaries"] += 1
                if k == "plan":
                    files.write(rel, demo_fast.dumps(data))
                result["handed"].append((f"{RECORDS}/{rel}", at))  # None: listed, time unknown
                if "review" in data:
                    result["handed"].append((f"{RECORDS}/{rel}#review", data["review"]["at"]))
            surveys = office.build_surveys(diaries)  # may mark a diary visit as a survey: write diaries after
            for data in diaries:
                files.write(_daily_path("diary", data), demo_fast.dumps(data))
            for s in surveys:
                files.write(f"surveys/{s['date'].year}/{s['id']}.yaml", demo_fast.dumps(s))
            periodic = office.periodic_for(m, diaries)  # ~65 files a manager in a year: cheap
            for k, data in periodic:
                files.write(path_for(k, _Periodic(data)), demo_fast.dumps(data))
            sampled = {k for k, _ in result["samples"]}
            for k, data in periodic:  # the first analysis and summary of the task go through the models
                if k not in sampled:
                    sampled.add(k)
                    result["samples"].append((k, data))
            result["surveys"] += len(surveys)
            if diaries:
                result["samples"].append(("diary", diaries[len(diaries) // 2]))
    result["files"] = files.count
    return result


def _tasks(office: Office) -> list[tuple]:
    tasks: list[tuple] = [("sales", 0, 2), ("sales", 1, 2)]
    n = len(office.shops)
    step = 2500
    tasks += [("retailers", lo, min(n, lo + step)) for lo in range(0, n, step)]
    mids = sorted(m.id for m in office.managers)
    group = 4
    tasks += [("daily", tuple(mids[i:i + group])) for i in range(0, len(mids), group)]
    return tasks


# ---------------------------------------------------------------- the whole office


def write_city(out: Path, seed: int, shape: Shape, jobs: int = 2, progress: Optional[Callable[[str], None]] = None) -> Summary:
    global _OFFICE, _STAGE
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    out = Path(out)
    check_target(out)
    stage = out.parent / f".{out.name}.demo-partial"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    office = build(seed, shape)
    say(f"建档完成：{len(office.shops)} 户，{len(office.managers)} 名客户经理，{time.perf_counter() - started:.1f} 秒")
    files = Files(stage)
    (stage / MARKER).write_text(f"crmdocs demo --seed {seed} --scale {shape.scale}\n", encoding="utf-8")
    files.write("policy.yaml", policy_text())
    for cal in office.calendars:
        files.write(f"calendar/{cal['year']}.yaml", demo_fast.dumps(cal, CALENDAR_HEADER))
    for unit in office.org:
        files.write(f"org/{unit['id']}.yaml", demo_fast.dumps(unit))
    for person in sorted(office.people, key=lambda p: p["id"]):
        files.write(f"people/{person['id']}.yaml", demo_fast.dumps(person))
    for brand in office.build_brands():
        files.write(f"brands/{brand['id']}.yaml", demo_fast.dumps(brand))
    for c in office.complaints:
        files.write(f"complaints/{c['received'].year}/{c['id']}.yaml", demo_fast.dumps(c))

    _OFFICE, _STAGE = office, stage
    tasks = _tasks(office)
    results: list[dict] = []
    try:
        if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(jobs) as pool:
                for res in pool.imap_unordered(_task, tasks):
                    results.append(res)
                    say(f"  完成 {res['task'][0]} {len(results)}/{len(tasks)}（{time.perf_counter() - started:.1f} 秒）")
        else:
            for task in tasks:
                results.append(_task(task))
    finally:
        _OFFICE, _STAGE = None, None
    results.sort(key=lambda r: repr(r["task"]))
    sales = [r for r in results if r["task"][0] == "sales"]
    office.month_totals = sales[0]["totals"]
    for t in office.build_targets():
        files.write(f"targets/{t['period']}.yaml", demo_fast.dumps(t))
    handed = [h for r in results for h in r["handed"]]
    if shape.handed_in:
        files.write("handed-in.csv", handed_in_csv(handed))
    # a sample goes through the models: the fast text must be what they accept
    samples = [s for r in results for s in r["samples"]]
    for kind, data in samples:
        try:
            BY_NAME[kind].model.model_validate(data)
        except Exception as exc:  # a generator bug
            raise CrmdocsError(f"演示数据生成有误 (demo generator bug) {kind}: {exc}") from None
    # move into place
    if out.exists():
        old = out.parent / f".{out.name}.demo-old"
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
        os.replace(stage, out)
        shutil.rmtree(old)
    else:
        os.replace(stage, out)
    total_files = files.count + sum(r["files"] for r in results)
    return Summary(
        scale=shape.scale, files=total_files, retailers=len(office.shops), managers=len(office.managers),
        plans=sum(r["plans"] for r in results), diaries=sum(r["diaries"] for r in results),
        sales_rows=sum(r["rows"] for r in sales), complaints=len(office.complaints), surveys=sum(r["surveys"] for r in results),
        seconds=round(time.perf_counter() - started, 2), special=dict(office.special),
    )


__all__ = ["write_city", "write_month_csv_gz", "random"]
