"""The validation cache (scripts/cache.py): same answers as the plain run,
fewer files parsed, and a bad cache is only ever ignored."""

from __future__ import annotations

import json

import pytest

from conftest import DIARY, PLAN, RETAILER, TODAY, MiniRepo, codes
from crmdocs.scripts import cache
from crmdocs.scripts.cache import CACHE_FILE, validate_report
from crmdocs.scripts.repository import seal

DIARY_2 = "diaries/cm-li/2026/2026-09-02.yaml"


def run(mini: MiniRepo, today=TODAY, **kw):
    stats: dict = {}
    report = validate_report(mini.root, today=today, stats=stats, **kw)
    return report, stats


def plain(mini: MiniRepo, today=TODAY) -> str:
    from crmdocs.scripts.validate import validate_plain

    return validate_plain(mini.root, today=today)[1].to_text()


def break_some(mini: MiniRepo) -> None:
    """A few problems of different kinds, so 'same answers' means something."""
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))
    mini.write("plans/cm-li/2026/2026-09-02.yaml", "manager: cm-li\ndate: 2026-09-02\nvisits:\n- retailer: [\n")
    mini.write("diaries/cm-li/2026/2026-09-05.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-05"))
    mini.write("complaints/2026/c-bad.yaml", "id: c-bad\n")


def test_first_run_is_full_and_equals_the_plain_run(mini):
    break_some(mini)
    report, stats = run(mini)
    assert stats["mode"] == "full"
    assert report.to_text() == plain(mini)
    assert {"unknown_retailer", "yaml", "not_working_day"} <= set(codes(report))
    assert (mini.root / CACHE_FILE).is_file()


def test_cache_hit_gives_identical_diagnostics_without_parsing(mini):
    break_some(mini)
    first, _ = run(mini)
    second, stats = run(mini)
    assert (stats["mode"], stats["parsed"]) == ("cached", 0)
    assert second.to_text() == first.to_text() == plain(mini)
    assert second.files == first.files
    assert json.loads(second.to_json()) == json.loads(first.to_json())


def test_a_changed_file_is_validated_again(mini):
    run(mini)
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-0003"))  # cm-wang's retailer
    report, stats = run(mini)
    assert (stats["mode"], stats["parsed"]) == ("cached", 1)
    assert "territory" in codes(report)
    assert report.to_text() == plain(mini)


def test_a_new_diary_is_checked_against_the_cached_office(mini):
    run(mini)
    text = mini.text(DIARY).replace("2026-09-01", "2026-09-02").replace("r-0001", "r-0002")
    mini.write(DIARY_2, text)
    report, stats = run(mini)
    assert (stats["mode"], stats["parsed"]) == ("cached", 1)
    assert report.ok, report.to_text()
    assert report.to_text() == plain(mini)
    mini.write(DIARY_2, text.replace("r-0002", "r-4242"))
    report, stats = run(mini)
    assert stats["parsed"] == 1 and "unknown_retailer" in codes(report)
    assert report.to_text() == plain(mini)


def test_a_new_duplicate_is_found_and_a_removed_one_forgotten(mini):
    run(mini)
    copy = "diaries/cm-li/2026/2026-09-01-copy.yaml"
    mini.write(copy, mini.text(DIARY))  # a path no kind matches: reported as such
    dup = "plans/cm-li/2026/2026-09-02.yaml"
    mini.write(dup, mini.text(PLAN))  # content says 09-01: name mismatch and a duplicate
    report, _ = run(mini)
    assert "duplicate" in codes(report)
    assert report.to_text() == plain(mini)
    mini.delete(dup)
    report, stats = run(mini)
    assert "duplicate" not in codes(report) and stats["mode"] == "cached"
    assert report.to_text() == plain(mini)


def test_the_first_of_two_duplicates_removed_checks_the_other(mini):
    second = "plans/cm-li/2026/2026-09-02.yaml"
    mini.write(second, mini.text(PLAN).replace("r-0001", "r-0003"))  # duplicate of PLAN, wrong territory
    report, _ = run(mini)
    assert "duplicate" in codes(report) and "territory" not in codes(report)
    mini.delete(PLAN)
    report, stats = run(mini)
    assert stats["mode"] == "cached" and "territory" in codes(report)
    assert report.to_text() == plain(mini)


def test_a_changed_retailer_means_a_full_run(mini):
    run(mini)
    mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-wang", department="d-west"))
    report, stats = run(mini)
    assert stats["mode"] == "full"
    assert report.to_text() == plain(mini)


def test_another_day_means_a_full_run(mini):
    import datetime as dt

    run(mini)
    later = dt.date(2028, 12, 1)  # licences expire 2028-12-31: warnings appear
    report, stats = run(mini, today=later)
    assert stats["mode"] == "full" and "licence_expiring" in codes(report)
    assert report.to_text() == plain(mini, later)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json {", b"[]", b'{"format": 1}', b"\xff\xfe garbage", None, seal(b"\xff{not marshal"),
     seal(b'{"format":2,"files":{}}'), seal(__import__("marshal").dumps({"format": 2, "files": {}}))],
    ids=["empty", "truncated", "list", "no-files", "binary", "folder", "sealed-garbage", "sealed-json", "old-format"],
)
def test_a_corrupt_cache_is_ignored_not_a_crash(mini, content):
    break_some(mini)
    path = mini.root / CACHE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        path.mkdir()  # a folder where the cache file should be: cannot be read or written
    else:
        path.write_bytes(content)
    report, stats = run(mini)
    assert stats["mode"] == "full"
    assert report.to_text() == plain(mini)


def test_earlier_codes_json_record_is_removed_when_the_record_is_written(mini):
    """Format 2 kept the record as validate.json (~19 MB at city scale): ignored since, and removed."""
    folder = (mini.root / CACHE_FILE).parent
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("validate.json", "validate-delta.json"):
        (folder / name).write_bytes(seal(b'{"format":2,"files":{}}'))
    report, stats = run(mini)
    assert stats["mode"] == "full" and report.to_text() == plain(mini)
    assert (mini.root / CACHE_FILE).is_file()
    assert not (folder / "validate.json").exists() and not (folder / "validate-delta.json").exists()


def test_a_cache_with_wrong_entries_is_ignored(mini):
    run(mini)
    path = mini.root / CACHE_FILE
    data = cache._load_sealed(path)
    for entry in cache._files(data).values():  # (the daily files' entries: marshal data of their own)
        entry[3] = [["only", "three", "fields"]]
    path.write_bytes(cache._sealed_data(data))
    report, stats = run(mini)
    assert stats["mode"] == "full"
    assert report.to_text() == plain(mini)


def test_a_cache_pointing_outside_the_records_is_ignored(mini):
    run(mini)
    path = mini.root / CACHE_FILE
    data = cache._load_sealed(path)
    data["retailers"] = {"r-0001": "records/../../etc/passwd"}
    path.write_bytes(cache._sealed_data(data))
    mini.write(DIARY_2, mini.text(DIARY).replace("2026-09-01", "2026-09-02"))  # names r-0001
    report, stats = run(mini)
    assert stats["mode"] == "full"
    assert report.to_text() == plain(mini)


def test_a_cache_from_another_code_version_is_ignored(mini, monkeypatch):
    break_some(mini)
    run(mini)
    monkeypatch.setattr(cache, "_version", "another version")
    report, stats = run(mini)
    assert stats["mode"] == "full"
    assert report.to_text() == plain(mini)
    data = cache._load_sealed(mini.root / CACHE_FILE)
    assert data["version"] == "another version"


def test_code_version_follows_the_libraries(monkeypatch):
    import pydantic

    before = cache.code_version()
    assert before == cache.code_version() and len(before) == 40
    monkeypatch.setattr(cache, "_version", None)
    monkeypatch.setattr(pydantic, "VERSION", "0.0.0-other")
    assert cache.code_version() != before


def test_no_cache_leaves_no_cache_file(mini):
    report, stats = run(mini, use_cache=False)
    assert stats["mode"] == "full" and not (mini.root / CACHE_FILE).exists()
    code, out = mini.cli("validate", "--no-cache")
    assert code == 0 and not (mini.root / CACHE_FILE).exists(), out


def test_the_command_uses_the_cache_and_answers_the_same(mini):
    break_some(mini)
    first = mini.cli("validate")
    assert (mini.root / CACHE_FILE).is_file()
    assert mini.cli("validate") == first
    assert first[0] == 1


def test_an_unknown_check_disables_the_split(mini, monkeypatch):
    from crmdocs.scripts import checks

    def check_plans_against_diaries(repo, ctx):  # compares daily records with each other
        return iter(())

    monkeypatch.setattr(checks, "CHECKS", (*checks.CHECKS, check_plans_against_diaries))
    report, stats = run(mini)
    assert stats["mode"] == "plain" and report.ok


def test_two_workers_give_the_same_answers(mini):
    break_some(mini)
    for day in range(2, 30):  # enough daily files for the worker pool
        for n in range(16):
            mini.write(f"complaints/2026/c-x-{day}-{n}.yaml", f"id: c-x-{day}-{n}\n")
    report = validate_report(mini.root, today=TODAY, jobs=2, use_cache=False)
    assert report.to_text() == plain(mini)


def test_unchanged_files_are_not_read_again(mini):
    mini.age()
    first, stats = run(mini)
    assert stats["hashed"] > 10
    second, stats = run(mini)
    assert stats["hashed"] == 0 and stats["mode"] == "cached"
    assert second.to_text() == first.to_text()


def test_an_edit_of_the_same_size_is_seen(mini):
    mini.age()
    run(mini)
    run(mini)
    mini.replace(DIARY, "r-0001", "r-0003")  # same length, another territory
    report, stats = run(mini)
    assert stats["hashed"] == 1 and stats["parsed"] == 1
    assert "territory" in codes(report)


def test_a_recently_recorded_file_is_hashed_again(mini):
    run(mini)  # files written just now: their times are too close to trust
    _, stats = run(mini)
    assert stats["hashed"] > 10 and stats["parsed"] == 0


def test_a_large_plain_sales_export_is_trusted_by_its_signature(mini):
    from crmdocs.scripts.repository import MAX_FILE_BYTES
    from conftest import SALES

    # a month of a city's sales as a plain CSV export is tens of MB: larger than any record may be
    header, *rows = mini.text(SALES).splitlines(keepends=True)
    body = "".join(rows)
    mini.write(SALES, header + body * (MAX_FILE_BYTES // len(body) + 1))
    assert mini.path(SALES).stat().st_size > MAX_FILE_BYTES
    mini.age()
    run(mini)
    report, stats = run(mini)
    assert (stats["mode"], stats["hashed"]) == ("cached", 0)  # nothing read again, the export neither
    assert report.to_text() == plain(mini)


def test_a_record_larger_than_the_limit_is_never_trusted_by_its_signature(mini):
    """Unlike a sales export, an oversized record is looked at again on every run."""
    from conftest import SALES
    from crmdocs.scripts.cache import _look
    from crmdocs.scripts.repository import MAX_FILE_BYTES

    big = "x" * (MAX_FILE_BYTES + 1)
    mini.write(DIARY_2, "# " + big + "\n")
    mini.write(SALES, mini.text(SALES) + "# " + big + "\n")
    looked, _ = _look(mini.root, [f"records/{DIARY_2}", f"records/{SALES}"])
    assert looked[0] == "-" and looked[1] != "-"
    report, _ = run(mini)
    assert "too_large" in codes(report)


def test_discover_looks_at_each_file_as_look_does(tmp_path):
    """discover(look=...) takes each file's signature in its walk, by name in
    its folder: the same signatures and times as cache._look, odd files too
    (hidden, links in and out, a FIFO, too large, a sales file, a name of
    undecodable bytes), and the same files and problems as without it."""
    import os
    from array import array

    from crmdocs.scripts.repository import discover

    records = tmp_path / "records"
    for folder in ("plans/a", "diaries/b", "sales"):
        (records / folder).mkdir(parents=True)
    for name in ("2.yaml", "1.yaml", "-m.yaml", ".hidden.yaml"):
        (records / "plans/a" / name).write_text(name)
    (records / "diaries/b/x.yaml").write_text("x")
    os.symlink("../../plans/a/1.yaml", records / "diaries/b/in.yaml")
    os.symlink(tmp_path / "nowhere.yaml", records / "diaries/b/broken.yaml")
    os.mkfifo(records / "diaries/b/fifo.yaml")
    (records / "plans/a/big.yaml").write_bytes(b"x" * (6 * 1024 * 1024))
    (records / "sales/2026-01.csv").write_bytes(b"x" * (6 * 1024 * 1024))
    (records / "plans" / os.fsdecode(b"\xff.yaml")).write_text("x")
    rels, diags = discover(tmp_path)
    looked: tuple = ([], array("q"))
    assert discover(tmp_path, look=looked) == (rels, diags)
    assert rels == [
        "records/diaries/b/in.yaml", "records/diaries/b/x.yaml", "records/plans/a/-m.yaml", "records/plans/a/1.yaml",
        "records/plans/a/2.yaml", "records/plans/a/big.yaml", "records/sales/2026-01.csv",
    ]
    assert sorted(d.code for d in diags) == ["bad_name", "not_a_file", "symlink"]
    assert looked == cache._look(tmp_path, rels)
    assert [sig == "-" for sig in looked[0]] == [False, False, False, False, False, True, False]


def test_recalc_s_answer_is_the_record_s_own_report_only_when_nothing_changed(mini, monkeypatch):
    """``cached_only`` (recalc) takes the report written with the whole record
    (no daily file's entry read) only when it stands on exactly these files;
    a changed, added or removed file means the entries, and the same answers
    as the plain run either way."""
    break_some(mini)
    mini.age()
    run(mini)  # the whole record, with its report
    calls = []
    real = cache._cached
    monkeypatch.setattr(cache, "_cached", lambda *a: calls.append(1) or real(*a))
    report, stats = run(mini, cached_only=True)
    assert calls == [] and stats["mode"] == "cached" and report.errors
    assert report.to_text() == plain(mini)
    (mini.root / "records/plans/cm-li/2026/2026-09-02.yaml").unlink()  # removed (the rest as recorded): its problem must go
    report, stats = run(mini, cached_only=True)
    assert calls == [1] and "2026-09-02" not in report.to_text() and report.to_text() == plain(mini)
    mini.write("diaries/cm-li/2026/2026-09-07.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-07"))  # added
    mini.age()
    report, stats = run(mini, cached_only=True)
    assert calls == [1, 1] and report.to_text() == plain(mini)


def _touch_all(mini: MiniRepo, ns: int) -> None:
    import os

    for path in mini.records.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(ns, ns))


def _record_reads(monkeypatch) -> list[str]:
    """The record files read by the loading (recalc's validate(facts=True))."""
    from crmdocs.scripts import repository

    read: list[str] = []
    real_signed, real_bytes = repository._read_signed, repository.read_record_bytes
    monkeypatch.setattr(repository, "_read_signed", lambda root, rel: read.append(rel) or real_signed(root, rel))
    monkeypatch.setattr(repository, "read_record_bytes", lambda root, rel: read.append(rel) or real_bytes(root, rel))
    return read


def test_files_touched_just_before_a_validate_are_trusted_after_the_next_one(mini, monkeypatch):
    """``touch`` (a checkout, ``git pull``) and ``crmdocs validate`` at once: the
    record and the facts are stamped within the trust window of the files'
    times. A validate past that window records them again, so the runs after it
    read none of them; before, no later validate saw a change and every
    validate and recalc read and hashed them (and held no folder as facts
    whole), for ever."""
    import time

    from crmdocs.scripts import repository
    from crmdocs.scripts.facts import FACTS_DIR
    from crmdocs.scripts.validate import validate

    monkeypatch.setattr(repository, "RACY_NS", 1_000_000_000)  # (the trust window, 2 s, made shorter)
    monkeypatch.setattr(cache, "RACY_NS", 1_000_000_000)
    mini.age()
    assert mini.cli("validate")[0] == 0
    touched = time.time_ns()
    _touch_all(mini, touched)
    assert mini.cli("validate")[0] == 0  # at once: within the window
    assert run(mini, cached_only=True)[1]["hashed"] > 0  # (not trusted yet)
    time.sleep(max(0.0, (touched + 1_100_000_000 - time.time_ns()) / 1e9))
    assert mini.cli("validate")[0] == 0  # past it: recorded again
    caches = [mini.root / CACHE_FILE, *(mini.root / FACTS_DIR).iterdir(), mini.root / CACHE_FILE.with_name(cache.DELTA_NAME)]
    before = [(p.name, p.stat().st_mtime_ns) for p in caches if p.exists()]
    report, stats = run(mini, cached_only=True)  # as recalc asks the validation cache
    assert stats["mode"] == "cached" and stats["hashed"] == 0 and not report.errors
    read = _record_reads(monkeypatch)
    repo, report = validate(mini.root, today=TODAY, facts=True)  # as recalc loads
    assert not report.errors and repo.facts["diary"] and repo.facts["plan"]
    assert not [rel for rel in read if "/diaries/" in rel or "/plans/" in rel or "/retailers/" in rel], read
    assert mini.cli("validate")[0] == 0  # and nothing more to record
    assert [(p.name, p.stat().st_mtime_ns) for p in caches if p.exists()] == before


def test_signing_the_facts_again_imports_nothing_heavy(mini):
    """The validate that records racily touched files again re-signs their
    folders' facts from the facts the files hold (no model, no schema): a warm
    ``crmdocs validate`` still imports neither pydantic nor the schemas."""
    import time

    from test_startup import probe

    mini.age()
    args = ("--root", str(mini.root), "validate", "--today", TODAY.isoformat())
    assert mini.cli("validate")[0] == 0
    touched = time.time_ns() - 1_000_000_000  # 1 s ago: within the 2 s window of the validate at once
    _touch_all(mini, touched)
    assert mini.cli("validate")[0] == 0
    assert run(mini, cached_only=True)[1]["hashed"] > 0  # (not trusted yet)
    time.sleep(max(0.0, (touched + 2_100_000_000 - time.time_ns()) / 1e9))
    code, heavy, out = probe(*args)  # past the window: records them again
    assert code == 0 and heavy == []
    assert run(mini, cached_only=True)[1]["hashed"] == 0
