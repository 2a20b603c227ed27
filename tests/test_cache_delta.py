"""The validation cache's delta (scripts/cache.py): a run that checks a few
new or changed daily files writes only those beside the whole record, and
every answer stays the plain run's."""

from __future__ import annotations

import json

from conftest import DIARY, PLAN, RETAILER_2, MiniRepo, codes
from crmdocs.scripts import cache
from crmdocs.scripts.cache import CACHE_FILE, DELTA_NAME

DIARY_2 = "diaries/cm-li/2026/2026-09-02.yaml"
DELTA = CACHE_FILE.with_name(DELTA_NAME)


def run(mini: MiniRepo, **kw):
    stats: dict = {}
    report = cache.validate_report(mini.root, today=kw.pop("today", None) or _today(), stats=stats, **kw)
    return report, stats


def _today():
    from conftest import TODAY

    return TODAY


def plain(mini: MiniRepo) -> tuple[int, str]:
    return mini.cli("validate", "--no-cache")


def new_diary(mini: MiniRepo, retailer: str = "r-0002") -> None:
    mini.write(DIARY_2, mini.text(DIARY).replace("2026-09-01", "2026-09-02").replace("r-0001", retailer))


def test_a_new_diary_writes_a_delta_and_leaves_the_whole_record(mini):
    run(mini)
    base = (mini.root / CACHE_FILE).read_bytes()
    assert not (mini.root / DELTA).exists()
    new_diary(mini)
    report, stats = run(mini)
    assert (stats["mode"], stats["parsed"]) == ("cached", 1)
    assert (mini.root / CACHE_FILE).read_bytes() == base
    delta = cache._load_sealed(mini.root / DELTA)
    assert set(delta["files"]) == {mini.rel(DIARY_2)}
    assert mini.cli("validate") == plain(mini)


def test_after_the_delta_nothing_is_parsed_nor_written(mini):
    run(mini)
    new_diary(mini)
    first, _ = run(mini)
    written = (mini.root / DELTA).stat().st_mtime_ns, (mini.root / CACHE_FILE).stat().st_mtime_ns
    again, stats = run(mini)
    assert (stats["mode"], stats["parsed"]) == ("cached", 0)
    assert again.to_text() == first.to_text()
    assert ((mini.root / DELTA).stat().st_mtime_ns, (mini.root / CACHE_FILE).stat().st_mtime_ns) == written


def test_a_new_diary_naming_a_broken_retailer_is_reported_as_the_plain_run(mini):
    mini.replace(RETAILER_2, "licence_expiry: ", "licence_expiry: [")  # the retailer file does not parse
    run(mini)
    new_diary(mini, "r-0002")
    code, out = mini.cli("validate")
    assert code == 1 and f"{mini.rel(DIARY_2)}:" in out and "找不到零售户 r-0002" in out
    assert (code, out) == plain(mini)
    assert (mini.root / DELTA).is_file()


def test_a_new_diary_duplicating_a_cached_one_is_reported_as_the_plain_run(mini):
    run(mini)
    mini.write("diaries/cm-li/2026/2026-09-01.yml", mini.text(DIARY))  # the same day again
    code, out = mini.cli("validate")
    assert code == 1 and "records/diaries/cm-li/2026/2026-09-01.yml:" in out
    assert (code, out) == plain(mini)
    mini.delete("diaries/cm-li/2026/2026-09-01.yml")
    assert mini.cli("validate") == plain(mini)


def test_a_removed_file_is_forgotten_through_the_delta(mini):
    run(mini)
    mini.delete(PLAN)
    report, stats = run(mini)
    assert stats["mode"] == "cached"
    assert cache._load_sealed(mini.root / DELTA)["files"] == {mini.rel(PLAN): None}
    assert mini.cli("validate") == plain(mini)
    mini.write(PLAN, "manager: cm-li\n")  # back, and broken
    assert mini.cli("validate") == plain(mini)
    assert plain(mini)[0] == 1 and f"{mini.rel(PLAN)}:" in plain(mini)[1]


def test_a_delta_grown_too_large_means_the_whole_record_again(mini, monkeypatch):
    run(mini)
    new_diary(mini)
    run(mini)
    assert (mini.root / DELTA).is_file()
    monkeypatch.setattr(cache, "DELTA_MIN", 0)
    monkeypatch.setattr(cache, "DELTA_SHARE", 10**9)
    mini.replace(DIARY_2, "r-0002", "r-0003")  # another territory
    report, stats = run(mini)
    assert stats["mode"] == "cached" and "territory" in codes(report)
    assert not (mini.root / DELTA).exists()
    assert mini.rel(DIARY_2) in cache._files(cache._load_sealed(mini.root / CACHE_FILE))
    assert mini.cli("validate") == plain(mini)


def test_a_full_run_drops_the_delta(mini):
    run(mini)
    new_diary(mini)
    run(mini)
    _, stats = run(mini, today=_today().replace(day=2))  # another day: everything again
    assert stats["mode"] == "full" and not (mini.root / DELTA).exists()


def test_a_delta_of_another_record_or_corrupt_is_ignored(mini):
    run(mini)
    new_diary(mini, "r-4242")
    run(mini)
    path = mini.root / DELTA
    delta = cache._load_sealed(path)
    delta["base"] += 1  # written over another whole record
    delta["files"][mini.rel(DIARY_2)][4] = []  # and saying the diary is fine
    path.write_bytes(cache._sealed_data(delta))
    report, stats = run(mini)
    assert stats["parsed"] == 1 and "unknown_retailer" in codes(report)
    for garbage in (b"", b"{not json", b"[]", b'{"format": 1}', b"\xff" * 10):
        path.write_bytes(garbage)
        assert mini.cli("validate") == plain(mini)


def test_files_looked_at_in_another_process_give_the_same_answers(mini, monkeypatch):
    monkeypatch.setattr(cache, "STAT_ELSEWHERE_MIN", 0)
    used = []
    real = cache._stat_elsewhere
    monkeypatch.setattr(cache, "_stat_elsewhere", lambda *a: used.append(1) or real(*a))
    mini.age()
    run(mini, jobs=2)
    _, stats = run(mini, jobs=2)
    assert used and stats["hashed"] == 0 and stats["parsed"] == 0
    mini.replace(DIARY, "r-0001", "r-0003")  # same size: the time tells
    report, stats = run(mini, jobs=2)
    assert (stats["hashed"], stats["parsed"]) == (1, 1) and "territory" in codes(report)
    used.clear()
    run(mini, jobs=1)  # one process asked for: no other
    assert not used
    new_diary(mini, "r-4242")
    (mini.records / "plans" / "cm-li" / "2026" / "2026-09-03.yaml").mkdir()  # a folder where a file should be
    assert mini.cli("validate", "--jobs", "2") == plain(mini)
    assert mini.cli("validate", "--jobs", "2") == plain(mini)
    assert used


def test_a_forked_look_that_fails_means_looking_here(mini, monkeypatch):
    monkeypatch.setattr(cache, "STAT_ELSEWHERE_MIN", 0)
    monkeypatch.setattr(cache, "_stat_child", lambda *a: 1 / 0)  # the child dies before answering
    run(mini, jobs=2)
    new_diary(mini, "r-4242")
    report, stats = run(mini, jobs=2)
    assert (stats["mode"], stats["parsed"]) == ("cached", 1) and "unknown_retailer" in codes(report)
    assert mini.cli("validate", "--jobs", "2") == plain(mini)
