"""Writing the county-shaped demo office through the models and the
project's writers, so every file is exactly what ``crmdocs validate`` reads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from pathlib import Path
from typing import Any, Callable, Optional

from pydantic import ValidationError

from .demo import CALENDAR_HEADER, Shape, Summary, build, policy_text
from .diagnostics import CrmdocsError
from .kinds import BY_NAME, RECORDS, path_for
from .sales import write_sales_csv
from .yamlwrite import dump_record, write_atomic

EPOCH = dt.date(1970, 1, 1)


MARKER = ".crmdocs-demo"  # in a folder the generator wrote; discovery skips dot files
OWNED = ("policy.yaml", "handed-in.csv", "calendar", "org", "people", "brands", "retailers", "sales",
         "plans", "diaries", "analyses", "summaries", "complaints", "surveys", "targets")


def check_target(out: Path) -> None:
    """Write only into an empty folder or one the generator wrote before."""
    if out.exists() and not out.is_dir():
        raise CrmdocsError(f"{out} 不是目录 (not a folder)")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise CrmdocsError(
            f"{out} 里已有记录，而且不是演示数据生成的：为防止覆盖真实记录，请换一个空目录"
            f" (the folder holds records the demo generator did not write; use an empty folder)"
        )


def prune(out: Path, written: set[str]) -> list[str]:
    """Remove files of an earlier demo run that this run did not write
    (only in the generator's own folders; records/computed is never touched)."""
    removed = []
    for name in OWNED:
        top = out / name
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
        for path in paths:
            rel = path.relative_to(out).as_posix()
            if rel not in written and not path.name.startswith("."):
                path.unlink()
                removed.append(rel)
    return removed


class Writer:
    """Validate a record with its model, write it where ``path_for`` says."""

    def __init__(self, out: Path):
        self.out = out
        self.files = 0
        self.written: set[str] = set()

    def record(self, kind: str, data: dict, header: str = "") -> str:
        model = BY_NAME[kind].model
        try:
            rec = model.model_validate(data)
        except ValidationError as exc:  # a generator bug, not the user's
            raise CrmdocsError(f"演示数据生成有误 (demo generator bug) {kind}: {exc}") from None
        rel = path_for(kind, rec)
        write_atomic(self.out / rel, dump_record(rec, header))
        self.files += 1
        self.written.add(rel)
        return rel

    def text(self, rel: str, text: str) -> None:
        write_atomic(self.out / rel, text)
        self.files += 1
        self.written.add(rel)


def handed_in_csv(rows: list[tuple[str, dt.datetime]]) -> str:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("path", "time"))
    for path, at in sorted(rows):
        w.writerow((path, at.strftime("%Y-%m-%d %H:%M") if at else ""))
    return out.getvalue()


def daily_records(office) -> tuple[list[dict], list[dict], list[tuple[str, dt.datetime]]]:
    """Every manager's plans and diaries (sorted by manager) and the hand-in log."""
    plans, diaries, handed = [], [], []
    for m in sorted(office.managers, key=lambda m: m.id):
        for kind, data, at in office.daily_for(m):
            (plans if kind == "plan" else diaries).append(data)
            folder = "plans" if kind == "plan" else "diaries"
            rel = f"{RECORDS}/{folder}/{m.id}/{data['date'].year}/{data['date'].isoformat()}.yaml"
            handed.append((rel, at))  # None: listed without a time (unknown, never late)
            if "review" in data:  # the review was handed in when it says (history.REVIEW suffix)
                handed.append((f"{rel}#review", data["review"]["at"]))
    return plans, diaries, handed


def periodic_records(office, diaries: list[dict]) -> list[tuple[str, dict]]:
    """Every manager's weekly analyses and monthly summaries (sorted by manager)."""
    by_manager: dict[str, list[dict]] = {}
    for d in diaries:
        by_manager.setdefault(d["manager"], []).append(d)
    out = []
    for m in sorted(office.managers, key=lambda m: m.id):
        out += office.periodic_for(m, by_manager.get(m.id, []))
    return out


def write_county(out: Path, seed: int, shape: Shape, progress: Optional[Callable[[str], None]] = None) -> Summary:
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    check_target(out)
    office = build(seed, shape)
    office.build_sales()
    w = Writer(out)
    write_atomic(out / MARKER, f"crmdocs demo --seed {seed} --scale {shape.scale}\n")
    w.text("policy.yaml", policy_text())
    for cal in office.calendars:
        w.record("calendar", cal, CALENDAR_HEADER)
    for unit in office.org:
        w.record("org", unit)
    for person in sorted(office.people, key=lambda p: p["id"]):
        w.record("person", person)
    for brand in office.build_brands():
        w.record("brand", brand)
    for shop in office.shops:
        w.record("retailer", shop.record)
    say(f"零售户 {len(office.shops)} 户 (retailers)")
    rows_total = 0
    r_ids = [s.id for s in office.shops]
    b_ids = [b[0] for b in office.brands]
    for month, cols in office.sales.items():
        rows = [
            ((EPOCH + dt.timedelta(days=int(d))).isoformat(), r_ids[r], b_ids[b], int(q), c / 100)
            for d, r, b, q, c in zip(cols["day"].tolist(), cols["retailer"].tolist(), cols["brand"].tolist(),
                                     cols["quantity"].tolist(), cols["cents"].tolist())
        ]
        rows_total += len(rows)
        w.text(f"sales/{month}.csv", write_sales_csv(rows))
    say(f"销售 {rows_total} 行 (sales rows)")
    for t in office.build_targets():
        w.record("targets", t)
    for c in office.complaints:
        w.record("complaint", c)
    plans, diaries, handed = daily_records(office)
    surveys = office.build_surveys(diaries)
    for p in plans:
        w.record("plan", p)
    for d in diaries:
        w.record("diary", d)
    for s in surveys:
        w.record("survey", s)
    periodic = periodic_records(office, diaries)
    for kind, data in periodic:
        w.record(kind, data)
    if shape.handed_in:
        w.text("handed-in.csv", handed_in_csv(handed))
    say(f"计划 {len(plans)} 份，日记 {len(diaries)} 篇，周市场分析 {sum(k == 'analysis' for k, _ in periodic)} 篇，"
        f"月工作总结 {sum(k == 'summary' for k, _ in periodic)} 篇 (plans, diaries, analyses, summaries)")
    removed = prune(out, w.written)
    if removed:
        say(f"删除上次生成、这次不再有的 {len(removed)} 个文件 (removed files of an earlier run)")
    return Summary(
        scale=shape.scale, files=w.files, retailers=len(office.shops), managers=len(office.managers),
        plans=len(plans), diaries=len(diaries), sales_rows=rows_total, complaints=len(office.complaints),
        surveys=len(surveys), seconds=round(time.perf_counter() - started, 2), special=dict(office.special),
    )
