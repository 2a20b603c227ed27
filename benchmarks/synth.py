"""A quick generator of city-shaped record folders for the benchmark.

Only a stand-in for ``crmdocs demo --scale city`` (used instead when that
command exists): the files have the shape and size of real ones — 20,000
retailer archives, 100 customer managers each writing a plan and a diary on
250 working days — and validate cleanly. Text is written with templates (not
the YAML dumper) so generating 70,000 files takes seconds.

    python benchmarks/synth.py --scale city --out /tmp/crm-city
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
from pathlib import Path

SCALES = {
    # departments, managers per department, retailers per manager, days
    "county": (5, 4, 180, 250),
    "city": (25, 4, 200, 250),
}
BRANDS = 12
PURPOSES = ("routine", "routine", "routine", "brand_promotion", "policy_briefing", "information")
FORMATS = ("grocery", "convenience", "supermarket", "tobacco_liquor", "entertainment")
LOCATIONS = ("residential", "commercial", "school", "transport", "market", "village")
FEEDBACK = ("新品卖得不错，顾客反映口感好", "价格偏高，走货慢", "希望多给几条紧俏烟", "")
OPINIONS = ("希望配送时间提前", "对服务满意", "建议增加陈列柜", "")
INFO = ("price", "competitor", "consumption", "policy", "violation")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def working_days(year: int, count: int) -> list[dt.date]:
    days = []
    day = dt.date(year, 1, 1)
    while len(days) < count:
        if day.isoweekday() <= 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def generate(out: Path, scale: str, seed: int = 1) -> int:
    n_dept, per_dept, per_manager, n_days = SCALES[scale]
    rnd = random.Random(seed)
    rec = out / "records"
    files = 0
    _write(rec / "policy.yaml", "{}\n")
    _write(rec / "calendar" / "2026.yaml", "year: 2026\n")
    _write(rec / "org" / "c-city.yaml", "id: c-city\nname: 市公司\nkind: city\n")
    n_county = max(1, n_dept // 5)
    for c in range(n_county):
        _write(rec / "org" / f"k-{c:02d}.yaml", f"id: k-{c:02d}\nname: 第{c + 1}县区公司\nkind: county\nparent: c-city\n")
    for b in range(BRANDS):
        _write(
            rec / "brands" / f"b-{b:02d}.yaml",
            f"id: b-{b:02d}\nname: 品牌{b + 1}\nprice_class: {1 + b % 5}\nprice: {80 + 15 * b}.0\n"
            + ("key: true\n" if b % 3 == 0 else ""),
        )
    files += 3 + n_county + BRANDS
    days = working_days(2026, n_days)
    rid = 0
    for d in range(n_dept):
        dept = f"d-{d:02d}"
        _write(rec / "org" / f"{dept}.yaml", f"id: {dept}\nname: 客户服务部{d + 1}\nkind: department\nparent: k-{d // 5:02d}\n")
        mm = f"mm-{d:02d}"
        _write(
            rec / "people" / f"{mm}.yaml",
            f"id: {mm}\nname: 市场经理{d + 1}\nrole: market_manager\nunit: {dept}\nemails:\n- {mm}@example.com\n",
        )
        files += 2
        for m in range(per_dept):
            cm = f"cm-{d:02d}-{m}"
            _write(
                rec / "people" / f"{cm}.yaml",
                f"id: {cm}\nname: 客户经理{d + 1}-{m + 1}\nrole: customer_manager\nunit: {dept}\n"
                f"emails:\n- {cm}@example.com\nhire_date: 2020-03-01\ngrade: level-2\n",
            )
            files += 1
            mine = []
            for _ in range(per_manager):
                rid += 1
                r = f"r-{rid:05d}"
                mine.append(r)
                network = "urban" if d % 2 == 0 else "rural"
                _write(
                    rec / "retailers" / dept / f"{r}.yaml",
                    f"id: {r}\nbasic:\n  licence_no: \"{530100000000 + rid:012d}\"\n  licence_expiry: 2029-0{1 + rid % 9}-15\n"
                    f"  shop_name: 便民商店{rid}号\n  address: 中山路{rid % 300 + 1}号\n  district: 街道{d + 1}\n"
                    f"  network: {network}\n  format: {FORMATS[rid % len(FORMATS)]}\n  floor_area: {20 + rid % 80}.0\n"
                    f"  business_scope: 卷烟、食品、日用百货\n  location: {LOCATIONS[rid % len(LOCATIONS)]}\n  opened: 2015-05-01\n"
                    f"personal:\n  owner_name: 店主{rid}\n  phone: \"138{rid:08d}\"\n"
                    f"management:\n  department: {dept}\n  manager: {cm}\n  order_day: {1 + rid % 5}\n"
                    + ("evaluation:\n  representative: true\n  representative_criteria:\n  - A\n  - B\n" if rid % 10 == 0 else "")
                    + (f"image:\n  level: {rid % 4}\n" if rid % 4 else ""),
                )
                files += 1
            for i, day in enumerate(days):
                iso = day.isoformat()
                start = (i * 30) % per_manager
                todo = [mine[(start + k) % per_manager] for k in range(30)]
                plan = [f"manager: {cm}\ndate: {iso}\nvisits:\n"]
                for k, r in enumerate(todo):
                    plan.append(f"- retailer: {r}\n")
                    if k % 4 == 0:
                        plan.append(f"  purpose: {PURPOSES[(i + k) % len(PURPOSES)]}\n")
                plan.append(f"approval:\n  by: {mm}\n  at: \"{iso} 08:10\"\n")
                _write(rec / "plans" / cm / "2026" / f"{iso}.yaml", "".join(plan))
                diary = [f"manager: {cm}\ndate: {iso}\nvisits:\n"]
                for k, r in enumerate(todo[: 24 + rnd.randrange(4)]):
                    minute = 8 * 60 + 30 + k * 16
                    diary.append(f"- retailer: {r}\n  time: \"{minute // 60:02d}:{minute % 60:02d}\"\n")
                    if k % 4 == 0:
                        diary.append(f"  purpose: {PURPOSES[(i + k) % len(PURPOSES)]}\n")
                    diary.append("  findings:\n    price_tags: ok\n    display: good\n")
                    if rnd.random() < 0.15:
                        diary.append(f"    stock_outs:\n    - b-{rnd.randrange(BRANDS):02d}\n")
                    fb, op = rnd.choice(FEEDBACK), rnd.choice(OPINIONS)
                    if fb:
                        diary.append(f"  brand_feedback: {fb}\n")
                    if op:
                        diary.append(f"  opinions: {op}\n")
                diary.append("business_analysis: 本日走访片区零售户，整体销售平稳，重点品牌动销良好，个别户存在断货。\n")
                diary.append("market_analysis: 周边新开两家便利店，竞争加剧；中高档卷烟需求上升。\n")
                diary.append("market_info:\n")
                for k in range(2):
                    diary.append(
                        f"- category: {INFO[(i + k) % len(INFO)]}\n  content: 发现{todo[k]}附近有促销活动，价格下调约5%\n"
                        f"  retailer: {todo[k]}\n  brand: b-{(i + k) % BRANDS:02d}\n"
                    )
                nxt = days[min(i + 1, len(days) - 1)].isoformat()
                diary.append(f"review:\n  reviewer: {mm}\n  at: \"{nxt} 17:30\"\n  rating: {3 + i % 3}\n  comment: 已阅，继续跟进断货户\n  valuable:\n  - 1\n")
                _write(rec / "diaries" / cm / "2026" / f"{iso}.yaml", "".join(diary))
                files += 2
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=sorted(SCALES), default="county")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    out = Path(args.out)
    if (out / "records").exists():
        raise SystemExit(f"{out}/records exists; choose an empty folder")
    n = generate(out, args.scale, args.seed)
    size = sum(f.stat().st_size for f in (out / "records").rglob("*") if f.is_file())
    print(f"{n} files, {size / 1e6:.1f} MB in {out}")


if __name__ == "__main__":
    main()
