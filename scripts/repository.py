"""Load a whole repository of records: discover → parse → validate each file.

``load(root)`` returns a :class:`Repository` (the valid records, indexed) and
the problems found file by file. Cross-record checks live in
:mod:`crmdocs.scripts.checks`; the rules and the site read the Repository.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import gc
import hashlib
import os
import stat
import time
import zlib
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterable, Iterator, Optional

from .diagnostics import Diagnostic, Report
from .kinds import COMPUTED, HANDED_IN, RECORDS, SALES_PATTERN, Kind, is_sales, kind_of, misplaced

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
    # kind → key → facts, for the kinds held as facts instead of models
    # (validate(facts=True): crmdocs recalc); read them with facts.of
    facts: dict[str, dict[Any, Any]] = field(default_factory=dict, repr=False)
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


def discover(
    root: Path, tops: Optional[Collection[str]] = None, look: Optional[tuple[list[str], Any]] = None,
) -> tuple[list[str], list[Diagnostic]]:
    """Every file under ``records/`` (relative to root), computed records aside
    (``tops``: only those under the names in it, directly under ``records/``).

    Walks with ``os.scandir``: the file type comes with the directory entry,
    so a plain file costs no extra system call (70,000 files: 0.2 s, not 0.7);
    a folder of plain files only (the usual one) is taken as one sorted list
    of names. ``look`` (an empty list and an empty ``array("q")``): each file
    found is also looked at as ``cache._look`` does — its stat signature (or
    ``"-"``) and modification time — in the same walk, by name against its
    folder's descriptor (a city's 79,000 files: 0.27 → 0.2 s, one lookup per
    file instead of a path of five)."""
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
        if tops is not None and rel_dir == RECORDS:
            entries = [entry for entry in entries if entry.name in tops]
        plain, files, dirs = [], [], []
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False):  # a plain file, no link
                    plain.append(entry)
                    continue
            except OSError:
                pass
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry)
        if plain and not files:  # the usual folder: plain files (and folders) only
            names = sorted([entry.name for entry in plain])
            dot = bisect.bisect_left(names, ".")  # hidden names sort together
            if dot < len(names) and names[dot][0] == ".":
                names = [name for name in names if name[0] != "."]
            try:
                "/".join(names).encode("utf-8")
            except UnicodeEncodeError:  # a name of undecodable bytes: each said below
                pass
            else:
                found.extend([f"{rel_dir}/{name}" for name in names])
                if look is not None and names:
                    _look_in(dirpath, rel_dir, names, look)
                plain = []
        names = []
        for entry in sorted(files + plain, key=lambda e: e.name):
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
            names.append(name)
        if look is not None and names:
            _look_in(dirpath, rel_dir, names, look)
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


def _look_in(dirpath: str, rel_dir: str, names: list[str], look: tuple[list[str], Any]) -> None:
    """Each named file of one folder looked at as ``cache._look`` does, into
    ``look`` (signatures, modification times): its stat signature, or ``"-"``
    for what cannot be trusted (gone, not a regular file, too large)."""
    looked, times = look
    try:
        fd = os.open(dirpath, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        fd = -1
    try:
        try:
            found = [os.stat(name, dir_fd=fd) for name in names] if fd >= 0 else None
        except OSError:
            found = None
        if found is not None and all(st.st_mode & 0o170000 == stat.S_IFREG and st.st_size <= MAX_FILE_BYTES for st in found):
            looked.extend([f"{st.st_size} {st.st_mtime_ns} {st.st_ino} {st.st_dev} " for st in found])  # stat_signature
            times.extend([st.st_mtime_ns for st in found])
            return
        for name in names:  # one by one: the file's own answer
            try:
                st = os.stat(name, dir_fd=fd) if fd >= 0 else None
            except OSError:
                st = None
            look_at(st, f"{rel_dir}/{name}", look)
    finally:
        if fd >= 0:
            os.close(fd)


def look_at(st: Optional[os.stat_result], rel: str, look: tuple[list[str], Any]) -> None:
    """One file looked at (``cache._look``, ``discover(look=)``), into ``look``
    (signatures, modification times): its stat signature and time, or ``"-"``
    and 0 for what cannot be trusted (gone, not a regular file, too large —
    but a sales file, which may be)."""
    looked, times = look
    if st is None or not stat.S_ISREG(st.st_mode) or (st.st_size > MAX_FILE_BYTES and not is_sales(rel)):
        looked.append("-")
        times.append(0)
    else:
        looked.append(stat_signature(st))
        times.append(st.st_mtime_ns)


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
    return _read_signed(root, rel)[0]


def stat_signature(st: os.stat_result) -> str:
    """A file's stat signature (size, modification time, inode, device), the
    one format the validation cache, the parsed-data shards, the facts and the
    sales cache record and compare. The device keeps a file of another file
    system (``recalc --diff``'s tree in ``/dev/shm`` has a copy of the caches)
    from passing for the recorded one by an equal size, time and inode."""
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ino} {st.st_dev} "


SEAL = b"\ncrc32 "  # a cache file ends with this, the CRC-32 of the bytes before it in 8 hex digits, and "\n"
_SEAL_BYTES = len(SEAL) + 9


def _trailer(body: Any) -> bytes:
    return b"%s%08x\n" % (SEAL, zlib.crc32(body))


def seal(body: bytes) -> bytes:
    """A cache file's bytes: ``body`` and its checksum (:data:`SEAL`). The
    three caches (validation report, parsed-data shards, sales arrays) are
    written sealed and used only when the checksum agrees: a flipped byte
    anywhere, a truncated or a foreign file means the plain path, and the
    next write repairs it. CRC-32 finds every change of up to 4 bytes in a
    row and all but one in 4·10⁹ others, at ~6.5 GB/s on this kind of
    machine (adler32 ~3.9, BLAKE2b ~1.3, SHA-1 ~2.0 GB/s)."""
    return body + _trailer(body)


def unsealed(data: bytes) -> Optional[memoryview]:
    """The body of sealed ``data``, None when its checksum does not agree."""
    if len(data) < _SEAL_BYTES:
        return None
    body = memoryview(data)[:-_SEAL_BYTES]
    return body if data[-_SEAL_BYTES:] == _trailer(body) else None


def _read_signed(root: Path | str, rel: str) -> tuple[bytes | Diagnostic, str]:
    """:func:`read_record_bytes`, and the file's stat signature as
    ``cache._look`` writes it, taken before the read ("-" on a problem)."""
    sig = "-"
    try:
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
    except IsADirectoryError:
        return Diagnostic(rel, 0, 0, "", "这里应是文件，却是一个目录 (a directory where a file should be)", "error", "not_a_file"), sig
    except OSError as exc:
        return Diagnostic(rel, 0, 0, "", f"读不了这个文件：{exc.strerror} (cannot read)", "error", "unreadable"), sig
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return Diagnostic(rel, 0, 0, "", "这里应是文件，却是一个目录 (a directory where a file should be)", "error", "not_a_file"), sig
        if not stat.S_ISREG(st.st_mode):
            return Diagnostic(rel, 0, 0, "", "这不是普通文件，不读取 (not a regular file)", "error", "not_a_file"), sig
        size = st.st_size
        if size > MAX_FILE_BYTES:
            return Diagnostic(
                rel, 0, 0, "", f"文件太大（{size // 1024} KB），一条记录不会超过 {MAX_FILE_BYTES // 1024} KB (file too large)",
                "error", "too_large",
            ), sig
        data = os.read(fd, size + 1)
        if len(data) > size:  # grew while being read: take what there is, up to the limit
            parts = [data]
            while (part := os.read(fd, 1 << 20)) and sum(map(len, parts)) <= MAX_FILE_BYTES:
                parts.append(part)
            data = b"".join(parts)
            if len(data) > MAX_FILE_BYTES:
                return Diagnostic(rel, 0, 0, "", f"文件太大，一条记录不会超过 {MAX_FILE_BYTES // 1024} KB (file too large)", "error", "too_large"), sig
            return data, sig  # it grew: its size is not the one signed
        return data, stat_signature(st)
    except OSError as exc:
        return Diagnostic(rel, 0, 0, "", f"读不了这个文件：{exc.strerror} (cannot read)", "error", "unreadable"), sig
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
        if sub == HANDED_IN:  # hand-in times of the old system: its bad rows stop recalc and build, so say so here
            from .history import handed_in_problems

            return Loaded(rel, None, None, handed_in_problems(root))
        if sub.lower().endswith((".yaml", ".yml")):  # (a .YAML too: never skipped unsaid)
            return Loaded(rel, None, None, [Diagnostic(rel, 0, 0, "", misplaced(sub), "error", "unknown_path")])
        return Loaded(rel, None)  # README.md and the like: not records
    return load_raw(root, rel, digest, match)[0]


def load_raw(root: Path, rel: str, digest: bool = False, match: Any = None) -> tuple[Loaded, Optional[dict]]:
    """:func:`load_file`, and the parsed mapping it validated (None when
    there is none: not a record, unreadable, not YAML or not a mapping) —
    what a parsed-data shard keeps of the file (``crmdocs validate``'s
    daily checks hand it back, :func:`keep_shard`)."""
    match = match or kind_of(rel[len(RECORDS) + 1 :])
    if match is None:
        return load_file(root, rel, digest), None
    kind, m = match
    data = read_record_bytes(root, rel)
    if data.__class__ is not bytes:
        return Loaded(rel, kind.name, None, [data]), None  # type: ignore[list-item]
    parsed = parse_raw(rel, kind, data)  # type: ignore[arg-type]
    if parsed.__class__ is Loaded:
        loaded, raw = parsed, None
    else:
        raw, text = parsed  # type: ignore[misc]
        loaded = finish_record(rel, kind, m, raw, text)  # type: ignore[assignment]
    if digest:
        loaded.digest = hashlib.sha1(data).hexdigest()  # type: ignore[arg-type, union-attr]
    return loaded, raw  # type: ignore[return-value]


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


_VALIDATORS: dict[str, Callable[[Any], Any]] = {}  # model name -> its model_validate (quick_validator)
_INVALID: Any = None  # pydantic's ValidationError, once a validator is made (an import a file costs ~0.5 µs)


def finish_record(rel: str, kind: Kind, m, raw: dict, text: Optional[str]) -> Optional[Loaded]:
    """Validate a parsed mapping into its model. Without ``text`` (a mapping
    parsed in another process) a problem gives None: the caller loads the
    file afresh, so that the messages can name lines."""
    global _INVALID

    validate = _VALIDATORS.get(kind.model_name)
    if validate is None:  # (kind.model imports: ~3 µs a call)
        from pydantic import ValidationError

        from crmdocs.schemas.common import quick_validator

        _INVALID = ValidationError
        validate = _VALIDATORS[kind.model_name] = quick_validator(kind.model)  # the model's outcome, quicker
    try:
        record = validate(raw)
    except _INVALID as exc:
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
    held = repo.facts.get(kind)  # type: ignore[arg-type]
    if held is not None:  # held as facts (a model is made its facts)
        from .facts import as_facts

        held[key] = as_facts(kind, rec)  # type: ignore[arg-type]
    elif kind in _TARGETS:
        getattr(repo, _TARGETS[kind])[key] = rec


# the key of a kind held as facts, from its facts (record_key of the model)
_FACT_KEYS: dict[str, Callable[[Any], Any]] = {
    "plan": lambda f: f[:2], "diary": lambda f: f[:2], "analysis": lambda f: f[:2], "summary": lambda f: f[:2],
    "retailer": lambda f: f[0],
}


def _index_held(repo: Repository, item: Held, report: Report) -> None:
    """:func:`_index` of every file of ``item`` (their facts), at once."""
    kind = item.kind
    held = repo.facts.get(kind)
    if held is None:  # pragma: no cover - only a repository held as facts (assemble(facts=True)) takes them
        raise ValueError(f"{kind} facts given to a repository of models")
    repo.files += len(item.rels)
    if item.shas is not None:
        repo.digests.update(zip(item.rels, item.shas))
    sources = repo.sources
    key_of = _FACT_KEYS[kind]
    for rel, record in zip(item.rels, item.records):
        key = key_of(record)
        first = sources.setdefault((kind, key), rel)
        if first is not rel:
            report.add(duplicate_diag(repo, rel, kind, key, first))
            continue
        held[key] = record


def load(root: Path | str, jobs: int = 1, digest: bool = False) -> tuple[Repository, Report]:
    """Load every record under ``root/records``. Bad files are reported, not raised.
    ``digest``: each Loaded's SHA-1 is kept in ``repo.digests`` (rel → hash)."""
    root = Path(root)
    rels, diags = discover(root)
    repo, report = load_rels(root, rels, jobs, digest)
    report.diagnostics[:0] = diags
    return repo, report


def load_rels(root: Path, rels: list[str], jobs: int = 1, digest: bool = False) -> tuple[Repository, Report]:
    """Load and index these files (from :func:`discover`). With ``jobs`` > 1
    one worker process reads the sales (their arrays come back whole, a
    memory copy) while the others parse the records."""
    sales, _, others, _ = split_sales(rels)
    side = functools.partial(read_sales_files, root, sales, digest) if sales else None
    loaded, sales_read = load_files_and(root, others, jobs, digest, side)
    return assemble(root, loaded, sales=sales_read)


def split_sales(rels: list[str], looked: Optional[tuple[list[str], Any]] = None) -> tuple[list[str], Any, list[str], Any]:
    """The sales files among ``rels`` and their ``looked``, the others and theirs."""
    top = f"{RECORDS}/sales/"
    sales_flags = [rel.startswith(top) and is_sales(rel) for rel in rels]  # (the bulk: no call)
    if not any(sales_flags):
        return [], ([], []), rels, looked
    first = sales_flags.index(True)
    end = first + sales_flags[first:].index(False) if False in sales_flags[first:] else len(rels)
    if True not in sales_flags[end:]:  # one run of files (one folder): slices, not five passes
        cut = slice(first, end)

        def rest(values: Any) -> list:
            return list(values[:first]) + list(values[end:])

        return rels[cut], (None if looked is None else (looked[0][cut], list(looked[1][cut]))), rest(rels), \
            (None if looked is None else (rest(looked[0]), rest(looked[1])))
    sales_looked = None
    if looked is not None:
        sales_looked = ([x for x, s in zip(looked[0], sales_flags) if s], [x for x, s in zip(looked[1], sales_flags) if s])
        looked = ([x for x, s in zip(looked[0], sales_flags) if not s], [x for x, s in zip(looked[1], sales_flags) if not s])
    return [rel for rel, s in zip(rels, sales_flags) if s], sales_looked, [rel for rel, s in zip(rels, sales_flags) if not s], looked


def read_sales_files(root: Path, rels: list[str], digest: bool = False) -> tuple[SalesData, list[Diagnostic], dict[str, str], int]:
    """The monthly sales files, in order: their data, problems (two files for
    one month among them), when ``digest`` each file's SHA-1, and how many
    files there were."""
    from .sales import SalesData, read_sales_csv, small_pages

    sales = SalesData()
    diags: list[Diagnostic] = []
    digests: dict[str, str] = {}
    months: dict[str, str] = {}
    with small_pages():  # the arrays read and joined: ~0.5 GB at city scale
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
    facts: bool = False,
) -> tuple[Repository, Report]:
    """Index loaded files into a Repository (duplicates reported, sales read —
    or taken from ``sales``, :func:`read_sales_files` of the sales files,
    which are then not among ``loaded``). ``facts``: the kinds with facts
    are held as facts (``repo.facts``; their models, where built, are made
    facts and dropped; ``repo.plans`` etc. are :class:`facts.Withheld`)."""
    repo = Repository(root=root)
    if facts:
        from .facts import FIELDS, IN_PLACE, Withheld

        for kind, name in FIELDS.items():
            if kind in IN_PLACE:  # (its facts in the models' place: the field's own dict)
                repo.facts[kind] = getattr(repo, name)
                continue
            repo.facts[kind] = {}
            setattr(repo, name, Withheld(kind))
    report = Report()
    if sales is None:
        sales = read_sales_files(root, [item.rel for item in loaded if item.kind == "sales"])
        sales = (*sales[:3], 0)  # counted below, among the loaded
    repo.sales, sales_diags, sales_digests, repo.files = sales
    repo.digests.update(sales_digests)
    for item in loaded:
        if item.__class__ is Held:
            _index_held(repo, item, report)
            continue
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
    looked: Optional[tuple[list[str], Any]] = None, held: Optional[list] = None, light: bool = False,
) -> tuple[list[Loaded], Any]:
    """:func:`load_files`, and the result of ``side()`` (a call run in a
    worker process — forked: it need not pickle — beside the parsing when
    there are workers, else here before loading).

    ``looked``: each file's stat signature and modification time
    (``cache._look`` of ``rels``); given, the files go in units of one
    folder and the parsed-data cache (:data:`PARSED_DIR`) serves and is
    refreshed: a file whose signature is the one recorded with its parsed
    mapping is neither read nor parsed. ``rels`` are then the whole
    repository (but its sales): the shards of folders not among them are
    removed.

    ``held`` (a list, with ``looked``): the plans, diaries, analyses and
    summaries are held as facts where they can be (:mod:`.facts`): a folder
    whose every file has facts kept for its bytes gives Loaded items whose
    ``record`` is those facts, no model built, and its unit is appended to
    ``held`` (:func:`build_held` builds its models after all). Either way,
    a folder of those kinds whose models were built has its facts kept
    (written when its facts file does not hold them all).

    ``light``: ``side()`` is quick (a fraction of a second: the validation
    cache read, the sales cached) — when no folder needs parsing either, it
    runs here and no worker is started (forking one and pickling its answer
    over cost more than it saves)."""
    with gc_paused():
        context = None  # the start method, when a pool may start (multiprocessing imported only then: a warm run starts none)
        if jobs > 1 and len(rels) >= POOL_MIN and hasattr(os, "fork"):  # (no fork on this platform: one process)
            context = "fork"
        # each folder's shard read and judged before any worker starts: a forked
        # worker that loads a folder takes its shard from here, read once
        units = _units(root, rels, looked, held is not None) if looked is not None else None
        facts_of: dict[int, list[Loaded]] = {}
        if units is not None:
            for i, unit in enumerate(units):
                if unit.facts is not None:
                    facts_of[i] = _unit_facts(root, unit, digest)
                    held.append(unit)  # type: ignore[union-attr]
            if light and all(unit.ready or i in facts_of for i, unit in enumerate(units)):
                context = None  # nothing to parse: everything here
        if context is None:
            extra = side() if side is not None else None
            if units is None:
                return [load_file(root, rel, digest) for rel in rels], extra
            parts = [facts_of[i] if i in facts_of else _load_unit(root, unit, digest) for i, unit in enumerate(units)]
            _keep_facts(root, units, parts)
            _sweep_shards(root, units)
            return [item for part in parts for item in part], extra
        import shutil
        import tempfile
        from concurrent.futures import FIRST_COMPLETED, wait

        from .pools import executor

        global _RAW_JOB
        size = max(50, min(1000, len(rels) // (jobs * 8)))
        tasks: list[Any] = [rels[i : i + size] for i in range(0, len(rels), size)]
        gc.freeze()  # the workers inherit what is loaded: keep it out of their collector's reach
        prefix = f"{_SPOOL_PREFIX}{os.getpid()}-"
        try:
            _sweep_spools(_SPOOL_DIR)
            spool = tempfile.mkdtemp(prefix=prefix, dir=_SPOOL_DIR)
        except OSError:  # no /dev/shm, or not ours to write in: the usual temporary folder
            _sweep_spools(tempfile.gettempdir())
            spool = tempfile.mkdtemp(prefix=prefix)
        _RAW_JOB = (root, digest, spool, side, units)
        try:
            # this process parses and validates too: jobs - 1 workers keep jobs cores busy
            import multiprocessing

            with executor(max(1, jobs - 1), multiprocessing.get_context(context)) as pool:
                extra = pool.submit(_spooled, _side) if side is not None else None  # first: it is the longest task
                if units is not None:
                    tasks = units
                parts: list[Optional[list[Loaded]]] = [None] * len(tasks)
                if units is None:
                    futures = {pool.submit(_spooled, _read_raw, chunk): i for i, chunk in enumerate(tasks)}
                    ready: list[int] = []
                else:  # folders whose every file is known from the cache are loaded here, the rest by workers
                    for i, part in facts_of.items():
                        parts[i] = part
                    futures = {
                        pool.submit(_unit_elsewhere, i): i
                        for i, unit in enumerate(units) if not unit.ready and i not in facts_of
                    }
                    ready = [i for i, unit in enumerate(units) if unit.ready and i not in facts_of][::-1]
                waiting = list(futures)  # in submission order; this process takes from the end
                while waiting or ready:
                    done = [f for f in waiting if f.done()]
                    if not done:
                        if ready:
                            i = ready.pop()
                            parts[i] = _load_unit(root, units[i], digest)  # type: ignore[index]
                            continue
                        last = waiting[-1]
                        if last.cancel():  # not started: do it here, no pickling either way
                            waiting.pop()
                            i = futures[last]
                            if units is None:
                                parts[i] = [load_file(root, rel, digest) for rel in tasks[i]]
                            else:
                                parts[i] = _load_unit(root, units[i], digest)
                            continue
                        done = [next(iter(wait(waiting, return_when=FIRST_COMPLETED).done))]
                    for future in done:
                        waiting.remove(future)
                        i = futures[future]
                        if units is None:
                            raw = _unspool(future.result())
                        else:
                            raw = _unit_answer(root, units[i], future.result(), digest)
                        parts[i] = [_finish_raw(root, item, digest) for item in raw]
                extra = _unspool(extra.result()) if extra is not None else None
        finally:
            _RAW_JOB = None  # no gc.unfreeze(): see gc_paused
            shutil.rmtree(spool, ignore_errors=True)
        if units is not None:
            _keep_facts(root, units, parts)  # type: ignore[arg-type]
            _sweep_shards(root, units)
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


_RAW_JOB: Optional[tuple[Path, bool, str, Any, Optional[list]]] = None  # (root, digest, spool folder, side call, units) for forked workers


def _side() -> Any:
    """In a worker: the side call of :func:`load_files_and`."""
    assert _RAW_JOB is not None
    return _RAW_JOB[3]()
_SPOOL_DIR = "/dev/shm"  # memory-backed, where there is one
_SPOOL_PREFIX = "crmdocs-load-"  # + the loading process's id + "-" + a random part


def _sweep_spools(where: str) -> None:
    """Remove the spool folders of runs that were killed (SIGKILL, out of
    memory) before they could tidy up: /dev/shm is memory, and a city's
    answers hold ~0.5 GB. A folder is a killed run's when the process id in
    its name no longer exists."""
    _sweep_dead(where, _SPOOL_PREFIX)


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
    return _spool(fn(*args))


def _spool(out: Any) -> Any:
    """:func:`_spooled` of an answer already made."""
    import contextlib
    import pickle
    import tempfile

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


# ---------------------------------------------------------------- the parsed-data cache
#
# Parsing YAML is most of what loading costs besides making the models. What
# the parser gives for a file (plain dicts, lists, text and numbers) is kept
# per folder in ``.cache/crmdocs/parsed/<hash of the folder>.pickle`` (a
# "shard"), with each file's stat signature (as ``cache._look`` gives it)
# and the SHA-1 of the bytes parsed. A file whose signature is the recorded
# one — and was modified at least 2 s before the shard was written, as git's
# index and the validation cache trust — is neither read nor parsed: its
# mapping comes from the shard. A file whose signature differs is read; when
# its bytes are the ones recorded, the recorded mapping serves (a touched
# file), else it is parsed. A folder with anything new, changed or gone is
# written afresh (a pull request's diary: its manager's folder, ~250 small
# entries). A shard is sealed with a checksum of its bytes (:func:`seal`):
# one that does not agree (a flipped byte, cut short) means parsing. Shards
# are read with an unpickler that builds plain data only
# (no class but UnquotedDigits and the datetime types a YAML tag can give):
# a damaged or forged shard can fail to load — then the files are parsed —
# but runs no code.

PARSED_DIR = Path(".cache") / "crmdocs" / "parsed"
_SHARD_FORMAT = 2  # 2: sealed (a checksum at the end)
_SHARD_TMP = "tmp-"  # + the writing process's id + "-" + a random part
RACY_NS = 2_000_000_000  # a file modified this close before its record (cache, shard) was written is read again

_parsed_version: Optional[str] = None


def parsed_version() -> str:
    """A hash of what decides a parsed mapping: the reader's sources and the
    versions of Python and PyYAML."""
    global _parsed_version
    if _parsed_version is None:
        import sys

        from crmdocs.schemas import common

        from .cache import _library_version

        here = Path(__file__).resolve().parent
        h = hashlib.sha1(f"{_SHARD_FORMAT}|{sys.version}|{_library_version('yaml', '__version__', '__init__.py')}".encode())
        for path in (here / "yamlio.py", here / "repository.py", here / "kinds.py", Path(common.__file__)):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        _parsed_version = h.hexdigest()
    return _parsed_version


_PLAIN_CLASSES: Optional[dict[tuple[str, str], Any]] = None


def _shard_unpickler(stream: Any) -> Any:
    """An unpickler that knows no class but :class:`UnquotedDigits` and the
    datetime types (a YAML tag can give them): anything else in a shard is
    refused, never imported or called."""
    import pickle

    global _PLAIN_CLASSES
    if _PLAIN_CLASSES is None:
        from crmdocs.schemas.common import UnquotedDigits

        _PLAIN_CLASSES = {(UnquotedDigits.__module__, "UnquotedDigits"): UnquotedDigits}
        _PLAIN_CLASSES.update((("datetime", name), getattr(dt, name)) for name in ("date", "datetime", "time", "timedelta", "timezone"))

    class Plain(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found = _PLAIN_CLASSES.get((module, name))  # type: ignore[union-attr]
            if found is None:
                raise pickle.UnpicklingError(f"{module}.{name} is not plain data")
            return found

    return Plain(stream)


class _Shard:
    """A shard's header (read at once) and its mappings (read when needed)."""

    __slots__ = ("stamp", "index", "sigs", "shas", "_stream", "_raws")

    def __init__(self, stamp: int, rels: tuple, sigs: tuple, shas: tuple, stream: Any):
        self.stamp = stamp
        self.index = {rel: i for i, rel in enumerate(rels)}
        self.sigs = sigs
        self.shas = shas
        self._stream = stream  # at the start of the mappings
        self._raws: Optional[list] = None

    def raws(self) -> list:
        """Each file's parsed mapping (None: a file with a problem), in order; raises when damaged."""
        if self._raws is None:
            raws = _shard_unpickler(self._stream).load()  # a second pickle: its own memo
            self._stream = None
            if raws.__class__ is not list or len(raws) != len(self.shas):
                raise ValueError("a damaged shard")
            self._raws = raws
        return self._raws


def _open_shard(path: Optional[str], folder: str) -> Optional[_Shard]:
    """The shard at ``path`` when it is one for ``folder`` and this version; else None."""
    if path is None:
        return None
    return read_shard(path, (_SHARD_FORMAT, parsed_version(), folder))


def read_shard(path: str, expected: tuple) -> Optional[_Shard]:
    """The sealed shard-shaped file at ``path`` (the parsed-data shards, the
    facts files): its header is ``expected`` (format, version, folder, …)
    followed by the stamp and each file's path, stat signature and SHA-1.
    None when it is missing, damaged, forged or another's."""
    import io

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if unsealed(data) is None:  # damaged (a flipped byte, cut short) or not a shard: the files are parsed
        return None
    try:
        stream = io.BytesIO(data)  # (the unpickler stops before the seal)
        head = _shard_unpickler(stream).load()
        n = len(expected)
        if head.__class__ is not tuple or len(head) != n + 4 or head[:n] != expected:
            return None
        stamp, rels, sigs, shas = head[n:]
        if stamp.__class__ is not int or not (rels.__class__ is sigs.__class__ is shas.__class__ is tuple) \
                or not len(rels) == len(sigs) == len(shas):
            return None
        return _Shard(stamp, rels, sigs, shas, stream)
    except Exception:  # noqa: BLE001 - damaged or forged: the files are parsed
        return None


@dataclass
class _Unit:
    """The files of one folder, loaded together with their shard."""

    folder: str
    rels: list[str]
    sigs: list[str]
    times: list[int]
    path: Optional[str]  # the shard's file (None: a folder not cached, met twice in the list)
    shard: Optional[_Shard] = None
    ready: bool = False  # every record's mapping is in the shard, nothing to read or drop
    index: Optional[list[int]] = None  # when ready: each file's place in the shard, -1 when not a record
    kind: Optional[str] = None  # the kind of its records when that kind has facts (facts.EXTRACT)
    facts: Optional[list[tuple[Any, Optional[str]]]] = None  # held as facts: each file's (facts, SHA-1); (None, None): not a record
    stood: Optional[tuple] = None  # once loaded: (stamp, rels, signatures, SHA-1s) its models stand on (its shard's)


def _unit_name(folder: str) -> str:
    """The file name of a folder's shard."""
    return hashlib.sha1(folder.encode("utf-8", "surrogateescape")).hexdigest()[:24] + ".pickle"


def _units(root: Path, rels: list[str], looked: tuple[list[str], Any], held: bool = False) -> list[_Unit]:
    """``rels`` in folders (consecutive files of one folder), each with its
    shard read and judged; ``held``: and, for the kinds with facts, its
    facts (:func:`_judge_facts`)."""
    folder_dir = str(root / PARSED_DIR)
    units: list[_Unit] = []
    sigs, times = looked
    start = 0
    seen: set[str] = set()
    twice: set[str] = set()
    folders = [rel.rpartition("/")[0] for rel in rels]
    ends = [end for end, (a, b) in enumerate(zip(folders, folders[1:]), 1) if a != b]  # where a folder's files end
    for end in (*ends, len(rels)) if rels else ():
        folder = folders[start]
        if folder in seen:
            twice.add(folder)
        seen.add(folder)
        path = os.path.join(folder_dir, _unit_name(folder))
        units.append(_Unit(folder, rels[start:end], list(sigs[start:end]), list(times[start:end]), path))
        start = end
    for unit in units:
        unit.kind = _facts_kind(unit.rels)
        if unit.folder in twice:
            unit.path = None
            continue
        kept = None
        if held and unit.kind is not None:
            from . import facts

            kept = facts.open_file(root, unit.folder, unit.kind)
            if kept is not None and _facts_whole(unit, kept):
                continue  # every file's facts kept for its recorded signature: the parsed data not needed
        _judge_shard(unit)
        if kept is not None:
            _judge_facts(root, unit, kept)
    return units


def _judge_shard(unit: _Unit) -> None:
    """Read ``unit``'s parsed-data shard and judge it: ``unit.ready`` when
    every record's mapping is in it for the file's signature."""
    unit.shard = shard = _open_shard(unit.path, unit.folder)
    if shard is None:
        return
    index: list[int] = []
    for rel, sig, mtime in zip(unit.rels, unit.sigs, unit.times):
        i = shard.index.get(rel)
        if i is None:
            if kind_of(rel[len(RECORDS) + 1 :]) is None:
                index.append(-1)  # not a record: loaded as it is
                continue
            break
        if sig == "-" or shard.sigs[i] != sig or mtime >= shard.stamp - RACY_NS:
            break
        index.append(i)
    else:
        if len(index) - index.count(-1) == len(shard.shas):  # and no file gone
            unit.ready, unit.index = True, index


def _facts_whole(unit: _Unit, kept: Any) -> bool:
    """``unit.facts`` at once when the facts file lists exactly the folder's
    files, each with its signature now, modified 2 s or more before it was
    written (the usual warm case: no file looked at one by one)."""
    head = kept.shard
    if len(head.sigs) != len(unit.rels) or head.sigs != tuple(unit.sigs) or max(unit.times) >= head.stamp - RACY_NS:
        return False
    if list(head.index) != unit.rels:
        return False
    try:
        records = kept.records()
    except Exception:  # noqa: BLE001 - damaged facts: judged file by file (and the models built)
        return False
    unit.facts = list(zip(records, head.shas))
    return True


_FACT_TOPS: Optional[dict[str, str]] = None  # "records/diaries/" → "diary", for the kinds with facts


def _facts_kind(rels: list[str]) -> Optional[str]:
    """The kind of a folder's records when that kind has facts (facts.EXTRACT):
    the kind whose own top folder it is in (no other kind's paths start
    there, kinds.Kind.top)."""
    global _FACT_TOPS
    if _FACT_TOPS is None:
        from .facts import EXTRACT
        from .kinds import BY_NAME

        _FACT_TOPS = {f"{RECORDS}/{BY_NAME[kind].top}/": kind for kind in EXTRACT}
    if not rels:
        return None
    top = rels[0][: rels[0].find("/", len(RECORDS) + 1) + 1]
    return _FACT_TOPS.get(top)


def _judge_facts(root: Path, unit: _Unit, kept: Any) -> None:
    """``unit.facts`` when every record file of the folder has facts kept
    (``kept``, its facts file) for its bytes: its SHA-1 known by its stat
    signature (the facts file's or the parsed-data shard's record, trusted
    as there), else from its bytes."""
    shard = unit.shard
    found: list[tuple[Any, Optional[str]]] = []
    try:
        by_sha = kept.by_sha()
        head = kept.shard
        for rel, sig, mtime in zip(unit.rels, unit.sigs, unit.times):
            i = head.index.get(rel)  # (a file there is a record: its model was built)
            if i is None and kind_of(rel[len(RECORDS) + 1 :]) is None:
                found.append((None, None))
                continue
            sha = None
            if sig != "-":
                if i is not None and head.sigs[i] == sig and mtime < head.stamp - RACY_NS:
                    sha = head.shas[i]
                elif shard is not None:
                    i = shard.index.get(rel)
                    if i is not None and shard.sigs[i] == sig and mtime < shard.stamp - RACY_NS:
                        sha = shard.shas[i]
            if sha is None:
                data = read_record_bytes(root, rel)
                if data.__class__ is not bytes:
                    return
                sha = hashlib.sha1(data).hexdigest()  # type: ignore[arg-type]
            record = by_sha.get(sha)
            if record is None:
                return
            found.append((record, sha))
    except Exception:  # noqa: BLE001 - damaged facts: the models are built
        return
    unit.facts = found


class Held:
    """Consecutive record files of one folder held as facts, in place of
    their :class:`Loaded` items (one per file: ~80,000 objects at city
    scale): :func:`assemble` indexes them in one loop. Their records have
    no problem (facts are kept only for those)."""

    __slots__ = ("kind", "rels", "records", "shas")

    def __init__(self, kind: str, rels: list[str], records: list[Any], shas: Optional[list[str]]):
        self.kind = kind
        self.rels = rels
        self.records = records
        self.shas = shas  # (None: no digests asked for)

    def items(self) -> list[Loaded]:
        """As one :class:`Loaded` per file."""
        shas = self.shas or [None] * len(self.rels)
        return [Loaded(rel, self.kind, record, [], sha) for rel, record, sha in zip(self.rels, self.records, shas)]


def _unit_facts(root: Path, unit: _Unit, digest: bool) -> list[Any]:
    """A folder held as facts: its record files as :class:`Held` runs (their
    facts as the records), any other file's Loaded between them."""
    out: list[Any] = []
    facts = unit.facts
    assert facts is not None and unit.kind is not None
    if all(record is not None for record, _ in facts):  # (the usual case: records only)
        records, shas = zip(*facts) if facts else ((), ())
        return [Held(unit.kind, unit.rels, list(records), list(shas) if digest else None)] if facts else []
    run: list[int] = []
    for i, (rel, (record, sha)) in enumerate(zip(unit.rels, facts)):
        if record is not None:
            run.append(i)
            continue
        if run:
            out.append(Held(unit.kind, [unit.rels[j] for j in run], [facts[j][0] for j in run],
                            [facts[j][1] for j in run] if digest else None))  # type: ignore[misc]
            run = []
        out.append(load_file(root, rel, digest))
    if run:
        out.append(Held(unit.kind, [unit.rels[j] for j in run], [facts[j][0] for j in run],
                        [facts[j][1] for j in run] if digest else None))  # type: ignore[misc]
    return out


def build_held(root: Path, held: list[_Unit]) -> dict[str, Loaded]:
    """The models of the folders :func:`load_files_and` held as facts (when
    every check must run after all): rel → Loaded, as loading them gives."""
    out: dict[str, Loaded] = {}
    with gc_paused():
        for unit in held:
            unit.facts = None
            if unit.shard is None and unit.path is not None:  # (not read: the facts answered without it)
                _judge_shard(unit)
            for item in _load_unit(root, unit, True):
                out[item.rel] = item
    return out


def _keep_facts(root: Path, units: list[_Unit], parts: list[list[Loaded]], sweep: bool = True) -> None:
    """Write the facts of each folder of a kind with facts whose models were
    built, when its facts file does not hold them (as its shard stands);
    ``sweep`` (``units`` are the whole repository): remove the facts of
    folders gone."""
    from . import facts

    folders = []
    for unit, part in zip(units, parts):
        if unit.kind is None or unit.path is None:
            continue
        folders.append(unit.folder)
        if unit.facts is not None or unit.stood is None:
            continue
        stamp, rels, sigs, shas = unit.stood
        items = {item.rel: item for item in part}
        rows = []
        for rel, sig, sha in zip(rels, sigs, shas):
            item = items.get(rel)
            if item is not None and item.record is not None and not item.diagnostics and sig != "-":
                rows.append((rel, sig, sha, item.record))
        rows.sort(key=lambda r: r[0])
        kept = facts.open_file(root, unit.folder, unit.kind)
        if kept is not None:
            head = kept.shard
            if list(zip(head.index, head.sigs, head.shas)) == [r[:3] for r in rows]:  # (a stamp either way)
                continue
        try:
            extract = facts.EXTRACT[unit.kind]
            facts.write(root, unit.folder, unit.kind, stamp, [(rel, sig, sha, extract(record)) for rel, sig, sha, record in rows])
        except Exception:  # noqa: BLE001 - a record the extraction cannot read: its models are built next time
            continue
    if sweep:
        facts.sweep(root, folders)


def _load_unit(root: Path, unit: _Unit, digest: bool) -> list[Loaded]:
    """Load a folder here: from its shard when ready, else reading what the
    shard cannot answer (and writing the shard afresh)."""
    shard, unit.shard = unit.shard, None
    if unit.ready and shard is not None:
        try:
            raws = shard.raws()
        except Exception:  # noqa: BLE001 - damaged after all: read the folder
            raws = None
            shard = None
        if raws is not None:
            out = []
            shas = shard.shas  # type: ignore[union-attr]
            unit.stood = (shard.stamp, tuple(shard.index), shard.sigs, shas)  # type: ignore[union-attr]
            for rel, i in zip(unit.rels, unit.index):  # type: ignore[arg-type]
                raw = raws[i] if i >= 0 else None
                if raw is None:
                    out.append(load_file(root, rel, digest))
                    continue
                out.append(_finish_raw(root, (rel, raw, shas[i] if digest else None), digest))
            return out
    items, payload = _unit_items(root, unit.folder, unit.rels, unit.sigs, unit.times, digest, shard)
    if unit.path is not None:
        _write_shard(unit.path, payload, final=True)
        unit.stood = payload[0][3:7]
    return [_finish_raw(root, item, digest) for item in items]


def _unit_items(
    root: Path, folder: str, rels: list[str], sigs: list[str], times: list[int], digest: bool, shard: Optional[_Shard],
) -> tuple[list[Any], tuple]:
    """Each file of a folder as :func:`_read_raw` gives it — the recorded
    mapping where the shard knows the file (by its signature, else by its
    bytes), else parsed — and the folder's new shard (header, mappings)."""
    try:
        raws = shard.raws() if shard is not None else None
    except Exception:  # noqa: BLE001 - damaged: parse everything
        shard = raws = None
    stamp = time.time_ns()  # before any file is read
    items: list[Any] = []
    keep: tuple[list, list, list, list] = ([], [], [], [])
    for rel, sig, mtime in zip(rels, sigs, times):
        match = kind_of(rel[len(RECORDS) + 1 :])
        if match is None:
            items.append(load_file(root, rel, digest))
            continue
        i = shard.index.get(rel) if shard is not None else None
        item: Any = None
        if i is not None and sig != "-" and shard.sigs[i] == sig and mtime < shard.stamp - RACY_NS:  # type: ignore[union-attr]
            raw, sha = raws[i], shard.shas[i]  # type: ignore[index, union-attr]
        else:
            data, sig = _read_signed(root, rel)
            if data.__class__ is not bytes:
                items.append(Loaded(rel, match[0].name, None, [data]))  # type: ignore[list-item]
                continue
            sha = hashlib.sha1(data).hexdigest()  # type: ignore[arg-type]
            if i is not None and shard.shas[i] == sha:  # type: ignore[union-attr]
                raw = raws[i]  # type: ignore[index]
            else:
                parsed = parse_raw(rel, match[0], data)  # type: ignore[arg-type]
                if parsed.__class__ is Loaded:
                    parsed.digest = sha if digest else None  # type: ignore[union-attr]
                    item, raw = parsed, None
                else:
                    raw = parsed[0]  # type: ignore[index]
        for column, value in zip(keep, (rel, sig, sha, raw)):
            column.append(value)
        if item is None:
            item = (rel, raw, sha if digest else None) if raw is not None else load_file(root, rel, digest)
        items.append(item)
    head = (_SHARD_FORMAT, parsed_version(), folder, stamp, tuple(keep[0]), tuple(keep[1]), tuple(keep[2]))
    return items, (head, keep[3])


def _write_shard(path: str, payload: tuple, final: bool) -> Optional[str]:
    """Write a shard beside ``path`` and (``final``) put it in place; the
    file written, or None when it could not be (a read-only checkout)."""
    import pickle
    import tempfile

    tmp = None
    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{_SHARD_TMP}{os.getpid()}-", suffix=".tmp", dir=folder)
        body = pickle.dumps(payload[0], protocol=pickle.HIGHEST_PROTOCOL)
        body += pickle.dumps(payload[1], protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as fh:
            fh.write(seal(body))
        if final:
            os.replace(tmp, path)
            return path
        return tmp
    except Exception:  # noqa: BLE001 - no room, not ours to write, not picklable: parsed next time
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
        return None


@dataclass
class _UnitAnswer:
    shard: str  # the folder's new shard, written beside its place: this process puts it there
    loaded: dict[str, Loaded]  # the files it holds no mapping for (not records, problems)


def _unit_elsewhere(i: int) -> Any:
    """In a worker: folder ``i``'s items (:func:`_unit_items`) from the shard
    the loading process read and judged before the fork (not read again),
    handed over as its new shard (written once, read by the loading process,
    which then puts it in place); through the spool when it cannot be
    written."""
    assert _RAW_JOB is not None and _RAW_JOB[4] is not None
    root, digest = _RAW_JOB[:2]
    unit = _RAW_JOB[4][i]
    items, payload = _unit_items(root, unit.folder, unit.rels, unit.sigs, unit.times, digest, unit.shard)
    written = _write_shard(unit.path, payload, final=False) if unit.path is not None else None
    if written is None:
        return _spool(items)
    return _UnitAnswer(written, {item.rel: item for item in items if item.__class__ is Loaded})


def _unit_answer(root: Path, unit: _Unit, answer: Any, digest: bool) -> list[Any]:
    """A worker's items for a folder, read back from the shard it wrote (then
    put in place)."""
    if answer.__class__ is not _UnitAnswer:
        return _unspool(answer)
    unit.shard = None
    shard = _open_shard(answer.shard, unit.folder)
    items: Optional[list[Any]] = None
    if shard is not None:
        with suppress(Exception):
            raws = shard.raws()
            items = []
            for rel in unit.rels:
                item = answer.loaded.get(rel)
                if item is None:
                    i = shard.index[rel]
                    item = (rel, raws[i], shard.shas[i] if digest else None)
                items.append(item)
    if items is None:  # cannot be: the worker has just written it. Load the folder here
        with suppress(OSError):
            os.unlink(answer.shard)
        return [load_file(root, rel, digest) for rel in unit.rels]
    try:
        os.replace(answer.shard, unit.path)  # type: ignore[arg-type]
        unit.stood = (shard.stamp, tuple(shard.index), shard.sigs, shard.shas)  # type: ignore[union-attr]
    except OSError:
        with suppress(OSError):
            os.unlink(answer.shard)
    return items


def load_kept(root: Path, rels: list[str], digest: bool = True) -> list[Loaded]:
    """Load whole folders' files (as :func:`load_files` in one process) through
    their parsed-data shards, writing those that do not answer — no other
    folder's shard is touched (``crmdocs validate`` keeps the universe it
    parses for the next ``recalc``)."""
    from .cache import _look

    units = _units(root, rels, _look(root, rels))
    with gc_paused():
        parts = [_load_unit(root, unit, digest) for unit in units]
    _keep_facts(root, units, parts, sweep=False)  # (the retailers' facts, for the next recalc)
    return [item for part in parts for item in part]


def keep_shard(root: Path, folder: str, stamp: int, rows: list[tuple[str, str, str, Optional[dict]]]) -> None:
    """Write ``folder``'s parsed-data shard from ``rows`` — each of its record
    files' (path, stat signature taken before the read, SHA-1, parsed
    mapping or None) as parsed elsewhere (``crmdocs validate``'s daily
    checks), ``stamp`` taken before any signature — unless a file has no
    signature (then its folder is parsed next time)."""
    if any(row[1] == "-" for row in rows):
        return
    rows = sorted(rows, key=lambda row: row[0])
    head = (_SHARD_FORMAT, parsed_version(), folder, stamp, tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows))
    _write_shard(os.path.join(root / PARSED_DIR, _unit_name(folder)), (head, [r[3] for r in rows]), final=True)


def _sweep_shards(root: Path, units: list[_Unit]) -> None:
    """Remove the shards of folders no longer there, and files a killed run
    was writing."""
    folder = root / PARSED_DIR
    try:
        names = os.listdir(folder)
    except OSError:
        return
    keep = {os.path.basename(unit.path) for unit in units if unit.path is not None}
    for name in names:
        if name.endswith(".pickle") and name not in keep:
            with suppress(OSError):
                os.unlink(folder / name)
    _sweep_dead(str(folder), _SHARD_TMP, names)


def _sweep_dead(folder: str, prefix: str, names: Optional[list[str]] = None) -> None:
    """Remove the files or folders ``prefix`` + a process id + "-…" in
    ``folder`` whose process is gone (a killed run's half-written files,
    its spool folder)."""
    import shutil

    try:
        names = os.listdir(folder) if names is None else names
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # gone: what it left is a leftover
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with suppress(OSError):
                    os.unlink(path)
        except OSError:  # alive (perhaps another user's): leave it
            pass


# ---------------------------------------------------------------- the sales, kept as arrays
#
# The monthly sales files (12 M rows at city scale: ~2.5 s of CSV reading in
# a worker, then ~0.5 GB pickled over to this process) are kept after a
# read in ``.cache/crmdocs/sales.arrays``: a sealed header (each file's stat
# signature and SHA-1, the id tables, the problems found, how each array is
# kept and its checksum) and each array's bytes, read block by block into
# arrays of exactly the types SalesData has. An array is kept narrower where
# its values allow — days and codes as offsets in 1, 2 or 4 bytes, amounts
# as whole fen (cents) when that gives every amount back bit for bit, a
# column that is constant or counts up by one within a few runs (each row's
# file and line) as those runs — which the write checks: a city's 40 bytes
# a row become ~10. Trusted like the shards: every sales file's signature
# as recorded, modified 2 s or more before the cache was written; a file
# whose signature differs is read and compared by its bytes. Any
# difference, a checksum that does not agree, or a damaged cache: the files
# are read.
#
# Format 4 keeps, after the narrow columns, an image of every array the
# reading makes (all but the message-only columns kept as runs) in exactly
# its type, each with its CRC-32: :meth:`SalesCache.load` maps the file and
# takes the arrays as read-only views of it (``np.frombuffer``), checked by
# their CRC-32 — file pages the kernel maps many at a time, instead of
# ~0.4 GB of fresh memory filled block by block (city: 96,000 page faults and
# 0.16 s → ~200 faults and 0.06 s, the checksums' time). The narrow columns
# stay for :meth:`SalesCache.columns` (the appraisals' sums read ~50 MB, not
# the image's ~390 MB); a column kept as it is ("raw") is not written twice:
# ``columns`` reads it from the image. A city's cache: 93 → ~440 MB.

SALES_CACHE = Path(".cache") / "crmdocs" / "sales.arrays"
_SALES_FORMAT = 4  # 2: sealed header, narrow arrays with their checksums; 3: the last day in the header;
# 4: the arrays' image (mapped), narrow bytes only for columns kept as offsets ("int")
_IMAGE_ALIGN = 64  # each array of the image starts at a multiple of this
_SALES_BLOCK = 1 << 20  # rows read, checked and widened at a time
_RUNS_MAX = 4096  # runs a column may have to be kept as runs (they sit in the header)


def _sales_version() -> str:
    """What decides the arrays: the sales reader's source and the versions of
    numpy and pyarrow (and what decides a shard)."""
    import importlib.metadata

    from . import sales

    h = hashlib.sha1(f"{_SALES_FORMAT}|{parsed_version()}".encode())
    for name in ("numpy", "pyarrow"):
        with suppress(importlib.metadata.PackageNotFoundError):
            h.update(f"|{name} {importlib.metadata.version(name)}".encode())
    h.update(Path(sales.__file__).read_bytes())
    return h.hexdigest()


def _sales_fields() -> Optional[tuple[list[str], list[str]]]:
    """SalesData's array fields and list-of-text fields; None when it has a
    field of another kind (then nothing is cached)."""
    import dataclasses

    from .sales import SalesData

    arrays, texts = [], []
    probe = SalesData()
    for f in dataclasses.fields(SalesData):
        value = getattr(probe, f.name)
        if f.name in ("_chunks", "_cache"):
            continue
        if value.__class__.__name__ == "ndarray":
            arrays.append(f.name)
        elif value.__class__ is list:
            texts.append(f.name)
        else:
            return None
    return arrays, texts


def _narrowest(span: int) -> Any:
    """The smallest unsigned type that holds 0 … ``span``."""
    import numpy as np

    for small in (np.uint8, np.uint16, np.uint32):
        if span <= np.iinfo(small).max:
            return np.dtype(small)
    return None


def _narrow(a: Any) -> tuple[str, Any, Any]:
    """How to keep array ``a`` in fewer bytes: (way, parameters, the array
    whose bytes are written — None for runs); :func:`_widen_block` gives
    ``a`` back bit for bit (checked here where it is not exact by
    construction)."""
    import numpy as np

    n = len(a)
    kind = a.dtype.kind
    if n and kind in "iuM" and a.dtype.itemsize in (4, 8):
        ints = a.view(np.int64) if kind == "M" else a  # datetime64: whole days (or units) as int64
        lo, hi = int(ints.min()), int(ints.max())
        # the same value, or one more than the row before, within few runs (a
        # difference of values this close cannot overflow)
        for step in (0, 1) if hi - lo < 1 << (8 * a.dtype.itemsize - 1) else ():
            breaks = np.flatnonzero((ints[1:] - ints[:-1]) != step)
            if len(breaks) < _RUNS_MAX:
                starts = np.r_[0, breaks + 1]
                values = ints[starts].astype(np.int64) - step * starts
                return "runs", (step, starts.tolist(), values.tolist()), None
        small = _narrowest(hi - lo)
        if small is not None and small.itemsize < a.dtype.itemsize:
            return "int", lo, (ints - lo).astype(small)  # 0 <= ints - lo <= hi - lo: no overflow
    elif n and a.dtype == np.float64:
        with np.errstate(all="ignore"):
            cents = np.rint(a * 100.0)
            if np.isfinite(cents).all():
                lo, hi = float(cents.min()), float(cents.max())
                small = _narrowest(int(hi - lo)) if -(2.0**53) < lo <= hi < 2.0**53 else None
                if small is not None:
                    kept = (cents - lo).astype(small)
                    back = np.empty(n, np.float64)
                    _widen_block("cents", lo, back, 0, kept)  # as the reading will
                    if np.array_equal(back.view(np.int64), a.view(np.int64)):  # every amount, bit for bit
                        return "cents", lo, kept
    return "raw", None, a


def _widen_block(way: str, params: Any, out: Any, at: int, block: Any) -> None:
    """Rows ``at`` … of an array kept ``way`` into ``out`` (its own type)."""
    import numpy as np

    ints = out.view(np.int64) if out.dtype.kind == "M" else out
    if way == "runs":
        step, starts, values = params
        n = len(out)
        for k, (start, value) in enumerate(zip(starts, values)):
            end = starts[k + 1] if k + 1 < len(starts) else n
            if step:
                ints[start:end] = np.arange(start + value, end + value, dtype=ints.dtype)
            else:
                ints[start:end] = value
        return
    part = ints[at : at + len(block)]
    if way == "raw":
        return  # read in place
    if way == "int":  # (one pass: the offset added as the values widen)
        np.add(block, np.int64(params), out=part) if params else np.copyto(part, block)
    elif way == "cents":  # fen less ``params`` to yuan
        np.add(block, np.float64(params), out=part) if params else np.copyto(part, block)
        np.divide(part, 100.0, out=part)
    else:
        raise ValueError(way)


def _runs_array(np: Any, dtype: Any, length: int, params: Any) -> Any:
    """An array kept as runs in the sales cache's header, made (with small pages, as the rest was read)."""
    from .sales import small_pages

    with small_pages():
        array = np.empty(length, dtype=dtype)
        _widen_block("runs", params, array, 0, None)
    return array


def _data_start(header: int) -> int:
    """Where the sales cache's arrays begin after a sealed header of ``header`` bytes (aligned)."""
    return -(-header // _IMAGE_ALIGN) * _IMAGE_ALIGN


class SalesCache:
    """The sales cache's header, judged against the sales files now; :meth:`load` reads the arrays."""

    def __init__(self, fh: Any, head: tuple, start: int):
        self.fh = fh  # open since the probe: a cache replaced meanwhile is not mixed with this header
        self.head = head
        self.start = start  # where the arrays' bytes begin

    @classmethod
    def probe(cls, root: Path, rels: list[str], sigs: list[str], times: list[int]) -> Optional["SalesCache"]:
        """The cache when it holds the arrays of exactly these files (by
        signature, else by their bytes), else None."""
        import io

        try:
            cache = open(root / SALES_CACHE, "rb", buffering=0)
        except OSError:
            return None
        try:
            data = cache.read(1 << 20)
            stream = io.BytesIO(data)
            head = _shard_unpickler(stream).load()
            end = stream.tell()
            if data[end : end + _SEAL_BYTES] != _trailer(memoryview(data)[:end]):
                raise ValueError("a damaged header")
            fmt, version, stamp, names, signed, shas = head[:6]
            if fmt != _SALES_FORMAT or version != _sales_version() or list(names) != rels or stamp.__class__ is not int:
                raise ValueError("another cache")
            if os.fstat(cache.fileno()).st_size != _data_start(end + _SEAL_BYTES) + head[10][1]:
                raise ValueError("cut short or grown")  # (a copy broken off: read, and so kept again)
            for rel, sig, mtime, was, sha in zip(rels, sigs, times, signed, shas):
                if sig != "-" and sig == was and mtime < stamp - RACY_NS:
                    continue
                with open(root / rel, "rb") as fh:  # a touched file: the same bytes?
                    if hashlib.sha1(fh.read()).hexdigest() != sha:
                        raise ValueError("a changed file")
        except Exception:  # noqa: BLE001 - another, damaged, forged: the files are read
            cache.close()
            return None
        return cls(cache, head, _data_start(end + _SEAL_BYTES))

    def load(self) -> Optional[tuple]:
        """What :func:`read_sales_files` gives (with the digests), or None
        when the arrays cannot be read or a checksum does not agree. The
        arrays are read-only views of the cache file mapped into memory."""
        import numpy as np

        from .sales import DEFERRED, DeferredSales, SalesData

        try:
            return self._load(np, SalesData, DeferredSales, DEFERRED)
        except Exception:  # noqa: BLE001 - damaged: the files are read
            return None
        finally:
            self.fh.close()

    def _load(self, np: Any, SalesData: Any, DeferredSales: Any, DEFERRED: tuple) -> Optional[tuple]:
        """:meth:`load`'s reading: the image's arrays mapped, each checked by its CRC-32."""
        import mmap

        _, _, _, rels, _, shas, texts, arrays, diags, _, (image, size) = self.head[:11]
        data = SalesData()
        for name, value in texts:
            setattr(data, name, list(value))
        # the file this header was read from (open since the probe), not the
        # path: a cache replaced meanwhile is another file; read-only, so a
        # rule that writes into a sales array fails (numpy raises)
        mapped = mmap.mmap(self.fh.fileno(), 0, access=mmap.ACCESS_READ)
        where = {name: (offset, crc) for name, offset, crc in image}
        fill: dict[str, Any] = {}
        for name, wide, length, way, params, _kept, _crc in arrays:
            if way == "runs" and name in DEFERRED:  # kept in the header: made on first use
                fill[name] = functools.partial(_runs_array, np, np.dtype(wide), length, params)
                continue
            offset, crc = where[name]
            array = np.frombuffer(mapped, dtype=np.dtype(wide), count=length, offset=self.start + offset)  # numpy's own dtype objects
            if zlib.crc32(array.view(np.uint8)) != crc:  # (this touches every page: mapped here, once)
                return None
            setattr(data, name, array)
        if len(mapped) != self.start + size:
            return None
        # what the header knows of the arrays it was written with (the same arrays: their checksums
        # agree): the last day, and whether the rows come in day order (the days kept as runs, rising)
        last = self.head[9]
        if last is not None and len(data.day):
            data._cache["last_day"] = dt.date.fromisoformat(last)
        for name, _, _, way, params, _, _ in arrays:
            if name == "day" and way == "runs" and params[0] == 0:
                data._cache["in_day_order"] = all(a < b for a, b in zip(params[2], params[2][1:]))
        if fill:
            for name in fill:
                del data.__dict__[name]
            data.__dict__["_fill"] = fill
            data.__class__ = DeferredSales
        return data, [Diagnostic(*row) for row in diags], dict(zip(rels, shas)), len(rels)

    def columns(self, names: tuple[str, ...], block: int = _SALES_BLOCK) -> Iterator[dict[str, Any]]:
        """The arrays ``names`` block by block (rows ``k·block`` …, each a
        fresh array of its own type), read at their offsets without the
        others and without making any whole array: e.g. the appraisals'
        sums from ~50 MB of narrow columns, not ~400 MB of arrays.
        Raises ValueError when a column is kept in a way this cannot widen
        by block or, after the last block, when a checksum does not agree
        (the consumer then reads the arrays as :meth:`load` does, and
        that finds the damage). Added by main8 (session 8); the format is
        :func:`write_sales_cache`'s."""
        import numpy as np

        arrays, (image, _) = self.head[7], self.head[10]
        fd = self.fh.fileno()
        in_image = {name: (offset, crc) for name, offset, crc in image}
        where: dict[str, tuple] = {}  # name → (wide dtype, length, way, params, small dtype, byte offset, crc)
        at_byte = self.start
        for name, wide, length, way, params, kept, crc in arrays:
            if way == "int":  # the narrow bytes
                where[name] = (np.dtype(wide), length, way, params, np.dtype(kept), at_byte, crc)
                at_byte += length * np.dtype(kept).itemsize
            elif way == "raw":  # as it is, in the image
                offset, crc = in_image[name]
                where[name] = (np.dtype(wide), length, way, params, np.dtype(wide), self.start + offset, crc)
            else:
                where[name] = (np.dtype(wide), length, way, params, None, None, crc)
        wanted = [where[name] for name in names]
        if any(w[2] not in ("raw", "int", "runs") for w in wanted) or len({w[1] for w in wanted}) > 1:
            raise ValueError("columns kept in a way not read by block")
        length = wanted[0][1] if wanted else 0
        sums = [0] * len(wanted)
        for at in range(0, length, block):
            n = min(block, length - at)
            out: dict[str, Any] = {}
            for j, (name, (wide, _, way, params, small, offset, _crc)) in enumerate(zip(names, wanted)):
                array = np.empty(n, dtype=wide)
                ints = array.view(np.int64) if wide.kind == "M" else array
                if way == "runs":
                    step, starts, values = params
                    k = max(0, bisect.bisect_right(starts, at) - 1)
                    while k < len(starts) and starts[k] < at + n:
                        lo = max(starts[k], at)
                        hi = min(starts[k + 1] if k + 1 < len(starts) else length, at + n)
                        if step:
                            ints[lo - at : hi - at] = np.arange(lo + values[k], hi + values[k], dtype=ints.dtype)
                        else:
                            ints[lo - at : hi - at] = values[k]
                        k += 1
                else:
                    kept = array if way == "raw" else np.empty(n, dtype=small)
                    view, got = kept.view(np.uint8), 0
                    start = offset + at * small.itemsize
                    while got < len(view):
                        m = os.preadv(fd, [view[got:]], start + got)
                        if not m:
                            raise ValueError("the sales cache is cut short")
                        got += m
                    sums[j] = zlib.crc32(view, sums[j])
                    if way == "int":
                        np.add(kept, np.int64(params), out=ints) if params else np.copyto(ints, kept)
                out[name] = array
            yield out
        for (_, _, way, _, _, _, crc), sum_ in zip(wanted, sums):
            if way != "runs" and sum_ != crc:
                raise ValueError("a sales cache column does not agree with its checksum")

    def lazy(self, root: Path) -> tuple:
        """What :meth:`load` gives, but the arrays are read on their first use
        (a :class:`~.sales.LazySales`): the problems, the files' digests and
        the last day come from the header now. ``crmdocs recalc`` whose side
        worker ran the rules that read the sales never reads them here. When
        the arrays then cannot be read (damaged), the files are read — and
        must be the bytes the header speaks of, else :class:`CrmdocsError`."""
        from .diagnostics import CrmdocsError
        from .sales import LazySales

        _, _, _, rels, _, shas, _, _, diags = self.head[:9]
        digests = dict(zip(rels, shas))
        last = self.head[9] if len(self.head) > 9 else None

        def arrays() -> Any:
            got = self.load()
            if got is not None:
                return got[0]
            stamp = time.time_ns()
            try:
                read = read_sales_files(root, list(rels), True)
            except FileNotFoundError as exc:  # (it said 找不到 …：请看路径是否写对, as of a path mistyped)
                gone = next((rel for rel in rels if str(exc.filename).endswith(rel)), exc.filename)
                raise CrmdocsError(
                    f"销售文件 {gone} 在计算过程中被删除了，请重新运行 (a sales file was removed while this run used it: run again)"
                ) from None
            if read[2] != digests:
                changed = sorted(rel for rel in rels if read[2].get(rel) != digests[rel])
                raise CrmdocsError(
                    f"销售文件 {', '.join(changed)} 在计算过程中被改动了，请重新运行"
                    " (a sales file changed while this run used it: run again)"
                )
            # damaged arrays (the header whole): kept again, else every later run maps and drops them
            write_sales_cache(root, list(rels), list(self.head[4]), read, stamp)
            return read[0]

        day = None if last is None else dt.date.fromisoformat(last)
        return LazySales(arrays, day, self.fh.close), [Diagnostic(*row) for row in diags], digests, len(rels)


def write_sales_cache(root: Path, rels: list[str], sigs: list[str], read: tuple, stamp: int) -> bool:
    """Keep what :func:`read_sales_files` read (``stamp``: the time before it
    read anything); nothing when it cannot be kept exactly. Whether it was
    written. The file: the sealed header, padding to :data:`_IMAGE_ALIGN`,
    the narrow bytes of the columns kept as offsets ("int"), then the image
    (each array :meth:`SalesCache.load` makes, in its own type, at a multiple
    of :data:`_IMAGE_ALIGN`; where, relative to the padded header's end, and
    its CRC-32 in the header, with the image's end)."""
    import pickle
    import tempfile

    from .sales import DEFERRED

    fields = _sales_fields()
    sales, diags, digests, count = read
    if fields is None or sales._chunks or sales._cache or count != len(rels) or set(digests) != set(rels):
        return False
    arrays = [getattr(sales, name) for name in fields[0]]
    if any(not a.flags.c_contiguous or a.ndim != 1 or a.dtype.hasobject for a in arrays):
        return False
    kept = [_narrow(a) for a in arrays]
    narrow = [body for way, _, body in kept if way == "int"]
    at = sum(body.nbytes for body in narrow)
    image, imaged = [], []
    for name, a, (way, _, _) in zip(fields[0], arrays, kept):
        if way == "runs" and name in DEFERRED:  # made from the runs on first use
            continue
        at = -(-at // _IMAGE_ALIGN) * _IMAGE_ALIGN
        image.append((name, at, zlib.crc32(a.view("u1").data)))
        imaged.append((at, a))
        at += a.nbytes
    head = (
        _SALES_FORMAT, _sales_version(), stamp, tuple(rels), tuple(sigs), tuple(digests[rel] for rel in rels),
        [(name, list(getattr(sales, name))) for name in fields[1]],
        [
            (name, a.dtype.str, len(a), way, params, None if body is None else body.dtype.str,
             0 if body is None or way != "int" else zlib.crc32(body.view("u1").data))
            for name, a, (way, params, body) in zip(fields[0], arrays, kept)
        ],
        [(d.path, d.line, d.column, d.field, d.message, d.severity, d.code) for d in diags],
        None if sales.last_day() is None else sales.last_day().isoformat(),
        (image, at),
    )
    path = root / SALES_CACHE
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _sweep_dead(str(path.parent), f".{path.name}.")  # what a killed run left
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            header = pickle.dumps(head, protocol=pickle.HIGHEST_PROTOCOL)
            if len(header) + _SEAL_BYTES > 1 << 20:
                raise ValueError("a header too long to probe")
            fh.write(seal(header))
            fh.write(bytes(_data_start(len(header) + _SEAL_BYTES) - len(header) - _SEAL_BYTES))
            written = 0
            for body in narrow:
                fh.write(body.view("u1").data)
                written += body.nbytes
            for offset, a in imaged:
                fh.write(bytes(offset - written))  # (padding)
                fh.write(a.view("u1").data)
                written = offset + a.nbytes
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - no room, not ours: read next time
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
        return False
    return True
