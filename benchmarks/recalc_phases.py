"""Where ``crmdocs recalc --check``'s time goes, phase by phase, in one process:
``validate()`` (load and check, from the caches when they are warm), the rules
(``compute_all``) and rendering + comparing every computed file.

    .venv/bin/python benchmarks/recalc_phases.py ROOT [--jobs 2] [--runs 2] [--side on|off|both]

With the side worker (``--side on``, what ``crmdocs recalc`` does with
``--jobs`` > 1; ``scripts/sidecar.py``) the retailer rules run in a forked
worker during ``validate()``: the phases are then, as ``recalc._overlapped``
runs them, ``validate()`` (the worker beside it), the appraisals' sums and
taking its first part, the other rules here, rendering this process's records,
writing the current period's classes and tiers files this process claims and
waiting for the worker's files, and comparing; the worker's own timeline, CPU
and minor faults come with its parts. ``--side both`` alternates the two ways run
by run (A/B in the same minutes).

Run ``crmdocs --root ROOT validate`` first to measure it as CI runs it. Prints
wall and CPU seconds (user + system, with the forked workers — the side
worker's CPU is counted when it is reaped, in the "side worker" phase) of
each phase. Writes nothing into ROOT except the caches ``validate()`` keeps.
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


def run(root: Path, jobs: int, side: bool) -> str:
    from crmdocs.scripts import recalc, sidecar
    from crmdocs.scripts.history import handed_in_times
    from crmdocs.scripts.rules import compute_all
    from crmdocs.scripts.validate import validate

    marks = [(time.perf_counter(), cpu())]
    worker = sidecar.start(root) if side else None  # as recalc.compute(files_only=True) does
    repo, report = validate(root, today=dt.date.today(), jobs=jobs, facts=True)  # as recalc.compute(files_only=True)
    if report.errors:
        if worker is not None:
            worker.stop()
        return f"{len(report.errors)} errors in the records: nothing computed"
    marks.append((time.perf_counter(), cpu()))
    names = ["validate()"]
    handed_in = handed_in_times(root)
    computed, how = None, ""
    if worker is not None:  # as recalc._overlapped does, phase by phase
        first = worker.first(repo, None)
        marks.append((time.perf_counter(), cpu()))
        names.append("side worker: appraisals' sales sums here, wait + take first part")
        if first is not None:
            computed = recalc._rest(repo, handed_in, first)
            marks.append((time.perf_counter(), cpu()))
            names.append("rules here")
            mine = None
            if computed is not None:  # as recalc._overlapped: this process's records rendered while the worker works on
                mine = {rel: recalc.render_record(record).encode("utf-8") for rel, record in computed.records.items()}
                marks.append((time.perf_counter(), cpu()))
                names.append("render its records")
            last = worker.last() if computed is not None else None
            marks.append((time.perf_counter(), cpu()))
            names.append("the current classes and tiers files here, wait + take its files")
            if last is None:
                computed = None
            else:
                computed.texts = last.texts
                computed.rendered = mine
                load, classes = first.seconds[:2]
                rules, render, *used = last.seconds
                cpu_used = f", CPU {used[0]:.2f}+{used[1]:.2f} s, {used[2]:,} minor faults" if used else ""
                at = lambda t: t - worker.started  # noqa: E731 - seconds since the fork
                how = (f" (both parts taken; in the worker: load {load:.2f} s, classes {classes:.2f} s,"
                       f" first part sent at {at(first.sent):.2f} s and taken at"
                       f" {at(worker.arrived[0]):.2f} s; tiers, limits, abnormal {rules:.2f} s, render {render:.2f} s,"
                       f" second part sent at {at(last.sent):.2f} s and taken at {at(worker.arrived[1]):.2f} s{cpu_used})")
        if computed is None:
            how = f" (not taken: {worker.why})"
        worker.stop()
    if computed is None:
        computed = compute_all(repo, handed_in)
        marks.append((time.perf_counter(), cpu()))
        names.append("rules")
    differences = recalc.settle(root, computed, write_files=False, jobs=jobs)
    marks.append((time.perf_counter(), cpu()))
    names.append("render + compare" if how.startswith(" (not") or not side else "compare")
    parts = [f"{name} {b[0] - a[0]:.2f} s (CPU {b[1] - a[1]:.2f} s)" for name, a, b in zip(names, marks, marks[1:])]
    total = f"in all {marks[-1][0] - marks[0][0]:.2f} s (CPU {marks[-1][1] - marks[0][1]:.2f} s)"
    head = f"side worker{how}: " if side else "no side worker: "
    read = "not read here" if "_load" in vars(repo.sales) else "read here"  # (a LazySales not yet read)
    return head + "; ".join(parts) + f"; {total}; {computed.files:,} files, {len(differences)} differ; sales {read}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--side", choices=("on", "off", "both"), default="on")
    args = parser.parse_args()
    if args.runs == 1 and args.side != "both":
        print(run(args.root, args.jobs, args.side == "on"), flush=True)
        return
    import subprocess
    import sys

    ways = ["off", "on"] if args.side == "both" else [args.side]
    for _ in range(args.runs):  # each run in a fresh process, as the command runs
        for way in ways:
            subprocess.run([sys.executable, __file__, str(args.root), "--jobs", str(args.jobs), "--side", way], check=False)


if __name__ == "__main__":
    main()
