"""``validate(root)``: load every record, run every check, return one report."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any, Iterable, Optional

from .diagnostics import Report
from .repository import Repository, gc_paused, load


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def validate(
    root: Path | str,
    today: Optional[dt.date] = None,
    jobs: int = 1,
    use_cache: bool = True,
    facts: bool = False,
) -> tuple[Repository, Report]:
    """Load and check the whole repository under ``root``: every record (the
    Repository the rules and the site read) and every problem.

    ``facts`` (``crmdocs recalc``: the caller only runs the rules): the
    plans, diaries, analyses and summaries are held as facts
    (:mod:`.facts`, ``repo.facts``) wherever their facts are kept for the
    bytes read — no model of theirs is built — when the validation cache
    answers; when it cannot, their models are built after all, every check
    runs on them and the Repository holds models, as without ``facts``.

    When the validation cache (``crmdocs validate`` writes it) can answer —
    same code, same ``today``, no universe file changed — the report comes
    from it (new or changed daily files are checked) and the Repository from
    loading alone, without running the cross-record checks again; a worker
    reads the cache and the sales while this process loads the records (when
    nothing needs parsing and the sales are cached, this process reads the
    cache itself: forking would cost more). Both
    must have seen the same bytes: every file loaded is compared with the
    hash the report stands on; any difference (a file written in between)
    means the plain run, the checks over what was loaded. Otherwise (or with
    ``use_cache`` False): :func:`validate_plain`, the same answer. The
    validation cache is read, never written here; the parsed-data cache
    (``repository.PARSED_DIR``: each file's parsed mapping, by folder) is
    read and refreshed — a file whose stat signature is the recorded one is
    neither read nor parsed."""
    from array import array

    from .cache import validate_report
    from .repository import SalesCache, assemble, discover, load_files_and, read_sales_files, split_sales, write_sales_cache

    root = Path(root)
    today = today or dt.date.today()
    if not use_cache:
        from .history import uncached

        with uncached():  # (handed-in.csv's kept parse neither)
            return validate_plain(root, today, jobs)
    looked: tuple = ([], array("q"))  # every file's signature: the report and the parsed-data cache stand on them
    rels, found = discover(root, look=looked)
    sales, sales_looked, others, looked_others = split_sales(rels, looked)
    kept = SalesCache.probe(root, sales, *sales_looked) if sales else None  # read here at the end, when it serves
    here = os.getpid()

    def side() -> tuple:  # in a worker while this process loads, when there are workers
        stats: dict = {}
        report = validate_report(root, today=today, stats=stats, cached_only=True, found=(rels, list(found)), looked=looked)
        sales_read: Any = None
        if sales and kept is None:
            stamp = time.time_ns()
            sales_read = read_sales_files(root, sales, True)
            if write_sales_cache(root, sales, sales_looked[0], sales_read, stamp) and os.getpid() != here:
                sales_read = KEPT  # in a worker: read from there, not pickled over (here: kept as read)
        return sales_read, report, stats.get("rels"), stats.get("hashes")

    held: Optional[list] = [] if facts else None  # the folders held as facts
    loaded, (sales_read, report, stood_on, hashes) = load_files_and(
        root, others, jobs, True, side, looked=looked_others, held=held, light=kept is not None or not sales,
    )
    if sales_read == KEPT:
        kept = SalesCache.probe(root, sales, *sales_looked)
    if kept is not None:
        sales_read = kept.lazy(root)  # the arrays read on first use (recalc's side worker may spare this process them)
        sales_read[0].__dict__["kept"] = kept  # (until then, appraisals.monthly_sales reads its narrow columns)
    if sales and (sales_read is None or sales_read == KEPT):  # (changed meanwhile)
        sales_read = read_sales_files(root, sales, True)
    answers = report is not None and hashes is not None and stood_on == rels
    if facts and not answers and held:  # every check will run: it reads models
        loaded = _build_held(root, held, loaded)
    with gc_paused():
        repo, loading = assemble(root, loaded, sales=sales_read, facts=facts and answers)
    if answers and set(loading.diagnostics) <= set(report.diagnostics):  # type: ignore[union-attr]
        if repo.digests.items() <= hashes.items() or all(  # type: ignore[union-attr]  # (the first: at C speed)
            hashes.get(rel) in (None, digest) for rel, digest in repo.digests.items()  # type: ignore[union-attr]
        ):
            return repo, report  # type: ignore[return-value]
    # the plain run (validate_plain) from what is loaded: the cache cannot
    # answer, or a file differs from the bytes its report stands on (written
    # in between, unreadable since). Every check reads models: those held
    # as facts are built now
    if facts and answers:
        loaded = _build_held(root, held, loaded) if held else loaded
        with gc_paused():
            repo, loading = assemble(root, loaded, sales=sales_read)
    loading.diagnostics[:0] = found
    loading.extend(run_all_checks(repo, today, jobs))
    return repo, loading


KEPT = "kept"  # the sales were written to their cache: read them from there


def _build_held(root: Path, held: list, loaded: list) -> list:
    """``loaded`` with the models of the folders held as facts built after all."""
    from .repository import Held, build_held

    built = build_held(root, held)
    held.clear()
    out = []
    for item in loaded:
        if item.__class__ is Held:
            out.extend(built.get(rel) or loaded_item for rel, loaded_item in zip(item.rels, item.items()))
        else:
            out.append(built.get(item.rel, item))
    return out


def validate_plain(
    root: Path | str,
    today: Optional[dt.date] = None,
    jobs: int = 1,
) -> tuple[Repository, Report]:
    """Load everything and run every check, no cache: the reference answer."""
    repo, report = load(root, jobs=jobs)
    report.extend(run_all_checks(repo, today or dt.date.today(), jobs))
    return repo, report


PARALLEL_CHECKS_MIN = 2000  # daily records; fewer are checked here, faster than starting workers


def run_all_checks(repo: Repository, today: dt.date, jobs: int = 1) -> list:
    """Every check of :data:`checks.CHECKS` over a loaded repository (as
    :func:`checks.run_checks`), the daily records' checks split over ``jobs``
    forked workers: they share the loaded records (fork), each checks a
    slice of the plans, diaries, complaints, surveys and targets against the
    whole universe and sends back only diagnostics, while this process runs
    the universe checks. Only when every check is known to be a daily or a
    universe one (:func:`cache.split_possible`); else one process."""
    from . import cache, checks

    daily = sum(len(getattr(repo, name)) for name in _DAILY_FIELDS)
    context = None
    if jobs > 1 and daily >= PARALLEL_CHECKS_MIN and cache.split_possible():
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            context = None
    if context is None:
        return checks.run_checks(repo, today)
    import gc

    from .pools import executor

    global _CHECKING
    _CHECKING = (repo, today)
    parts = jobs * 2
    gc.freeze()  # the workers inherit the records: keep them out of the collector's reach
    try:
        with executor(jobs, context) as pool:
            futures = [pool.submit(_check_part, i, parts) for i in range(parts)]
            ctx = checks.Context(today=today, calendar=_calendar(repo))
            out: list = []
            for check in checks.CHECKS:
                if check in cache.UNIVERSE_CHECKS:
                    out.extend(check(repo, ctx))
            for future in futures:
                out.extend(future.result())
    finally:
        _CHECKING = None  # no gc.unfreeze(): see repository.gc_paused
    return out


_DAILY_FIELDS = ("plans", "diaries", "analyses", "summaries", "complaints", "surveys", "targets")
_CHECKING = None  # (repo, today) for forked workers


def _calendar(repo: Repository):
    from .workdays import WorkCalendar

    return WorkCalendar(repo.calendars)


def _check_part(i: int, parts: int) -> list:
    """In a worker: the daily checks over the ``i``-th of ``parts`` slices of
    each daily kind (contiguous slices: fewer shared pages touched)."""
    import copy

    from . import cache, checks

    assert _CHECKING is not None
    repo, today = _CHECKING
    part = copy.copy(repo)
    for name in _DAILY_FIELDS:
        items = list(getattr(repo, name).items())
        size = -(-len(items) // parts)
        setattr(part, name, dict(items[i * size : (i + 1) * size]))
    part._trees = {}
    ctx = checks.Context(today=today, calendar=_calendar(repo))
    out: list = []
    for check in checks.CHECKS:
        if check in cache.DAILY_CHECKS:
            out.extend(check(part, ctx))
    return out


def restrict(report: Report, root: Path, paths: Iterable[str]) -> Report:
    """Keep only the problems inside ``paths`` (files or folders)."""
    wanted = []
    for p in paths:
        full = Path(p).resolve()
        try:
            wanted.append(full.relative_to(root.resolve()).as_posix())
        except ValueError:
            wanted.append(Path(p).as_posix())
    wanted = [w for w in wanted if w not in ("", ".")]
    if not wanted:
        return report
    out = Report(files=report.files)
    for d in report.diagnostics:
        if any(d.path == w or d.path.startswith(w.rstrip("/") + "/") for w in wanted):
            out.add(d)
    return out
