"""Time the site's archive history (``retailer_history``) at city scale.

    .venv/bin/python benchmarks/history_archives.py [--retailers 20000] [--edits 3] [--dir /tmp/crm-arch]

Writes (``git fast-import``) one commit adding every retailer archive, then
``--edits`` commits each changing a field in every archive; then times the
first build's history (field diffs parsed) and a second one (diffs cached in
``.cache/crmdocs/``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path

ARCHIVE = """\
id: {rid}
basic:
  licence_no: "5301021{n:05d}"
  licence_expiry: 2028-12-31
  shop_name: 便利店{n}
  address: 城关镇人民路 {n} 号
  district: 城关镇
  network: urban
  format: grocery
  floor_area: {area}
  location: residential
personal:
  owner_name: 张三
  phone: "138{n:08d}"
management:
  department: d-{dept}
  manager: cm-{cm:03d}
  order_day: {day}
"""


def build(root: Path, retailers: int, edits: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    chunks = []
    for e in range(edits + 1):
        when = 1788220800 + e * 86400 * 30
        msg = f"edit {e}".encode()
        head = (b"commit refs/heads/main\n" + f"author a <a@x> {when} +0800\ncommitter a <a@x> {when} +0800\n".encode()
                + f"data {len(msg)}\n".encode() + msg + b"\n")
        lines = []
        for n in range(retailers):
            rid = f"r-{n:05d}"
            body = ARCHIVE.format(rid=rid, n=n, area=20 + e, dept=n % 10, cm=n % 100, day=1 + (n + e) % 7).encode()
            lines.append(f"M 100644 inline records/retailers/d-{n % 10}/{rid}.yaml\ndata {len(body)}\n".encode() + body + b"\n")
        chunks.append(head + b"".join(lines) + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(chunks), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--retailers", type=int, default=20_000)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/crm-arch")
    args = parser.parse_args()
    root = Path(args.dir)
    t0 = time.perf_counter()
    build(root, args.retailers, args.edits)
    from crmdocs.scripts.history import retailer_history

    t1 = time.perf_counter()
    first = retailer_history(root, fields_for=5)
    t2 = time.perf_counter()
    second = retailer_history(root, fields_for=5)
    t3 = time.perf_counter()
    changes = sum(len(v) for v in first.values())
    assert first == second
    print(f"built {args.retailers} archives × {args.edits + 1} versions: {t1 - t0:.1f} s")
    print(f"retailer_history, first run: {changes} changes in {t2 - t1:.2f} s; cached: {t3 - t2:.2f} s")


if __name__ == "__main__":
    main()
