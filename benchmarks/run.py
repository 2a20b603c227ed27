"""The crmdocs benchmark: validation, recalculation and the site at county
(1/5 of a city) and city scale, each figure the median of several runs and a
ratio to a baseline measured in the same run.

    .venv/bin/python benchmarks/run.py                  # both scales, 3 runs each
    .venv/bin/python benchmarks/run.py --scales county --runs 5 --stages validate
    .venv/bin/python benchmarks/run.py --ablation       # what each speed-up gained

Data is generated once into ``--data`` (default /tmp/crmdocs-bench, never
committed) with ``crmdocs demo --scale city`` (county = 4,000 retailers and 20
customer managers, city = 20,000 and 100, a year of weekly sales, plans and
diaries). Commands run as subprocesses, as a user runs them. A stage that
does not exist yet (or fails) prints "n/a" instead of stopping the run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parent.parent
SCALES = {"county": {"retailers": 4_000, "managers": 20}, "city": {"retailers": 20_000, "managers": 100}}
TODAY = "2026-12-31"
JOBS = 2
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0"}
CHECK_JSONSCHEMA = Path("/tmp/cjs-venv/bin/check-jsonschema")  # a throwaway venv, if someone made one
FACTS_CHECK_JSONSCHEMA = (20_000, 120.0)  # FACTS.md: ~120 s for 20,000 retailers


# ------------------------------------------------------------ measuring


class NA(Exception):
    """A stage that cannot be measured (not there yet, or it failed)."""


CPU: dict[int, list[float]] = {}  # id(times list) -> CPU seconds of each run (this process + children)


def _cpu() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any], runs: int, before: Optional[Callable[[], Any]] = None) -> list[float]:
    """Wall seconds of each run; the CPU seconds (user + system, this process
    and its children) are kept in CPU — on a shared machine they are the
    steadier figure."""
    out: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        if before is not None:
            before()
        c0, start = _cpu(), time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
        cpu.append(_cpu() - c0)
    CPU[id(out)] = cpu
    return out


def med(times: list[float]) -> float:
    return statistics.median(times)


def noise(times: list[float]) -> str:
    """Spread of the runs around the median, e.g. '±8 %' (min..max)."""
    m = med(times)
    if len(times) < 2 or m == 0:
        return "1 run"
    return f"±{max(m - min(times), max(times) - m) / m * 100:.0f} %"


def crmdocs(root: Path, *args: str, timeout: float = 1800, ok: tuple[int, ...] = (0, 1)) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "crmdocs.scripts.cli", "--root", str(root), *args]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if proc.returncode not in ok:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise NA(f"exit {proc.returncode}: {' / '.join(tail)[:160]}")
    return proc


def has_command(name: str) -> bool:
    from crmdocs.scripts.cli import command_names

    return name in command_names()


# ------------------------------------------------------------ data


def snapshot(base: Path) -> Path:
    """The committed code (git HEAD) unpacked under ``base``: commands run from
    it, so edits made in the working tree during a long run change nothing."""
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    dst = base / f"code-{sha[:12]}"
    if not (dst / "crmdocs" / "scripts" / "cli.py").is_file():
        tmp = base / f"code-{sha[:12]}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "crmdocs").mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", "schemas", "scripts", "plugins", "site", "mkdocs.yml"],
                                 cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp / "crmdocs")], input=archive, check=True)
        # byte-compiled, as an install is (pip compiles what it installs, and Python keeps what it
        # compiles): with PYTHONDONTWRITEBYTECODE set (this machine sets it) every run would
        # compile ~27,000 lines of source again, ~0.09 s of a city recalc's start
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tmp / "crmdocs")], check=True)
        shutil.rmtree(dst, ignore_errors=True)
        tmp.rename(dst)
    ENV["PYTHONPATH"] = str(dst)
    ENV["CRMDOCS_CODE"] = sha
    return dst


def ensure_data(base: Path, scale: str, code: Optional[Path] = None) -> Path:
    root = base / scale
    if not (root / "records" / "policy.yaml").is_file():
        from crmdocs.scripts.demo import generate

        shutil.rmtree(root, ignore_errors=True)
        print(f"generating the {scale} office in {root} …", file=sys.stderr, flush=True)
        generate(root / "records", seed=1, scale="city", jobs=JOBS, **SCALES[scale])
    for name in ("mkdocs.yml", "site"):  # the report site's config and hand-written pages
        src, dst = (code / "crmdocs" if code else REPO) / name, root / name
        if src.exists():
            if dst.is_dir():
                shutil.rmtree(dst)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    return root


def record_files(root: Path) -> list[Path]:
    from crmdocs.scripts.repository import discover

    rels, _ = discover(root)
    return [root / rel for rel in rels]


def read_all(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as fh:
            total += len(fh.read())
    return total


def parse_all(paths: list[Path]) -> None:
    import yaml

    loader = yaml.CSafeLoader
    for path in paths:
        with open(path, "rb") as fh:
            yaml.load(fh.read(), Loader=loader)  # noqa: S506 - the C SafeLoader


def clear_cache(root: Path) -> None:
    shutil.rmtree(root / ".cache" / "crmdocs", ignore_errors=True)


# ------------------------------------------------------------ stages


class Table:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.sizes: dict[str, int] = {}  # files per scale, for the growth table

    def add(self, scale: str, what: str, times: Optional[list[float]], base_name: str = "", base: Optional[float] = None,
            target: str = "", extra: str = "", na: str = "", base_times: Optional[list[float]] = None) -> None:
        base_cpu = med(CPU[id(base_times)]) if base_times is not None and id(base_times) in CPU else None
        self.rows.append(dict(scale=scale, what=what, times=times, base_name=base_name, base=base,
                              target=target, extra=extra, na=na, base_cpu=base_cpu))
        row = self.rows[-1]
        print(self.line(row), file=sys.stderr, flush=True)

    @staticmethod
    def line(row: dict[str, Any]) -> str:
        if row["na"]:
            return f"| {row['scale']} | {row['what']} | n/a | | | | | {row['target']} | {row['na']} |"
        m = med(row["times"])
        cpu = CPU.get(id(row["times"]))
        cpu_text = f"{med(cpu):.2f} s" if cpu else ""
        ratio = f"{m / row['base']:.2f}×" if row["base"] else ""
        base_cpu = row.get("base_cpu")
        if base_cpu and cpu:
            ratio += f" (CPU {med(cpu) / base_cpu:.2f}×)"
        base = f"{row['base_name']} {row['base']:.2f} s" if row["base"] else row["base_name"]
        return (f"| {row['scale']} | {row['what']} | {m:.2f} s | {noise(row['times'])} ({len(row['times'])} runs) | {cpu_text} "
                f"| {base} | {ratio} | {row['target']} | {row['extra']} |")

    def render(self) -> str:
        head = ["| scale | what | median wall | noise | median CPU | baseline (same run) | ratio | target | notes |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        lines = head + [self.line(r) for r in self.rows]
        growth = self.growth()
        if growth:
            lines += ["", "| what | county | city | city ÷ county | size ÷ | linear or better |", "| --- | --- | --- | --- | --- | --- |"]
            lines += growth
        return "\n".join(lines)

    def growth(self) -> list[str]:
        by = {(r["scale"], r["what"]): r for r in self.rows if not r["na"]}
        if "county" not in self.sizes or "city" not in self.sizes:
            return []
        factor = self.sizes["city"] / self.sizes["county"]
        out = []
        for what in dict.fromkeys(r["what"] for r in self.rows):
            a, b = by.get(("county", what)), by.get(("city", what))
            if a and b and med(a["times"]) > 0:
                g = med(b["times"]) / med(a["times"])
                out.append(f"| {what} | {med(a['times']):.2f} s | {med(b['times']):.2f} s | {g:.2f} | {factor:.2f} | "
                           f"{'yes' if g <= factor * 1.15 else 'NO'} |")
        return out


def stage_validate(t: Table, scale: str, root: Path, runs: int) -> None:
    paths = record_files(root)
    yaml_paths = [p for p in paths if p.suffix in (".yaml", ".yml")]
    size = sum(p.stat().st_size for p in paths)
    t.sizes[scale] = len(paths)
    read = timed(lambda: read_all(paths), runs)
    t.add(scale, "read the bytes (baseline)", read, extra=f"{len(paths):,} files, {size / 1e6:.0f} MB")
    parse = timed(lambda: parse_all(yaml_paths), runs)
    t.add(scale, "PyYAML CSafeLoader parse (baseline)", parse, extra=f"{len(yaml_paths):,} YAML files, 1 process")
    args = ("validate", "--today", TODAY, "--jobs", str(JOBS))
    try:
        cold = timed(lambda: crmdocs(root, *args), runs, before=lambda: clear_cache(root))
        out = crmdocs(root, *args).stdout.strip().splitlines()[-1:]
        t.add(scale, "validate, cold (no cache)", cold, "parse", med(parse), "≤ 0.50×", extra=" ".join(out)[-90:], base_times=parse)
        warm = timed(lambda: crmdocs(root, *args), runs)
        t.add(scale, "validate, warm (nothing changed)", warm, "read", med(read), "≤ 3×", base_times=read)
        pr = timed(lambda: crmdocs(root, *args), runs, before=_pr_setup(root, args))
        t.add(scale, "validate, a PR adding one diary", pr, target="< 1 s")
        cjs_n, cjs_s, how = check_jsonschema_estimate(root)
        t.add(scale, "check-jsonschema, schema only, same files (estimate)", [cjs_s], "our cold", med(cold),
              "ours ≥ 10× faster", extra=f"{cjs_n:,} YAML files; {how}; our cold run is {cjs_s / med(cold):.1f}× faster")
    except NA as exc:
        t.add(scale, "validate", None, na=str(exc))


def _pr_setup(root: Path, args: tuple[str, ...]) -> Callable[[], None]:
    """Before each run: take one diary out, validate (the cache now lacks it,
    as on main before the PR), put it back — the timed run sees one new diary."""
    diaries = sorted((root / "records" / "diaries").glob("*/*/*.yaml"))
    state = {"i": 0}

    def before() -> None:
        path = diaries[(state["i"] * 7919) % len(diaries)]
        state["i"] += 1
        data = path.read_bytes()
        path.unlink()
        try:
            crmdocs(root, *args)
        finally:
            path.write_bytes(data)

    return before


def check_jsonschema_estimate(root: Path) -> tuple[int, float, str]:
    """check-jsonschema's time for every YAML record of this scale: measured
    per kind on a sample (retailers, plans, diaries: 300 each) in a throwaway
    venv when there is one and scaled by the file counts; else FACTS.md's
    120 s per 20,000 retailers, scaled the same way."""
    records = root / "records"
    kinds = {"retailer": sorted(records.glob("retailers/*/*.yaml")), "plan": sorted(records.glob("plans/*/*/*.yaml")),
             "diary": sorted(records.glob("diaries/*/*/*.yaml"))}
    total = sum(1 for p in record_files(root) if p.suffix == ".yaml")
    if not CHECK_JSONSCHEMA.exists():
        n, s = FACTS_CHECK_JSONSCHEMA
        return total, s / n * total, "FACTS.md: 120 s per 20,000 retailers, scaled to all files"
    rates = {}
    for kind, files in kinds.items():
        sample = files[:: max(1, len(files) // 300)][:300]
        if not sample:
            continue
        start = time.perf_counter()
        subprocess.run([str(CHECK_JSONSCHEMA), "--schemafile", str(REPO / "schemas" / f"{kind}.schema.json"), *map(str, sample)],
                       capture_output=True, env=ENV, timeout=900)
        rates[kind] = (time.perf_counter() - start) / len(sample)
    other = total - sum(len(f) for f in kinds.values())
    estimate = sum(rates.get(k, 0) * len(f) for k, f in kinds.items()) + other * rates.get("retailer", 0)
    how = ", ".join(f"{k} {r * 1000:.1f} ms" for k, r in rates.items())
    return total, estimate, f"check-jsonschema 0.39 on 300 files per kind ({how} per file), scaled to all files"


def stage_recalc(t: Table, scale: str, root: Path, runs: int) -> None:
    sales = sorted((root / "records" / "sales").glob("*.csv*"))
    try:
        import pyarrow.csv as pacsv

        def read_sales() -> int:
            rows = 0
            for path in sales:
                rows += pacsv.read_csv(path).num_rows  # .gz is decompressed by pyarrow
            return rows

        rows = read_sales()
        base = timed(read_sales, runs)
        size = sum(p.stat().st_size for p in sales)
        t.add(scale, "pyarrow reads the sales (baseline)", base, extra=f"{rows:,} rows, {len(sales)} files, {size / 1e6:.0f} MB")
    except Exception as exc:  # noqa: BLE001 - a benchmark prints n/a, it does not stop
        t.add(scale, "pyarrow reads the sales (baseline)", None, na=str(exc)[:120])
        return
    if not has_command("recalc"):
        t.add(scale, "recalc", None, na="no `crmdocs recalc` yet")
        return
    try:
        if not (root / "records" / "computed").is_dir():
            crmdocs(root, "recalc", "--jobs", str(JOBS), ok=(0,))  # the first run writes records/computed/
        recalc = lambda: crmdocs(root, "recalc", "--jobs", str(JOBS), ok=(0,))  # noqa: E731
        # cold: no cache at all — every record file and every sales file read, parsed and validated
        cold = timed(recalc, runs, before=lambda: clear_cache(root))
        t.add(scale, "recalc, cold (no cache: reads and checks everything)", cold, "pyarrow", med(base), "≤ 3×, < 30 s",
              base_times=base)
        # as CI runs it: a clean checkout, `crmdocs validate` first (its report is cached, the
        # records and sales are not yet): recalc parses every record and reads every sales file
        def after_validate() -> None:
            clear_cache(root)
            crmdocs(root, "validate", "--jobs", str(JOBS), ok=(0,))

        ci = timed(recalc, runs, before=after_validate)
        t.add(scale, "recalc as CI runs it (clean checkout, after validate)", ci, "pyarrow", med(base), "≤ 3×, < 30 s",
              base_times=base)
        # warm: everything cached (parsed records, sales arrays, report): a second run in the same
        # checkout, or the site build after recalc in the same CI job; the rules still compute
        # everything and every file is rendered and compared
        times = timed(recalc, runs)
        t.add(scale, "recalc, warm (records and sales cached)", times, "pyarrow", med(base), "≤ 3×, < 30 s", base_times=base)
    except (NA, subprocess.TimeoutExpired) as exc:
        t.add(scale, "recalc", None, na=str(exc)[:160])


def _du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def plain_site(base: Path, pages: int) -> Path:
    """A plain mkdocs-material site with ``pages`` pages (Chinese text, a table),
    navigation.prune and search — the per-page cost to compare with."""
    root = base / f"plain-{pages}"
    if (root / "mkdocs.yml").is_file():
        return root
    docs = root / "docs"
    for i in range(pages):
        folder = docs / f"section-{i // 200:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        rows = "\n".join(f"| r-{i:05d}-{k} | 便民商店{k}号 | {k * 37 % 500} | 良好 |" for k in range(12))
        (folder / f"page-{i:05d}.md").write_text(
            f"# 页面 {i}\n\n零售户经营档案、拜访记录与市场信息摘要。客户经理每天走访片区零售户，"
            f"记录明码标价、陈列和断货情况。\n\n| 编号 | 店名 | 数量 | 评价 |\n| --- | --- | --- | --- |\n{rows}\n",
            encoding="utf-8",
        )
    (docs / "index.md").write_text("# 首页\n", encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        "site_name: plain\ntheme:\n  name: material\n  language: zh\n  font: false\n  features:\n"
        "    - navigation.tabs\n    - navigation.prune\nplugins:\n  - search\nmarkdown_extensions:\n  - tables\n",
        encoding="utf-8",
    )
    return root


def stage_build(t: Table, scale: str, root: Path, runs: int, base: Path) -> None:
    if not has_command("build") or not (root / "mkdocs.yml").is_file():
        t.add(scale, "build", None, na="no `crmdocs build` yet")
        return
    site = root / "build" / "site"
    parts: list[tuple[float, float]] = []  # the plugin's "site part" (after compute): wall, CPU

    def build() -> None:
        proc = crmdocs(root, "build", timeout=3600, ok=(0,))
        found = re.search(r"站点部分 ([\d.]+) 秒（CPU ([\d.]+) 秒）", proc.stderr)
        if found:
            parts.append((float(found.group(1)), float(found.group(2))))

    try:
        times = timed(build, runs)
    except (NA, subprocess.TimeoutExpired) as exc:
        t.add(scale, "crmdocs build", None, na=str(exc)[:160])
        return
    pages = sum(1 for _ in site.rglob("index.html"))
    index = site / "search" / "search_index.json"
    index_mb = index.stat().st_size / 1e6 if index.exists() else 0.0
    out_mb = _du(site)
    # where the output is: the three biggest top-level folders (the abnormal-order
    # pages grow with what the rules flag, i.e. with the data)
    folders = sorted(((_du(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:3]
    where = ", ".join(f"{name} {mb:.0f}" for mb, name in folders)
    plain = plain_site(base, pages)
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(plain / "mkdocs.yml")]
    try:
        ptimes = timed(lambda: subprocess.run(mkdocs, env=ENV, capture_output=True, check=True, timeout=3600), runs)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        t.add(scale, "plain mkdocs-material site", None, na=str(exc)[:120])
        ptimes = None
    if ptimes:
        plain_site_dir = plain / "site"
        t.add(scale, "plain Material site, same pages (baseline)", ptimes,
              extra=f"{pages:,} pages, {med(ptimes) / pages * 1000:.1f} ms/page, {_du(plain_site_dir):.0f} MB")
    per_page = med(times) / max(pages, 1) * 1000
    ratio = f", {per_page / (med(ptimes) / pages * 1000):.2f}× the plain page" if ptimes else ""
    if parts:  # the pages' own cost: the build after load, validation and the rules
        wall, cpu = med([p[0] for p in parts]), med([p[1] for p in parts])
        ratio += (f"; site part after compute {wall:.1f} s (CPU {cpu:.1f} s), {wall / max(pages, 1) * 1000:.1f} ms/page"
                  + (f", {wall / med(ptimes):.2f}× the plain site (CPU {cpu / med(CPU[id(ptimes)]):.2f}×)" if ptimes else ""))
    t.add(scale, "crmdocs build", times, "plain site", med(ptimes) if ptimes else None,
          "< 60 s, per page ≤ 1.5×, < 300 MB, index < 15 MB", base_times=ptimes,
          extra=f"{pages:,} pages, {per_page:.1f} ms/page{ratio}, output {out_mb:.0f} MB ({where} MB), search index {index_mb:.1f} MB")


# ------------------------------------------------------------ ablation


def ablation(base: Path, runs: int) -> str:
    """What each change gained, in-process at county scale (1/5 city)."""
    from crmdocs.scripts import cache, repository, yamlio
    from crmdocs.scripts.cache import validate_report
    from crmdocs.scripts.validate import validate_plain as validate  # the plain run: load + every check, no cache

    root = ensure_data(base, "county")
    today = dt.date.fromisoformat(TODAY)

    def slow_yaml(text: str):
        raise ValueError("fast path off")

    @contextlib.contextmanager
    def gc_on():
        yield

    steps = [
        ("before: plain run, PyYAML constructor, GC on, 1 process", dict(fast=0, gc=False), lambda: validate(root, today, 1)),
        ("before, 2 processes (now: parsed mappings sent back, models made here)", dict(fast=0, gc=False), lambda: validate(root, today, 2)),
        ("+ libyaml composer and one resolving walk", dict(fast=1, gc=False), lambda: validate(root, today, 1)),
        ("+ line reader for the plainest files", dict(fast=2, gc=False), lambda: validate(root, today, 1)),
        ("+ GC paused while loading", dict(fast=2, gc=True), lambda: validate(root, today, 1)),
        ("+ split run (universe, then daily files checked per file), 1 process", dict(fast=2, gc=True),
         lambda: validate_report(root, today, 1, use_cache=False)),
        ("+ daily files in 2 forked workers, only problems sent back", dict(fast=2, gc=True),
         lambda: validate_report(root, today, 2, use_cache=False)),
        ("+ cache, nothing changed", dict(fast=2, gc=True), lambda: validate_report(root, today, 2)),
    ]
    lines = ["| step (county, 1/5 city; in-process) | median wall | noise | median CPU | wall vs. before | CPU vs. before |",
             "| --- | --- | --- | --- | --- | --- |"]
    first = None
    validate_report(root, today, 2)  # fill the cache for the last step
    for name, opts, fn in steps:
        saved = (yamlio._parse_simple, yamlio._parse_fast, repository.gc_paused, cache.gc_paused)
        try:
            if opts["fast"] < 2:
                yamlio._parse_simple = slow_yaml
            if opts["fast"] < 1:
                yamlio._parse_fast = slow_yaml
            if not opts["gc"]:
                repository.gc_paused = cache.gc_paused = gc_on
            times = timed(fn, runs)
        finally:
            yamlio._parse_simple, yamlio._parse_fast, repository.gc_paused, cache.gc_paused = saved
        cpu = med(CPU[id(times)])
        first = first or (med(times), cpu)
        lines.append(f"| {name} | {med(times):.2f} s | {noise(times)} | {cpu:.2f} s | {first[0] / med(times):.1f}× | {first[1] / cpu:.1f}× |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


# ------------------------------------------------------------ main


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/crmdocs-bench", help="where the generated offices live (not committed)")
    ap.add_argument("--scales", default="county,city")
    ap.add_argument("--stages", default="validate,recalc,build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slow-runs", type=int, default=1, help="runs of recalc and build at city scale (minutes each)")
    ap.add_argument("--ablation", action="store_true", help="only: what each speed-up gained (county scale)")
    args = ap.parse_args(argv)
    base = Path(args.data)
    base.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    load = os.getloadavg()[0]
    if args.ablation:
        print(ablation(base, args.runs))
        return 0
    table = Table()
    stages = args.stages.split(",")
    code = snapshot(base)
    for scale in args.scales.split(","):
        root = ensure_data(base, scale, code)
        if "validate" in stages:
            stage_validate(table, scale, root, args.runs)
        slow = args.runs if scale == "county" else args.slow_runs
        if "recalc" in stages:
            stage_recalc(table, scale, root, slow)
        if "build" in stages:
            stage_build(table, scale, root, slow, base)
    print(f"crmdocs benchmark, code {ENV['CRMDOCS_CODE'][:12]}, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load average at start {load:.1f} / at end {os.getloadavg()[0]:.1f}, --jobs {JOBS}, median of {args.runs} runs\n")
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
