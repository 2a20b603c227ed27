"""Time ``handed_in_times`` on a synthetic repository of 50,000 record files.

    .venv/bin/python benchmarks/history_50k.py [--files 50000] [--commits 250] [--dir /tmp/crm-hist]

The repository is written with ``git fast-import``: ``--commits`` commits,
each adding an equal share of the files (plans and diaries of 100 managers)
and adding a review to the previous commit's diaries, the way a year of
daily hand-ins and reviews would look.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path


def build(root: Path, files: int, commits: int, reviews: bool = True) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    per = -(-files // commits)
    chunks: list[bytes] = []
    n = 0
    stamp = 1788220800  # 2026-09-01 00:00 UTC
    yesterday: list[tuple[str, bytes]] = []
    for c in range(commits):
        lines = []
        # the market managers review yesterday's diaries in the same commit (reviews=True)
        for path, body in yesterday:
            body = body + b"review:\n  reviewer: mm-1\n  at: \"2026-09-02 10:00\"\n  rating: 4\n"
            lines.append(f"M 100644 inline {path}\ndata {len(body)}\n".encode() + body + b"\n")
        yesterday = []
        for _ in range(per):
            if n >= files:
                break
            kind = "plans" if n % 2 == 0 else "diaries"
            path = f"records/{kind}/cm-{n % 100:03d}/2026/{n:05d}.yaml"
            body = f"manager: cm-{n % 100:03d}\nnote: file {n}\n".encode()
            lines.append(f"M 100644 inline {path}\ndata {len(body)}\n".encode() + body + b"\n")
            if kind == "diaries" and reviews:
                yesterday.append((path, body))
            n += 1
        message = f"day {c}".encode()
        when = stamp + c * 86400
        head = (
            b"commit refs/heads/main\n"
            + f"author cm <cm@example.com> {when} +0800\ncommitter cm <cm@example.com> {when} +0800\n".encode()
            + f"data {len(message)}\n".encode() + message + b"\n"
        )
        chunks.append(head + b"".join(lines) + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(chunks), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--commits", type=int, default=250)
    parser.add_argument("--dir", default="/tmp/crm-hist")
    parser.add_argument("--no-reviews", action="store_true", help="diaries are never modified")
    args = parser.parse_args()
    root = Path(args.dir)
    t0 = time.perf_counter()
    build(root, args.files, args.commits, not args.no_reviews)
    t1 = time.perf_counter()
    from crmdocs.scripts.history import first_commit_times, handed_in_times

    first = first_commit_times(root)
    t2 = time.perf_counter()
    times = handed_in_times(root, reviews=True)
    t3 = time.perf_counter()
    reviews = sum(1 for k in times or {} if k.endswith("#review"))
    print(f"built {args.files} files in {args.commits} commits: {t1 - t0:.2f} s")
    print(f"first-commit times: {len(first or {})} files in {t2 - t1:.2f} s")
    print(f"handed_in_times (files + {reviews} review times): {len(times or {})} keys in {t3 - t2:.2f} s")


if __name__ == "__main__":
    main()
