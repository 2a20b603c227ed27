"""Git history of the records: when each file was handed in, who changed what.

Everything here reads the history in **one** ``git log`` pass per question
(never one call per file: 170× slower, see FACTS.md) and the file contents
through GitPython's persistent ``cat-file --batch`` object reader.

* :func:`handed_in_times` — first-commit time of every file under
  ``records/`` merged with ``records/handed-in.csv`` (the CSV wins); None when
  there is no git history (a tarball), so the rules say "unknown".
* :func:`file_changes`, :func:`retailer_history`, :func:`grade_history` —
  who changed a record, when, in which commit, which fields (a field-level
  diff of consecutive YAML versions), for the report site.
* :func:`head_commit` — the commit the site is built from.
* :func:`checkout_at` / :func:`tree_at` — the tree as it stood at a revision
  or a date (``crmdocs build --at``).

Times are the author's own clock (the offset written in the commit), naive:
the office's local time when the office's machines are set right.

A tree extracted by :func:`checkout_at` carries a small marker file
(:data:`MARKER`) naming the repository and the commit it came from; every
function here then answers for that commit, so a past build shows the past
handed-in times and commit.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from crmdocs.schemas.common import parse_minute

from .diagnostics import CrmdocsError, Diagnostic
from .kinds import HANDED_IN, RECORDS

HANDED_IN_CSV = f"{RECORDS}/{HANDED_IN}"
MARKER = ".crmdocs-at.json"  # written into trees extracted by checkout_at


# ---------------------------------------------------------------- sources


@dataclass
class Source:
    """Where the history of a root lives: a GitPython repo, the revision the
    root stands for, and the root's path inside the work tree ("" or "sub/")."""

    repo: Any  # git.Repo
    rev: str
    prefix: str = ""
    shallow: frozenset[str] = frozenset()

    def git(self, *args: str) -> str:
        import git

        try:
            # core.quotepath=off: paths come back as written, Chinese included
            return self.repo.git.execute(["git", "-c", "core.quotepath=off", *args], strip_newline_in_stdout=False)
        except git.GitCommandError as exc:
            detail = (exc.stderr or "").strip().splitlines()
            raise CrmdocsError(
                f"git {args[0]} 失败：{detail[-1] if detail else exc} (git failed in {self.repo.working_tree_dir})"
            ) from None


def _maybe_git(path: Path) -> bool:
    """Whether ``path`` can be inside a git repository at all: a ``.git``
    in it or a folder above, a bare repository's layout, or git's own
    variables set. Where none is (a tarball, the benchmark's data), GitPython
    (~80 ms to import) is not imported to find that out."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_WORK_TREE")):
        return True
    try:
        here = path.resolve()
    except OSError:
        return True
    for folder in (here, *here.parents):
        if os.path.lexists(folder / ".git"):
            return True
        if os.path.isfile(folder / "HEAD") and os.path.isdir(folder / "objects") and os.path.isdir(folder / "refs"):
            return True
    return False


def _open(path: Path) -> Any:
    if not _maybe_git(path):
        return None
    try:
        import git
    except ImportError:  # GitPython without a git executable: no history
        return None
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def source(root: Path | str) -> Optional[Source]:
    """The git history behind ``root``; None when there is none (no repository,
    no commit yet)."""
    root = Path(root).resolve()
    marker = root / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            repo = _open(Path(info["repository"]))
            if repo is None:
                return None
            return _finish(Source(repo, info["commit"], info.get("prefix", "")))
        except (OSError, ValueError, KeyError):
            return None
    repo = _open(root)
    if repo is None or repo.bare:
        return None
    try:
        if not repo.head.is_valid():
            return None
    except Exception:  # noqa: BLE001 - a broken HEAD is "no history"
        return None
    top = Path(repo.working_tree_dir).resolve()
    rel = root.relative_to(top).as_posix() if root != top else ""
    return _finish(Source(repo, "HEAD", f"{rel}/" if rel else ""))


def _finish(src: Source) -> Source:
    shallow_file = Path(src.repo.git_dir) / "shallow"
    if shallow_file.is_file():
        src.shallow = frozenset(shallow_file.read_text().split())
    return src


# ---------------------------------------------------------------- commits


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    time: dt.datetime  # author's clock, naive
    subject: str = ""

    @property
    def short(self) -> str:
        return self.sha[:8]


def _time(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.strip()).replace(tzinfo=None)


_HEAD_FORMAT = "%H%x02%an%x02%ae%x02%aI%x02%s"


def _commit_from(header: str) -> CommitInfo:
    sha, name, email, iso, subject = (header.split("\x02") + [""] * 5)[:5]
    return CommitInfo(sha, name, email.lower(), _time(iso), subject)


def head_commit(root: Path | str) -> Optional[CommitInfo]:
    """The commit ``root`` stands for (HEAD, or the commit a ``--at`` tree came
    from); None without history."""
    src = source(root)
    if src is None:
        return None
    out = src.git("log", "-1", f"--format={_HEAD_FORMAT}", src.rev, "--")
    return _commit_from(out.strip("\n")) if out.strip() else None


# ---------------------------------------------------------------- handed in


def _log_chunks(out: str) -> Iterator[tuple[str, list[str]]]:
    """Split ``git log -z --format=%x01…`` output into (header, tokens)."""
    for chunk in out.split("\x01"):
        if not chunk:
            continue
        header, _, rest = chunk.partition("\x00")
        tokens = [t for t in rest.lstrip("\n").split("\x00") if t and t != "\n"]
        yield header, [t.lstrip("\n") for t in tokens]


def _oldest_commits(src: Source, selection: tuple[str, ...], under: str) -> dict[str, dt.datetime]:
    """Path (relative to the root) → author time of the oldest commit that
    ``git log <selection>`` names for it under ``under``, in one pass. Paths
    whose oldest commit is the edge of a shallow clone are left out: their
    real commit is not in the clone."""
    out = src.git(
        "log", src.rev, "-z", "--no-renames", *selection, "--name-only",
        "--format=%x01%H%x02%aI", "--", f"{src.prefix}{under}",
    )
    cut = len(src.prefix)
    found: dict[str, dt.datetime] = {}
    edge: set[str] = set()
    for header, paths in _log_chunks(out):
        sha, _, iso = header.partition("\x02")
        when = _time(iso)
        at_edge = sha in src.shallow
        for path in paths:
            rel = path[cut:]
            if at_edge:
                edge.add(rel)
            elif rel not in found or when < found[rel]:
                found[rel] = when
    for rel in edge:
        found.pop(rel, None)
    return found


def first_commit_times(root: Path | str, under: str = RECORDS) -> Optional[dict[str, dt.datetime]]:
    """First-commit (author) time of every file under ``under`` (relative to
    root) that git knows, in one ``git log`` pass; None without history.
    Files whose first commit is the edge of a shallow clone are left out:
    their real first commit is not in the clone."""
    src = source(root)
    if src is None:
        return None
    found = _oldest_commits(src, ("--diff-filter=A",), under)
    if not found:
        # nothing under records/ was ever committed here (a depth-1 clone, or a
        # tarball unpacked inside some other repository): nothing is known
        return None
    return found


def _csv_path(value: str) -> str:
    value = value.strip().replace("\\", "/")
    while value.startswith("./"):
        value = value[2:]
    return value if value.startswith(f"{RECORDS}/") else f"{RECORDS}/{value}"


def read_handed_in_csv(root: Path | str) -> tuple[dict[str, Optional[dt.datetime]], list[Diagnostic]]:
    """``records/handed-in.csv`` (columns ``path,time``, time ``YYYY-MM-DD
    HH:MM``): hand-in times that predate the repository. Paths may be given
    relative to the root (``records/plans/…``) or to ``records/``; a
    ``#review`` suffix is kept as written. A row with an empty time lists a
    file whose hand-in time is not known (None: the rules say "unknown",
    never late, even though git knows when the file was imported). Bad rows
    are reported, not raised."""
    global _LAST_CSV
    path = Path(root) / HANDED_IN_CSV
    if not path.is_file():
        return {}, []
    data = path.read_bytes()
    if not _KEEP_PARSE:  # (validate --no-cache: parsed, nothing kept or taken from .cache)
        out, diags = _parse_handed_in(data)
        return dict(out), list(diags)
    if _LAST_CSV is None or _LAST_CSV[0] != data:
        _LAST_CSV = (data, _kept_handed_in(Path(root), data))
    out, diags = _LAST_CSV[1]
    return dict(out), list(diags)


def handed_in_problems(root: Path | str) -> list[Diagnostic]:
    """:func:`read_handed_in_csv`'s bad rows alone (what validating the file
    says): from the kept parse's first part when it fits, without the 70,000
    paths and times a city's file lists (~0.045 s to read back and copy),
    which only :func:`handed_in_times` needs — and it has no use for them
    where there is no git history."""
    path = Path(root) / HANDED_IN_CSV
    if not path.is_file():
        return []
    data = path.read_bytes()
    if _KEEP_PARSE and (_LAST_CSV is None or _LAST_CSV[0] != data):
        rows = _kept_rows(Path(root), data)
        if rows is not None:
            return rows
    return read_handed_in_csv(root)[1]


# the bytes last read and what they said: validate() checks the file (repository.load_file) and
# handed_in_times reads it again in the same run; the same bytes are parsed once (0.15 s at city)
_LAST_CSV: Optional[tuple[bytes, tuple[dict[str, Optional[dt.datetime]], list[Diagnostic]]]] = None

HANDED_IN_CACHE = Path(".cache") / "crmdocs" / "handed-in.pickle"
_HANDED_IN_FORMAT = 2  # 2: the bad rows, then the paths and times, as two pickles
_KEEP_PARSE = True  # off within uncached()


@contextlib.contextmanager
def uncached():
    """Within: handed-in.csv's parse is neither taken from nor kept in
    :data:`HANDED_IN_CACHE` (``validate --no-cache``, ``validate(use_cache=False)``:
    no cache read or written, the reference answer)."""
    global _KEEP_PARSE
    before, _KEEP_PARSE = _KEEP_PARSE, False
    try:
        yield
    finally:
        _KEEP_PARSE = before


def _kept_handed_in(root: Path, data: bytes) -> tuple[dict[str, Optional[dt.datetime]], list[Diagnostic]]:
    """:func:`_parse_handed_in` of ``data``, kept in :data:`HANDED_IN_CACHE`
    (sealed; keyed by the SHA-1 of the bytes and the code version,
    ``cache.code_version``): a city's 70,000 rows take ~0.6 s to parse and
    ~0.05 s to load. A cache that does not fit or is damaged is ignored
    and written afresh."""
    import hashlib
    import pickle

    from .cache import code_version
    from .repository import _shard_unpickler, seal, unsealed

    sha = hashlib.sha1(data).hexdigest()
    path = root / HANDED_IN_CACHE
    with contextlib.suppress(Exception):  # (absent, damaged, another's: parsed)
        body = unsealed(path.read_bytes())
        if body is not None:
            stream = io.BytesIO(body)
            fmt, version, was, rows = _shard_unpickler(stream).load()
            if fmt == _HANDED_IN_FORMAT and version == code_version() and was == sha:
                paths, times = _shard_unpickler(stream).load()  # (a pickle of its own: its own unpickler)
                if len(paths) == len(times):
                    return dict(zip(paths, times)), [Diagnostic(*row) for row in rows]
    out, diags = _parse_handed_in(data)
    rows = [(d.path, d.line, d.column, d.field, d.message, d.severity, d.code) for d in diags]
    # two parts: the bad rows first (all validating the file reads: _kept_rows), then the paths and times
    body = pickle.dumps((_HANDED_IN_FORMAT, code_version(), sha, rows), protocol=pickle.HIGHEST_PROTOCOL) \
        + pickle.dumps((list(out), list(out.values())), protocol=pickle.HIGHEST_PROTOCOL)
    with contextlib.suppress(OSError):
        from .yamlwrite import write_atomic

        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, seal(body))
    return out, diags


def _kept_rows(root: Path, data: bytes) -> Optional[list[Diagnostic]]:
    """The bad rows of the kept parse of ``data`` (its first part), None
    when there is none that fits (then :func:`_kept_handed_in` parses)."""
    import hashlib

    from .cache import code_version
    from .repository import _shard_unpickler, unsealed

    with contextlib.suppress(Exception):  # (absent, damaged, another's)
        body = unsealed((root / HANDED_IN_CACHE).read_bytes())
        if body is not None:
            fmt, version, was, rows = _shard_unpickler(io.BytesIO(body)).load()
            if fmt == _HANDED_IN_FORMAT and version == code_version() and was == hashlib.sha1(data).hexdigest():
                return [Diagnostic(*row) for row in rows]
    return None


def _parse_handed_in(data: bytes) -> tuple[dict[str, Optional[dt.datetime]], list[Diagnostic]]:
    out: dict[str, Optional[dt.datetime]] = {}
    diags: list[Diagnostic] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}, [Diagnostic(HANDED_IN_CSV, 0, 0, "", "文件不是 UTF-8 编码 (not UTF-8)", "error", "encoding")]
    reader = csv.DictReader(io.StringIO(text))
    missing = {"path", "time"} - set(reader.fieldnames or [])
    if missing:
        return {}, [Diagnostic(
            HANDED_IN_CSV, 1, 0, "", f"表头应为 path,time，缺少 {'、'.join(sorted(missing))} (missing columns)",
            "error", "csv_columns",
        )]
    for number, row in enumerate(reader, start=2):
        raw_path, raw_time = (row.get("path") or "").strip(), (row.get("time") or "").strip()
        if not raw_path:
            diags.append(Diagnostic(HANDED_IN_CSV, number, 0, "path", "缺少文件路径 (path missing)", "error", "csv_path"))
            continue
        if not raw_time:  # listed without a time: not in the old system's log — unknown, never late
            out[_csv_path(raw_path)] = None
            continue
        when = parse_minute(raw_time[:16], ("%Y-%m-%d %H:%M",))  # seconds cut off; a T for the space is fine
        if when is None:
            diags.append(Diagnostic(
                HANDED_IN_CSV, number, 0, "time",
                f"时间 {raw_time!r} 不对，应写成 YYYY-MM-DD HH:MM (expected date and time)", "error", "csv_time",
            ))
            continue
        out[_csv_path(raw_path)] = when
    return out, diags


REVIEW = "#review"


def review_times(root: Path | str) -> Optional[dict[str, dt.datetime]]:
    """When each diary's review (批阅) was first committed: key
    ``<diary path>#review`` → the time of the oldest commit that added a
    top-level ``review:`` line to it. One ``git log -G`` pass over
    ``records/diaries`` (git searches the diffs itself). None without history."""
    src = source(root)
    if src is None:
        return None
    found = _oldest_commits(src, ("-G^review[[:space:]]*:", "--diff-filter=AM"), f"{RECORDS}/diaries")
    return {rel + REVIEW: when for rel, when in found.items()}


def handed_in_times(root: Path, reviews: bool = False) -> Optional[dict[str, dt.datetime]]:
    """First-commit time of each file under ``records/`` (path relative to
    ``root``, "/" separated, local office time, naive), merged with the times
    imported from the old system (``records/handed-in.csv``, which wins for
    the paths it lists). With ``reviews``, also ``<diary path>#review`` → when
    the diary's review was first committed (see :func:`review_times`); off by
    default: the rules take a review's time from ``review.at``, and a
    repository whose records were imported in one commit (the demo office)
    would otherwise show every review late unless its CSV lists
    ``…#review`` rows. None when there is
    no git history at all (a tarball). Bad CSV rows raise :class:`CrmdocsError`
    with one diagnostic each (file, line, field)."""
    found = first_commit_times(root)
    if found is None:
        return None
    if reviews:
        found.update(review_times(root) or {})
    imported, problems = read_handed_in_csv(root)
    if problems:  # a row skipped would silently turn a hand-in late or unknown: the appraisal would be wrong
        raise CrmdocsError(
            f"{HANDED_IN_CSV} 有 {len(problems)} 处写错了，交上时间会算错；先改正再计算 (bad rows in handed-in.csv)",
            problems,
        )
    found.update(imported)
    return found


# ---------------------------------------------------------------- field diffs


def diff_fields(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths of the leaves that differ between two parsed YAML values
    (``sales.adjustment.coefficient``, ``visits[2].time``). A mapping that
    appears or disappears reports each of its leaves; a list that grows or
    shrinks reports the items added or removed."""
    if isinstance(old, dict) or isinstance(new, dict):
        if not isinstance(old, dict) and old is not None or not isinstance(new, dict) and new is not None:
            return [path or "."]
        old = old or {}
        new = new or {}
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.extend(diff_fields(old[key], None, sub) if isinstance(old[key], dict) else [sub])
            elif key not in old:
                out.extend(diff_fields(None, new[key], sub) if isinstance(new[key], dict) else [sub])
            else:
                out.extend(diff_fields(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(old) or i >= len(new):
                out.append(sub)
            else:
                out.extend(diff_fields(old[i], new[i], sub))
        return out
    if old != new:
        return [path or "."]
    return []


def top_fields(paths: Sequence[str], depth: int = 2) -> list[str]:
    """``sales.adjustment.coefficient`` → ``sales.adjustment`` (depth 2), list
    indexes dropped, order kept, repeats removed: what a page shows."""
    out: list[str] = []
    for p in paths:
        parts = re.sub(r"\[\d+\]", "", p).split(".")
        short = ".".join(parts[:depth])
        if short not in out:
            out.append(short)
    return out


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class RawChange:
    commit: CommitInfo
    path: str  # relative to root
    status: str  # A, M, D
    old: Optional[str]  # blob sha (a merge: in the first parent)
    new: Optional[str]
    olds: tuple[Optional[str], ...] = ()  # a merge: the blob in each parent


_ZERO = "0" * 40


def raw_changes(
    root: Path | str, under: Sequence[str], rev_range: Optional[str] = None, merges: bool = False
) -> Optional[list[RawChange]]:
    """Every file change under the ``under`` folders, newest commit first, in
    one ``git log --raw`` pass; None without history. ``merges``: include the
    files a merge commit changed against all its parents (conflict
    resolutions), compared with its first parent."""
    src = source(root)
    if src is None:
        return None
    args = ["log", rev_range or src.rev, "-z", "--raw", "--no-renames", "--no-abbrev", f"--format=%x01{_HEAD_FORMAT}"]
    if merges:
        args.append("-c")
    args.append("--")
    args.extend((f"{src.prefix}{u}" or ".") for u in under)
    out = src.git(*args)
    cut = len(src.prefix)
    found: list[RawChange] = []
    for header, tokens in _log_chunks(out):
        commit = _commit_from(header)
        i = 0
        while i + 1 < len(tokens):
            meta, path = tokens[i], tokens[i + 1]
            i += 2
            if not meta.startswith(":"):
                continue
            fields = meta.lstrip(":").split()
            parents = meta.count(":")  # 1 normally, n for a combined (merge) diff
            shas = fields[parents + 1 : parents + 1 + parents + 1]
            olds = tuple(None if sha == _ZERO else sha for sha in shas[:-1])
            old = olds[0] if olds else None
            new = shas[-1] if shas and shas[-1] != _ZERO else None
            letter = "A" if old is None else "D" if new is None else "M"
            found.append(RawChange(commit, path[cut:], letter, old, new, olds if parents > 1 else ()))
    return found


class BlobReader:
    """Parsed YAML of blobs by sha, read through GitPython's object database
    (one persistent ``git cat-file`` process), cached."""

    def __init__(self, src: Source):
        self.src = src
        self._cache: dict[str, Any] = {}

    def raw(self, sha: str) -> bytes:
        return self.src.repo.odb.stream(bytes.fromhex(sha)).read()

    def data(self, sha: Optional[str]) -> Any:
        if sha is None:
            return None
        if sha not in self._cache:
            from . import yamlio

            try:
                self._cache[sha] = yamlio.parse(yamlio.decode(self.raw(sha)))
            except yamlio.YamlProblem:
                self._cache[sha] = _UNREADABLE
        return self._cache[sha]


_UNREADABLE = object()


@dataclass(frozen=True)
class Change:
    """One commit's change to one record file, for the site."""

    commit: CommitInfo
    path: str
    status: str  # added / modified / deleted / moved
    fields: tuple[str, ...] = ()  # leaf paths that changed (modified/moved)
    from_path: str = ""  # moved: where the file was


_STATUS = {"A": "added", "M": "modified", "D": "deleted"}


def file_changes(root: Path | str, under: Sequence[str], fields: bool = True) -> dict[str, list[Change]]:
    """Changes of every file under ``under`` (folders relative to root), per
    path, newest first; {} without history. With ``fields``, modified files
    carry the field paths that changed."""
    raws = raw_changes(root, under)
    if not raws:
        return {}
    reader = BlobReader(source(root))  # type: ignore[arg-type]
    out: dict[str, list[Change]] = {}
    for raw in raws:
        names: tuple[str, ...] = ()
        if fields and raw.status == "M":
            old, new = reader.data(raw.old), reader.data(raw.new)
            names = ("?",) if _UNREADABLE in (old, new) else tuple(diff_fields(old, new))
        out.setdefault(raw.path, []).append(Change(raw.commit, raw.path, _STATUS[raw.status], names))
    return out


def _record_id(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


class FieldDiffs:
    """Field diffs between two blobs, remembered in
    ``.cache/crmdocs/history-fields.json`` of the work tree (git-ignored):
    two blob ids always give the same diff, so a site build parses only the
    versions committed since the last one."""

    VERSION = 1

    def __init__(self, src: Source):
        self.reader = BlobReader(src)
        top = Path(src.repo.working_tree_dir) / src.prefix
        self.path = top / ".cache" / "crmdocs" / "history-fields.json"
        self.known: dict[str, list[str]] = {}
        self.added = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == self.VERSION and isinstance(data.get("diffs"), dict):
                self.known = data["diffs"]
        except (OSError, ValueError, AttributeError):
            pass

    def __call__(self, old: Optional[str], new: Optional[str]) -> tuple[str, ...]:
        key = f"{old}:{new}"
        found = self.known.get(key)
        if not isinstance(found, list):
            a, b = self.reader.data(old), self.reader.data(new)
            found = ["?"] if _UNREADABLE in (a, b) else diff_fields(a, b)
            self.known[key] = found
            self.added = True
        return tuple(found)

    def save(self) -> None:
        if not self.added:
            return
        from .yamlwrite import write_atomic

        try:
            write_atomic(self.path, json.dumps({"version": self.VERSION, "diffs": self.known}, ensure_ascii=False, separators=(",", ":")))
        except OSError:  # a read-only work tree: the next build parses again
            pass


def retailer_history(root: Path | str, fields_for: Optional[int] = None) -> dict[str, list[Change]]:
    """Changes of each retailer archive, by retailer id, newest first: who
    changed it, when, the commit and the fields. A move between departments
    (delete + add of the same id in one commit) is one ``moved`` change.
    ``fields_for``: diff the fields of only the newest so many changes of each
    archive (what a page shows); older ones carry no field list."""
    base = f"{RECORDS}/retailers"
    raws = raw_changes(root, [base])
    if not raws:
        return {}
    diffs = FieldDiffs(source(root))  # type: ignore[arg-type]
    out: dict[str, list[Change]] = {}
    by_commit: dict[tuple[str, str], list[RawChange]] = {}
    order: list[tuple[str, str]] = []
    for raw in raws:
        if not raw.path.endswith((".yaml", ".yml")):
            continue
        key = (raw.commit.sha, _record_id(raw.path))
        if key not in by_commit:
            order.append(key)
        by_commit.setdefault(key, []).append(raw)
    for key in order:
        group = by_commit[key]
        rid = key[1]
        mine = out.setdefault(rid, [])
        wanted = fields_for is None or len(mine) < fields_for
        added = next((r for r in group if r.status == "A"), None)
        deleted = next((r for r in group if r.status == "D"), None)
        if added and deleted:
            names = diffs(deleted.old, added.new) if wanted else ()
            mine.append(Change(added.commit, added.path, "moved", names, deleted.path))
            continue
        for raw in group:
            names = diffs(raw.old, raw.new) if raw.status == "M" and wanted else ()
            mine.append(Change(raw.commit, raw.path, _STATUS[raw.status], names))
    diffs.save()
    return out


@dataclass(frozen=True)
class GradeChange:
    person: str
    old: Optional[str]  # None: the record was created with this grade
    new: Optional[str]  # None: the grade was removed (role changed) or the record deleted
    commit: CommitInfo


def grade_history(root: Path | str) -> dict[str, list[GradeChange]]:
    """When each person's grade changed and by whose commit, newest first
    (the record's creation counts as the first grade). A record deleted and
    later added again with the grade it had (a file restored, a folder moved
    back) is no change of grade, and is left out."""
    raws = raw_changes(root, [f"{RECORDS}/people"])
    if not raws:
        return {}
    reader = BlobReader(source(root))  # type: ignore[arg-type]
    found: dict[str, list[tuple[GradeChange, bool, bool]]] = {}  # newest first: change, file added, file deleted
    for raw in raws:
        if not raw.path.endswith((".yaml", ".yml")):
            continue
        old, new = reader.data(raw.old), reader.data(raw.new)
        old_grade = old.get("grade") if isinstance(old, dict) else None
        new_grade = new.get("grade") if isinstance(new, dict) else None
        if old_grade == new_grade:
            continue
        person = _record_id(raw.path)
        found.setdefault(person, []).append(
            (GradeChange(person, old_grade, new_grade, raw.commit), raw.old is None, raw.new is None))
    out: dict[str, list[GradeChange]] = {}
    for person, changes in found.items():
        kept: list[GradeChange] = []
        i = 0
        while i < len(changes):
            change, added, _ = changes[i]
            if added and i + 1 < len(changes):
                before, _, deleted = changes[i + 1]
                if deleted and before.old == change.new:  # deleted, then back as it was
                    i += 2
                    continue
            kept.append(change)
            i += 1
        if kept:
            out[person] = kept
    return out


# ---------------------------------------------------------------- the past


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")


def resolve_at(root: Path | str, at: str) -> CommitInfo:
    """The commit ``at`` names: a revision (sha, tag, branch, ``HEAD~3``) or a
    date ``YYYY-MM-DD[ HH:MM]`` — then the last commit (first-parent line of
    HEAD) made on or before the end of that day / that minute, in the office's
    time zone (the offset of HEAD's commit)."""
    src = source(root)
    if src is None:
        raise CrmdocsError(f"{root} 没有 git 历史，无法还原过去的记录 (no git history)")
    at = at.strip()
    if _DATE_RE.match(at):
        try:
            when = dt.datetime.fromisoformat(at.replace(" ", "T"))
        except ValueError:
            raise CrmdocsError(f"找不到版本 {at!r}：日期不存在 (not a valid date)") from None
        if len(at) == 10:
            when = when.replace(hour=23, minute=59, second=59)
        offset = src.git("log", "-1", "--format=%cI", src.rev, "--").strip()[19:] or "+00:00"
        sha = src.git(
            "rev-list", "-1", "--first-parent", f"--before={when.isoformat()}{offset}", src.rev, "--"
        ).strip()
        if not sha:
            raise CrmdocsError(f"{at} 之前还没有任何提交 (no commit on or before {at})")
    else:
        try:
            sha = src.repo.rev_parse(f"{at}^{{commit}}").hexsha
        except Exception:  # noqa: BLE001 - GitPython raises several kinds here
            raise CrmdocsError(
                f"找不到版本 {at!r}：不是提交、标签、分支，也不是日期 YYYY-MM-DD (not a revision or date)"
            ) from None
    out = src.git("log", "-1", f"--format={_HEAD_FORMAT}", sha, "--")
    return _commit_from(out.strip("\n"))


KEEP_CURRENT = ("mkdocs.yml", "site")


def checkout_at(
    root: Path | str, at: str, keep_current: Sequence[str] = KEEP_CURRENT, into: Optional[Path] = None
) -> Path:
    """Write the tree as it stood at ``at`` (revision or date, see
    :func:`resolve_at`) into a new temporary folder (or the empty folder
    ``into``) and return it; the caller removes it (or use :func:`tree_at`).
    Git writes it (:func:`_git_checkout`); where git cannot, the archive is
    extracted here. The names in ``keep_current`` (top level: the site's
    configuration and hand-written pages) are taken from the current work
    tree instead, so a past day's records render with today's site. A marker
    file ties the folder to the commit: :func:`head_commit` and
    :func:`handed_in_times` on it answer for that commit."""
    root = Path(root).resolve()
    commit = resolve_at(root, at)
    src = source(root)
    assert src is not None
    target = Path(into) if into else Path(tempfile.mkdtemp(prefix="crmdocs-at-"))
    target.mkdir(parents=True, exist_ok=True)
    if not _git_checkout(src, commit.sha, target):
        buf = io.BytesIO()
        treeish = f"{commit.sha}:{src.prefix.rstrip('/')}" if src.prefix else commit.sha
        src.repo.archive(buf, treeish, format="tar")
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            if hasattr(tarfile, "data_filter"):  # Python ≥ 3.11.4: refuse links and paths leaving the folder
                tar.extractall(target, filter="data")
            else:  # pragma: no cover - git archive of our own repository writes plain members
                tar.extractall(target)
    for name in keep_current:
        current = root / name
        there = target / name
        if not current.exists():
            continue
        if there.is_dir() and not there.is_symlink():
            shutil.rmtree(there)
        elif there.exists() or there.is_symlink():
            there.unlink()
        if current.is_dir():
            shutil.copytree(current, there, symlinks=True)
        else:
            shutil.copy2(current, there)
    (target / MARKER).write_text(
        json.dumps({"repository": str(Path(src.repo.working_tree_dir).resolve()), "commit": commit.sha, "prefix": src.prefix}),
        encoding="utf-8",
    )
    return target


def _git_checkout(src: Source, sha: str, into: Path) -> bool:
    """The tree of commit ``sha`` (the root's folder of it) written into the
    empty folder ``into`` by git itself: ``read-tree`` into a temporary index,
    ``checkout-index`` — the work tree and its index untouched; ~1.8 s for a
    city (80 k files) where reading the archive in Python takes ~7 s of CPU.
    False (``into`` left empty) when git cannot: then the archive is extracted."""
    if src.repo.working_tree_dir is None:
        return False
    top = Path(src.repo.working_tree_dir).resolve()
    index = Path(tempfile.mkdtemp(prefix="crmdocs-index-")) / "index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    treeish = f"{sha}:{src.prefix.rstrip('/')}" if src.prefix else sha
    try:
        for args in (["read-tree", treeish], ["checkout-index", "--all", "--force", f"--prefix={into}{os.sep}"]):
            done = subprocess.run(["git", *args], cwd=top, env=env, capture_output=True, check=False)
            if done.returncode != 0:
                raise OSError(done.stderr.decode("utf-8", "replace"))
    except OSError:  # no git, no room, an old git: the usual extraction, into an empty folder
        for child in into.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return False
    finally:
        shutil.rmtree(index.parent, ignore_errors=True)
    return True


@contextlib.contextmanager
def tree_at(root: Path | str, at: str, keep_current: Sequence[str] = KEEP_CURRENT) -> Iterator[Path]:
    """``with tree_at(root, "2026-09-30") as past: build(past)`` — removed
    afterwards. The one way to a past tree (``crmdocs build --at``,
    ``crmdocs recalc --diff``): written by git (:func:`checkout_at`) into
    memory (``/dev/shm``) when it fits there twice over (:func:`_scratch`;
    ~80 k small files cost 10–40 s on a busy disk, ~1.8 s there), with a
    copy of the working tree's caches (:func:`_share_caches`)."""
    root = Path(root).resolve()
    commit = resolve_at(root, at)  # (a date or a revision that is none: its message, before anything is written)
    scratch = _scratch(root, commit.sha)
    path = _fresh(scratch)
    try:
        try:
            checkout_at(root, commit.sha, keep_current, into=path)
        except OSError:  # out of room in memory after all: on disk
            if scratch is None:
                raise
            shutil.rmtree(path, ignore_errors=True)
            path = _fresh(None)
            checkout_at(root, commit.sha, keep_current, into=path)
        _share_caches(root, path)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


_IN_MEMORY = "/dev/shm"


def _fresh(scratch: Optional[str]) -> Path:
    """A new empty temporary folder (in ``scratch``, else the usual place),
    named with this process's id. In ``scratch`` (memory), the trees of runs
    that were killed (SIGKILL, a machine's OOM killer: no ``finally`` ran)
    are removed first — they would hold their memory until a reboot."""
    if scratch is not None:
        _sweep(Path(scratch))
    return Path(tempfile.mkdtemp(prefix=f"crmdocs-at-{os.getpid()}-", dir=scratch))


def _sweep(scratch: Path) -> None:
    """Remove ``crmdocs-at-<pid>-…`` folders in ``scratch`` whose process is gone."""
    try:
        names = [p for p in scratch.iterdir() if p.name.startswith("crmdocs-at-")]
    except OSError:
        return
    for path in names:
        pid = path.name[len("crmdocs-at-"):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # its run is over and left it: remove
            shutil.rmtree(path, ignore_errors=True)
        except OSError:  # alive (another user's, perhaps): leave it
            continue


def _cache_dir(root: Path) -> Path:
    from .repository import PARSED_DIR

    return root / PARSED_DIR.parent  # .cache/crmdocs: the shards, the sales arrays, validate.json


def _scratch(root: Path, rev: str) -> Optional[str]:
    """``/dev/shm`` when the tree at ``rev`` (its files' sizes, ``git ls-tree``)
    and the caches fit in it twice over, with 256 MiB to spare; else None
    (the usual temporary folder)."""
    if rev.startswith("-"):
        return None
    try:
        room = shutil.disk_usage(_IN_MEMORY).free
        done = subprocess.run(["git", "ls-tree", "-r", "-l", "-z", rev], cwd=root, capture_output=True, check=False)
    except OSError:  # no /dev/shm (not Linux), no git: on disk
        return None
    if done.returncode != 0:
        return None
    need = 0
    for entry in done.stdout.split(b"\0"):
        size = entry.split(b"\t", 1)[0].split()[-1:] if entry else []
        if size and size[0].isdigit():
            need += int(size[0]) + 4096  # a file takes at least a page
    with contextlib.suppress(OSError):
        for dirpath, _, files in os.walk(_cache_dir(root)):
            need += sum(os.stat(os.path.join(dirpath, f)).st_size for f in files)
    return _IN_MEMORY if room >= 2 * need + (256 << 20) else None


def _share_caches(root: Path, there: Path) -> None:
    """Copy the working tree's caches (parsed-data shards, sales arrays,
    validation results) into the past tree, so that its computation parses,
    reads and checks again only what differs from the working tree. Every
    entry there is judged by the file's bytes (SHA-1) or its stat signature,
    as after a checkout in place; the copy is the past tree's own, removed
    with it: the working tree's caches are never written. Skipped (computed
    from nothing, as before) when it cannot be made."""
    src, dst = _cache_dir(root), _cache_dir(there)
    if not src.is_dir() or dst.exists():
        return
    try:
        shutil.copytree(src, dst, ignore=lambda _, names: [n for n in names if n.startswith((".", "tmp-"))])
    except (OSError, shutil.Error):  # no room, unreadable: the caches there are rebuilt from nothing
        shutil.rmtree(dst, ignore_errors=True)
