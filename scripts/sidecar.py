"""``crmdocs recalc``'s side worker: the retailer rules on the second core
while this process validates.

A warm city ``validate()`` spends ~5 s in one process making Pydantic models
(mostly the plans and diaries) while the second core idles; the retailer
rules (:data:`SIDE`: classes, tiers, limits, abnormal — ~2.5 s of numpy over
the sales) need none of those models. :func:`start` forks a worker before
``validate()`` begins. It loads only what those rules read (:data:`KINDS`:
the policy, calendars, organisation, retailer archives, tier overrides,
complaints for ``as_of``, brands, and the sales) through the loader's own functions,
reading the caches but never writing them, into a :class:`PartialRepository`
— reading any other kind there raises :class:`NotLoaded`, so a rule that
starts reading another kind fails loudly instead of finding it empty — runs
the rules with ``compute_all(modules=SIDE)``, renders their files with
``recalc.render_record`` and sends back a :class:`Handover`: the texts, the
``ctx.shared`` entries the later rules read (:data:`SHIPPED`, and what
appraisals reads of the sales — ``appraisals.SALES``: then this process never
reads the sales, ``repo.sales`` being read on first use), the ``as_of`` it
stood on and the SHA-1 of every file it read.

:meth:`Side.take` hands that over only when it stood on exactly what this
process validated: the same files of those kinds with the same digests, the
same ``as_of``. Anything else — a file written in between, a worker that
failed, was killed or gave up (caches cold: it would only compete with the
validation for the cores) — means None, and the caller computes everything
itself as without the worker. Only on Linux-like systems (``os.fork``).

The worker loads through the loader's folder units (``repository._units``,
``_load_unit``, ``_unit_items``: the parsed-data shards). Should they change
shape, the worker fails and this process computes everything — the tests
(``tests/test_recalc_overlap.py``) check that the handover is taken.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from .kinds import BY_NAME, RECORDS, is_sales, kind_of
from .repository import Repository

# the rule modules run in the worker: the first ones of rules.MODULES
SIDE: tuple[str, ...] = ("classes", "tiers", "limits", "abnormal")
# the ctx.shared entries they set that the later modules (visits, complaints, appraisals) read
SHIPPED: tuple[str, ...] = ("classes",)
# the record kinds the worker loads (and the sales): what SIDE reads, the
# complaints, which ``rules.last_day`` reads for as_of, and the brands (their
# key flag: appraisals.monthly_sales)
KINDS = frozenset({"policy", "calendar", "org", "retailer", "tier_override", "complaint", "brand"})
# files the worker would parse rather than take from the parsed-data cache
# before it gives up: with a cold cache the validation keeps both cores busy
# and the worker would only compete with it (and read everything twice)
COLD_FILES = 500

_TOPS = frozenset({BY_NAME[k].top for k in KINDS} | {"sales"})


def wanted(rel: str) -> bool:
    """Whether the worker reads ``rel`` (relative to the repository root)."""
    if not rel.startswith(f"{RECORDS}/"):
        return False
    sub = rel[len(RECORDS) + 1 :]
    if sub.split("/", 1)[0] not in _TOPS:
        return False
    if is_sales(rel):
        return True
    match = kind_of(sub)
    return match is not None and match[0].name in KINDS


class NotLoaded(RuntimeError):
    """A rule read a kind of record the side worker did not load (not an
    AttributeError or KeyError: nothing may take it for an empty result)."""


def _unloaded_fields() -> frozenset[str]:
    from .repository import _TARGETS

    return frozenset(name for kind, name in _TARGETS.items() if kind not in KINDS)


_UNLOADED = _unloaded_fields()


class PartialRepository(Repository):
    """A :class:`Repository` holding only :data:`KINDS` and the sales:
    reading any other kind raises :class:`NotLoaded`."""

    def __getattribute__(self, name: str) -> Any:
        if name in _UNLOADED:
            raise NotLoaded(f"repo.{name}: the side worker loads only {sorted(KINDS)} and the sales")
        return object.__getattribute__(self, name)

    def source(self, kind: str, key: Any) -> str:
        if kind not in KINDS:
            raise NotLoaded(f"repo.source({kind!r}, …): the side worker did not load that kind")
        return super().source(kind, key)


class _Sources(dict):
    """``repo.sources`` of a PartialRepository: asking for a kind not loaded raises."""

    def _check(self, key: Any) -> None:
        if not (isinstance(key, tuple) and key and key[0] in KINDS):
            raise NotLoaded(f"repo.sources[{key!r}]: the side worker did not load that kind")

    def __getitem__(self, key: Any) -> Any:
        self._check(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._check(key)
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return dict.__contains__(self, key)


def partial(repo: Repository) -> PartialRepository:
    """``repo`` (loaded from :data:`KINDS` and the sales only) made to refuse the other kinds."""
    repo.sources = _Sources(repo.sources)
    repo.__class__ = PartialRepository
    return repo  # type: ignore[return-value]


class _Refused(Mapping):
    """The hand-in times in the worker: the retailer rules do not read them; reading raises."""

    def _no(self) -> Any:
        raise NotLoaded("ctx.handed_in: the side worker has no hand-in times")

    def __getitem__(self, key: Any) -> Any:
        return self._no()

    def __iter__(self) -> Iterator[Any]:
        return self._no()

    def __len__(self) -> int:
        return self._no()

    def __contains__(self, key: object) -> bool:
        return self._no()

    def get(self, key: Any, default: Any = None) -> Any:
        return self._no()


@dataclass
class Handover:
    as_of: dt.date
    digests: dict[str, Optional[str]]  # every file read (:func:`wanted`) → SHA-1
    texts: dict[str, str]  # path under records/computed/ → file text
    shared: dict[str, Any]  # the SHIPPED entries of ctx.shared
    seconds: tuple[float, ...] = ()  # the worker's load, rules and render: wall time (for benchmarks/recalc_phases.py)


# ---------------------------------------------------------------- in the worker


def load(root: Path) -> Optional[tuple[Repository, dict[str, Optional[str]], list[dt.date]]]:
    """The repository of :data:`KINDS` and the sales, every file's digest,
    and the dates of the plans and diaries (by their file names) — or None
    when the caches cannot serve (more than :data:`COLD_FILES` files to
    parse, no sales cache) or a file has a problem. Reads the caches, never
    writes them."""
    from .cache import _look
    from .repository import SalesCache, _finish_raw, _load_unit, _unit_items, _units, assemble, discover, split_sales

    rels, found = discover(root)
    if any(d.severity == "error" for d in found):
        return None
    mine: list[str] = []
    days: list[dt.date] = []
    for rel in rels:
        if wanted(rel):
            mine.append(rel)
            continue
        sub = rel[len(RECORDS) + 1 :]
        match = kind_of(sub) if sub.startswith(("plans/", "diaries/")) else None
        if match is not None and match[0].name in ("plan", "diary"):
            try:
                days.append(dt.date.fromisoformat(match[1].group("date")))
            except ValueError:  # the validation says so; nothing is computed
                return None
    looked = _look(root, mine)
    sales, sales_looked, others, others_looked = split_sales(mine, looked)
    units = _units(root, others, others_looked)
    if sum(_to_parse(unit) for unit in units if not unit.ready) > COLD_FILES:
        return None
    sales_read = None
    if sales:
        kept = SalesCache.probe(root, sales, *sales_looked)
        sales_read = kept.load() if kept is not None else None
        if sales_read is None:
            return None
    loaded = []
    for unit in units:
        unit.path = None  # read-only: the shard is not written afresh (validate() does that)
        if unit.ready:
            loaded.extend(_load_unit(root, unit, True))
        else:
            items, _ = _unit_items(root, unit.folder, unit.rels, unit.sigs, unit.times, True, unit.shard)
            loaded.extend(_finish_raw(root, item, True) for item in items)
    repo, report = assemble(root, loaded, sales=sales_read)
    if report.errors:
        return None
    return repo, {rel: repo.digests.get(rel) for rel in mine}, days


def _to_parse(unit: Any) -> int:
    """About how many files of a folder the parsed-data cache cannot answer
    by their signature (all when the folder has no shard)."""
    from .repository import RACY_NS

    shard = unit.shard
    if shard is None:
        return len(unit.rels)
    n = 0
    for rel, sig, mtime in zip(unit.rels, unit.sigs, unit.times):
        i = shard.index.get(rel)
        n += i is None or sig == "-" or shard.sigs[i] != sig or mtime >= shard.stamp - RACY_NS
    return n


def work(root: Path, as_of: Optional[dt.date]) -> Optional[Handover]:
    """In the worker: load, run :data:`SIDE`, render their files."""
    from .recalc import _safe, render_record
    from .rules import MODULES, appraisals, compute_all, latest

    if MODULES[: len(SIDE)] != SIDE:  # the rules' order changed: not the first modules any more
        return None
    marks = [time.perf_counter()]
    got = load(root)
    if got is None:
        return None
    repo, digests, days = got
    if as_of is None:
        as_of = latest(repo.sales.last_day(), [*days, *(c.received.date() for c in repo.complaints.values())])
    marks.append(time.perf_counter())
    computed = compute_all(partial(repo), _Refused(), as_of, modules=SIDE)
    marks.append(time.perf_counter())
    shared = {key: computed.ctx.shared[key] for key in SHIPPED}
    # what appraisals reads of the sales: this process then never reads them
    shared[appraisals.SALES] = appraisals.monthly_sales(repo, as_of)
    marks.append(time.perf_counter())
    texts = {_safe(rel): render_record(record) for rel, record in computed.records.items()}
    marks.append(time.perf_counter())
    seconds = tuple(b - a for a, b in zip(marks, marks[1:]))
    return Handover(as_of, digests, texts, shared, seconds)


# ---------------------------------------------------------------- in this process


class Side:
    """The forked worker, from :func:`start` to :meth:`take` or :meth:`stop`."""

    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd
        self.why = ""  # why the handover was not taken (for tests and measuring)

    def _answer(self) -> Any:
        """What the worker sent: ("ok", Handover | None) or ("failed", message); None when it died."""
        status = self._reap()
        try:
            if status != 0:  # killed, or exited without its answer written whole
                return None
            os.lseek(self.fd, 0, os.SEEK_SET)
            with open(self.fd, "rb", closefd=False) as fh:
                data = fh.read()
            return pickle.loads(data) if data else None
        except Exception:  # noqa: BLE001 - cut short, unreadable: as if it had died
            return None
        finally:
            self._close()

    def _reap(self) -> Optional[int]:
        """Wait for the worker to end: its exit status (None when it was reaped already)."""
        if not self.pid:
            return None
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        self.pid = 0
        return status

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def take(self, repo: Repository, as_of: Optional[dt.date]) -> Optional[Handover]:
        """The worker's handover when it stood on exactly the files of
        ``repo`` (validated here) and the ``as_of`` this process would use
        (given, else :func:`rules.last_day`); else None."""
        from .rules import last_day

        answer = self._answer()
        if answer is None or answer[0] != "ok":
            self.why = "failed: " + (answer[1] if answer else "no answer")
            return None
        handover = answer[1]
        if handover is None:
            self.why = "gave up"
            return None
        if not isinstance(handover, Handover):
            self.why = f"failed: sent {type(handover).__name__}"
            return None
        here = {rel: digest for rel, digest in repo.digests.items() if wanted(rel)}
        if handover.digests != here:
            self.why = "other files"
            return None
        if handover.as_of != (as_of or last_day(repo)):
            self.why = "another as_of"
            return None
        return handover

    def stop(self) -> None:
        """End the worker (its result is not wanted)."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()
        self._close()


def _child(root: Path, as_of: Optional[dt.date], fd: int) -> None:
    """The forked worker's life: never returns, never raises, writes nothing
    but its answer (into ``fd``; the exit status 0 says it is whole)."""
    import gc

    code = 0
    try:
        gc.disable()  # a short life: nothing to gain from walking the records
        try:
            answer: tuple = ("ok", work(root, as_of))
        except BaseException as exc:  # noqa: BLE001 - any failure: this process computes everything
            answer = ("failed", f"{type(exc).__name__}: {exc}")
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        with open(fd, "wb", closefd=True) as fh:
            fh.write(data)
    except BaseException:  # noqa: BLE001 - no room for the answer
        code = 1
    finally:
        os._exit(code)


def _answer_file() -> int:
    """A file for the worker's answer that has no name (nothing to clean up
    after a killed run): in memory where the system can (``memfd_create``)."""
    import tempfile

    make = getattr(os, "memfd_create", None)
    if make is not None:
        try:
            return make("crmdocs-side", getattr(os, "MFD_CLOEXEC", 0))
        except OSError:
            pass
    with tempfile.TemporaryFile() as fh:  # (unlinked at once where the system allows)
        return os.dup(fh.fileno())


def start(root: Path | str, as_of: Optional[dt.date] = None) -> Optional[Side]:
    """Fork the worker (before this process starts anything else: it
    inherits only the imports). None where there is no fork. The worker
    writes its answer into a file without a name while this process
    validates (off the critical path, unlike a pipe this process would
    drain afterwards) and ends, giving back its memory."""
    if not hasattr(os, "fork"):
        return None
    import sys

    try:
        fd = _answer_file()
    except OSError:
        return None
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
    except OSError:
        os.close(fd)
        return None
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        _child(Path(root), as_of, os.dup(fd))
    return Side(pid, fd)
