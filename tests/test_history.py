"""Git history: handed-in times, who changed what, the tree as it stood (--at)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from conftest import CM_LI, DIARY, RETAILER, build_mini_repo, git, git_env, run_cli
from crmdocs.scripts import history
from crmdocs.scripts.diagnostics import CrmdocsError

D2 = "diaries/cm-li/2026/2026-09-02.yaml"


def add_diary(office, rel=D2, day="2026-09-02", text="第一版"):
    office.write(rel, {"manager": "cm-li", "date": day, "visits": [{"retailer": "r-0001", "time": "09:00"}],
                       "business_analysis": text})
    return f"records/{rel}"


def test_handed_in_is_the_first_commit_not_later_edits(git_office):
    path = add_diary(git_office)
    git_office.commit("cm-li", "日记", "2026-09-02 18:30")
    add_diary(git_office, text="第二版")
    git_office.commit("cm-li", "改日记", "2026-09-04 10:00")
    times = history.handed_in_times(git_office.root)
    assert times[path] == dt.datetime(2026, 9, 2, 18, 30)
    assert times[f"records/{DIARY}"] == dt.datetime(2026, 8, 31, 18, 0)


def test_handed_in_uses_the_authors_clock_in_the_commit(git_office):
    path = add_diary(git_office)
    env = git_env()
    env.update(GIT_AUTHOR_DATE="2026-09-02T10:30:00+00:00", GIT_COMMITTER_DATE="2026-09-02T10:30:00+00:00")
    git(git_office.root, "add", "-A", env=env)
    git(git_office.root, "-c", "user.name=x", "-c", "user.email=cm-li@example.com", "commit", "-qm", "utc", env=env)
    assert history.handed_in_times(git_office.root)[path] == dt.datetime(2026, 9, 2, 10, 30)


def test_csv_wins_for_the_paths_it_lists(git_office):
    path = add_diary(git_office)
    git_office.write("handed-in.csv", f"path,time\n{path},2026-09-02 17:05\nplans/cm-li/2026/2026-08-28.yaml,2026-08-28 08:01\n")
    git_office.commit("ad-sun", "迁移", "2026-09-05 09:00")
    times = history.handed_in_times(git_office.root)
    assert times[path] == dt.datetime(2026, 9, 2, 17, 5)
    assert times["records/plans/cm-li/2026/2026-08-28.yaml"] == dt.datetime(2026, 8, 28, 8, 1)  # relative to records/
    assert times["records/handed-in.csv"] == dt.datetime(2026, 9, 5, 9, 0)


def test_bad_csv_rows_are_reported_with_line_and_field(git_office):
    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:05\nrecords/y.yaml,明天\n")
    found, diags = history.read_handed_in_csv(git_office.root)
    assert list(found) == ["records/x.yaml"]
    assert [(d.path, d.line, d.field) for d in diags] == [("records/handed-in.csv", 3, "time")]


def test_csv_times_in_every_shape_people_write_them(git_office):
    """The fast path (fromisoformat) and strptime give the same answers: short
    fields, a T, seconds (cut off), and an impossible day refused."""
    git_office.write("handed-in.csv", "path,time\nrecords/a.yaml,2026-9-2 8:05\nrecords/b.yaml,2026-09-02T17:05\n"
                     "records/c.yaml,2026-09-02 17:05:59\nrecords/d.yaml,2026-02-30 09:00\nrecords/e.yaml,2026-09-02 24:00\n")
    found, diags = history.read_handed_in_csv(git_office.root)
    assert found == {"records/a.yaml": dt.datetime(2026, 9, 2, 8, 5), "records/b.yaml": dt.datetime(2026, 9, 2, 17, 5),
                     "records/c.yaml": dt.datetime(2026, 9, 2, 17, 5)}
    assert [(d.line, d.field) for d in diags] == [(5, "time"), (6, "time")]


def test_bad_csv_rows_stop_the_computation_instead_of_being_skipped(git_office):
    """A skipped row made a migrated hand-in silently late or unknown (recalc and build said nothing)."""
    from crmdocs.scripts.diagnostics import CrmdocsError

    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026/9/2 17:05\n")
    git_office.commit("ad-sun", "迁移", "2026-09-05 09:00")
    with pytest.raises(CrmdocsError) as info:
        history.handed_in_times(git_office.root)
    assert [(d.path, d.line, d.field) for d in info.value.diagnostics] == [("records/handed-in.csv", 2, "time")]
    code, out = run_cli("--root", str(git_office.root), "recalc", "--check")
    assert code == 1 and "records/handed-in.csv:2:" in out and "内部错误" not in out


def test_validate_reports_bad_csv_rows_too(git_office):
    """CI's first step says what recalc and build would stop on, with file, line and field, also when warm."""
    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:05\nrecords/y.yaml,2026/9/2 17:05\n")
    for _ in range(2):
        code, out = run_cli("--root", str(git_office.root), "validate")
        assert code == 1 and "records/handed-in.csv:3: 错误 error: time:" in out and "2026/9/2 17:05" in out
    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:05\n")
    assert run_cli("--root", str(git_office.root), "validate")[0] == 0


def test_no_repository_means_none(tmp_path):
    build_mini_repo(tmp_path)
    assert history.handed_in_times(tmp_path) is None
    assert history.head_commit(tmp_path) is None
    assert history.retailer_history(tmp_path) == {}


def test_repository_without_commits_means_none(tmp_path):
    build_mini_repo(tmp_path)
    git(tmp_path, "init", "-q")
    assert history.handed_in_times(tmp_path) is None


def test_uncommitted_files_have_no_time(git_office):
    path = add_diary(git_office)
    assert path not in history.handed_in_times(git_office.root)


def test_shallow_clone_edge_is_not_taken_for_the_first_commit(git_office, tmp_path_factory):
    path = add_diary(git_office)
    git_office.commit("cm-li", "日记", "2026-09-02 18:30")
    clone = tmp_path_factory.mktemp("shallow") / "c"
    git(git_office.root, "clone", "-q", "--depth", "1", f"file://{git_office.root}", str(clone))
    assert history.handed_in_times(clone) is None  # every file sits at the edge: nothing known
    add_diary(git_office, "diaries/cm-li/2026/2026-09-03.yaml", "2026-09-03")
    git_office.commit("cm-li", "日记", "2026-09-03 18:30")
    clone2 = tmp_path_factory.mktemp("shallow") / "c"
    git(git_office.root, "clone", "-q", "--depth", "2", f"file://{git_office.root}", str(clone2))
    times = history.handed_in_times(clone2)
    assert times == {"records/diaries/cm-li/2026/2026-09-03.yaml": dt.datetime(2026, 9, 3, 18, 30)}
    assert path not in times


def test_records_in_a_subfolder_of_the_work_tree(tmp_path):
    office = tmp_path / "office"
    build_mini_repo(office)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    env = git_env()
    env.update(GIT_AUTHOR_DATE="2026-09-01T08:00:00+08:00", GIT_COMMITTER_DATE="2026-09-01T08:00:00+08:00")
    git(tmp_path, "-c", "user.name=a", "-c", "user.email=a@x", "commit", "-qm", "x", env=env)
    times = history.handed_in_times(office)
    assert times[f"records/{DIARY}"] == dt.datetime(2026, 9, 1, 8, 0)


def test_retailer_history_names_commit_author_and_fields(git_office):
    def change(d):
        d["basic"]["shop_name"] = "新店名"
        d["management"]["order_day"] = 4

    git_office.edit(RETAILER, change)
    sha = git_office.commit("cm-li", "改店名", "2026-09-03 11:00")
    changes = history.retailer_history(git_office.root)["r-0001"]
    assert [c.status for c in changes] == ["modified", "added"]
    latest = changes[0]
    assert (latest.commit.sha, latest.commit.author, latest.commit.time) == (sha, "cm-li", dt.datetime(2026, 9, 3, 11, 0))
    assert latest.fields == ("basic.shop_name", "management.order_day")


def test_retailer_moved_between_departments_is_one_change(git_office):
    def move(d):
        d["management"].update(department="d-west", manager="cm-wang")

    git_office.edit(RETAILER, move)
    git_office.move(RETAILER, "retailers/d-west/r-0001.yaml")
    git_office.commit("mm-zhao", "划片", "2026-09-04 09:00")
    latest = history.retailer_history(git_office.root)["r-0001"][0]
    assert latest.status == "moved" and latest.from_path == f"records/{RETAILER}"
    assert set(latest.fields) == {"management.department", "management.manager"}


def test_grade_history(git_office):
    git_office.edit(CM_LI, lambda d: d.update(grade="level-2", grade_since="2026-10-01"))
    sha = git_office.commit("ad-sun", "晋级", "2026-10-01 09:00")
    git_office.edit(CM_LI, lambda d: d.update(note="只改备注"))
    git_office.commit("ad-sun", "备注", "2026-10-02 09:00")
    grades = history.grade_history(git_office.root)["cm-li"]
    assert [(g.old, g.new) for g in grades] == [("level-3", "level-2"), (None, "level-3")]
    assert grades[0].commit.sha == sha and grades[0].commit.author == "ad-sun"
    assert "mm-zhao" not in history.grade_history(git_office.root)


def test_grade_history_leaves_out_a_record_deleted_and_restored(git_office):
    text = (git_office.root / "records" / CM_LI).read_text(encoding="utf-8")
    (git_office.root / "records" / CM_LI).unlink()
    git_office.commit("ad-sun", "误删", "2026-10-01 09:00")
    (git_office.root / "records" / CM_LI).write_text(text, encoding="utf-8")
    git_office.commit("ad-sun", "恢复", "2026-10-02 09:00")
    assert [(g.old, g.new) for g in history.grade_history(git_office.root)["cm-li"]] == [(None, "level-3")]


def test_grade_history_keeps_a_record_restored_with_another_grade(git_office):
    person = git_office.read(CM_LI)
    (git_office.root / "records" / CM_LI).unlink()
    git_office.commit("ad-sun", "删除", "2026-10-01 09:00")
    git_office.write(CM_LI, {**person, "grade": "level-2"})
    git_office.commit("ad-sun", "重建", "2026-10-02 09:00")
    changes = [(g.old, g.new) for g in history.grade_history(git_office.root)["cm-li"]]
    assert changes == [(None, "level-2"), ("level-3", None), (None, "level-3")]


def test_head_commit(git_office):
    sha = git_office.commit("ad-sun", "空提交", "2026-09-09 09:09")
    head = history.head_commit(git_office.root)
    assert (head.sha, head.short, head.subject, head.time) == (sha, sha[:8], "空提交", dt.datetime(2026, 9, 9, 9, 9))


def test_diff_fields():
    old = {"a": 1, "b": {"c": [1, 2]}, "d": {"e": {"f": 1}}}
    new = {"a": 1, "b": {"c": [1, 3, 4]}, "g": 2}
    assert history.diff_fields(old, new) == ["b.c[1]", "b.c[2]", "d.e.f", "g"]
    assert history.top_fields(["b.c[1]", "b.c[2]", "d.e.f"]) == ["b.c", "d.e"]


# ---------------------------------------------------------------- --at


@pytest.fixture
def two_months(git_office):
    add_diary(git_office)
    first = git_office.commit("cm-li", "九月", "2026-09-30 17:00")
    git_office.edit(RETAILER, lambda d: d["basic"].update(shop_name="十月的店名"))
    add_diary(git_office, "diaries/cm-li/2026/2026-10-08.yaml", "2026-10-08")
    second = git_office.commit("cm-li", "十月", "2026-10-08 17:00")
    (git_office.root / "mkdocs.yml").write_text("site_name: now\n", encoding="utf-8")
    return git_office, first, second


def _shop(root: Path) -> str:
    from crmdocs.scripts import yamlio

    return yamlio.parse((root / "records" / RETAILER).read_text(encoding="utf-8"))["basic"]["shop_name"]


def test_at_a_past_revision(two_months):
    office, first, _ = two_months
    with history.tree_at(office.root, first) as past:
        assert _shop(past) == "李记便利店"
        assert (past / "records" / D2).is_file()
        assert not (past / "records/diaries/cm-li/2026/2026-10-08.yaml").exists()
        assert (past / "mkdocs.yml").read_text() == "site_name: now\n"  # today's site configuration
        assert history.head_commit(past).sha == first
        assert f"records/{D2}" in history.handed_in_times(past)
        assert "records/diaries/cm-li/2026/2026-10-08.yaml" not in history.handed_in_times(past)
    assert not past.exists()


@pytest.mark.parametrize("at, expected", [("2026-09-30", "九月"), ("2026-10-07", "九月"), ("2026-10-08", "十月"),
                                          ("2026-10-08 16:59", "九月"), ("HEAD~1", "九月")])
def test_at_a_date_takes_the_last_commit_on_or_before_it(two_months, at, expected):
    office, _, _ = two_months
    assert history.resolve_at(office.root, at).subject == expected


def test_at_before_any_commit_or_unknown_is_a_clear_error(two_months):
    office, _, _ = two_months
    with pytest.raises(CrmdocsError, match="之前还没有任何提交"):
        history.resolve_at(office.root, "2020-01-01")
    with pytest.raises(CrmdocsError, match="不是提交"):
        history.resolve_at(office.root, "no-such-branch")
    with pytest.raises(CrmdocsError, match="日期不存在"):
        history.resolve_at(office.root, "2026-02-30")


def test_at_without_history_is_a_clear_error(tmp_path):
    build_mini_repo(tmp_path)
    with pytest.raises(CrmdocsError, match="没有 git 历史"):
        history.checkout_at(tmp_path, "2026-09-30")


def test_build_at_a_date_renders_the_past_records(two_months):
    import shutil

    from conftest import run_cli

    office, _, _ = two_months
    repo_root = Path(__file__).resolve().parents[1]
    if not (repo_root / "site").is_dir():
        pytest.skip("no site/ pages to build with")
    shutil.copy(repo_root / "mkdocs.yml", office.root / "mkdocs.yml")
    shutil.copytree(repo_root / "site", office.root / "site")
    code, out = run_cli("--root", str(office.root), "build", "--at", "2026-10-07", "--quiet")
    assert code == 0, out
    pages = "".join(p.read_text(encoding="utf-8") for p in (office.root / "build/site").rglob("*.html"))
    assert "李记便利店" in pages and "十月的店名" not in pages
    assert "2026-10-08" not in "".join(p.as_posix() for p in (office.root / "build/site").rglob("*"))
    assert not list(Path(office.root).glob("crmdocs-at-*"))
    # the dashboard names the past commit; the archive's change history stops there
    first = history.resolve_at(office.root, "2026-10-07").sha
    assert f"版本 {first[:10]}（2026-09-30）" in (office.root / "build/site/index.html").read_text(encoding="utf-8")
    territory = (office.root / "build/site/retailers/d-east/cm-li/index.html").read_text(encoding="utf-8")
    assert "修改记录（共 1 次）" in territory and "建档" in territory


def test_review_time_is_the_commit_that_added_the_review(git_office):
    path = add_diary(git_office)
    git_office.commit("cm-li", "日记", "2026-09-02 18:30")
    git_office.edit(D2, lambda d: d.update(review={"reviewer": "mm-zhao", "at": "2026-09-03 09:00", "rating": 4}))
    git_office.commit("mm-zhao", "批阅", "2026-09-07 16:00")  # review.at says 09-03: git knows better
    git_office.edit(D2, lambda d: d["review"].update(comment="补充意见"))
    git_office.commit("mm-zhao", "补充", "2026-09-08 10:00")
    assert not any(k.endswith("#review") for k in history.handed_in_times(git_office.root))
    times = history.handed_in_times(git_office.root, reviews=True)
    assert times[path + "#review"] == dt.datetime(2026, 9, 7, 16, 0)
    assert times[path] == dt.datetime(2026, 9, 2, 18, 30)
    assert times[f"records/{DIARY}#review"] == dt.datetime(2026, 8, 31, 18, 0)  # committed with its review
    assert "records/diaries/cm-li/2026/2026-09-03.yaml#review" not in times


def test_records_unpacked_inside_an_unrelated_repository_have_no_history(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=a", "-c", "user.email=a@x", "commit", "-qm", "dotfiles")
    office = tmp_path / "unpacked"
    build_mini_repo(office)
    assert history.handed_in_times(office) is None


def test_archive_field_diffs_are_limited_and_cached(git_office):
    for n, name in enumerate(("一店", "二店")):
        git_office.edit(RETAILER, lambda d, name=name: d["basic"].update(shop_name=name))
        git_office.commit("cm-li", name, f"2026-09-0{n + 2} 10:00")
    changes = history.retailer_history(git_office.root, fields_for=1)["r-0001"]
    assert [(c.status, c.fields) for c in changes] == [("modified", ("basic.shop_name",)), ("modified", ()), ("added", ())]
    cache = git_office.root / ".cache/crmdocs/history-fields.json"
    assert cache.is_file()
    cache.write_text(cache.read_text(encoding="utf-8").replace("basic.shop_name", "basic.from_cache"), encoding="utf-8")
    assert history.retailer_history(git_office.root)["r-0001"][0].fields == ("basic.from_cache",)
    cache.write_text("not json", encoding="utf-8")  # a broken cache is ignored
    assert history.retailer_history(git_office.root)["r-0001"][0].fields == ("basic.shop_name",)


def test_a_csv_row_without_a_time_means_unknown_even_where_git_knows_the_import(git_office):
    # a diary migrated from the old system whose log had no time for it: git only
    # knows the import commit, which must not make the diary look late
    rel = f"records/{DIARY}"
    assert history.handed_in_times(git_office.root)[rel] is not None  # git's import time
    (git_office.root / "records" / "handed-in.csv").write_text(f"path,time\n{rel},\n", encoding="utf-8")
    git_office.commit("ad-sun", "hand-in log")
    times = history.handed_in_times(git_office.root)
    assert rel in times and times[rel] is None


def test_the_csv_is_parsed_once_when_validate_and_the_hand_in_times_read_the_same_bytes(git_office, monkeypatch):
    """A recalc read it twice: validate()'s check (repository.load_file) and handed_in_times (0.15 s at city)."""
    from crmdocs.scripts.repository import load_file

    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:05\n")
    git_office.commit("ad-sun", "迁移", "2026-09-05 09:00")
    parsed = []
    real = history._parse_handed_in
    monkeypatch.setattr(history, "_parse_handed_in", lambda data: parsed.append(data) or real(data))
    assert load_file(git_office.root, "records/handed-in.csv").diagnostics == []
    times = history.handed_in_times(git_office.root)
    assert times["records/x.yaml"] == dt.datetime(2026, 9, 2, 17, 5) and len(parsed) == 1
    # the same size, written at once: new bytes are parsed again, never taken for the old ones
    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:06\n")
    assert history.handed_in_times(git_office.root)["records/x.yaml"] == dt.datetime(2026, 9, 2, 17, 6)
    assert len(parsed) == 2
    times["records/x.yaml"] = None  # a caller changing its answer changes nobody else's
    assert history.read_handed_in_csv(git_office.root)[0]["records/x.yaml"] == dt.datetime(2026, 9, 2, 17, 6)


def test_the_csv_is_kept_parsed_in_the_cache_by_its_bytes(git_office, monkeypatch):
    """records/handed-in.csv (a city's 70,000 rows: ~0.6 s to parse) is kept in
    .cache/crmdocs/handed-in.pickle by the SHA-1 of its bytes: a later run
    loads it; other bytes, a damaged or foreign cache: parsed again, same answer."""
    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:05\nrecords/y.yaml,明天\n")
    parsed = []
    real = history._parse_handed_in
    monkeypatch.setattr(history, "_parse_handed_in", lambda data: parsed.append(data) or real(data))

    def fresh():  # as a new process reads it
        monkeypatch.setattr(history, "_LAST_CSV", None)
        return history.read_handed_in_csv(git_office.root)

    first = fresh()
    assert fresh() == first and len(parsed) == 1
    assert [(d.path, d.line, d.field) for d in first[1]] == [("records/handed-in.csv", 3, "time")]
    cache = git_office.root / history.HANDED_IN_CACHE
    data = bytearray(cache.read_bytes())
    data[len(data) // 2] ^= 1
    cache.write_bytes(bytes(data))
    assert fresh() == first and len(parsed) == 2
    git_office.write("handed-in.csv", "path,time\nrecords/x.yaml,2026-09-02 17:06\n")
    assert fresh()[0] == {"records/x.yaml": dt.datetime(2026, 9, 2, 17, 6)} and len(parsed) == 3
