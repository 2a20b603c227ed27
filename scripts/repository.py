"""Load a whole repository of records: discover → parse → validate each file.

``load(root)`` returns a :class:`Repository` (the valid records, indexed) and
the problems found file by file. Cross-record checks live in
:mod:`crmdocs.scripts.checks`; the rules and the site read the Repository.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from .diagnostics import Diagnostic, Report
from .kinds import COMPUTED, KINDS, RECORDS, SALES_PATTERN, Kind, kind_of

# pydantic, the schemas, the YAML reader and numpy are imported where first
# needed: a run answered from the validation cache needs none of them
if TYPE_CHECKING:
    from pydantic import ValidationError

    from crmdocs.schemas import (
        Brand,
        Calendar,
        Complaint,
        Diary,
        OrgUnit,
        Person,
        Plan,
        Policy,
        Retailer,
        Survey,
        MonthlySummary,
        Targets,
        TierOverride,
        WeeklyAnalysis,
    )

    from .sales import SalesData


def _no_sales() -> "SalesData":
    from .sales import SalesData

    return SalesData()


MAX_FILE_BYTES = 5 * 1024 * 1024  # a record is a few KB; a 5 MB one is a mistake


@dataclass
class Loaded:
    """One file's outcome."""

    rel: str  # relative to the repository root
    kind: Optional[str]
    record: Any = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    digest: Optional[str] = None  # SHA-1 of the bytes read, when asked for (the validation cache)


@dataclass
class Repository:
    root: Path
    policy: Optional[Policy] = None
    calendars: dict[int, Calendar] = field(default_factory=dict)
    org: dict[str, OrgUnit] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    brands: dict[str, Brand] = field(default_factory=dict)
    retailers: dict[str, Retailer] = field(default_factory=dict)
    plans: dict[tuple[str, dt.date], Plan] = field(default_factory=dict)
    diaries: dict[tuple[str, dt.date], Diary] = field(default_factory=dict)
    analyses: dict[tuple[str, str], WeeklyAnalysis] = field(default_factory=dict)  # (manager, "2026-W36")
    summaries: dict[tuple[str, str], MonthlySummary] = field(default_factory=dict)  # (manager, "2026-09")
    complaints: dict[str, Complaint] = field(default_factory=dict)
    surveys: dict[str, Survey] = field(default_factory=dict)
    targets: dict[str, Targets] = field(default_factory=dict)
    tier_overrides: dict[tuple[str, str], TierOverride] = field(default_factory=dict)  # (period, retailer)
    sales: SalesData = field(default_factory=_no_sales)
    # where each record came from: (kind, key) -> path relative to root
    sources: dict[tuple[str, Any], str] = field(default_factory=dict)
    files: int = 0
    # SHA-1 of the bytes each file was loaded from (when the loader was asked for them)
    digests: dict[str, str] = field(default_factory=dict, repr=False)
    _trees: dict[str, Any] = field(default_factory=dict, repr=False)

    def source(self, kind: str, key: Any) -> str:
        return self.sources.get((kind, key), "")

    def diag(
        self,
        rel: str,
        loc: Iterable[Any],
        message: str,
        code: str,
        severity: str = "error",
    ) -> Diagnostic:
        """A diagnostic pointing at ``loc`` inside file ``rel`` (line looked up lazily)."""
        from . import yamlio

        loc = tuple(loc)
        if rel not in self._trees:
            try:
                text = yamlio.decode((self.root / rel).read_bytes())
                self._trees[rel] = yamlio.compose_marks(text)
            except Exception:  # the file was readable moments ago; keep going without a line
                self._trees[rel] = None
        where = yamlio.locate(self._trees[rel], loc)
        return Diagnostic(rel, where.line, where.column, where.field, message, severity, code)  # type: ignore[arg-type]

    @property
    def policy_or_default(self) -> Policy:
        if self.policy is not None:
            return self.policy
        from crmdocs.schemas import Policy

        return Policy()

    def department_of_manager(self, manager: str, day: dt.date | None = None) -> Optional[str]:
        person = self.people.get(manager)
        if person is None:
            return None
        return person.unit_on(day) if day else person.unit


def records_dir(root: Path) -> Path:
    return root / RECORDS


def discover(root: Path) -> tuple[list[str], list[Diagnostic]]:
    """Every file under ``records/`` (relative to root), computed records aside.

    Walks with ``os.scandir``: the file type comes with the directory entry,
    so a plain file costs no extra system call (70,000 files: 0.2 s, not 0.7)."""
    base = records_dir(root)
    found: list[str] = []
    diags: list[Diagnostic] = []
    if not base.is_dir():
        diags.append(Diagnostic(RECORDS, 0, 0, "", f"找不到记录目录 {base} (no records/ folder)", "error", "no_records"))
        return found, diags
    real_root = root.resolve()

    def walk(dirpath: str, rel_dir: str) -> None:
        if rel_dir == f"{RECORDS}/{COMPUTED}":
            return
        try:
            with os.scandir(dirpath) as it:
                entries = list(it)
        except OSError:  # unreadable folder: os.walk skipped these silently too
            return
        files, dirs = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry)
        for entry in sorted(files, key=lambda e: e.name):
            name = entry.name
            if name.startswith("."):
                continue
            if not _printable_name(name):
                diags.append(_bad_name(rel_dir, name))
                continue
            rel = f"{rel_dir}/{name}"
            if entry.is_symlink():
                path = Path(entry.path)
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):  # a loop, or pointing at nothing
                    diags.append(Diagnostic(rel, 0, 0, "", "链接指向不存在的文件或自身，读不了 (broken symlink)", "error", "symlink"))
                    continue
                if not target.is_relative_to(real_root):
                    diags.append(
                        Diagnostic(rel, 0, 0, "", f"链接指向仓库之外的 {target}，不读取 (symlink out of the repository)", "error", "symlink")
                    )
                    continue
            try:
                regular = entry.is_file()  # a regular file (following a link)
            except OSError:
                regular = False
            if not regular:  # a FIFO or device would block or never end when read
                diags.append(Diagnostic(rel, 0, 0, "", "这不是普通文件，不读取 (not a regular file)", "error", "not_a_file"))
                continue
            found.append(rel)
        subdirs = []
        for entry in sorted(dirs, key=lambda e: e.name):
            name = entry.name
            if name.startswith("."):  # hidden: not records
                continue
            if not _printable_name(name):
                diags.append(_bad_name(rel_dir, name))
                continue
            if name.endswith((".yaml", ".yml", ".csv", ".csv.gz")):
                diags.append(
                    Diagnostic(f"{rel_dir}/{name}", 0, 0, "", "这里应是文件，却是一个目录 (a directory where a file should be)", "error", "not_a_file")
                )
                continue
            if entry.is_symlink():
                diags.append(
                    Diagnostic(f"{rel_dir}/{name}", 0, 0, "", "目录链接不读取 (directory symlinks are not followed)", "error", "symlink")
                )
                continue
            subdirs.append(entry)
        for entry in subdirs:
            walk(entry.path, f"{rel_dir}/{entry.name}")

    walk(str(base), base.relative_to(root).as_posix())
    return found, diags


def _printable_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # the OS gives undecodable bytes of a name as surrogates
        return False
    return True


def _bad_name(rel_dir: str, name: str) -> Diagnostic:
    shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return Diagnostic(
        f"{rel_dir}/{shown}", 0, 0, "",
        "名字不是 UTF-8 文字（可能是在 GBK 系统上起的名），请改名 (name is not UTF-8)", "error", "bad_name",
    )


def _yaml_diag(rel: str, problem: Any) -> Diagnostic:
    return Diagnostic(rel, problem.line, problem.column, "", problem.message, "error", problem.code)


MAX_FILE_PROBLEMS = 100  # a pasted list of 100,000 wrong items needs one line, not 100,000


def validation_diagnostics(rel: str, text: str, exc: ValidationError) -> list[Diagnostic]:
    from . import yamlio
    from .messages import explain

    tree = yamlio.compose_marks(text)
    out = []
    errors = exc.errors(include_url=False)
    for error in errors[:MAX_FILE_PROBLEMS]:
        # a rule over several fields names the one to fix in its context ("at")
        where = yamlio.locate(tree, (*error["loc"], *(error.get("ctx") or {}).get("at", ())))
        out.append(Diagnostic(rel, where.line, where.column, where.field, explain(error), "error", error["type"]))
    if len(errors) > MAX_FILE_PROBLEMS:
        more = len(errors) - MAX_FILE_PROBLEMS
        out.append(Diagnostic(
            rel, out[-1].line, 0, "", f"这个文件还有 {more} 个问题没有一一列出，请先改正上面的 ({more} more problems)",
            "error", "more",
        ))
    return out


def read_record_bytes(root: Path | str, rel: str) -> bytes | Diagnostic:
    """The bytes of one record file (one open, one fstat, one read), or the
    problem that stops reading it: a folder, too large, not a regular file,
    unreadable."""
    try:
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
    except IsADirectoryError:
        return Diagnostic(rel, 0, 0, "", "这里应是文件，却是一个目录 (a directory where a file should be)", "error", "not_a_file")
    except OSError as exc:
        return Diagnostic(rel, 0, 0, "", f"读不了这个文件：{exc.strerror} (cannot read)", "error", "unreadable")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return Diagnostic(rel, 0, 0, "", "这里应是文件，却是一个目录 (a directory where a file should be)", "error", "not_a_file")
        if not stat.S_ISREG(st.st_mode):
            return Diagnostic(rel, 0, 0, "", "这不是普通文件，不读取 (not a regular file)", "error", "not_a_file")
        size = st.st_size
        if size > MAX_FILE_BYTES:
            return Diagnostic(
                rel, 0, 0, "", f"文件太大（{size // 1024} KB），一条记录不会超过 {MAX_FILE_BYTES // 1024} KB (file too large)",
                "error", "too_large",
            )
        data = os.read(fd, size + 1)
        if len(data) > size:  # grew while being read: take what there is, up to the limit
            parts = [data]
            while (part := os.read(fd, 1 << 20)) and sum(map(len, parts)) <= MAX_FILE_BYTES:
                parts.append(part)
            data = b"".join(parts)
            if len(data) > MAX_FILE_BYTES:
                return Diagnostic(rel, 0, 0, "", f"文件太大，一条记录不会超过 {MAX_FILE_BYTES // 1024} KB (file too large)", "error", "too_large")
        return data
    except OSError as exc:
        return Diagnostic(rel, 0, 0, "", f"读不了这个文件：{exc.strerror} (cannot read)", "error", "unreadable")
    finally:
        os.close(fd)


def load_file(root: Path, rel: str, digest: bool = False) -> Loaded:
    """Read, parse and validate one record file. Never raises for bad input.
    ``digest``: also give the SHA-1 of the bytes read (``Loaded.digest``)."""
    sub = rel[len(RECORDS) + 1 :]
    match = kind_of(sub)
    if match is None:
        if SALES_PATTERN.fullmatch(sub):
            return Loaded(rel, "sales")
        if sub.endswith((".yaml", ".yml")):
            expected = "；".join(f"{k.label} {RECORDS}/{k.example}" for k in KINDS)
            return Loaded(rel, None, None, [Diagnostic(
                rel, 0, 0, "", f"不知道这是哪类记录：文件位置或名字不对。各类记录应放在：{expected} (unknown record path)",
                "error", "unknown_path",
            )])
        return Loaded(rel, None)  # README.md and the like: not records
    kind, m = match
    data = read_record_bytes(root, rel)
    if data.__class__ is not bytes:
        return Loaded(rel, kind.name, None, [data])  # type: ignore[list-item]
    loaded = parse_record(rel, kind, m, data)  # type: ignore[arg-type]
    if digest:
        loaded.digest = hashlib.sha1(data).hexdigest()  # type: ignore[arg-type]
    return loaded


MAX_ITEMS = 50_000  # values in one record; a diary has a few hundred. Validating (and
# explaining) millions of pasted items would take minutes and gigabytes.


def _count_items(raw: Any) -> int:
    """Values in a parsed document, counting stops a little past MAX_ITEMS."""
    count, stack = 0, [raw]
    while stack and count <= MAX_ITEMS:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _too_many(rel: str, kind: Kind) -> Diagnostic:
    return Diagnostic(
        rel, 1, 1, "", f"文件里的条目超过 {MAX_ITEMS} 个，不像一条{kind.label}记录 (too many items)", "error", "too_many_items",
    )


def parse_record(rel: str, kind: Kind, m, data: bytes) -> Loaded:
    parsed = parse_raw(rel, kind, data)
    if parsed.__class__ is Loaded:
        return parsed  # type: ignore[return-value]
    raw, text = parsed  # type: ignore[misc]
    return finish_record(rel, kind, m, raw, text)  # type: ignore[return-value]


def parse_raw(rel: str, kind: Kind, data: bytes) -> Loaded | tuple[dict, str]:
    """Bytes → the parsed mapping and its text, or a Loaded saying what is wrong."""
    from . import yamlio

    try:
        text = yamlio.decode(data)
        if len(data) > 100_000 and text.count(",") + text.count("\n") > 2 * MAX_ITEMS:
            return Loaded(rel, kind.name, None, [_too_many(rel, kind)])  # before a parse costs gigabytes
        raw = yamlio.parse(text)
    except yamlio.YamlProblem as problem:
        return Loaded(rel, kind.name, None, [_yaml_diag(rel, problem)])
    if raw is None:
        return Loaded(rel, kind.name, None, [Diagnostic(rel, 1, 1, "", f"文件是空的，应写一条{kind.label}记录 (empty file)", "error", "empty")])
    if not isinstance(raw, dict):
        return Loaded(rel, kind.name, None, [Diagnostic(rel, 1, 1, "", f"文件应是一组“字段: 值”，一条{kind.label}记录 (expected a mapping)", "error", "not_mapping")])
    if len(data) > 100_000 and _count_items(raw) > MAX_ITEMS:  # only big files are counted
        return Loaded(rel, kind.name, None, [_too_many(rel, kind)])
    return raw, text


def finish_record(rel: str, kind: Kind, m, raw: dict, text: Optional[str]) -> Optional[Loaded]:
    """Validate a parsed mapping into its model. Without ``text`` (a mapping
    parsed in another process) a problem gives None: the caller loads the
    file afresh, so that the messages can name lines."""
    from pydantic import ValidationError

    try:
        record = kind.model.model_validate(raw)
    except ValidationError as exc:
        if text is None:
            return None
        return Loaded(rel, kind.name, None, validation_diagnostics(rel, text, exc))
    except RecursionError:
        return Loaded(rel, kind.name, None, [Diagnostic(rel, 0, 0, "", "嵌套太深，无法读取 (nesting too deep)", "error", "too_deep")])
    diags = []
    for agreement in kind.agreements:
        in_name = m.group(agreement.group)
        in_file = agreement.get(record)
        if in_name != in_file:
            if text is None:
                return None
            from . import yamlio

            tree = yamlio.compose_marks(text)
            where = yamlio.locate(tree, agreement.field)
            diags.append(Diagnostic(
                rel, where.line, where.column, where.field,
                f"文件名里的{agreement.label}是 {in_name}，文件里写的是 {in_file}：两者要一致，请改文件名或内容"
                f" (file name says {in_name}, content says {in_file})",
                "error", "name_mismatch",
            ))
    return Loaded(rel, kind.name, record, diags)


# the Repository attribute each kind is indexed in (policy: repo.policy)
_TARGETS = {
    "calendar": "calendars", "org": "org", "person": "people", "brand": "brands", "retailer": "retailers",
    "plan": "plans", "diary": "diaries", "analysis": "analyses", "summary": "summaries", "complaint": "complaints", "survey": "surveys", "targets": "targets",
    "tier_override": "tier_overrides",
}


def record_key(kind: Optional[str], rec: Any) -> Any:
    """The key a record is indexed by (two records with one key are duplicates)."""
    if kind == "policy":
        return "policy"
    if kind == "calendar":
        return rec.year
    if kind in ("org", "person", "brand", "retailer", "complaint", "survey"):
        return rec.id
    if kind in ("plan", "diary"):
        return (rec.manager, rec.date)
    if kind == "analysis":
        return (rec.manager, rec.week)
    if kind == "summary":
        return (rec.manager, rec.month)
    if kind == "targets":
        return rec.period
    if kind == "tier_override":
        return (rec.period, rec.retailer)
    return None


def duplicate_diag(repo: Repository, rel: str, kind: str, key: Any, first: str) -> Diagnostic:
    what = {
        "plan": "同一客户经理同一天有两份计划", "diary": "同一客户经理同一天有两篇日记",
        "analysis": "同一客户经理同一周有两篇市场分析", "summary": "同一客户经理同一月有两篇工作总结",
    }.get(kind, f"编号 {key} 重复")
    field_name = {"plan": "date", "diary": "date", "analysis": "week", "summary": "month"}.get(kind, "id")
    return repo.diag(rel, (field_name,), f"{what}，另一份在 {first} (duplicate: also in {first})", "duplicate")


def _index(repo: Repository, loaded: Loaded, report: Report) -> None:
    rec = loaded.record
    kind = loaded.kind
    if rec is None:
        return
    key = record_key(kind, rec)
    if key is None:  # pragma: no cover - every kind has a key
        return
    if kind == "policy":
        repo.policy = rec
    first = repo.sources.get((kind, key))
    if first is not None:
        report.add(duplicate_diag(repo, loaded.rel, kind, key, first))  # type: ignore[arg-type]
        return
    repo.sources[(kind, key)] = loaded.rel
    if kind in _TARGETS:
        getattr(repo, _TARGETS[kind])[key] = rec


def load(root: Path | str, jobs: int = 1, digest: bool = False) -> tuple[Repository, Report]:
    """Load every record under ``root/records``. Bad files are reported, not raised.
    ``digest``: each Loaded's SHA-1 is kept in ``repo.digests`` (rel → hash)."""
    root = Path(root)
    rels, diags = discover(root)
    repo, report = load_rels(root, rels, jobs, digest)
    report.diagnostics[:0] = diags
    return repo, report


def _is_sales(rel: str) -> bool:
    return rel.startswith(f"{RECORDS}/sales/") and SALES_PATTERN.fullmatch(rel[len(RECORDS) + 1 :]) is not None


def load_rels(
    root: Path, rels: list[str], jobs: int = 1, digest: bool = False, meanwhile: Optional[Callable[[], Any]] = None,
) -> tuple[Repository, Report]:
    """Load and index these files (from :func:`discover`). With ``jobs`` > 1
    one worker process reads the sales (their arrays come back whole, a
    memory copy) while the others parse the records. ``meanwhile()`` is
    called in this process once the workers have started (before loading
    anything here)."""
    sales = [rel for rel in rels if _is_sales(rel)]
    others = [rel for rel in rels if not _is_sales(rel)] if sales else rels
    side = functools.partial(read_sales_files, root, sales, digest) if sales else None
    loaded, sales_read = load_files_and(root, others, jobs, digest, side, meanwhile)
    return assemble(root, loaded, sales=sales_read)


def read_sales_files(root: Path, rels: list[str], digest: bool = False) -> tuple[SalesData, list[Diagnostic], dict[str, str], int]:
    """The monthly sales files, in order: their data, problems (two files for
    one month among them), when ``digest`` each file's SHA-1, and how many
    files there were."""
    from .sales import SalesData, read_sales_csv

    sales = SalesData()
    diags: list[Diagnostic] = []
    digests: dict[str, str] = {}
    months: dict[str, str] = {}
    for rel in rels:
        month = SALES_PATTERN.fullmatch(rel[len(RECORDS) + 1 :]).group("month")  # type: ignore[union-attr]
        if month in months:
            diags.append(Diagnostic(
                rel, 0, 0, "", f"{month} 月已有销售文件 {months[month]}，同一月份只能有一个文件（.csv 或 .csv.gz）"
                f" (two sales files for one month)", "error", "duplicate",
            ))
            continue
        months[month] = rel
        data = (root / rel).read_bytes()
        if digest:
            digests[rel] = hashlib.sha1(data).hexdigest()
        diags.extend(read_sales_csv(data, rel, month, sales))
    sales.finish()
    return sales, diags, digests, len(rels)


def assemble(
    root: Path, loaded: list[Loaded], sales: Optional[tuple[SalesData, list[Diagnostic], dict[str, str], int]] = None,
) -> tuple[Repository, Report]:
    """Index loaded files into a Repository (duplicates reported, sales read —
    or taken from ``sales``, :func:`read_sales_files` of the sales files,
    which are then not among ``loaded``)."""
    repo = Repository(root=root)
    report = Report()
    if sales is None:
        sales = read_sales_files(root, [item.rel for item in loaded if item.kind == "sales"])
        sales = (*sales[:3], 0)  # counted below, among the loaded
    repo.sales, sales_diags, sales_digests, repo.files = sales
    repo.digests.update(sales_digests)
    for item in loaded:
        report.extend(item.diagnostics)
        if item.kind is not None:
            repo.files += 1
        if item.digest is not None:
            repo.digests[item.rel] = item.digest
        if item.kind != "sales":
            _index(repo, item, report)
    report.extend(sales_diags)
    report.files = repo.files
    return repo, report


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many objects are made.

    Loading keeps every record alive, so each automatic collection walks all
    records loaded so far: over 50,000 files that made loading 2-3x slower.
    On the way out the objects made meanwhile are frozen (moved out of the
    collector's reach, still freed by reference counting): else the first
    collection after would walk them all once more (~1 s at city scale).
    Records hold no reference cycles; nothing is lost by collecting later.
    Never ``gc.unfreeze()`` after a worker pool: it unfreezes everything
    frozen before too — every record loaded — and the next full collection,
    at the latest the one at interpreter exit, walks them all (3–5 s at
    city scale)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.enable()


POOL_MIN = 200  # fewer files are loaded in this process: starting workers costs more


def load_files(root: Path, rels: list[str], jobs: int = 1, digest: bool = False) -> list[Loaded]:
    """Parse and validate files, in ``jobs`` processes when asked.

    ``jobs - 1`` worker processes (forked) read and parse chunks of files from
    the front; they send back the parsed mappings — plain dicts and lists,
    which pickle about 20 times faster than Pydantic models (unpickling a
    model costs as much as validating it) — through a file in /dev/shm
    (:func:`_spooled`), and this process validates them into models. Whenever
    no worker's answer is waiting, this process reads, parses and validates a
    chunk no worker has started, from the back (no pickling for those): the
    two sides meet wherever the machine's load puts them. A file with any
    problem is loaded again here, in full, so that its messages name lines.
    The outcome is the one ``jobs=1`` gives."""
    return load_files_and(root, rels, jobs, digest)[0]


def load_files_and(
    root: Path, rels: list[str], jobs: int = 1, digest: bool = False, side: Optional[Callable[[], Any]] = None,
    meanwhile: Optional[Callable[[], Any]] = None,
) -> tuple[list[Loaded], Any]:
    """:func:`load_files`, and the result of ``side()`` (a picklable call, run
    in a worker process beside the parsing when there are workers);
    ``meanwhile()`` is called here first, after the workers are given their
    tasks."""
    with gc_paused():
        context = None
        if jobs > 1 and len(rels) >= POOL_MIN:
            import multiprocessing

            try:
                context = multiprocessing.get_context("fork")
            except ValueError:  # no fork on this platform: one process
                context = None
        if context is None:
            if meanwhile is not None:
                meanwhile()
            extra = side() if side is not None else None
            return [load_file(root, rel, digest) for rel in rels], extra
        import shutil
        import tempfile
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        global _RAW_JOB
        size = max(50, min(1000, len(rels) // (jobs * 8)))
        chunks = [rels[i : i + size] for i in range(0, len(rels), size)]
        parts: list[Optional[list[Loaded]]] = [None] * len(chunks)
        gc.freeze()  # the workers inherit what is loaded: keep it out of their collector's reach
        prefix = f"{_SPOOL_PREFIX}{os.getpid()}-"
        try:
            _sweep_spools(_SPOOL_DIR)
            spool = tempfile.mkdtemp(prefix=prefix, dir=_SPOOL_DIR)
        except OSError:  # no /dev/shm, or not ours to write in: the usual temporary folder
            _sweep_spools(tempfile.gettempdir())
            spool = tempfile.mkdtemp(prefix=prefix)
        _RAW_JOB = (root, digest, spool)
        try:
            # this process parses and validates too: jobs - 1 workers keep jobs cores busy
            with ProcessPoolExecutor(max_workers=max(1, jobs - 1), mp_context=context, initializer=gc.disable) as pool:
                extra = pool.submit(_spooled, side) if side is not None else None  # first: it is the longest task
                futures = {pool.submit(_spooled, _read_raw, chunk): i for i, chunk in enumerate(chunks)}
                waiting = list(futures)  # in submission order; this process takes from the end
                if meanwhile is not None:
                    meanwhile()
                while waiting:
                    done = [f for f in waiting if f.done()]
                    if not done:
                        last = waiting[-1]
                        if last.cancel():  # not started: do it here, no pickling either way
                            waiting.pop()
                            i = futures[last]
                            parts[i] = [load_file(root, rel, digest) for rel in chunks[i]]
                            continue
                        done = [next(iter(wait(waiting, return_when=FIRST_COMPLETED).done))]
                    for future in done:
                        waiting.remove(future)
                        parts[futures[future]] = [_finish_raw(root, item, digest) for item in _unspool(future.result())]
                extra = _unspool(extra.result()) if extra is not None else None
        finally:
            _RAW_JOB = None  # no gc.unfreeze(): see gc_paused
            shutil.rmtree(spool, ignore_errors=True)
        return [item for part in parts for item in part], extra  # type: ignore[union-attr]


def _finish_raw(root: Path, item: Any, digest: bool) -> Loaded:
    """A worker's outcome for one file (see :func:`_read_raw`) made a Loaded here."""
    if item.__class__ is not tuple:
        return item
    rel, raw, sha = item
    match = kind_of(rel[len(RECORDS) + 1 :])
    done = finish_record(rel, match[0], match[1], raw, None) if match is not None else None
    if done is None:  # a problem: load it here, with lines
        return load_file(root, rel, digest)
    done.digest = sha
    return done


_RAW_JOB: Optional[tuple[Path, bool, str]] = None  # (root, digest, spool folder) for forked workers
_SPOOL_DIR = "/dev/shm"  # memory-backed, where there is one
_SPOOL_PREFIX = "crmdocs-load-"  # + the loading process's id + "-" + a random part


def _sweep_spools(where: str) -> None:
    """Remove the spool folders of runs that were killed (SIGKILL, out of
    memory) before they could tidy up: /dev/shm is memory, and a city's
    answers hold ~0.5 GB. A folder is a killed run's when the process id in
    its name no longer exists."""
    import shutil

    try:
        names = os.listdir(where)
    except OSError:
        return
    for name in names:
        if not name.startswith(_SPOOL_PREFIX):
            continue
        pid = name[len(_SPOOL_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # gone: its folder is a leftover
            shutil.rmtree(os.path.join(where, name), ignore_errors=True)
        except OSError:  # alive (perhaps another user's): leave it
            pass


@dataclass
class _Spooled:
    path: str  # a worker's answer, pickled into this file


def _spooled(fn: Callable[..., Any], *args: Any) -> Any:
    """In a worker: ``fn(*args)``, written (pickled) to a file in the spool
    folder, whose name is the answer. The pool's pipe then carries a few
    bytes, and the worker goes on at once instead of waiting for this
    process's result thread — which hardly gets a turn while this process
    validates — to take megabytes off the pipe. When the file cannot be
    written (a small /dev/shm) the answer itself goes through the pipe."""
    import contextlib
    import pickle
    import tempfile

    out = fn(*args)
    assert _RAW_JOB is not None
    fd, name = tempfile.mkstemp(dir=_RAW_JOB[2], suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return out
    return _Spooled(name)


def _unspool(answer: Any) -> Any:
    if answer.__class__ is not _Spooled:
        return answer
    import pickle

    with open(answer.path, "rb") as f:
        out = pickle.load(f)
    os.unlink(answer.path)
    return out


def _read_raw(rels: list[str]) -> list[Any]:
    """In a worker: per file (rel, parsed mapping, SHA-1 or None), or the
    finished Loaded when there is nothing to validate (a problem, not a record)."""
    assert _RAW_JOB is not None
    root, digest = _RAW_JOB[:2]
    out: list[Any] = []
    for rel in rels:
        match = kind_of(rel[len(RECORDS) + 1 :])
        if match is None:
            out.append(load_file(root, rel, digest))
            continue
        kind = match[0]
        data = read_record_bytes(root, rel)
        if data.__class__ is not bytes:
            out.append(Loaded(rel, kind.name, None, [data]))  # type: ignore[list-item]
            continue
        sha = hashlib.sha1(data).hexdigest() if digest else None  # type: ignore[arg-type]
        parsed = parse_raw(rel, kind, data)  # type: ignore[arg-type]
        if parsed.__class__ is Loaded:
            parsed.digest = sha  # type: ignore[union-attr]
            out.append(parsed)
        else:
            out.append((rel, parsed[0], sha))  # type: ignore[index]
    return out
