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
the rules with ``compute_all(modules=SIDE)`` and answers in two parts. As
soon as ``tiers`` is done (:data:`SENT_AFTER`) it sends a :class:`First`: the
``ctx.shared`` entries the later rules read (:data:`SHIPPED`), what the
current period's classes and tiers files are written from
(``rules.classes.CURRENT``, ``rules.tiers.CURRENT``: the rules ship them
under ``rules.retail.deferring()``), the ``as_of`` it stood on and the SHA-1
of every file it read. (What appraisals reads of the sales,
``appraisals.SALES``, this process works out itself while it waits for
that part.) Then it runs limits and abnormal, writes the current period's
files of the jobs it claims (:func:`_claimed`: each job is written by
whichever process claims it first, this one in :meth:`Side.last` before it
waits), renders the other files with ``recalc.render_record`` — the large
ones the rules write as texts straight away (``rules.retail.as_texts``: the
same bytes) — and sends a :class:`Last`: the files' UTF-8 bytes, with the
same ``as_of`` and digests.

:meth:`Side.first` takes the first part (after ``validate()``) only when it
stood on exactly what this process validated: the same files of those kinds
with the same digests, the same ``as_of``. This process then runs visits,
complaints and appraisals while the worker works on, and :meth:`Side.last`
takes the texts when they stood on what the first part stood on. Anything
else — a file written in between, a worker that failed, was killed (before
or between the parts) or gave up (caches cold: it would only compete with
the validation for the cores) — means None, and the caller computes
everything itself as without the worker. Only on Linux-like systems
(``os.fork``).

The worker loads through the loader's folder units (``repository._units``,
``_load_unit``, ``_unit_items``: the parsed-data shards). Should they change
shape, the worker fails and this process computes everything — the tests
(``tests/test_recalc_overlap.py``) check that the handover is taken.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import pickle
import resource
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from .kinds import BY_NAME, RECORDS, is_sales, kind_of
from .repository import Repository

# the rule modules run in the worker: the first ones of rules.MODULES
SIDE: tuple[str, ...] = ("classes", "tiers", "limits", "abnormal")
# the ctx.shared entries they set that the later modules (visits, complaints, appraisals) read
SHIPPED: tuple[str, ...] = ("classes",)
# the module after which they are all set: the worker sends them (its first part) then — with what
# the current period's classes and tiers files are written from in the process that takes it
SENT_AFTER = "tiers"
# the record kinds the worker loads (and the sales): what SIDE reads, the
# complaints, which ``rules.last_day`` reads for as_of, and the brands (their
# key flag: appraisals.monthly_sales)
KINDS = frozenset({"policy", "calendar", "org", "retailer", "tier_override", "complaint", "brand"})
# files the worker would parse rather than take from the parsed-data cache
# before it gives up: with a cold cache the validation keeps both cores busy
# and the worker would only compete with it (and read everything twice)
COLD_FILES = 500

_TOPS = frozenset({BY_NAME[k].top for k in KINDS} | {"sales"})
_STARTS = tuple(sorted(f"{RECORDS}/{top}" for top in _TOPS))  # (a quick first test: the daily files fail it at C speed)


def wanted(rel: str) -> bool:
    """Whether the worker reads ``rel`` (relative to the repository root)."""
    if not rel.startswith(_STARTS):
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
class First:
    """The worker's first part, sent as soon as the classes are worked out:
    what the later rules read (their ``ctx.shared`` entries) and what it stood on."""

    as_of: dt.date
    digests: dict[str, Optional[str]]  # every file read (:func:`wanted`) → SHA-1
    shared: dict[str, Any]  # the SHIPPED entries of ctx.shared (and, once taken, appraisals.SALES worked out here)
    seconds: tuple[float, ...] = ()  # the worker's load and classes: wall time (benchmarks)
    sent: float = 0.0  # time.time() when it was sent (benchmarks/recalc_phases.py)


@dataclass
class Last:
    """The worker's second part, sent when it ends: the files of :data:`SIDE`
    rendered, and (again) what it stood on."""

    as_of: dt.date
    digests: dict[str, Optional[str]]
    texts: dict[str, bytes]  # path under records/computed/ → file text (UTF-8)
    seconds: tuple[float, ...] = ()  # the worker's other rules and render: wall time; its user, system CPU, minor faults (benchmarks)
    sent: float = 0.0


# ---------------------------------------------------------------- in the worker


def load(root: Path) -> Optional[tuple[Repository, dict[str, Optional[str]], list[dt.date]]]:
    """The repository of :data:`KINDS` and the sales, every file's digest,
    and the latest date of the plans and diaries (by their file names) — or None
    when the caches cannot serve (more than :data:`COLD_FILES` files to
    parse, no sales cache) or a file has a problem. Reads the caches, never
    writes them."""
    from array import array

    from .repository import (
        SalesCache, _finish_raw, _load_unit, _unit_facts, _unit_items, _units, assemble, discover, split_sales,
    )

    # only the folders of the kinds read (a third of a city's files); errors elsewhere stop the
    # validation here, and then nothing this worker sends is taken
    everything: tuple = ([], array("q"))  # each file's signature, taken in the walk (as validate() does)
    rels, found = discover(root, _TOPS, look=everything)
    if any(d.severity == "error" for d in found):
        return None
    mine = [rel for rel in rels if wanted(rel)]
    days: list[dt.date] = []
    latest = _latest_daily(root)
    if latest is not None:  # what as_of needs of the plans and diaries
        try:
            days.append(dt.date.fromisoformat(latest))
        except ValueError:  # the validation says so; nothing is computed
            return None
    if len(mine) == len(rels):  # (the usual tree: every file under the worker's folders is its kind's)
        looked = everything
    else:
        flags = [wanted(rel) for rel in rels]
        looked = ([x for x, w in zip(everything[0], flags) if w], array("q", (x for x, w in zip(everything[1], flags) if w)))
    sales, sales_looked, others, others_looked = split_sales(mine, looked)
    units = _units(root, others, others_looked, held=True)  # the retailers as facts where kept (no models)
    if sum(_to_parse(unit) for unit in units if not unit.ready and unit.facts is None) > COLD_FILES:
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
        if unit.facts is not None:
            loaded.extend(_unit_facts(root, unit, True))
        elif unit.ready:
            loaded.extend(_load_unit(root, unit, True))
        else:
            items, _ = _unit_items(root, unit.folder, unit.rels, unit.sigs, unit.times, True, unit.shard)
            loaded.extend(_finish_raw(root, item, True) for item in items)
    repo, report = assemble(root, loaded, sales=sales_read, facts=True)
    if report.errors:
        return None
    return repo, {rel: repo.digests.get(rel) for rel in mine}, days


def _latest_daily(root: Path) -> Optional[str]:
    """The latest day a plan's or diary's file name writes (``YYYY-MM-DD``,
    as it sorts), from the names in their year folders alone: the worker
    neither walks nor stats those ~55,000 files. Where a name there is not
    one :func:`repository.discover` would take (a folder, a link out of the
    repository), the validation reports an error and nothing the worker
    sends is taken."""
    best: Optional[str] = None
    for kind in ("plan", "diary"):
        top = BY_NAME[kind].top
        match = BY_NAME[kind].pattern.fullmatch
        folder = root / RECORDS / top
        for manager in _names(folder):
            for year in _names(folder / manager):
                for name in sorted(_names(folder / manager / year), reverse=True):
                    if best is not None and name[:10] <= best:
                        break  # (a day sorts as its name's first ten characters)
                    found = match(f"{top}/{manager}/{year}/{name}")
                    if found is not None:
                        best = found.group("date")
                        break
    return best


def _names(folder: Path) -> list[str]:
    """The names in ``folder`` but hidden ones (none when it is not a readable folder)."""
    try:
        return [name for name in os.listdir(folder) if not name.startswith(".")]
    except OSError:
        return []


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


def work(root: Path, as_of: Optional[dt.date], send: Callable[[First], None]) -> Optional[Last]:
    """In the worker: load, run :data:`SIDE` — ``send`` the :class:`First`
    part as soon as :data:`SENT_AFTER` is done — and render their files
    (the :class:`Last` part), the current period's classes and tiers files
    only for the jobs it claims from the pipe :func:`start` made
    (:func:`_claimed`; all of them outside a forked worker). None when it
    gives up (before sending anything)."""
    from .recalc import _safe, render_record
    from .rules import MODULES, classes, compute_all, latest, tiers
    from .rules.retail import as_texts, deferring

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

    def after(name: str, ctx: Any) -> None:
        if name != SENT_AFTER:
            return
        shared = {key: ctx.shared[key] for key in SHIPPED}
        for key in (classes.CURRENT, tiers.CURRENT):  # what the current period's files are written from, there
            if key in ctx.shared:
                shared[key] = ctx.shared[key]
        marks.append(time.perf_counter())
        send(First(as_of, digests, shared, tuple(b - a for a, b in zip(marks, marks[1:])), time.time()))

    # the large files written as texts straight away (the same bytes); the current period's classes
    # and tiers files written from the columns shipped in the first part, each by whichever of the
    # two processes claims it first (the other one would only wait: the faster one does it)
    with as_texts(), deferring():
        computed = compute_all(partial(repo), _Refused(), as_of, modules=SIDE, after=after)
    records: dict[str, Any] = dict(computed.records)
    for module in _claimed(_JOBS_FD):
        shipped = computed.ctx.shared.get(module.CURRENT)
        if shipped is not None:
            records.update(module.current_files(repo, shipped))
    marks.append(time.perf_counter())
    # as UTF-8 bytes: pickled and unpickled as they are (str: encoded and decoded again), and
    # compared with the files' bytes there as they are (recalc.settle takes either)
    texts = {_safe(rel): (rec if isinstance(rec, str) else render_record(rec)).encode("utf-8")
             for rel, rec in records.items()}
    marks.append(time.perf_counter())
    used = resource.getrusage(resource.RUSAGE_SELF)  # (benchmarks: the worker's own CPU)
    return Last(as_of, digests, texts, (marks[-2] - marks[-3], marks[-1] - marks[-2], used.ru_utime, used.ru_stime,
                                        used.ru_minflt), time.time())


# the current period's files written from the first part's columns: one job each, one byte each in a
# pipe both processes read (a byte read by one is gone for the other: each job is done exactly once)
_JOBS = {b"c": "classes", b"t": "tiers"}
_JOBS_FD: Optional[int] = None  # in a forked worker: that pipe's reading end (set by _child)


def _jobs_pipe() -> int:
    """The reading end of a pipe holding one byte per job, not blocking (the writing end closed)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"".join(_JOBS))
    finally:
        os.close(write_end)
    os.set_blocking(read_end, False)
    return read_end


def _claimed(jobs: Optional[int]) -> Iterator[Any]:
    """The rule modules whose current-period files this process writes: each job it
    reads from the pipe ``jobs`` while any is left (every one when there is no pipe)."""
    import importlib

    names = list(_JOBS.values())
    while names:
        if jobs is not None:
            try:
                got = os.read(jobs, 1)
            except OSError:  # (none left: the other process has them)
                return
            if got not in _JOBS:
                return
            name = _JOBS[got]
        else:
            name = names[0]
        names.remove(name)
        yield importlib.import_module(f"crmdocs.scripts.rules.{name}")


# ---------------------------------------------------------------- in this process


class Side:
    """The forked worker, from :func:`start` to :meth:`first` and :meth:`last`, or :meth:`stop`.

    Its answers come in two files without a name (one a part) and a pipe:
    one byte on the pipe says the first part is written whole, a second
    byte that the second is — taken then without waiting for the worker to
    end (giving back a city's ~1.3 GB takes the system a while; a thread
    collects its exit). A worker that dies before either leaves the pipe
    closed (no byte)."""

    def __init__(self, pid: int, fds: tuple[int, int], signal_fd: int, jobs_fd: int = -1):
        self.pid = pid
        self.fds = list(fds)  # the first and the last part's files
        self.signal_fd = signal_fd  # the pipe's reading end
        self.jobs_fd = jobs_fd  # the current period's files to write: claimed here or by the worker (_claimed)
        self.why = ""  # why the handover was not taken (for tests and measuring)
        self.started = time.time()
        self.arrived: list[float] = []  # time.time() when each part was read here (benchmarks)
        self._first: Optional[First] = None
        self._repo: Optional[Repository] = None

    @property
    def fd(self) -> int:
        """-1 once every file is closed."""
        return max([*self.fds, self.signal_fd, self.jobs_fd])

    def first(self, repo: Repository, as_of: Optional[dt.date]) -> Optional[First]:
        """Wait for the first part; it when the worker stood on exactly the
        files of ``repo`` (validated here) and the ``as_of`` this process
        would use (given, else :func:`rules.last_day`); else None. Taken,
        it also holds what appraisals reads of the sales (``appraisals.SALES``),
        worked out here meanwhile — unless the worker had answered already."""
        import select

        from .rules import appraisals, last_day

        day = as_of or last_day(repo)
        self._repo = repo  # (the archives the current month's classes files are written from, in last())
        here = {rel: digest for rel, digest in repo.digests.items() if wanted(rel)}
        early = bool(select.select([self.signal_fd], [], [], 0)[0])  # e.g. it gave up (caches cold)
        part = self._take_first(here, day) if early else None
        if early and part is None:
            return None
        sums = appraisals.monthly_sales(repo, day)  # (this process would only wait meanwhile)
        if not early:
            part = self._take_first(here, day)
        if part is not None:
            part.shared[appraisals.SALES] = sums
        return part

    def _take_first(self, here: dict, day: dt.date) -> Optional[First]:
        try:
            sent = os.read(self.signal_fd, 1)
        except OSError:
            sent = b""
        answer = self._read(0) if sent else None
        self._first = self._check(answer, First, here, day, "first part")
        return self._first

    def last(self) -> Optional[Last]:
        """Wait for the worker's second part: its rendered files when it stood
        on what the first part (taken) stood on; else None."""
        if self._first is None:
            self.why = self.why or "first part not taken"
            return None
        here = self._current_files()  # while the worker works on (this process would only wait)
        if here is None:
            self.stop()
            return None
        try:
            done = os.read(self.signal_fd, 1)  # b"2": written whole; b"": ended (killed, failed) without
        except OSError:
            done = b""
        answer = self._read(1) if done == b"2" else None
        if answer is None:
            self._reap()
        else:
            self._let_go()
        part = self._check(answer, Last, self._first.digests, self._first.as_of, "second part")
        if part is not None:
            if set(here) & set(part.texts):
                self.why = "failed: the current period's files written twice"
                return None
            part.texts.update(here)
        return part

    def _current_files(self) -> Optional[dict[str, bytes]]:
        """The current period's classes and tiers files this process claims
        (:func:`_claimed`: those the worker has not claimed yet), written here
        from what the first part shipped; None when they cannot be written."""
        from .recalc import _safe

        out: dict[str, bytes] = {}
        if self.jobs_fd < 0:  # (no pipe to share them: the worker writes them)
            return out
        for module in _claimed(self.jobs_fd):
            shipped = self._first.shared.get(module.CURRENT) if self._first is not None else None
            if shipped is None:
                continue
            try:
                files = module.current_files(self._repo, shipped)
            except Exception as exc:  # noqa: BLE001 - whatever it is: everything is computed here
                self.why = f"failed: the current {module.NAME} files here: {type(exc).__name__}: {exc}"
                return None
            out.update((_safe(rel), text.encode("utf-8")) for rel, text in files.items())
        return out

    def _check(self, answer: Any, kind: type, digests: dict, as_of: dt.date, which: str) -> Any:
        if answer is None or answer[0] != "ok":
            self.why = f"failed: {answer[1] if answer else 'no ' + which}"
            return None
        part = answer[1]
        if part is None:
            self.why = "gave up" if kind is First else "gave up: no second part"
            return None
        if not isinstance(part, kind):
            self.why = f"failed: sent {type(part).__name__} as its {which}"
            return None
        if part.digests != digests:
            self.why = f"other files ({which})"
            return None
        if part.as_of != as_of:
            self.why = f"another as_of ({which})"
            return None
        self.arrived.append(time.time())
        return part

    def _read(self, i: int) -> Any:
        """What the worker wrote into part ``i``'s file (:func:`_write`); None when
        cut short or unreadable."""
        import mmap

        try:
            fd = self.fds[i]
            size = os.fstat(fd).st_size
            n = int.from_bytes(os.pread(fd, 8, 0), "little") if size >= 8 else -1
            head = os.pread(fd, n, 8) if 0 < n <= size - 8 else b""
            if not head or len(head) != n:
                return None
            answer = pickle.loads(head)
            if len(answer) != 3:  # no files after it
                return answer if size == 8 + n else None
            status, last, index = answer
            if size != 8 + n + sum(length for _, length in index):
                return None
            at, texts = 8 + n, {}
            with mmap.mmap(fd, size, prot=mmap.PROT_READ) if size > at else contextlib.nullcontext(b"") as view:
                for rel, length in index:
                    texts[rel] = view[at : at + length]  # (bytes)
                    at += length
            last.texts = texts
            return status, last
        except Exception:  # noqa: BLE001 - cut short, unreadable: as if it had died
            return None

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

    def _let_go(self) -> None:
        """Collect the worker's exit in a thread: it has answered and ends by itself."""
        import threading

        pid, self.pid = self.pid, 0
        if pid:
            threading.Thread(target=_collect, args=(pid,), name="crmdocs-side-exit", daemon=True).start()

    def stop(self) -> None:
        """End the worker if it still runs (its result is not wanted, or taken) and close the files."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()
        for fd in (*self.fds, self.signal_fd, self.jobs_fd):
            if fd >= 0:
                os.close(fd)
        self.fds, self.signal_fd, self.jobs_fd = [-1, -1], -1, -1


def _collect(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _child(root: Path, as_of: Optional[dt.date], fds: tuple[int, int], signal_fd: int, jobs: Optional[int] = None) -> None:
    """The forked worker's life: never returns, never raises, writes nothing
    but its two answers (the first into ``fds[0]``, then one byte on the pipe
    ``signal_fd``; the second into ``fds[1]``, then a second byte)."""
    import gc

    code = 0
    sent = False

    def answer_first(answer: tuple) -> None:
        nonlocal sent
        _write(fds[0], answer)
        sent = True
        os.write(signal_fd, b"1")

    try:
        gc.disable()  # a short life: nothing to gain from walking the records
        try:
            global _JOBS_FD
            _JOBS_FD = jobs
            answer: tuple = ("ok", work(root, as_of, lambda part: answer_first(("ok", part))))
        except BaseException as exc:  # noqa: BLE001 - any failure: this process computes everything
            answer = ("failed", f"{type(exc).__name__}: {exc}")
        if not sent:  # gave up or failed before the first part: that is the answer to it
            answer_first(answer if answer[0] != "ok" or answer[1] is None else ("failed", "no first part sent"))
        _write(fds[1], answer)
        os.write(signal_fd, b"2")
    except BaseException:  # noqa: BLE001 - no room for the answer
        code = 1
    finally:
        os._exit(code)


def _write(fd: int, answer: tuple) -> None:
    """``answer`` into the file ``fd``: the length of its pickle (8 bytes), the
    pickle, then — for a :class:`Last` part — its files' bytes one after the
    other, as they are (the pickle lists their paths and lengths): 45 MB at
    city scale neither copied into a pickle here nor out of one there."""
    blobs: list[bytes] = []
    if answer[0] == "ok" and isinstance(answer[1], Last):
        last = answer[1]
        blobs = list(last.texts.values())
        answer = ("ok", dataclasses.replace(last, texts={}), [(rel, len(data)) for rel, data in last.texts.items()])
    head = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    for data in (len(head).to_bytes(8, "little"), head, *blobs):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


def _answer_file() -> int:
    """A file for an answer of the worker that has no name (nothing to clean up
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


def _preload() -> None:
    """Import what the worker runs before it is forked: numpy, its rules,
    the caches' readers (~0.1 s at first import) are then imported once for
    both processes — this one validates with most of them — and not on the
    worker's way to its answers. What only this process runs (visits,
    complaints, appraisals: ~17 ms) it imports after the fork."""
    import importlib

    from . import cache, recalc, repository  # noqa: F401 - imported for the worker

    for name in SIDE:
        importlib.import_module(f"crmdocs.scripts.rules.{name}")


def start(root: Path | str, as_of: Optional[dt.date] = None) -> Optional[Side]:
    """Fork the worker (before this process starts anything else: it
    inherits only the imports). None where there is no fork. The worker
    writes its answers into files without a name while this process
    validates (off the critical path, unlike a pipe this process would
    drain afterwards): the first part as soon as the classes are worked
    out, the second when it has rendered its files; then it ends, giving
    back its memory."""
    if not hasattr(os, "fork"):
        return None
    import sys

    _preload()
    opened: list[int] = []
    try:
        opened.append(_answer_file())
        opened.append(_answer_file())
        opened.extend(os.pipe())
        opened.append(_jobs_pipe())
    except OSError:
        for fd in opened:
            os.close(fd)
        return None
    first_fd, last_fd, read_end, write_end, jobs_fd = opened
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
    except OSError:
        for fd in opened:
            os.close(fd)
        return None
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        os.close(read_end)
        _child(Path(root), as_of, (first_fd, last_fd), write_end, jobs_fd)
    os.close(write_end)  # the pipe closes when the worker ends: no byte then means no first part
    return Side(pid, (first_fd, last_fd), read_end, jobs_fd)
