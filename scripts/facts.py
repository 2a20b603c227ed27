"""Facts: what the rules read of a daily record, as a small value.

The rules read plans and diaries (and know weekly analyses and monthly
summaries only by their keys) through ONE interface, whatever the
repository: ``ctx.plans`` / ``ctx.diaries`` (:class:`~.rules.RulesContext`),
i.e. :func:`of` — key (manager, day) → :class:`PlanFacts` /
:class:`DiaryFacts`. No rule reads a Plan or Diary model.

* Each kind's facts are extracted by ONE function (:data:`EXTRACT`) from
  the validated model, so they carry the model's normalisation. A
  Repository whose models were built (the site, ``explain``, ``build --at``,
  any plain load) gives its facts by that function, on the fly (:func:`of`).
* ``crmdocs recalc`` (and each side of ``recalc --diff``) asks
  :func:`~.validate.validate` for a repository
  held as facts (``facts=True``): a folder of these kinds whose every file
  has facts kept for its exact bytes is loaded as those facts, and no
  model is built (a city: ~49,000 plans and diaries, ~4 s of model
  making). ``repo.facts[kind]`` then holds them and ``repo.plans`` etc. are
  :class:`Withheld` (reading them raises). When the validation cache cannot
  answer, every model is built after all and every check runs, as before.

The facts cache: ``.cache/crmdocs/facts/<folder hash>.pickle``, one file per
folder like the parsed-data shards (``repository.PARSED_DIR``): a sealed
header (format, :func:`version`, folder, stamp, and each file's path, stat
signature and SHA-1 — what it stood on) and the facts, one plain tuple a
file. Keyed by the file's content: a file's facts are used when its SHA-1
is the recorded one — known without reading when its stat signature is the
recorded one (modified 2 s or more before the stamp) or the parsed-data
shard's, else from its bytes. The version is the validation cache's code
version (:func:`cache.code_version`: every source file of crmdocs, Pydantic,
PyYAML, Python), so facts made by other code are never used. Written
whenever the models of such a folder are built and its facts file does not
hold them all: by ``validate()`` (any caller) and by ``crmdocs validate``
(:mod:`.cache`: a full run's checking workers write each folder's facts
beside its shard; a run that checks a few files merges theirs in) —
a cold ``crmdocs validate`` (CI) leaves them warm for ``recalc``. This
caches what is derived from one file; the rules still compute everything,
every run.

Another kind is added by a NamedTuple of what the rules read of it, its
function in :data:`EXTRACT` (its type in :data:`TYPES`, its Repository
field in :data:`FIELDS`), and the rules reading it through :func:`of`;
its folders must hold that kind only (``repository._facts_kind``).

Retailers (:class:`RetailerFacts`) are facts too, but in place: the rules
read ``repo.retailers`` as they always did, and held as facts it maps each
id to a nested NamedTuple with the models' attribute names and values for
everything the rules read (``rec.basic.shop_name``,
``rec.management.manager_on(day)``, enums as enums); the checks, the site
and ``explain`` read the models (they never load with ``facts=True``).
``crmdocs validate`` (a full run) keeps the retailers' facts as it loads the
universe (``repository.load_kept``). A city: 20,000 models not made, in
this process and in ``recalc``'s side worker.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Optional

FACTS_DIR = Path(".cache") / "crmdocs" / "facts"
_FORMAT = 1


class PlanFacts(NamedTuple):
    manager: str
    date: dt.date
    planned: tuple[str, ...]  # the retailer of each planned visit, in order (a plan names each once)


class DiaryFacts(NamedTuple):
    manager: str
    date: dt.date
    visited: tuple[str, ...]  # the retailer of each visit, in order
    absent: bool  # an absence day: an absence reason and no visit
    reviewed: bool  # the diary has a review
    review_at: Optional[dt.datetime]  # the review's own time
    valuable: int  # how many items the review marked valuable


class AnalysisFacts(NamedTuple):  # the rules read none of a weekly analysis: its key
    manager: str
    week: str


class SummaryFacts(NamedTuple):  # nor of a monthly summary
    manager: str
    month: str


# A retailer as the rules read it (scripts/rules/*, sales.managers; the
# checks and the site read the models): the archive's fields of those names,
# nested as in the model (``rec.management.manager_on(day)``,
# ``rec.basic.shop_name``), enums as the model's enums. Held in
# ``repo.retailers`` itself (:data:`IN_PLACE`), not apart. A rule that reads
# another field of a retailer must add it here (the test of these facts
# against the models compares every field named here).


class PastManagerFacts(NamedTuple):
    manager: str
    until: dt.date


class ViolationFacts(NamedTuple):
    date: dt.date
    confirmed: bool


class LatePaymentFacts(NamedTuple):
    date: dt.date


class ManagementFacts(NamedTuple):
    department: str
    manager: str
    manager_history: tuple[PastManagerFacts, ...]
    violations: tuple[ViolationFacts, ...]
    late_payments: tuple[LatePaymentFacts, ...]

    def manager_on(self, day: dt.date) -> str:  # (schemas.retailer.Management.manager_on)
        for past in sorted(self.manager_history, key=lambda p: p.until):
            if day < past.until:
                return past.manager
        return self.manager


class BasicFacts(NamedTuple):
    shop_name: str
    network: Any  # schemas.retailer.Network
    format: Any  # Format
    location: Any  # Location
    floor_area: float


class AdjustmentFacts(NamedTuple):
    coefficient: float
    since: dt.date


class SalesFacts(NamedTuple):
    adjustment: Optional[AdjustmentFacts]


class ImageFacts(NamedTuple):
    level: int


class RetailerFacts(NamedTuple):
    id: str
    status: Any  # schemas.retailer.Status
    status_reason: str
    basic: BasicFacts
    management: ManagementFacts
    sales: SalesFacts
    image: ImageFacts


_intern = sys.intern  # (ids repeat: interned, a facts file keeps each once and loads it once)


def plan_facts(plan: Any) -> PlanFacts:
    return PlanFacts(_intern(plan.manager), plan.date, tuple(_intern(v.retailer) for v in plan.visits))


def diary_facts(diary: Any) -> DiaryFacts:
    review = diary.review
    return DiaryFacts(
        _intern(diary.manager), diary.date, tuple(_intern(v.retailer) for v in diary.visits),
        diary.absence is not None and not diary.visits, review is not None,
        review.at if review is not None else None, len(review.valuable) if review is not None else 0,
    )


def retailer_facts(retailer: Any) -> RetailerFacts:
    b, m, adj = retailer.basic, retailer.management, retailer.sales.adjustment
    return RetailerFacts(
        _intern(retailer.id), retailer.status, retailer.status_reason,
        BasicFacts(b.shop_name, b.network, b.format, b.location, b.floor_area),
        ManagementFacts(
            _intern(m.department), _intern(m.manager),
            tuple(PastManagerFacts(_intern(p.manager), p.until) for p in m.manager_history),
            tuple(ViolationFacts(v.date, v.confirmed) for v in m.violations),
            tuple(LatePaymentFacts(p.date) for p in m.late_payments),
        ),
        SalesFacts(AdjustmentFacts(adj.coefficient, adj.since) if adj is not None else None),
        ImageFacts(retailer.image.level),
    )


def _retailer_plain(f: RetailerFacts) -> tuple:
    """A retailer's facts as plain data (the facts file: no class but the
    datetime types), enums as their values."""
    if f.__class__ is tuple:  # plain already
        return f
    b, m, adj = f.basic, f.management, f.sales.adjustment
    return (
        f.id, f.status.value, f.status_reason, (b.shop_name, b.network.value, b.format.value, b.location.value, b.floor_area),
        (m.department, m.manager, tuple(tuple(p) for p in m.manager_history), tuple(tuple(v) for v in m.violations),
         tuple(p.date for p in m.late_payments)),
        tuple(adj) if adj is not None else None, f.image.level,
    )


_ENUMS: Optional[tuple[dict, ...]] = None
_new = tuple.__new__  # (a NamedTuple made without its Python-level __new__: 20,000 retailers × 6 a load)
_NO_ADJUSTMENT = SalesFacts(None)  # (facts never change: one shared by every retailer without an adjustment)
_IMAGES: dict[Any, ImageFacts] = {}


def _retailer_make(t: tuple) -> RetailerFacts:
    """:func:`_retailer_plain` undone (raises on a damaged shape)."""
    global _ENUMS
    if _ENUMS is None:
        from crmdocs.schemas.retailer import Format, Location, Network, Status

        _ENUMS = tuple(e._value2member_map_ for e in (Status, Network, Format, Location))  # (a lookup, not Enum())
    status, network, fmt, location = _ENUMS
    rid, st, reason, (shop, net, form, loc, area), (dep, mgr, history, violations, late), adj, level = t
    image = _IMAGES.get(level)
    if image is None:
        image = _IMAGES[level] = ImageFacts(level)
    return _new(RetailerFacts, (
        _intern(rid), status[st], reason, _new(BasicFacts, (shop, network[net], fmt[form], location[loc], area)),
        _new(ManagementFacts, (
            _intern(dep), _intern(mgr),
            tuple([PastManagerFacts(_intern(p), u) for p, u in history]) if history else (),
            tuple([ViolationFacts(d, c) for d, c in violations]) if violations else (),
            tuple([LatePaymentFacts(d) for d in late]) if late else (),
        )),
        _NO_ADJUSTMENT if adj is None else SalesFacts(AdjustmentFacts(*adj)), image,
    ))


def analysis_facts(analysis: Any) -> AnalysisFacts:
    return AnalysisFacts(_intern(analysis.manager), analysis.week)


def summary_facts(summary: Any) -> SummaryFacts:
    return SummaryFacts(_intern(summary.manager), summary.month)


# kind name → the one function that extracts its facts from the validated model
EXTRACT: dict[str, Callable[[Any], Any]] = {
    "plan": plan_facts, "diary": diary_facts, "analysis": analysis_facts, "summary": summary_facts,
    "retailer": retailer_facts,
}
TYPES: dict[str, Any] = {
    "plan": PlanFacts, "diary": DiaryFacts, "analysis": AnalysisFacts, "summary": SummaryFacts, "retailer": RetailerFacts,
}
# facts → the plain tuple a facts file keeps, and back (default: tuple / TYPES[kind]._make)
PLAIN: dict[str, Callable[[Any], tuple]] = {"retailer": _retailer_plain}
MAKE: dict[str, Callable[[tuple], Any]] = {"retailer": _retailer_make}
# the Repository attribute of each kind (repository._TARGETS)
FIELDS = {"plan": "plans", "diary": "diaries", "analysis": "analyses", "summary": "summaries", "retailer": "retailers"}
# kinds whose facts stand in that attribute itself, in the models' place
# (they carry the models' attribute names for everything the rules read);
# the others' attribute is Withheld
IN_PLACE = frozenset({"retailer"})


def plain(kind: str, value: Any) -> tuple:
    """``value`` (facts of ``kind``) as the plain tuple a facts file keeps."""
    return PLAIN.get(kind, tuple)(value)


class NotBuilt(RuntimeError):
    """Code read the models of a kind that a repository held as facts
    (``validate(facts=True)``) never built: read :func:`of` instead (not a
    KeyError: nothing may take it for an empty result)."""


class Withheld(dict):
    """``repo.plans`` (etc.) of a repository held as facts: reading raises :class:`NotBuilt`."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def _no(self, *args: Any, **kwargs: Any) -> Any:
        raise NotBuilt(f"repo.{FIELDS[self.kind]}: held as facts, no models built — read facts.of(repo, {self.kind!r})")

    __getitem__ = get = __iter__ = __len__ = __contains__ = keys = values = items = __bool__ = _no  # type: ignore[assignment]
    __setitem__ = pop = setdefault = update = _no  # type: ignore[assignment]

    def __reduce__(self) -> Any:  # (a forked worker never pickles it; a copy stays withheld)
        return (Withheld, (self.kind,))


def of(repo: Any, kind: str) -> Mapping[Any, Any]:
    """Key → facts of every record of ``kind`` (a key of :data:`EXTRACT`):
    those the repository holds as facts, else extracted from its models."""
    held = repo.facts.get(kind)
    if held is not None:
        return held
    extract = EXTRACT[kind]
    return {key: extract(record) for key, record in getattr(repo, FIELDS[kind]).items()}


def as_facts(kind: str, record: Any) -> Any:
    """``record`` (a model, or facts already) as facts of ``kind``."""
    return record if isinstance(record, tuple) else EXTRACT[kind](record)


# ---------------------------------------------------------------- the facts cache


def version() -> str:
    from .cache import code_version

    return code_version()


def folder_path(root: Path | str, folder: str) -> str:
    from .repository import _unit_name

    return os.path.join(Path(root) / FACTS_DIR, _unit_name(folder))


def open_file(root: Path | str, folder: str, kind: str) -> Optional["Kept"]:
    """The facts kept for ``folder`` (files of ``kind``), None when there are
    none, they are another version's, another folder's or damaged."""
    from .repository import read_shard

    shard = read_shard(folder_path(root, folder), (_FORMAT, version(), folder, kind))
    return Kept(kind, shard) if shard is not None else None


class Kept:
    """A folder's facts file: its header at once, the facts on first use."""

    __slots__ = ("kind", "shard", "_by_sha")

    def __init__(self, kind: str, shard: Any):
        self.kind = kind
        self.shard = shard  # a repository._Shard: stamp, index, sigs, shas; raws() the facts tuples
        self._by_sha: Optional[dict[str, Any]] = None

    def records(self) -> list[Any]:
        """Each file's facts, in the header's order (raises when damaged)."""
        make = MAKE.get(self.kind) or TYPES[self.kind]._make
        body = self.shard.raws()
        if any(t.__class__ is not tuple for t in body):
            raise ValueError("damaged facts")
        return [make(t) for t in body]

    def by_sha(self) -> dict[str, Any]:
        """SHA-1 → facts (raises when damaged)."""
        if self._by_sha is None:
            make = MAKE.get(self.kind) or TYPES[self.kind]._make
            body = self.shard.raws()
            if any(t.__class__ is not tuple for t in body):
                raise ValueError("damaged facts")
            self._by_sha = {sha: make(t) for sha, t in zip(self.shard.shas, body)}
        return self._by_sha


def write(root: Path | str, folder: str, kind: str, stamp: int, rows: Iterable[tuple[str, str, str, Any]]) -> bool:
    """Keep the facts of ``folder``'s files: ``rows`` of (path, stat
    signature, SHA-1, facts) — the signature taken before the bytes of that
    SHA-1 were read, and ``stamp`` (ns) before any signature was taken.
    Whether it was written (a read-only checkout: not)."""
    from .repository import _write_shard

    rows = sorted((r for r in rows if r[1] != "-"), key=lambda r: r[0])
    head = (_FORMAT, version(), folder, kind, stamp, tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows))
    to_plain = PLAIN.get(kind, tuple)
    return _write_shard(folder_path(root, folder), (head, [to_plain(r[3]) for r in rows]), final=True) is not None


def resign(root: Path | str, folder: str, kind: str, stamp: int, files: Iterable[tuple[str, Optional[str], Optional[str]]]) -> bool:
    """Sign ``folder``'s facts file again, keeping the facts it holds: ``files``
    are the folder's (path, stat signature, SHA-1) now, the signatures taken
    after ``stamp`` (see :func:`write`). For a copy, a checkout, ``touch``
    (the same bytes, new signatures) and for files modified too close before
    its stamp to be trusted (``repository.RACY_NS``) when ``stamp`` is past
    them. Only the header is read and written again: the facts' bytes are
    copied as they are (no facts made, no schema imported). True when the file
    now stands on these files (written, or right already); False when it holds
    other files or contents (missing, damaged, another version's): then write
    it from the facts."""
    import io
    import pickle

    from .cache import put_whole
    from .repository import RACY_NS, seal, unsealed

    class HeadOnly(pickle.Unpickler):  # (a header is tuples of strings and numbers)
        def find_class(self, module: str, name: str) -> Any:
            raise pickle.UnpicklingError(f"{module}.{name} in a facts file's header")

    path = folder_path(root, folder)
    try:
        with open(path, "rb") as fh:
            body = unsealed(fh.read())
        if body is None:
            return False
        stream = io.BytesIO(body)
        head = HeadOnly(stream).load()
        if head.__class__ is not tuple or len(head) != 8 or head[:4] != (_FORMAT, version(), folder, kind):
            return False
        old_stamp, rels, sigs, shas = head[4:]
        held = set(shas)
        rows = [f for f in files if f[1] and f[1] != "-" and f[2] in held]  # (as write() would keep them)
        if [(r[0], r[2]) for r in rows] != list(zip(rels, shas)):
            return False
        new_sigs = tuple(r[1] for r in rows)
        last = max((int(sig.split(" ")[1]) for sig in new_sigs), default=0)  # (size, mtime, …: stat_signature)
        if new_sigs == sigs and (last < old_stamp - RACY_NS or last >= stamp - RACY_NS):
            return True  # trusted as it is, or this stamp would be no better
        data = seal(pickle.dumps((*head[:4], stamp, rels, new_sigs, shas), protocol=pickle.HIGHEST_PROTOCOL)
                    + body[stream.tell():])
    except Exception:  # noqa: BLE001 - missing, damaged, another's: written from the facts
        return False
    with suppress(OSError):  # (a read-only checkout: not trusted until written some day)
        put_whole(path, data)
    return True


def sweep(root: Path | str, folders: Iterable[str]) -> None:
    """Remove the facts files of folders not among ``folders`` (gone), and files a killed run was writing."""
    from .repository import _SHARD_TMP, _sweep_dead, _unit_name

    where = Path(root) / FACTS_DIR
    try:
        names = os.listdir(where)
    except OSError:
        return
    keep = {_unit_name(folder) for folder in folders}
    for name in names:
        if name.endswith(".pickle") and name not in keep:
            with suppress(OSError):
                os.unlink(where / name)
    _sweep_dead(str(where), _SHARD_TMP, names)


def keys(repo: Any, kind: str) -> Iterable[Any]:
    """The keys of every record of ``kind`` (no facts extracted)."""
    held = repo.facts.get(kind)
    return held.keys() if held is not None else getattr(repo, FIELDS[kind]).keys()
