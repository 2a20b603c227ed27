"""recalc computes from the records' current bytes whatever happened to a
file since ``crmdocs validate`` kept its facts, shard and report — edits of
the same size inside the caches' trust window, a replacement with the same
size and modification time, an edit with an older time, touch, delete,
rename — the same files as the plain path (no cache at all)."""

from __future__ import annotations

import os

import pytest

from conftest import DIARY, TODAY, MiniRepo
from crmdocs.scripts.recalc import render
from crmdocs.scripts.rules import compute_all
from crmdocs.scripts.validate import validate

SALES = "sales/2026-09.csv"
LATE = ("at: 2026-09-01 18:00", "at: 2026-09-09 18:00")  # the review a week late: the same size, other files
MORE = ("r-0001,b-hongtashan,10,1200.0", "r-0001,b-hongtashan,90,9200.0")


def plain(mini: MiniRepo) -> dict[str, str]:
    repo, report = validate(mini.root, today=TODAY, use_cache=False)
    assert not report.errors
    return render(compute_all(repo))


def held(mini: MiniRepo) -> dict[str, str]:
    repo, report = validate(mini.root, today=TODAY, facts=True)
    assert not report.errors
    return render(compute_all(repo))


def rewrite(mini: MiniRepo, rel: str, old_new: tuple[str, str], how: str) -> None:
    path = mini.path(rel)
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old_new[0] in text
    changed = text.replace(*old_new)
    assert len(changed.encode()) == st.st_size
    if how == "new inode":  # written beside and renamed over, its time set back to the old one
        tmp = path.with_name(".tmp")
        tmp.write_text(changed, encoding="utf-8")
        os.replace(tmp, path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        path.write_text(changed, encoding="utf-8")
        if how == "older time":
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))


def renamed(mini: MiniRepo) -> None:
    new = DIARY.replace("2026-09-01", "2026-09-02")
    mini.move(DIARY, new)
    mini.replace(new, 'date: "2026-09-01"', 'date: "2026-09-02"')
    mini.replace(new, "at: 2026-09-01 18:00", "at: 2026-09-02 18:00")


CHANGES = {
    "same size, just after validate": lambda m: rewrite(m, DIARY, LATE, "racy"),
    "same size and time, new inode": lambda m: rewrite(m, DIARY, LATE, "new inode"),
    "same size, an older time": lambda m: rewrite(m, DIARY, LATE, "older time"),
    "touched": lambda m: os.utime(m.path(DIARY)),
    "deleted": lambda m: m.delete(DIARY),
    "renamed to another day": renamed,
    "sales, same size, just after validate": lambda m: rewrite(m, SALES, MORE, "racy"),
    "sales, same size and time, new inode": lambda m: rewrite(m, SALES, MORE, "new inode"),
    "sales, same size, an older time": lambda m: rewrite(m, SALES, MORE, "older time"),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_recalc_computes_from_the_current_bytes(mini, change):
    mini.age()
    assert mini.cli("validate")[0] == 0
    before = held(mini)  # (facts, shards, sales arrays and the report all kept)
    CHANGES[change](mini)
    got, want = held(mini), plain(mini)
    assert got == want
    if change != "touched":
        assert want != before  # (the change is one recalc must see)


# ---------------------------------------------------------------- --no-cache: no cache at all

HANDED_IN = ("path,time\nrecords/diaries/cm-li/2026/2026-09-01.yaml,2026-09-01 19:00\n"
             "records/plans/cm-li/2026/2026-09-01.yaml,2026-13-01 07:00\n")


def test_no_cache_neither_writes_nor_reads_handed_in_csv_s_kept_parse(mini):
    import hashlib
    import pickle

    from crmdocs.scripts import cache, history
    from crmdocs.scripts.repository import seal

    mini.write("handed-in.csv", HANDED_IN)
    code, out = mini.cli("validate", "--no-cache")
    assert code == 1 and "2026-13-01" in out
    validate(mini.root, today=TODAY, use_cache=False)
    assert not (mini.root / ".cache").exists()  # (as before handed-in.csv's parse was kept)
    # a kept parse that says otherwise (forged, or another build's of the same version) is not what it reports
    data = mini.path("handed-in.csv").read_bytes()
    body = pickle.dumps((history._HANDED_IN_FORMAT, cache.code_version(), hashlib.sha1(data).hexdigest(), [])) + pickle.dumps(([], []))
    path = mini.root / history.HANDED_IN_CACHE
    path.parent.mkdir(parents=True)
    path.write_bytes(seal(body))
    history._LAST_CSV = None
    code, out = mini.cli("validate", "--no-cache")
    assert code == 1 and "2026-13-01" in out, out
    assert history._kept_handed_in(mini.root, data) == ({}, [])  # (and there to take: what the cache path reads)


def test_validating_handed_in_csv_reads_only_the_kept_bad_rows(mini):
    """The kept parse holds the bad rows first, then the paths and times:
    validating the file (repository.load_file) reads the rows alone; the
    times are read (or parsed again) only where they are asked for."""
    import pickle

    from crmdocs.scripts import history
    from crmdocs.scripts.repository import seal, unsealed

    mini.write("handed-in.csv", HANDED_IN)
    assert mini.cli("validate")[0] == 1  # (keeps the parse)
    history._LAST_CSV = None
    parse = history._parse_handed_in
    history._parse_handed_in = None  # (the kept parse must answer whole: both parts)
    try:
        times, rows = history.read_handed_in_csv(mini.root)
    finally:
        history._parse_handed_in = parse
    assert [d.field for d in rows] == ["time"] and len(times) == 1
    path = mini.root / history.HANDED_IN_CACHE
    body = bytes(unsealed(path.read_bytes()))
    head = pickle.dumps(pickle.loads(body))  # the first part alone: the times left out
    path.write_bytes(seal(head))
    history._LAST_CSV = None
    assert history.handed_in_problems(mini.root) == rows  # from the first part
    assert history._LAST_CSV is None  # nothing else read
    assert history.read_handed_in_csv(mini.root) == (times, rows)  # the times: parsed again
