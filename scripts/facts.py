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
its folders must hold that kind only (``repository._facts_kind``). A kind whose records the rules read whole
(retailers) would also need the rules to stop reading the models.
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


def analysis_facts(analysis: Any) -> AnalysisFacts:
    return AnalysisFacts(_intern(analysis.manager), analysis.week)


def summary_facts(summary: Any) -> SummaryFacts:
    return SummaryFacts(_intern(summary.manager), summary.month)


# kind name → the one function that extracts its facts from the validated model
EXTRACT: dict[str, Callable[[Any], Any]] = {
    "plan": plan_facts, "diary": diary_facts, "analysis": analysis_facts, "summary": summary_facts,
}
TYPES: dict[str, Any] = {"plan": PlanFacts, "diary": DiaryFacts, "analysis": AnalysisFacts, "summary": SummaryFacts}
# the Repository attribute of each kind (repository._TARGETS)
FIELDS = {"plan": "plans", "diary": "diaries", "analysis": "analyses", "summary": "summaries"}


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

    def by_sha(self) -> dict[str, Any]:
        """SHA-1 → facts (raises when damaged)."""
        if self._by_sha is None:
            make = TYPES[self.kind]._make
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
    return _write_shard(folder_path(root, folder), (head, [tuple(r[3]) for r in rows]), final=True) is not None


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
