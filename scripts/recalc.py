"""Recalculation: load → validate → compute → write ``records/computed/``.

* :func:`compute` refuses to compute on records with errors (it raises
  :class:`CrmdocsError` carrying every diagnostic) and returns the rules'
  :class:`~crmdocs.scripts.rules.Computed`. For ``crmdocs recalc``
  (``files_only``) the retailer rules run in a side worker while the
  records are validated (:mod:`.sidecar`); their files come back rendered.
* :func:`render` turns the computed records into file texts: a header saying
  the file is written by ``crmdocs recalc``, keys in model order, fixed float
  formatting, no time of the run — identical records give identical bytes;
  empty (null) fields are left out and table rows (a flagged order, a
  brand's limits) are written on one line.
* :func:`write` writes them atomically (a killed run leaves every old file
  whole), removes computed files no longer produced, and touches nothing
  outside ``records/computed/``.
* :func:`check` compares the files on disk with a fresh computation
  (``crmdocs recalc --check``): differing, missing and extra files.
* :func:`settle` does render + write (or render + check) in one pass, in
  forked workers at city scale; ``crmdocs recalc`` uses it.
* :func:`computations` computes at another git revision and :func:`review` lists who changes class,
  tier, limits, score or grade recommendation (``crmdocs recalc --diff REV``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from pydantic import BaseModel

from . import yamlwrite
from .diagnostics import CrmdocsError, count
from .kinds import COMPUTED, RECORDS
from .workdays import NoCalendar

HEADER = (
    "# 本文件由 `crmdocs recalc` 计算生成，请勿手工修改；改了记录或政策后重新运行 crmdocs recalc。\n"
    "# Written by `crmdocs recalc` from the records and the policy: do not edit by hand.\n"
)

_AUTO: Any = object()


def computed_dir(root: Path | str) -> Path:
    return Path(root) / RECORDS / COMPUTED


def _safe(rel: str) -> str:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in rel:
        raise CrmdocsError(f"规则给出的计算结果路径 {rel!r} 不合规 (bad computed path)")
    return rel


# ---------------------------------------------------------------- compute


def compute(
    root: Path | str, handed_in: Any = _AUTO, as_of: Optional[dt.date] = None, jobs: int = 1, files_only: bool = False,
    facts: bool = False,
):
    """Load and validate ``root``; on errors raise CrmdocsError listing them
    all; else run every rule module and return the Computed.

    ``files_only`` (the caller only renders, writes or compares the files,
    as ``crmdocs recalc`` does) with ``jobs`` > 1: the retailer rules run in
    a side worker while this process validates (:mod:`.sidecar`) and their
    files come back rendered, in ``Computed.texts`` instead of
    ``Computed.records`` — when the worker stood on exactly the records
    validated here; else, or when it failed, everything is computed here.
    The same files and bytes either way. ``files_only`` or ``facts`` (the
    caller reads the computed records, not the plans, diaries, analyses and
    summaries: ``--diff``) let those be held as facts (``validate(facts=True)``,
    :mod:`.facts`): none of their models is built when the caches answer;
    ``Computed.ctx.repo.plans`` etc. then raise."""
    root = Path(root)
    side = None
    if files_only and jobs > 1:
        from . import sidecar

        side = sidecar.start(root, as_of)
        # what only this process runs, imported after the fork (the worker would wait for it) but
        # before validating (imports beside a city's records in memory cost more): the rules it runs
        # beside the worker and the git history (tarfile, subprocess)
        import importlib

        from .rules import MODULES

        for name in MODULES:
            if name not in sidecar.SIDE:
                importlib.import_module(f"crmdocs.scripts.rules.{name}")
    from .history import handed_in_times
    from .rules import compute_all
    from .validate import validate

    try:
        # files only: the rules' records are all that is kept, the plans and diaries may be held as facts
        repo, report = validate(root, today=dt.date.today(), jobs=jobs, facts=files_only or facts)
        if report.errors:
            errors = sorted(set(report.errors), key=lambda d: (d.path, d.line, d.column, d.field, d.message))
            raise CrmdocsError(
                f"记录里有 {len(errors)} 个错误，先改正再重新计算 (records have {count(len(errors), 'error')}: nothing computed)",
                errors,
            )
        if handed_in is _AUTO:
            handed_in = handed_in_times(root)
        try:
            if side is not None:
                computed = _overlapped(side, repo, handed_in, as_of)
                if computed is not None:
                    return computed
            return compute_all(repo, handed_in, as_of)
        except NoCalendar as exc:
            raise CrmdocsError(str(exc)) from None
    finally:
        if side is not None:
            side.stop()


def _overlapped(side, repo, handed_in, as_of):
    """The side worker's two parts and the modules it did not run, computed
    here between them: its first part (the classes, the sales' sums) taken,
    visits, complaints and appraisals run here while it works on, then its
    rendered files taken. None when either part is not taken (failed, other
    files, another ``as_of``, the worker died) or the rest cannot run on it:
    then everything is computed here."""
    try:
        first = side.first(repo, as_of)
    except Exception:  # noqa: BLE001 - whatever went wrong with the worker's answer: computed here
        first = None
    computed = _rest(repo, handed_in, first) if first is not None else None
    if computed is None:  # refused: end the worker now, not after everything is computed here beside it
        side.stop()
        return None
    # this process's records rendered while the worker works on (this core
    # would only wait): what is left after its files come is comparing or writing
    mine = {rel: render_record(record).encode("utf-8") for rel, record in computed.records.items()}
    try:
        last = side.last()
    except Exception:  # noqa: BLE001
        last = None
    if last is None or set(computed.records) & set(last.texts):
        return None
    computed.texts = last.texts
    computed.rendered = mine
    return computed


def _rest(repo, handed_in, first):
    """The modules the side worker did not run, with the ``ctx.shared``
    entries its first part handed over; None when one of them reads an entry
    it did not hand over (then everything is computed here)."""
    from . import sidecar
    from .rules import MODULES, NotHanded, compute_all

    try:
        return compute_all(
            repo, handed_in, first.as_of, modules=[m for m in MODULES if m not in sidecar.SIDE], shared=first.shared,
        )
    except NotHanded:
        return None


def _rows(record: BaseModel, data: dict) -> dict:
    """Table rows written on one line (``yamlwrite.FlowMap``): in a limits
    file each retailer's total and each main brand — quantity, turnover,
    lower, upper — so a changed limit is one changed line in a review; in a
    classes file each derivation's four own-value parts and its base
    classification; in an abnormal-orders file each flagged order."""
    from crmdocs.schemas.computed_retailers import AbnormalFile, ClassesFile, LimitsFile

    Row = yamlwrite.FlowMap
    if isinstance(record, AbnormalFile):
        data["weeks"] = {week: [Row(order) for order in orders] for week, orders in data.get("weeks", {}).items()}
    elif isinstance(record, LimitsFile):
        for item in data.get("retailers", {}).values():
            if "total" in item:
                item["total"] = Row(item["total"])
            if item.get("brands"):
                item["brands"] = {brand: Row(line) for brand, line in item["brands"].items()}
    elif isinstance(record, ClassesFile):
        for item in data.get("retailers", {}).values():
            for name in ("own_parts", "base"):
                if name in item:
                    item[name] = Row(item[name])
    return data


def _row_models() -> frozenset:
    """The models :func:`_rows` writes on one line, wherever they stand."""
    from crmdocs.schemas.computed_retailers import AbnormalOrder, BaseClassResult, BrandLine, LimitLine, OwnParts

    return frozenset((AbnormalOrder, LimitLine, BrandLine, OwnParts, BaseClassResult))


_ROW_MODELS: Optional[frozenset] = None


def render_record(record: BaseModel) -> str:
    """The file text of a computed record: empty (null) fields are left out —
    a reader takes an absent field as empty, and a city's files carried
    hundreds of thousands of ``…: null`` lines nobody reviews. Written from
    the model in one walk (``yamlwrite.dumps_model``); the same bytes as
    dumping it first, which is what happens when that walk cannot."""
    global _ROW_MODELS
    if _ROW_MODELS is None:
        _ROW_MODELS = _row_models()
    text = yamlwrite.dumps_model(record, header=HEADER, rows=_ROW_MODELS)
    if text is not None:
        return text
    data = record.model_dump(mode="python", by_alias=True, exclude_none=True)
    return yamlwrite.dumps_plain(_rows(record, data), header=HEADER)


def render(computed) -> dict[str, str]:
    """path under ``records/computed/`` → file text, sorted by path (the
    records rendered, and the texts handed over already rendered)."""
    texts = {_safe(rel): render_record(rec) for rel, rec in computed.records.items()}
    texts.update((_safe(rel), text.decode("utf-8") if text.__class__ is bytes else text) for rel, text in computed.texts.items())
    return dict(sorted(texts.items()))


# ---------------------------------------------------------------- write


@dataclass
class Written:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)


def on_disk(root: Path | str) -> dict[str, str]:
    """Every computed file now on disk: its path relative to records/computed/
    ("/" separated) → its path; hidden files (temporary files of an atomic
    write) aside. (Strings, not Paths: a city's 3,417 files at the end of
    every recalc.)"""
    base = str(computed_dir(root))
    out: dict[str, str] = {}
    if not os.path.isdir(base):
        return out
    cut = len(base) + 1
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        inside = dirpath[cut:].replace(os.sep, "/")
        for name in filenames:
            if name.startswith("."):
                continue
            out[f"{inside}/{name}" if inside else name] = os.path.join(dirpath, name)
    return dict(sorted(out.items()))


def write(root: Path | str, texts: Mapping[str, str]) -> Written:
    """Write every text atomically, remove computed files no longer produced
    and leftovers of killed runs; nothing outside records/computed/ is touched."""
    base = computed_dir(root)
    result = Written()
    for rel, text in texts.items():
        if yamlwrite.write_atomic(base / _safe(rel), text):
            result.written.append(rel)
        else:
            result.unchanged += 1
    _tidy(root, texts, result)
    return result


def _tidy(root: Path | str, produced, result: Written) -> None:
    """Remove computed files not in ``produced``, temporary files of killed
    runs and emptied folders."""
    base = computed_dir(root)
    for rel, path in on_disk(root).items():
        if rel not in produced:
            os.unlink(path)
            result.removed.append(rel)
    if base.is_dir():
        for dirpath, dirnames, filenames in os.walk(base, topdown=False):
            for name in filenames:
                if name.startswith(".") and name.endswith(".tmp"):  # a killed run's temporary file
                    (Path(dirpath) / name).unlink()
            here = Path(dirpath)
            if here != base and not any(here.iterdir()):
                here.rmdir()


# ---------------------------------------------------------------- check


@dataclass
class Difference:
    path: str  # relative to the repository root
    kind: str  # differs | missing | extra
    line: int = 0
    found: str = ""
    expected: str = ""

    def format(self) -> str:
        if self.kind == "missing":
            return f"{self.path}: 缺少这个计算结果文件，请运行 crmdocs recalc (missing: run crmdocs recalc)"
        if self.kind == "extra":
            return (f"{self.path}: 多出的文件，重新计算不再产生它（手工添加的，或已过时），请运行 crmdocs recalc 删除"
                    f" (extra: not produced by the rules)")
        where = f"{self.path}:{self.line}" if self.line else self.path
        shown = f"文件里是 `{self.found}`，重新计算应为 `{self.expected}`"
        return (f"{where}: 与重新计算的结果不同——被手工修改过，或改了记录/政策后没有重新运行 crmdocs recalc；"
                f"{shown} (edited by hand or stale)")


def _first_difference(found: str, expected: str) -> tuple[int, str, str]:
    a, b = found.splitlines(), expected.splitlines()
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else "（文件结束）"
        y = b[i] if i < len(b) else "（文件结束）"
        if x != y:
            return i + 1, x.strip(), y.strip()
    return 0, "", ""


def _compare(root: Path, rel: str, text: str | bytes, base: Optional[str] = None) -> Optional[Difference]:
    """The file ``rel`` under records/computed/ (``base``, when given) against
    ``text`` (or its UTF-8 bytes): None when equal."""
    try:
        with open(os.path.join(base or computed_dir(root), rel), "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return Difference(f"{RECORDS}/{COMPUTED}/{rel}", "missing")
    if data == (text if text.__class__ is bytes else text.encode("utf-8")):  # type: ignore[union-attr]
        return None
    if text.__class__ is bytes:
        text = text.decode("utf-8")  # type: ignore[union-attr]
    line, found, expected = _first_difference(data.decode("utf-8", "replace"), text)  # type: ignore[arg-type]
    return Difference(f"{RECORDS}/{COMPUTED}/{rel}", "differs", line, found, expected)


def _extra(root: Path | str, produced) -> list[Difference]:
    return [Difference(f"{RECORDS}/{COMPUTED}/{rel}", "extra") for rel in on_disk(root) if rel not in produced]


def check(root: Path | str, texts: Mapping[str, str]) -> list[Difference]:
    """Files on disk against ``texts``: differing, missing and extra ones."""
    out = [d for d in (_compare(Path(root), rel, text) for rel, text in texts.items()) if d is not None]
    return sorted(out + _extra(root, texts), key=lambda d: d.path)


# ---------------------------------------------------------------- render and write/check at once

_SHARED: Optional[Mapping[str, BaseModel]] = None  # the records, shared with forked workers
_TEXTS: Mapping[str, str | bytes] = {}  # the texts handed over already rendered (or their UTF-8 bytes), shared with forked workers
_PARALLEL_FILES = 400  # fewer files are written in one process (forking costs more than it saves)


def _settle(root: Path, rels: list[str], write_files: bool) -> tuple[list[str], int, list[Difference]]:
    """Render ``rels`` of the shared records and write them (or compare them
    with the disk): (written, unchanged, differences)."""
    base = str(computed_dir(root))
    written: list[str] = []
    unchanged = 0
    differences: list[Difference] = []
    assert _SHARED is not None
    for rel in rels:
        text = _TEXTS[rel] if rel in _TEXTS else render_record(_SHARED[rel])
        if write_files:
            if yamlwrite.write_atomic(os.path.join(base, rel), text):
                written.append(rel)
            else:
                unchanged += 1
        else:
            found = _compare(root, rel, text, base)
            if found is not None:
                differences.append(found)
    return written, unchanged, differences


def _settle_part(job: tuple[str, list[str], bool]) -> tuple[list[str], int, list[Difference]]:
    root, rels, write_files = job
    return _settle(Path(root), rels, write_files)


def settle(root: Path | str, computed, write_files: bool = True, jobs: int = 1):
    """Render every computed record and write it (``write_files``, returns
    :class:`Written`, like :func:`write`) or compare it with the disk (returns
    the differences, like :func:`check`). With ``jobs`` > 1 forked workers
    render and write their share, sending back only names and differences —
    the same files and bytes as ``write(root, render(computed))``."""
    global _SHARED, _TEXTS
    root = Path(root)
    records = computed.records
    rels = [_safe(rel) for rel in sorted({*records, *computed.texts})]
    rendered = getattr(computed, "rendered", None)
    texts = {**rendered, **computed.texts} if rendered else computed.texts
    _SHARED, _TEXTS = records, texts
    parts: list[tuple[list[str], int, list[Difference]]]
    try:
        context = None
        # (texts rendered already, compared: faster here than forking workers)
        if jobs > 1 and len(rels) >= _PARALLEL_FILES and (write_files or len(records) - len(rendered or ()) >= _PARALLEL_FILES):
            import multiprocessing  # (here: a warm recalc compares in this process, without it)

            with contextlib.suppress(ValueError):  # no fork on this platform: one process
                context = multiprocessing.get_context("fork")
        if context is None:
            parts = [_settle(root, rels, write_files)]
        else:
            from .pools import executor

            # interleaved shares: each month's big files are spread over the chunks
            n = min(len(rels), jobs * 8)
            chunks = [(str(root), rels[i::n], write_files) for i in range(n)]
            # the workers never walk the records the parent holds; no gc.unfreeze() after the
            # pool (see repository.gc_paused): the exit collection would walk them all
            gc.freeze()
            with executor(jobs, context) as pool:
                parts = list(pool.map(_settle_part, chunks))
    finally:
        _SHARED, _TEXTS = None, {}
    produced = set(rels)
    if not write_files:
        return sorted([d for part in parts for d in part[2]] + _extra(root, produced), key=lambda d: d.path)
    done = {rel for part in parts for rel in part[0]}
    result = Written(written=[rel for rel in rels if rel in done], unchanged=sum(part[1] for part in parts))
    _tidy(root, produced, result)
    return result


# ---------------------------------------------------------------- diff against a revision


@contextlib.contextmanager
def tree_at(root: Path | str, rev: str) -> Iterator[Path]:
    """The repository as it stood at ``rev`` in a temporary folder — the
    history module's past tree (:func:`history.tree_at`, as ``crmdocs build
    --at`` gets it: written by git, in memory when it fits, with a copy of the
    working tree's caches), all of it of that revision (no current files
    kept), marked with its commit so hand-in times there are those known at
    that revision."""
    from . import history

    with history.tree_at(root, rev, keep_current=()) as path:
        yield Path(path)


_ID_KEYS = ("id", "retailer", "manager", "brand", "key")
# fields a policy reviewer cares about: class, tier, limits, score, grade recommendation
_WANTED = {"total", "action", "to", "lower", "upper", "grade", "composite"}
_WANTED_PARTS = ("class", "tier", "limit")
_SKIPPED = {"visits", "note", "notes", "rule", "evidence", "label", "name", "shop", "reason", "steps", "explain"}


def interesting(field_path: str) -> bool:
    """Whether a changed field is one a reviewer of a policy change is shown."""
    parts = re.sub(r"\[[^\]]*\]", "", field_path).split(".")
    if any(p in _SKIPPED for p in parts):
        return False
    return any(p in _WANTED or any(w in p for w in _WANTED_PARTS) for p in parts)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists → {dotted path: leaf}; list items that carry an id
    (id, retailer, manager, brand, key) are named by it, not by position."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            name = str(i)
            if isinstance(item, dict):
                for key in _ID_KEYS:
                    if isinstance(item.get(key), (str, int)) and not isinstance(item.get(key), bool):
                        name = str(item[key])
                        break
            out.update(flatten(item, f"{prefix}[{name}]"))
    else:
        out[prefix] = value
    return out


@dataclass
class Change:
    file: str  # under records/computed/
    field: str
    old: Any
    new: Any


def compare(old: Mapping[str, BaseModel], new: Mapping[str, BaseModel], everything: bool = False) -> list[Change]:
    """Changes between two computations (path → record), field by field;
    only the reviewer's fields unless ``everything``."""
    out: list[Change] = []
    for rel in sorted(set(old) | set(new)):
        a = flatten(old[rel].model_dump(mode="json", by_alias=True)) if rel in old else {}
        b = flatten(new[rel].model_dump(mode="json", by_alias=True)) if rel in new else {}
        if rel not in old or rel not in new:
            out.append(Change(rel, "（文件）", "有" if rel in old else None, "有" if rel in new else None))
            continue
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key), b.get(key)
            if va == vb:
                continue
            if not everything and not interesting(key):
                continue
            out.append(Change(rel, key, va, vb))
    return out


def computations(root: Path | str, rev: str, jobs: int = 1, reduce: Optional[Callable[[Any], Any]] = None):
    """(old, new): the Computed at ``rev`` and of the working tree — or what
    ``reduce`` makes of each as soon as it is computed (e.g. :func:`reviewed`
    of its records): the working tree's computation is then freed before the
    revision's is made, so only one is in memory at a time (a city's is
    ~2.5 GB of models and records)."""
    new = compute(root, jobs=jobs, facts=True)  # (the plans and diaries as facts where the caches answer)
    if reduce is not None:
        new = reduce(new)
        # the records went with their last reference; what the computation left in reference cycles (the sales
        # arrays and the pairs cached on them, ~0.5 GB for a city) was frozen with them by the loading
        # (repository.gc_paused): thawed and collected now — the few objects still frozen, walked once
        gc.unfreeze()
        gc.collect()
    with tree_at(root, rev) as there:
        try:
            old = compute(there, jobs=jobs, facts=True)
        except CrmdocsError as exc:
            raise CrmdocsError(f"版本 {rev} 的记录无法计算：{exc} (records at {rev} have errors)", exc.diagnostics) from None
    if reduce is not None:
        old = reduce(old)
    return old, new


# ---------------------------------------------------------------- the reviewer's summary

# per retailer (any computed file holding ``retailers.<id>.…``) and per manager
RETAILER_FIELDS = {"class": "分类", "tier": "档位", "total.lower": "总量下限", "total.upper": "总量上限"}
BRAND_LIMIT = re.compile(r"^brands\.[^.]+\.(lower|upper)$")
MANAGER_FIELDS = {"appraisal.total": "考核总分", "grade.action": "等级建议", "grade.to": "建议等级"}
_RETAILER_KEY = re.compile(r"^retailers\.([^.\[]+)\.(.+)$")
_SUMMARY_KEY = re.compile(r"^(classes|tiers)\.([^.\[]+)$")


def _show(v: Any) -> str:
    if v is None:
        return "（无）"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _delta(a: Any, b: Any) -> str:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        d = b - a
        return f"（{d:+g}）" if not math.isclose(d, 0) else ""
    return ""


def _read_by_review(rel: str, key: str) -> bool:
    """Whether :func:`review` reads the flattened field ``key`` of the computed file ``rel``."""
    parts = rel.split("/")
    if len(parts) == 3 and parts[1] == "managers":
        return key in MANAGER_FIELDS
    if _SUMMARY_KEY.match(key):
        return True
    m = _RETAILER_KEY.match(key)
    return m is not None and (m.group(2) in RETAILER_FIELDS or BRAND_LIMIT.match(m.group(2)) is not None)


def reviewed(records: Mapping[str, BaseModel]) -> dict[str, dict[str, Any]]:
    """What :func:`review` reads of a computation: per computed file, its
    flattened fields that review looks at (classes, tiers, limits, scores,
    grade recommendations) — a few MB where the models are GB; review gives
    the same lines for these as for the models."""
    out: dict[str, dict[str, Any]] = {}
    for rel, record in records.items():
        parts = rel.split("/")
        tops = _MANAGER_TOPS if len(parts) == 3 and parts[1] == "managers" else _RETAILER_TOPS
        fields: dict[str, Any] = {}
        for top, value in record.model_dump(mode="json", by_alias=True, include=_dumped(type(record), tops)).items():
            if top not in tops:  # (no field review reads lies under another top-level key)
                continue
            if tops is _RETAILER_TOPS and _read_retailer_fields(top, value, fields):
                continue
            fields.update((k, v) for k, v in flatten(value, top).items() if _read_by_review(rel, k))
        out[rel] = fields
    return out


def _leaf(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _plain_key(key: Any) -> bool:
    """A key ``flatten`` writes as it is and the review's patterns take whole."""
    return isinstance(key, str) and key != "" and "." not in key and "[" not in key


def _read_retailer_fields(top: str, value: Any, fields: dict[str, Any]) -> bool:
    """The fields :func:`reviewed` keeps of a retailer file's top-level key
    ``top`` — what ``flatten`` and :func:`_read_by_review` give, in their
    order, without flattening the rest (a city's limits and classes files:
    ~2.5 s of 2.7) — put into ``fields``; False (nothing put) when ``value``
    has a shape this does not know (an id or brand with a dot or bracket, a
    list of retailers): the caller then flattens it all."""
    if not isinstance(value, dict) or not all(map(_plain_key, value)):
        return False
    found: dict[str, Any] = {}
    if top in ("classes", "tiers"):  # _SUMMARY_KEY: classes.<x> / tiers.<x>, leaves
        found.update((f"{top}.{k}", v) for k, v in value.items() if _leaf(v))
    else:  # retailers.<id>.<field> (_RETAILER_KEY, RETAILER_FIELDS, BRAND_LIMIT)
        for rid, item in value.items():
            if isinstance(item, list):
                return False
            if not isinstance(item, dict):
                continue  # (a leaf: flatten gives retailers.<id>, which review does not read)
            at = f"retailers.{rid}."
            for name, part in item.items():
                if name in ("class", "tier"):
                    if _leaf(part):
                        found[at + name] = part
                elif name == "total":
                    if isinstance(part, dict):
                        found.update((f"{at}total.{b}", v) for b, v in part.items() if b in ("lower", "upper") and _leaf(v))
                elif name == "brands" and isinstance(part, dict):
                    for brand, line in part.items():
                        if not _plain_key(brand):
                            return False
                        if isinstance(line, dict):
                            found.update(
                                (f"{at}brands.{brand}.{b}", v) for b, v in line.items() if b in ("lower", "upper") and _leaf(v)
                            )
    fields.update(found)
    return True


def _dumped(cls: type, tops: frozenset) -> Optional[set[str]]:
    """The fields of ``cls`` (by name) written under one of the keys ``tops``
    (by alias): the only ones :func:`reviewed` dumps; None (all) for a class
    that does not say its fields."""
    key = (cls, tops)
    if key not in _DUMPED:
        fields = getattr(cls, "model_fields", None)
        _DUMPED[key] = None if fields is None else {
            name for name, f in fields.items() if (f.serialization_alias or f.alias or name) in tops
        }
    return _DUMPED[key]


_DUMPED: dict[tuple[type, frozenset], Optional[set[str]]] = {}
_MANAGER_TOPS = frozenset(key.split(".")[0] for key in MANAGER_FIELDS)  # appraisal, grade
_RETAILER_TOPS = frozenset({"classes", "tiers", "retailers"})  # (_SUMMARY_KEY, _RETAILER_KEY)


def _fields(record: Any) -> dict[str, Any]:
    return record if isinstance(record, dict) else flatten(record.model_dump(mode="json", by_alias=True))


def review(old: Mapping[str, Any], new: Mapping[str, Any], class_order: list[str],
           everything: bool = False, limit: int = 60, names: Optional[Mapping[str, str]] = None) -> list[str]:
    """What a reviewer of a policy change reads: per period, how many retailers
    change class (up/down), tier and limits, how many managers change score
    and grade recommendation; then who, and by how much (managers for every
    period, retailers for the latest month unless ``everything``). ``names``: what the
    site calls a class, grade, person or retailer id (B 类, 刘平, 东乡烟酒店), shown beside the id."""
    names = names or {}
    # (period, "retailer"|"manager", id) -> label -> (old, new)
    found: dict[tuple[str, str, str], dict[str, tuple[Any, Any]]] = {}
    for rel in sorted(set(old) | set(new)):
        parts = rel.split("/")
        if len(parts) < 2:
            continue
        period = parts[0]
        a = _fields(old[rel]) if rel in old else {}
        b = _fields(new[rel]) if rel in new else {}
        if len(parts) == 3 and parts[1] == "managers":
            who = parts[2].removesuffix(".yaml")
            for key, label in MANAGER_FIELDS.items():
                if a.get(key) != b.get(key):
                    found.setdefault((period, "manager", who), {})[label] = (a.get(key), b.get(key))
            continue
        if rel not in old or rel not in new:
            continue  # a retailer rule's period on one side only (the records' last day moved): nobody's class changed
        brand_changes: dict[str, int] = {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) == b.get(key):
                continue
            short = _SUMMARY_KEY.match(key)  # e.g. classes.r-00001: c (a file's summary table)
            if short:
                label = RETAILER_FIELDS[{"classes": "class", "tiers": "tier"}[short.group(1)]]
                found.setdefault((period, "retailer", short.group(2)), {})[label] = (a.get(key), b.get(key))
                continue
            m = _RETAILER_KEY.match(key)
            if not m:
                continue
            rid, sub = m.groups()
            if key not in a or key not in b:
                continue  # a derivation kept on one side only (it is written for the current period alone)
            if sub in RETAILER_FIELDS:
                found.setdefault((period, "retailer", rid), {})[RETAILER_FIELDS[sub]] = (a.get(key), b.get(key))
            elif BRAND_LIMIT.match(sub):
                brand_changes[rid] = brand_changes.get(rid, 0) + 1
        for rid, n in brand_changes.items():
            found.setdefault((period, "retailer", rid), {})["品牌限量"] = (None, n)
    if not found:
        return []
    rank = {c: i for i, c in enumerate(class_order)}
    lines = ["各期变化（旧 → 新）："]
    for period in sorted({k[0] for k in found}):
        items = {k: v for k, v in found.items() if k[0] == period}
        bits = []
        moved = [v["分类"] for k, v in items.items() if k[1] == "retailer" and "分类" in v]
        if moved:
            up = sum(1 for a, b in moved if a in rank and b in rank and rank[b] < rank[a])
            down = sum(1 for a, b in moved if a in rank and b in rank and rank[b] > rank[a])
            bits.append(f"分类变化 {len(moved)} 户（升 {up}，降 {down}）")
        tiers = [v["档位"] for k, v in items.items() if k[1] == "retailer" and "档位" in v]
        if tiers:
            ups = sum(1 for a, b in tiers if isinstance(a, int) and isinstance(b, int) and b > a)
            downs = sum(1 for a, b in tiers if isinstance(a, int) and isinstance(b, int) and b < a)
            bits.append(f"档位变化 {len(tiers)} 户（升 {ups}，降 {downs}）")
        limits = [k for k, v in items.items() if k[1] == "retailer" and ({"总量下限", "总量上限", "品牌限量"} & set(v))]
        if limits:
            bits.append(f"限量变化 {len(limits)} 户")
        scores = [v for k, v in items.items() if k[1] == "manager" and "考核总分" in v]
        if scores:
            bits.append(f"考核总分变化 {len(scores)} 人")
        grades = [v for k, v in items.items() if k[1] == "manager" and ("等级建议" in v or "建议等级" in v)]
        if grades:
            bits.append(f"等级建议变化 {len(grades)} 人")
        lines.append(f"  {period}：" + ("；".join(bits) if bits else "（其他变化）"))

    def detail(key, changes) -> str:
        period, kind, who = key
        what = "客户经理" if kind == "manager" else "零售户"
        shown = []
        for label, (a, b) in changes.items():
            if label == "品牌限量":
                shown.append(f"品牌限量 {b} 项变化")
            elif label in ("分类", "建议等级"):
                shown.append(f"{label} {_show(names.get(a, a))} → {_show(names.get(b, b))}")
            else:
                shown.append(f"{label} {_show(a)} → {_show(b)}{_delta(a, b)}")
        name = f" {names[who]}" if who in names else ""
        return f"  {period} {what} {who}{name}：" + "；".join(shown)

    managers = sorted(k for k in found if k[1] == "manager")
    if managers:
        lines.append("客户经理：")
        lines.extend(detail(k, found[k]) for k in managers)
    retailer_keys = sorted(k for k in found if k[1] == "retailer")
    if retailer_keys:
        months = sorted({k[0] for k in retailer_keys})
        keep = retailer_keys if everything else [k for k in retailer_keys if k[0] == months[-1]]
        lines.append("零售户：" if everything else f"零售户（最近一期 {months[-1]}；--all 列出全部期间）：")
        for i, k in enumerate(keep):
            if not everything and i >= limit:
                lines.append(f"  ……另有 {len(keep) - limit} 户（--all 列出全部）")
                break
            lines.append(detail(k, found[k]))
    return lines
