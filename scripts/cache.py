"""Validation that is fast at city scale and remembers what it checked.

``validate_report(root, today, jobs)`` gives the same report as
:func:`crmdocs.scripts.validate.validate` (load everything, run every check)
but splits the records in two:

* the *universe* — policy, calendars, org, people, brands, retailers, tier
  overrides, sales — is what daily records point at. It is loaded and its
  checks run as usual;
* *daily* records — plans, diaries, weekly analyses, monthly summaries,
  complaints, surveys, targets (and any file whose path names no kind) — are parsed, validated and checked against the
  universe file by file, in ``jobs`` worker processes that inherit the loaded
  universe (fork) and send back only their problems, never Pydantic models
  (unpickling a model costs as much as validating it).

Results are kept in ``.cache/crmdocs/validate.marshal`` (git-ignored), keyed by
the SHA-1 of each file's bytes and by the code version (a hash of the crmdocs
sources and the versions of Pydantic, PyYAML and Python). When no universe
file changed and ``today`` is the same, only new or changed daily files are
parsed and checked — against the people, org, brands, calendars and policy
(a few hundred small files) and the retailers they name, loaded one by one on
first use; duplicates among daily files are recomputed on every run. Any
change to a universe file, another code version, an unreadable or corrupt
cache, or a check this module does not know, means a full run, whose results
then refill the cache. The cache is plain data (dicts, lists, strings,
numbers) in :mod:`marshal`'s format — read back in ~0.05 s at city scale,
JSON took ~0.09 s — sealed with a checksum of its bytes
(``repository.seal``): a damaged or tampered file is ignored, never run,
and the next run writes it afresh. (The code version names Python's: a
cache of another Python is never taken. A ``validate.json`` of earlier
code is ignored.)

A run that checked only a few files (a pull request's) writes just those
entries to ``validate-delta.marshal`` beside the whole record, which is read
with it and rewritten only when the delta grows past 1/20 of the files or a
full run happens; a run that changed nothing writes nothing. With ``jobs`` >
1 a forked process looks at (stats) most files while this one reads the
cache: at city scale each costs ~0.1 s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import marshal
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from .diagnostics import Diagnostic, Report
from .kinds import KINDS, RECORDS, SALES_PATTERN, is_sales, kind_of
from .repository import RACY_NS, Repository, discover, gc_paused, look_at, seal, unsealed

# the checks (numpy, the schemas, pydantic) are imported when a file must be
# checked: a run answered from the cache does without them
if TYPE_CHECKING:
    from . import checks

CACHE_FILE = Path(".cache") / "crmdocs" / "validate.marshal"
FORMAT = 3  # 2: sealed (a checksum at the end, repository.seal); 3: marshal, not JSON

# daily records: their checks read the universe and the file itself, nothing else
DAILY_KINDS = frozenset({"plan", "diary", "analysis", "summary", "complaint", "survey", "targets"})


def _define_checks() -> None:
    """``DAILY_CHECKS`` (daily records: their checks read the universe and the
    file itself, nothing else) and ``UNIVERSE_CHECKS`` (read the universe
    only, never a daily record), defined on first use."""
    if "DAILY_CHECKS" in globals():
        return
    from . import checks

    globals()["DAILY_CHECKS"] = (
        checks.check_plans, checks.check_diaries, checks.check_complaints, checks.check_surveys, checks.check_targets,
        checks.check_analyses, checks.check_summaries,
    )
    globals()["UNIVERSE_CHECKS"] = frozenset(
        c for c in (
            checks.check_basics, checks.check_org, checks.check_people, checks.check_retailers,
            getattr(checks, "check_tier_overrides", None), checks.check_sales,
        ) if c is not None
    )


def __getattr__(name: str) -> Any:  # cache.DAILY_CHECKS / cache.UNIVERSE_CHECKS, lazily
    if name in ("DAILY_CHECKS", "UNIVERSE_CHECKS"):
        _define_checks()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_version: Optional[str] = None


def _library_version(name: str, attribute: str, filename: str) -> str:
    """A library's version without importing it (reading its version line);
    the attribute itself when the library is imported already."""
    module = sys.modules.get(name)
    if module is not None:
        return str(getattr(module, attribute))
    import importlib.util

    spec = importlib.util.find_spec(name)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        try:
            text = (Path(folder) / filename).read_text(encoding="utf-8")
        except OSError:
            continue
        found = re.search(rf"^{attribute}\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        if found:
            return found.group(1)
    return str(getattr(__import__(name), attribute))


def code_version() -> str:
    """A hash of everything that decides a validation result."""
    global _version
    if _version is None:
        import importlib.util

        pydantic_version = _library_version("pydantic", "VERSION", "version.py")
        yaml_version = _library_version("yaml", "__version__", "__init__.py")
        schemas = importlib.util.find_spec("crmdocs.schemas")
        folders = [Path(__file__).resolve().parent]
        folders += [Path(f).resolve() for f in (schemas.submodule_search_locations or [])] if schemas else []
        h = hashlib.sha1(f"{FORMAT}|{sys.version}|{pydantic_version}|{yaml_version}".encode())
        for folder in folders:
            for path in sorted(folder.rglob("*.py")):
                h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
        _version = h.hexdigest()
    return _version


def split_possible() -> bool:
    """Whether every check is known to be a universe or a daily check; a check
    not listed here might compare daily records with each other, and then
    only the plain whole-repository run is right."""
    from . import checks

    _define_checks()
    return all(c in UNIVERSE_CHECKS or c in DAILY_CHECKS for c in checks.CHECKS)


# daily kinds have folders of their own (kinds.Kind.top): a path under one is never universe
_DAILY_TOPS = tuple(sorted(f"{RECORDS}/{k.top}/" for k in KINDS if k.name in DAILY_KINDS))


def _is_universe(rel: str) -> bool:
    if rel.startswith(_DAILY_TOPS):  # the bulk of the files: no pattern matching
        return False
    sub = rel[len(RECORDS) + 1 :]
    match = kind_of(sub)
    if match is None:
        return bool(SALES_PATTERN.fullmatch(sub))
    return match[0].name not in DAILY_KINDS


def _digests(
    root: Path, rels: list[str], old: Optional[dict[str, Any]], pre: Optional[tuple[list[str], Any]] = None,
    now: int = 0,
) -> tuple[dict[str, Optional[str]], dict[str, str], int, list[str]]:
    """SHA-1 of each file's bytes (None when it cannot be cached: unreadable,
    too large, not a file — such a file is loaded every time), and each
    file's stat signature.

    Like git's index, a file whose size, modification time and inode are
    those recorded with its hash last time is not read again — unless it was
    modified less than 2 s before that record was made (a change in the same
    clock tick would not show). Without a usable cache (``old`` None) nothing
    is read here: every file is loaded anyway, and the loading gives the hash
    of the bytes it read (:data:`PENDING` until then).

    Also the files whose signature and hash differ from the cache's record
    (new, changed, touched, now unreadable): what a delta must hold — and
    those as recorded but too close to it to be trusted, once ``now`` (this
    run's stamp) is 2 s past their modification: recorded again at ``now``,
    they are trusted from then on (else read and hashed by every run after).

    ``pre``: the signatures ("-": not a regular file, too large or
    unreadable) and modification times of ``rels``, as :func:`_look` gives
    them (looked at here when None)."""
    known = old.get("stat") if old is not None else None
    known = known if isinstance(known, dict) else {}
    stamp = old.get("stamp") if old is not None else None
    trusted_before = stamp - RACY_NS if isinstance(stamp, int) else 0
    fresh = old["delta"]["stat"] if old is not None else {}  # recorded at the delta's stamp
    stamp = old.get("delta_stamp") if old is not None else None
    fresh_before = stamp - RACY_NS if isinstance(stamp, int) else 0
    hashes: dict[str, Optional[str]] = {}
    sigs: dict[str, str] = {}
    changed: list[str] = []
    reads = 0
    looked, times = pre if pre is not None else _look(root, rels)
    if known:
        quick = _all_known(rels, looked, times, known, trusted_before, fresh, fresh_before)
        if quick is not None:
            return dict(zip(rels, quick)), dict(zip(rels, looked)), 0, changed
    fd = os.open(root, os.O_RDONLY)  # paths relative to the root: no joining per file
    try:
        for i, rel in enumerate(rels):
            try:
                sig, mtime = looked[i], times[i]
                if sig == "-":
                    hashes[rel] = None
                    if rel in known:
                        changed.append(rel)
                    continue
                prev = known.get(rel)
                if (
                    (mtime < trusted_before or (mtime < fresh_before and rel in fresh))
                    and prev.__class__ is str and len(prev) == len(sig) + 40 and prev.startswith(sig)
                ):
                    hashes[rel] = prev[-40:]
                    sigs[rel] = sig
                    continue
                elif old is None:
                    digest = PENDING
                    reads += 1  # hashed when loaded
                else:
                    reads += 1
                    with open(rel, "rb", opener=lambda p, flags: os.open(p, flags, dir_fd=fd)) as fh:
                        digest = hashlib.sha1(fh.read()).hexdigest()
            except OSError:
                hashes[rel] = None
                if rel in known:
                    changed.append(rel)
                continue
            hashes[rel] = digest
            sigs[rel] = sig
            if prev != sig + digest or mtime < now - RACY_NS:  # (as recorded: reached only when not trusted)
                changed.append(rel)
    finally:
        os.close(fd)
    return hashes, sigs, reads, changed


def _all_known(
    rels: list[str], looked: list[str], times: Any, known: dict, trusted_before: int, fresh: dict, fresh_before: int,
) -> Optional[list[str]]:
    """The usual warm case of :func:`_digests` at C speed: when every file's
    signature is the recorded one, recorded late enough after the file's
    modification to be trusted, the recorded SHA-1s in ``rels``' order (no
    file read, nothing changed); else None (the loop decides file by file)."""
    prevs = list(map(known.get, rels))
    if None in prevs or "-" in looked:
        return None
    try:
        if [prev[:-40] for prev in prevs] != looked:  # (a signature is never empty: a shorter entry differs)
            return None
    except TypeError:  # not a string
        return None
    if max(times, default=0) >= trusted_before:  # modified since (or just before) the whole record: the delta's?
        for i, mtime in enumerate(times):
            if mtime >= trusted_before and not (mtime < fresh_before and rels[i] in fresh):
                return None
    return [prev[-40:] for prev in prevs]


PENDING = ""  # a hash the loading will give

STAT_ELSEWHERE_MIN = 5000  # files; fewer are looked at faster than a process starts


def _stat_elsewhere(root: Path, rels: list[str]) -> Optional[Callable[[], Optional[tuple[list[str], Any]]]]:
    """Start looking at the files ``rels`` (stat: ~2 µs a file on this kind
    of machine, 0.15 s for a city) in a forked process, while this one reads
    the cache; the returned function waits for the answer (None: look here
    after all). Only where fork exists and for enough files."""
    if len(rels) < STAT_ELSEWHERE_MIN or not hasattr(os, "fork"):
        return None
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            gc.disable()
            os.close(read_end)
            _stat_child(root, rels, write_end)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)

    def collect() -> Optional[tuple[list[str], Any]]:
        from array import array

        try:
            with open(read_end, "rb") as fh:
                data = fh.read()
        except OSError:
            data = b""
        finally:
            _, status = os.waitpid(pid, 0)
        if status != 0 or len(data) < 8:
            return None
        count = int.from_bytes(data[:8], "little")
        times = array("q")
        times.frombytes(data[8 : 8 + 8 * count])
        looked = data[8 + 8 * count :].decode("ascii").split("\n")
        if count != len(rels) or len(times) != count or len(looked) != count:
            return None
        return looked, times

    return collect


def _look(root: Path, rels: list[str]) -> tuple[list[str], Any]:
    """Each file's signature and modification time, as :func:`_digests`
    takes them (``pre``)."""
    from array import array

    looked: list[str] = []
    times = array("q")
    try:
        fd = os.open(root, os.O_RDONLY)
    except OSError:  # no such folder (discover has said so): nothing to trust, the loading reports each file
        return ["-"] * len(rels), array("q", bytes(8 * len(rels)))
    try:
        for rel in rels:
            try:
                st = os.stat(rel, dir_fd=fd)
            except OSError:
                st = None
            look_at(st, rel, (looked, times))
    finally:
        os.close(fd)
    return looked, times


def _stat_child(root: Path, rels: list[str], write_end: int) -> None:
    """In the forked process: :func:`_look`, written to ``write_end``."""
    looked, times = _look(root, rels)
    with open(write_end, "wb") as fh:
        fh.write(len(rels).to_bytes(8, "little"))
        fh.write(times.tobytes())
        fh.write("\n".join(looked).encode("ascii"))


def _hash_pending(root: Path, hashes: dict[str, Optional[str]]) -> None:
    """Hash the files no loading read (sales, files that are not records)."""
    for rel, digest in hashes.items():
        if digest == PENDING:
            try:
                with open(root / rel, "rb") as fh:
                    hashes[rel] = hashlib.sha1(fh.read()).hexdigest()
            except OSError:
                hashes[rel] = None


def _key_text(key: Any) -> Optional[str]:
    if key is None:
        return None
    if isinstance(key, tuple):
        return "/".join(k.isoformat() if isinstance(k, dt.date) else str(k) for k in key)
    return str(key)


def _rows(diags: Iterable[Diagnostic]) -> list[list[Any]]:
    return [[d.path, d.line, d.column, d.field, d.message, d.severity, d.code] for d in diags]


_ROW_TYPES = (str, int, int, str, str, str, str)


def _diags(rows: Iterable[list[Any]]) -> list[Diagnostic]:
    out = []
    for row in rows:
        if len(row) != 7 or not all(type(v) is t for v, t in zip(row, _ROW_TYPES)):
            raise ValueError("not a diagnostic")
        out.append(Diagnostic(*row))
    return out


def _read_cache(path: Path, version: str, lazy: bool = False) -> Optional[dict[str, Any]]:
    """The cache: the whole record of the last full write, with the changes
    written since (:data:`DELTA_NAME`, when it belongs to that record) laid
    over it. ``old["delta"]`` keeps those changes (rel → entry, None for a
    file gone) and ``old["stamp"]`` stays the older stamp, unless the entry
    is in the delta (``old["delta_stamp"]``). The daily files' entries are
    written as marshal data of their own inside the record (~59,000 lists at
    city scale: 0.05 s to read); ``lazy`` (no delta laid over): they are
    left so until :func:`_files` reads them."""
    try:
        with gc_paused():  # ~1 million objects, kept: no collection walks them (0.14 -> 0.10 s at city scale)
            data = _load_sealed(path)
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("version") != version
        or not isinstance(data.get("files"), (dict, bytes))
        or not isinstance(data.get("universe_diags"), list)
        or not isinstance(data.get("retailers"), dict)
        or not isinstance(data.get("stat"), dict)
    ):
        return None
    data["delta"] = {"stat": {}, "files": {}}
    try:
        delta = _load_sealed(path.with_name(DELTA_NAME))
    except (OSError, ValueError, RecursionError):
        return data if lazy or _files(data) is not None else None
    if _files(data) is None:
        return None
    if (
        isinstance(delta, dict)
        and delta.get("format") == FORMAT
        and delta.get("version") == version
        and delta.get("base") == data.get("stamp") is not None
        and delta.get("universe") == data.get("universe")
        and delta.get("today") == data.get("today")
        and isinstance(delta.get("stamp"), int)
        and isinstance(delta.get("stat"), dict)
        and isinstance(delta.get("files"), dict)
    ):
        for name in ("stat", "files"):
            whole = data[name]
            for rel, entry in delta[name].items():
                if entry is None:
                    whole.pop(rel, None)
                else:
                    whole[rel] = entry
        data["delta"] = {"stat": delta["stat"], "files": delta["files"]}
        data["delta_stamp"] = delta["stamp"]
    return data


def _files(data: dict[str, Any]) -> Optional[dict[str, Any]]:
    """``data["files"]`` read from its own marshal data where it is still
    so (:func:`_read_cache`), None when that is not a mapping."""
    files = data["files"]
    if files.__class__ is bytes:
        try:
            with gc_paused():
                files = marshal.loads(files)
        except (EOFError, TypeError, ValueError):
            files = None
        data["files"] = files = files if isinstance(files, dict) else None
    return files


def _load_sealed(path: Path) -> Any:
    """A cache file's data; ValueError when its checksum does not agree
    (see :func:`repository.seal`) or it is not :mod:`marshal` data."""
    data = path.read_bytes()
    body = unsealed(data)
    if body is None:
        raise ValueError("a damaged cache")
    try:
        return marshal.loads(body)
    except (EOFError, TypeError, ValueError) as exc:  # (sealed, yet not marshal's: another Python's, a foreign file)
        raise ValueError("not a cache") from exc


def _sealed_data(data: Any) -> bytes:
    # marshal: plain dicts, lists, strings and numbers read back at C speed (a city's record: ~17 MB in
    # 0.05 s; ASCII JSON took 0.08 s to parse + 0.01 s to decode) — every warm validate and recalc reads it
    return seal(marshal.dumps(data))


def put_whole(path: Path | str, data: bytes) -> None:
    """Put ``data`` in the cache file ``path`` whole: written beside it, then
    renamed over it (a reader finds the old bytes or the new, never half), as
    the parsed-data shards are; no fsync (a cache is sealed: one damaged by a
    crash is ignored). Not yamlwrite.write_atomic, which imports PyYAML and
    pydantic: a warm validate that records files again imports neither.
    Raises OSError."""
    from .repository import _SHARD_TMP

    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f"{_SHARD_TMP}{os.getpid()}-{name}.tmp")  # (a killed run's: swept as the shards')
    try:
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    try:
        put_whole(path, _sealed_data({**data, "files": marshal.dumps(data["files"])}))  # (read when needed: _files)
    except OSError:
        return  # a read-only checkout validates all the same, only slower next time
    for name in (DELTA_NAME, *_OLD_NAMES):  # it spoke of the record just replaced; earlier code's (JSON) record
        with contextlib.suppress(OSError):
            path.with_name(name).unlink()


_OLD_NAMES = ("validate.json", "validate-delta.json")  # (format 2: ignored since format 3, ~19 MB at city scale)


def _write_delta(path: Path, old: dict[str, Any], stat_changes: dict[str, Any], file_changes: dict[str, Any], stamp: int) -> bool:
    """Write the changes since the last full write beside it (a pull request
    adds a file or two: a few KB written, not the whole record). False when
    they have grown too many: then the whole record is written afresh."""
    stat_delta = {**old["delta"]["stat"], **stat_changes}
    file_delta = {**old["delta"]["files"], **file_changes}
    if len(stat_delta) + len(file_delta) > max(DELTA_MIN, len(old["stat"]) // DELTA_SHARE):
        return False
    delta = {
        "format": FORMAT, "version": old["version"], "base": old["stamp"], "stamp": stamp,
        "universe": old.get("universe"), "today": old.get("today"), "stat": stat_delta, "files": file_delta,
    }
    with contextlib.suppress(OSError):
        put_whole(path.with_name(DELTA_NAME), _sealed_data(delta))
    return True


DELTA_NAME = "validate-delta.marshal"
DELTA_MIN, DELTA_SHARE = 200, 20  # the delta may hold this many entries, or 1/20 of the files


def _changes(old: dict[str, Any], new: dict[str, Any], candidates: Iterable[str]) -> dict[str, Any]:
    """Entries of ``new`` that differ from ``old`` among ``candidates`` (the
    only ones that can differ), and None for each entry ``new`` lacks."""
    out: dict[str, Any] = {}
    added = 0
    for rel in candidates:
        if rel in out:
            continue
        value = new.get(rel)
        before = old.get(rel)
        if before is None and value is not None:
            added += 1
        if before != value:
            out[rel] = value
    if len(old) + added != len(new):  # some are gone
        out.update((rel, None) for rel in old if rel not in new)
    return out


def _signature(universe: list[str], hashes: dict[str, Optional[str]], today: dt.date) -> Optional[str]:
    h = hashlib.sha1(today.isoformat().encode())
    for rel in universe:
        digest = hashes.get(rel)
        if digest is None:
            return None  # something unreadable: never trust a cached answer about it
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


class _LazyRetailers(dict):
    """Retailers loaded on first use, by id (their files are known from the
    last full run and unchanged since). Daily checks only look retailers up;
    anything else raises, and the caller falls back to the full run."""

    def __init__(self, root: Path, where: dict[str, str]):
        super().__init__()
        self._root = root
        self._where = where

    def _fetch(self, rid: Any) -> bool:
        if dict.__contains__(self, rid):
            return True
        rel = self._where.get(rid) if isinstance(rid, str) else None
        if rel is None:
            return False
        if not isinstance(rel, str) or not rel.startswith(f"{RECORDS}/retailers/") or ".." in rel:
            raise _Stale
        from .repository import load_file

        item = load_file(self._root, rel)
        if item.record is None or getattr(item.record, "id", None) != rid:
            raise _Stale
        dict.__setitem__(self, rid, item.record)
        return True

    def __contains__(self, rid: object) -> bool:
        return self._fetch(rid)

    def __getitem__(self, rid: Any) -> Any:
        if not self._fetch(rid):
            raise KeyError(rid)
        return dict.__getitem__(self, rid)

    def get(self, rid: Any, default: Any = None) -> Any:
        return dict.__getitem__(self, rid) if self._fetch(rid) else default

    def _whole(self, *args: Any, **kwargs: Any) -> Any:
        raise _Stale

    __iter__ = __len__ = keys = values = items = _whole  # type: ignore[assignment]


class _Stale(Exception):
    """The cached universe cannot answer: do the full run."""


# ------------------------------------------------------------ daily files

_UNIVERSE: Optional[Repository] = None  # set in the parent before forking workers


def _check_daily(rels: list[str]) -> list[tuple]:
    """Load and check daily files against ``_UNIVERSE``: per file (rel, kind,
    key, load problems, check problems — None when the file was not indexed,
    i.e. invalid or a duplicate within ``rels`` —, SHA-1 of the bytes read
    when ``_DIGEST``, else None, and the record's facts (:mod:`.facts`, a
    plain tuple) when its kind has facts and it loaded without a problem).
    With ``_KEEP`` (a full run: whole folders) each folder's parsed-data
    shard is written here (:func:`_keep_shards`)."""
    from . import checks
    from .facts import EXTRACT
    from .repository import _index, load_raw, record_key
    from .workdays import WorkCalendar

    universe = _UNIVERSE
    assert universe is not None
    _define_checks()
    with gc_paused():
        repo = Repository(
            root=universe.root, policy=universe.policy, calendars=universe.calendars, org=universe.org,
            people=universe.people, brands=universe.brands, retailers=universe.retailers,
            sales=None,  # type: ignore[arg-type]  # daily checks never read the sales (numpy stays unimported)
        )
        scratch = Report()
        pairs = [load_raw(universe.root, rel, _DIGEST) for rel in rels]
        loaded = [item for item, _ in pairs]
        for item in loaded:
            if item.kind in DAILY_KINDS:
                _index(repo, item, scratch)
        ctx = checks.Context(today=_TODAY, calendar=WorkCalendar(repo.calendars))
        found: dict[str, list[Diagnostic]] = {}
        for check in DAILY_CHECKS:
            for d in check(repo, ctx):
                found.setdefault(d.path, []).append(d)
        out = []
        for item, raw in pairs:
            key = record_key(item.kind, item.record) if item.record is not None and item.kind in DAILY_KINDS else None
            indexed = key is not None and repo.sources.get((item.kind, key)) == item.rel
            mine = found.pop(item.rel, []) if indexed else None
            extract = EXTRACT.get(item.kind) if indexed and not item.diagnostics else None  # type: ignore[arg-type]
            known = tuple(extract(item.record)) if extract is not None else None
            out.append((item.rel, item.kind, _key_text(key), _rows(item.diagnostics), None if mine is None else _rows(mine), item.digest, known))
        if found:  # a daily check spoke about a file it was not given
            raise _Stale
        if _KEEP is not None:  # a full run: the folders' shards and facts written here, not sent back
            _keep_shards(universe.root, pairs, *_KEEP)
            _keep_folder_facts(universe.root, out, *_KEEP)
            out = [(*row[:6], None) for row in out]
        return out


_TODAY = dt.date.today()
_DIGEST = False
_KEEP: Optional[tuple[dict[str, str], int]] = None  # (signatures, stamp): write the shards of the folders checked


def _keep_folder_facts(root: Path, rows: list[tuple], sigs: dict[str, str], stamp: int) -> None:
    """The facts file of each folder of a kind with facts among ``rows``
    (whole folders: a full run), from the facts the rows carry."""
    from . import facts
    from .repository import _facts_kind

    folders: dict[str, list[tuple]] = {}
    for row in rows:
        if row[0].startswith(_DAILY_TOPS):
            folders.setdefault(row[0].rpartition("/")[0], []).append(row)
    for folder, members in folders.items():
        kind = _facts_kind([row[0] for row in members])
        if kind is not None:
            facts.write(root, folder, kind, stamp, [
                (row[0], sigs.get(row[0], "-"), row[5], row[6]) for row in members if row[6] is not None and row[5]
            ])


def _keep_shards(root: Path, pairs: list[tuple[Any, Optional[dict]]], sigs: dict[str, str], stamp: int) -> None:
    """The parsed-data shard of each daily folder among ``pairs`` (Loaded,
    parsed mapping) — all of its files: a full run's chunks are whole
    folders — with the signatures looked at and ``stamp`` taken before, so
    that ``recalc`` after ``crmdocs validate`` (CI) parses none of them."""
    from .repository import keep_shard

    folders: dict[str, list[tuple]] = {}
    for item, raw in pairs:
        if item.kind is not None and item.rel.startswith(_DAILY_TOPS):
            folders.setdefault(item.rel.rpartition("/")[0], []).append((item.rel, sigs.get(item.rel, "-"), item.digest, raw))
    for folder, rows in folders.items():
        if all(row[2] for row in rows):
            keep_shard(root, folder, stamp, rows)


def _start_daily(
    universe: Repository, today: dt.date, rels: list[str], jobs: int, digest: bool = False,
    keep: Optional[tuple[dict[str, str], int]] = None,
) -> Callable[[], list[tuple]]:
    """Start checking daily files; the returned function waits for the rows.
    ``keep`` (signatures, stamp): ``rels`` are whole folders, whose
    parsed-data shards are written (chunks are then whole folders too).

    With ``jobs`` > 1 the files go to forked workers at once, so the caller
    can read the sales and run the universe checks meanwhile. Objects alive
    at the fork are frozen out of the garbage collector (it would walk the
    whole universe after every chunk) and the workers never collect: what a
    chunk makes is freed by reference counting."""
    global _UNIVERSE, _TODAY, _DIGEST, _KEEP
    _UNIVERSE, _TODAY, _DIGEST, _KEEP = universe, today, digest, keep if digest else None
    context = None
    if jobs > 1 and len(rels) >= 400 and not isinstance(universe.retailers, _LazyRetailers):
        with contextlib.suppress(ValueError):  # no fork on this platform: one process
            import multiprocessing

            context = multiprocessing.get_context("fork")
    if context is None:
        def run_here() -> list[tuple]:
            global _UNIVERSE, _KEEP
            try:
                return _check_daily(rels)
            finally:
                _UNIVERSE = _KEEP = None

        return run_here
    from .pools import executor

    size = max(100, len(rels) // (jobs * 6))
    chunks, start = [], 0
    while start < len(rels):
        end = min(start + size, len(rels))
        while keep is not None and end < len(rels) and rels[end].rpartition("/")[0] == rels[end - 1].rpartition("/")[0]:
            end += 1  # (whole folders: each chunk writes its folders' shards)
        chunks.append(rels[start:end])
        start = end
    gc.freeze()
    pool = executor(jobs, context)
    parts = pool.map(_check_daily, chunks)

    def collect() -> list[tuple]:
        global _UNIVERSE, _KEEP
        try:
            return [row for part in parts for row in part]
        finally:
            pool.shutdown(cancel_futures=True)
            _UNIVERSE = _KEEP = None  # what was frozen stays frozen: see repository.gc_paused

    return collect


# ------------------------------------------------------------ the two runs


def validate_report(
    root: Path | str,
    today: Optional[dt.date] = None,
    jobs: int = 1,
    use_cache: bool = True,
    stats: Optional[dict[str, Any]] = None,
    cached_only: bool = False,
    found: Optional[tuple[list[str], list[Diagnostic]]] = None,
    looked: Optional[tuple[list[str], Any]] = None,
) -> Optional[Report]:
    """The validation report of the whole repository, using and refreshing the
    cache when ``use_cache``. ``stats`` (when given) receives how the run went:
    ``mode`` ("full", "cached" or "plain"), ``parsed`` (daily files loaded),
    ``rels`` and ``hashes`` (the files and contents the report stands on).

    ``cached_only``: answer only from the cache (checking the daily files it
    lacks), never write it; None when that is not possible (no cache, another
    code version or ``today``, a universe file changed).

    ``found``: what :func:`repository.discover` gave the caller just now (else
    it is called here); ``looked``: :func:`_look` of those files, when the
    caller has looked at them."""
    if not use_cache:
        from . import history

        if history._KEEP_PARSE:  # no cache read or written: handed-in.csv's kept parse neither
            with history.uncached():
                return validate_report(root, today, jobs, use_cache, stats, cached_only, found, looked)
    root = Path(root)
    today = today or dt.date.today()
    stats = stats if stats is not None else {}
    # a cache is only ever written when the split run is possible (see
    # split_possible); the checks need a look only when they are imported
    # (a test may have added one), or before a full run
    if not (root / "records").is_dir() or ("crmdocs.scripts.checks" in sys.modules and not split_possible()):
        return None if cached_only else _plain(root, today, jobs, stats)  # nothing to cache: say what is missing
    version = code_version()
    stamp = time.time_ns()
    cache_path = root / CACHE_FILE
    looking = rels = None
    if use_cache and not cached_only and jobs > 1:  # most files are looked at elsewhere while the cache is read
        rels, discover_diags = found if found is not None else discover(root)
        split = len(rels) * 7 // 10
        looking = _stat_elsewhere(root, rels[:split])
    old = _read_cache(cache_path, version, lazy=cached_only) if use_cache else None
    if cached_only and (old is None or old.get("today", today.isoformat()) != today.isoformat()):
        return None  # (a cache for another day: its signature would differ; no need to hash every file to see it)
    if rels is None:
        rels, discover_diags = found if found is not None else discover(root)
    pre = looked if found is not None else None
    if looking is not None:  # the rest here, then the answer from elsewhere
        tail = _look(root, rels[split:])
        head = looking()
        if head is not None:
            pre = (head[0] + tail[0], head[1] + tail[1])
    if use_cache:
        hashes, sigs, stats["hashed"], changed = _digests(root, rels, old, pre, stamp)
    else:  # nothing is written: no hash is needed
        hashes, sigs, changed = {}, {}, []
    universe = [rel for rel in rels if not rel.startswith(_DAILY_TOPS) and _is_universe(rel)]  # (the bulk: no call)
    signature = _signature(universe, hashes, today) if old is not None else None
    report = None
    if old is not None and signature is not None and old.get("universe") == signature:
        report = _kept_report(old, rels, hashes, discover_diags, stats) if cached_only else None
        if report is not None:  # (nothing is written: no need for the files' entries)
            stats.update(mode="cached", parsed=0, misses=[])
        elif _files(old) is None:
            report = None  # a record that does not read: start afresh
        else:
            try:
                data, universe_diags = _cached(root, rels, hashes, set(universe), old, today, stats)
                report = _report(rels, discover_diags, universe_diags, data, root)
            except (_Stale, TypeError, ValueError, KeyError, IndexError, AttributeError):
                report = None  # a cache that does not fit: start afresh
    if report is None and cached_only:
        return None
    if report is None and not split_possible():
        return _plain(root, today, jobs, stats)
    if report is None:
        try:
            data, universe_diags = _full(root, rels, hashes, universe, today, jobs, stats, use_cache, sigs, stamp)
        except _Stale:  # a daily check spoke about another file: the plain run only
            return _plain(root, today, jobs, stats)
        report = _report(rels, discover_diags, universe_diags, data, root)
    stats.update(rels=rels, hashes=hashes)  # what the report stands on (validate() compares)
    fresh = stats.pop("facts", None)
    if use_cache and not cached_only and stats["mode"] == "full":  # (the workers wrote each folder's facts)
        _sweep_facts(root, rels)
    elif use_cache and not cached_only and (fresh or changed):
        # and the files with a new signature (a copy, a checkout, touch: the same bytes) signed again in
        # their folders' facts (taken by SHA-1), else every later recalc reads and hashes them
        _keep_facts(root, rels, {**dict.fromkeys(changed), **(fresh or {})}, hashes, sigs, stamp)
    if use_cache and not cached_only and stats["mode"] == "cached":
        # universe and today as cached: only the daily files checked again
        # and the signatures found changed can differ from the cache
        assert old is not None
        stat_changes = {rel: sigs[rel] + hashes[rel] if hashes.get(rel) and rel in sigs else None for rel in changed}  # type: ignore[operator]
        stat_changes.update((rel, None) for rel in old["stat"] if rel not in hashes)
        file_changes = _changes(old["files"], data["files"], stats["misses"])
        if not stat_changes and not file_changes:
            return report  # nothing to write
        if _write_delta(cache_path, old, stat_changes, file_changes, stamp):
            return report
    if use_cache and not cached_only:
        seen = {rel: sig + hashes[rel] for rel, sig in sigs.items() if hashes.get(rel)}  # type: ignore[operator]
        data.update(format=FORMAT, version=version, stat=seen, today=today.isoformat())
        # the report itself (the discovery's problems aside, looked for afresh every time), for a
        # later answer from this record as it is (_kept_report)
        data["report"] = [_rows(report.diagnostics[len(discover_diags):]), report.files]
        unchanged = not changed and old is not None and all(old.get(k) == v for k, v in data.items())  # (changed: a new stamp)
        if not unchanged:
            data["stamp"] = stamp
            _write_cache(cache_path, data)
    return report


_FACT_TOPS: Optional[tuple[str, ...]] = None


def _fact_tops() -> tuple[str, ...]:
    global _FACT_TOPS
    if _FACT_TOPS is None:
        from .facts import EXTRACT
        from .kinds import BY_NAME

        _FACT_TOPS = tuple(f"{RECORDS}/{BY_NAME[kind].top}/" for kind in EXTRACT)
    return _FACT_TOPS


def _sweep_facts(root: Path, rels: list[str]) -> None:
    """Remove the facts files of folders no longer there (a full run)."""
    from . import facts

    tops = _fact_tops()
    facts.sweep(root, {rel.rpartition("/")[0] for rel in rels if rel.startswith(tops)})


def _keep_facts(
    root: Path, rels: list[str], fresh: dict[str, tuple], hashes: dict[str, Optional[str]], sigs: dict[str, str],
    stamp: int,
) -> None:
    """Keep the facts (:mod:`.facts`) of the folders whose files the daily
    checks checked again (``fresh``: their facts made now): each file's
    facts made now or kept for its SHA-1, with the signature and SHA-1 this
    report stands on (the pairs the cache's ``stat`` records, at
    ``stamp``). A folder whose facts file says the same is not written; one
    whose files only have new signatures (or were not trusted at its stamp)
    is signed again without making its facts (:func:`facts.resign`)."""
    from . import facts
    from .repository import _facts_kind

    tops = _fact_tops()
    wanted = {rel.rpartition("/")[0] for rel in fresh}
    folders: dict[str, list[str]] = {}
    for rel in rels:
        if rel.startswith(tops):
            folder = rel.rpartition("/")[0]
            if folder in wanted:
                folders.setdefault(folder, []).append(rel)
    for folder, members in folders.items():
        kind = _facts_kind(members)
        if kind is None:
            continue
        members.sort()
        if not any(fresh.get(rel) for rel in members) and facts.resign(
            root, folder, kind, stamp, [(rel, sigs.get(rel), hashes.get(rel)) for rel in members],
        ):
            continue
        kept = facts.open_file(root, folder, kind)
        try:
            known = kept.by_sha() if kept is not None else {}
        except Exception:  # noqa: BLE001 - damaged: written afresh
            kept, known = None, {}
        rows = []
        for rel in members:
            sha, sig = hashes.get(rel), sigs.get(rel)
            found = fresh.get(rel) if sha else None
            if found is None and sha:
                found = known.get(sha)
            if found is not None and sig:
                rows.append((rel, sig, sha, found))
        if kept is not None and list(zip(kept.shard.index, kept.shard.sigs, kept.shard.shas)) == [r[:3] for r in rows]:
            continue
        facts.write(root, folder, kind, stamp, rows)


def _plain(root: Path, today: dt.date, jobs: int, stats: dict[str, Any]) -> Report:
    from .validate import validate_plain

    repo, report = validate_plain(root, today=today, jobs=jobs)
    stats.update(mode="plain", repo=repo)
    return report


def _full(root, rels, hashes, universe, today, jobs, stats, digest=False, sigs=None, stamp=0):
    """Every check. ``digest`` (the cache is written): and what was parsed
    and read is kept for the next ``recalc`` — the universe's and the
    daily records' parsed mappings (parsed-data shards), the
    sales arrays (sales cache) and the plans' and diaries' facts — each
    with the signature (``sigs``) and SHA-1 it stood on, at ``stamp``."""
    from . import checks
    from .repository import assemble, load_files, load_kept, read_sales_files, write_sales_cache
    from .workdays import WorkCalendar

    _define_checks()
    uni_set = set(universe)
    sales = [rel for rel in universe if is_sales(rel)]
    records = [rel for rel in universe if rel not in sales]  # a dozen sales files
    loaded = load_kept(root, records) if digest else load_files(root, records, 1, digest=digest)
    for item in loaded:
        if item.digest is not None:
            hashes[item.rel] = item.digest
    with gc_paused():
        repo, ureport = assemble(root, loaded)
    daily = [rel for rel in rels if rel not in uni_set]
    wait = _start_daily(repo, today, daily, jobs, digest, (sigs or {}, stamp))  # (whole folders: their shards kept)
    try:
        with gc_paused():  # while the workers check daily files: sales, universe checks
            if digest and sales:
                read = read_sales_files(root, sales, True)
                write_sales_cache(root, sales, [(sigs or {}).get(rel, "-") for rel in sales], read, stamp)
                hashes.update(read[2])
                sales_repo, sales_report = assemble(root, [], sales=read)
            else:
                sales_repo, sales_report = assemble(root, load_files(root, sales, 1))
            repo.sales = sales_repo.sales
            ureport.extend(sales_report.diagnostics)
            ureport.files += sales_report.files
            ctx = checks.Context(today=today, calendar=WorkCalendar(repo.calendars))
            universe_diags = list(ureport.diagnostics)
            for check in checks.CHECKS:
                if check in UNIVERSE_CHECKS:
                    universe_diags.extend(check(repo, ctx))
    finally:
        rows = wait()
    for row in rows:
        if row[5] is not None:
            hashes[row[0]] = row[5]
    if digest:
        _hash_pending(root, hashes)
    files = {row[0]: [hashes.get(row[0]), *row[1:5]] for row in rows}
    signature = _signature(universe, hashes, today) if digest else None
    stats.update(mode="full", parsed=len(daily))
    data = {
        "universe": signature,
        "universe_diags": _rows(universe_diags),
        "universe_files": ureport.files,
        "retailers": {rid: repo.sources[("retailer", rid)] for rid in repo.retailers},
        "files": files,
    }
    return data, universe_diags


def _cached(root, rels, hashes, universe, old, today, stats):
    from .repository import _index, load_files
    cached: dict[str, Any] = old["files"]
    files: dict[str, list[Any]] = {}
    misses = []
    daily = [rel for rel in rels if rel not in universe]
    entries = list(map(cached.get, daily))
    if _all_cached(entries, list(map(hashes.__getitem__, daily))):  # the usual warm case, at C speed
        files = dict(zip(daily, entries))
        daily = []
    for rel in daily:
        entry = cached.get(rel)
        digest = hashes[rel]
        if digest is not None and isinstance(entry, list) and len(entry) == 5 and entry[0] == digest:
            files[rel] = entry
        else:
            misses.append(rel)
    # a cached file that was a duplicate then but is the first of its key now
    # has no check results yet: check it with the new files
    if any(entry[4] is None and entry[2] is not None for entry in files.values()):
        firsts = _firsts(rels, files)
        misses.extend(rel for rel in firsts if rel in files and files[rel][4] is None)
    if misses:
        with gc_paused():
            repo = Repository(root=root, sales=None)  # type: ignore[arg-type]  # never read here
            scratch = Report()
            small = [rel for rel in rels if rel in universe and not rel.startswith(f"{RECORDS}/retailers/")
                     and not is_sales(rel)]
            for item in load_files(root, small, 1):
                _index(repo, item, scratch)
            repo.retailers = _LazyRetailers(root, old["retailers"])
        known = stats["facts"] = {}
        for rel, kind, key, load, check, digest, facts in _start_daily(repo, today, misses, 1, True)():
            files[rel] = [hashes.get(rel), kind, key, load, check]
            if facts is not None and digest is not None and digest == hashes.get(rel):  # (the bytes hashed: not written in between)
                known[rel] = facts
    stats.update(mode="cached", parsed=len(misses), misses=misses)
    data = {
        "universe": old["universe"],
        "universe_diags": old["universe_diags"],
        "universe_files": old.get("universe_files", 0),
        "retailers": old["retailers"],
        "files": files,
    }
    return data, _diags(old["universe_diags"])


def _kept_report(old: dict[str, Any], rels: list[str], hashes: dict[str, Optional[str]], discover_diags: list[Diagnostic],
                 stats: dict[str, Any]) -> Optional[Report]:
    """The report written with the whole record (``old["report"]``: what
    :func:`_report` gave for it, the discovery's problems aside) when it
    stands on exactly these files: no delta laid over the record, no file
    read now (every one of ``rels`` has its recorded signature, so its
    recorded SHA-1) and no other file recorded; universe and ``today`` as
    recorded (the caller's test). Then the files' entries are not needed:
    :func:`_cached` and :func:`_report` would give this report again. Else None."""
    kept = old.get("report")
    if (
        not isinstance(kept, list) or len(kept) != 2 or type(kept[1]) is not int or not isinstance(kept[0], list)
        or old["delta"]["stat"] or old["delta"]["files"] or stats.get("hashed") != 0
        or len(old["stat"]) != len(rels) or len(hashes) != len(rels) or None in hashes.values()
    ):
        return None
    try:
        diags = _diags(kept[0])
    except ValueError:
        return None
    report = Report()
    report.extend(discover_diags)
    report.extend(diags)
    report.files = kept[1]
    return report


def _all_cached(entries: list[Any], digests: list[Optional[str]]) -> bool:
    """Whether every entry is a cached file's of the SHA-1 beside it (as
    :func:`_cached` judges one by one)."""
    if None in digests or set(map(type, entries)) != {list} or set(map(len, entries)) != {5}:
        return False
    return [entry[0] for entry in entries] == digests


def _firsts(rels: list[str], files: dict[str, list[Any]]) -> set[str]:
    """Daily files that are the first of their key (the others are duplicates)."""
    seen: set[tuple[str, str]] = set()
    out = set()
    for rel in rels:
        entry = files.get(rel)
        if entry is None or entry[2] is None:
            continue
        if (entry[1], entry[2]) not in seen:
            seen.add((entry[1], entry[2]))
            out.add(rel)
    return out


def _report(rels, discover_diags, universe_diags, data, root) -> Report:
    files = data["files"]
    report = Report()
    report.extend(discover_diags)
    report.extend(universe_diags)
    count = int(data.get("universe_files", 0))
    first: dict[tuple[str, str], str] = {}
    duplicates = []
    entries = [entry for entry in map(files.get, rels) if entry is not None]
    keys = [(entry[1], entry[2]) for entry in entries if entry[2] is not None]
    if len(set(keys)) == len(keys):  # no duplicates (the usual case): the files with diagnostics alone, in order
        count += sum(entry[1] is not None for entry in entries)
        for entry in entries:
            if entry[3] or entry[4]:
                if entry[3]:
                    report.extend(_diags(entry[3]))
                if entry[4]:
                    report.extend(_diags(entry[4]))
        rels = []
    for rel in rels:
        entry = files.get(rel)
        if entry is None:
            continue
        kind, key, load, check = entry[1], entry[2], entry[3], entry[4]
        if kind is not None:
            count += 1
        if load:
            report.extend(_diags(load))
        if key is not None:
            seen = first.get((kind, key))
            if seen is not None:
                duplicates.append((rel, kind, key, seen))
                continue
            first[(kind, key)] = rel
        if check:
            report.extend(_diags(check))
    if duplicates:
        from .repository import duplicate_diag

        repo = Repository(root=Path(root), sales=None)  # type: ignore[arg-type]  # only to find the lines
        for rel, kind, key, seen in duplicates:
            report.add(duplicate_diag(repo, rel, kind, key, seen))
    report.files = count
    # files that cannot be cached (unreadable) are loaded afresh next time
    data["files"] = {rel: entry for rel, entry in files.items() if entry[0] is not None}
    return report
