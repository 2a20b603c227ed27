"""Where ``crmdocs recalc --check``'s time goes, phase by phase, in one process:
``validate()`` (load and check, from the caches when they are warm), the rules
(``compute_all``) and rendering + comparing every computed file.

    .venv/bin/python benchmarks/recalc_phases.py ROOT [--jobs 2] [--runs 2]

Run ``crmdocs --root ROOT validate`` first to measure it as CI runs it. Prints
wall and CPU seconds (user + system, with the forked workers) of each phase.
Writes nothing into ROOT except the caches ``validate()`` keeps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(root: Path, jobs: int) -> str:
    from crmdocs.scripts import recalc
    from crmdocs.scripts.history import handed_in_times
    from crmdocs.scripts.rules import compute_all
    from crmdocs.scripts.validate import validate

    marks = [(time.perf_counter(), cpu())]
    repo, report = validate(root, today=dt.date.today(), jobs=jobs)
    if report.errors:
        return f"{len(report.errors)} errors in the records: nothing computed"
    marks.append((time.perf_counter(), cpu()))
    computed = compute_all(repo, handed_in_times(root))
    marks.append((time.perf_counter(), cpu()))
    differences = recalc.settle(root, computed, write_files=False, jobs=jobs)
    marks.append((time.perf_counter(), cpu()))
    names = ("validate()", "rules", "render + compare")
    parts = [f"{name} {b[0] - a[0]:.2f} s (CPU {b[1] - a[1]:.2f} s)" for name, a, b in zip(names, marks, marks[1:])]
    return "; ".join(parts) + f"; {len(computed.records):,} files, {len(differences)} differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if args.runs == 1:
        print(run(args.root, args.jobs))
        return
    import subprocess
    import sys

    for _ in range(args.runs):  # each run in a fresh process, as the command runs
        subprocess.run([sys.executable, __file__, str(args.root), "--jobs", str(args.jobs)], check=False)


if __name__ == "__main__":
    main()
