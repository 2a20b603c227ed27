"""`crmdocs recalc --diff REV` lends the revision's computation a copy of the
working tree's caches (parsed records, sales arrays, validation results): the
files both trees share are not parsed again there, the output is the one
computed from nothing, whatever differs between the trees, and the working
tree's caches are left as they were."""


import pytest

from conftest import POLICY, RETAILER, SALES, SALES_ROWS, run_cli, sales_csv
from test_recalc import git  # the one git helper of the --diff tests

from crmdocs.scripts import history, recalc, repository


def committed(mini):
    (mini.root / ".gitignore").write_text("/.cache/\n", encoding="utf-8")
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records", ".gitignore")
    git(mini.root, "commit", "-q", "-m", "records")


def more_sales(mini):
    rows = [dict(r) for r in SALES_ROWS]
    rows[0]["quantity"], rows[0]["amount"] = 400, 48000.0  # cm-li's r-0001 sells far more
    mini.write(SALES, sales_csv(rows))


def other_floor(mini):  # the appraisal's sales floor 60 % → 0 %: both managers' scores move
    mini.edit(POLICY, lambda d: d.update(appraisal={"indicators": {
        "sales": {"points": 30, "floor": 0.0}, "key_brands": {"points": 20, "floor": 0.6},
        "plan_execution": {"points": 15, "floor": 0.5}, "coverage": {"points": 10},
        "diary_on_time": {"points": 10}, "satisfaction": {"points": 10}, "information": {"points": 5},
    }}))


def bigger_shop(mini):  # r-0001's floor area 30 → 500 m²: its own value, its composite move
    mini.edit(RETAILER, lambda d: d["basic"].update(floor_area=500))


def counting(monkeypatch):
    calls = []
    real = repository.parse_raw

    def parse_raw(rel, *args, **kwargs):
        calls.append(rel)
        return real(rel, *args, **kwargs)

    monkeypatch.setattr(repository, "parse_raw", parse_raw)
    return calls


@pytest.mark.parametrize("change", [more_sales, other_floor, bigger_shop])
def test_the_diff_is_the_one_computed_without_the_shared_caches(mini, monkeypatch, change):
    committed(mini)
    change(mini)
    mini.age()  # a checkout made earlier: the caches trust the files' signatures
    assert mini.cli("validate")[0] == 0  # as CI runs it: the working tree's caches filled first
    code, shared = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0, shared
    old, new = recalc.computations(mini.root, "HEAD")
    with monkeypatch.context() as m:
        m.setattr(history, "_share_caches", lambda root, there: None)
        code, alone = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
        old_alone, _ = recalc.computations(mini.root, "HEAD")
    assert code == 0, alone
    assert shared == alone
    # every computed file of the revision the same as computed from nothing, and not the working tree's
    assert recalc.render(old) == recalc.render(old_alone) != recalc.render(new)
    if change is not bigger_shop:  # (a shop's own value moves its composite, not yet its class)
        assert "没有变化" not in shared


def test_files_both_trees_share_are_not_parsed_again_for_the_revision(mini, monkeypatch):
    committed(mini)
    more_sales(mini)
    mini.age()
    assert mini.cli("validate")[0] == 0
    assert run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")[0] == 0  # the working tree's caches settle
    calls = counting(monkeypatch)
    assert run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")[0] == 0
    assert calls == []  # (the records are the same in both trees; only the sales file differs)
    with monkeypatch.context() as m:
        m.setattr(history, "_share_caches", lambda root, there: None)
        assert run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")[0] == 0
    assert len(calls) > 10  # from nothing: every record of the revision parsed


def test_the_working_tree_s_caches_are_left_as_they_were(mini):
    committed(mini)
    other_floor(mini)
    mini.age()
    assert mini.cli("validate")[0] == 0
    assert run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")[0] == 0
    cache = mini.root / ".cache" / "crmdocs"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.rglob("*") if p.is_file()}
    assert before
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0, out
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.rglob("*") if p.is_file()} == before


def test_a_tree_in_memory_or_on_disk_is_removed_afterwards(mini, monkeypatch, tmp_path):
    committed(mini)
    seen = []
    real = history._share_caches

    def share(root, there):
        seen.append(there)
        real(root, there)
        assert (there / ".cache" / "crmdocs").is_dir()  # the copy made there

    monkeypatch.setattr(history, "_share_caches", share)
    assert mini.cli("validate")[0] == 0
    assert run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")[0] == 0
    monkeypatch.setattr(history, "_IN_MEMORY", str(tmp_path / "no-such-folder"))  # no /dev/shm: the usual temporary folder
    assert run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")[0] == 0
    assert len(seen) == 2 and not any(p.exists() for p in seen)


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_git_s_own_checkout_gives_the_tree_history_extracts_in_a_sub_folder_too(tmp_path, monkeypatch):
    import json

    from conftest import MiniRepo, build_mini_repo

    top = tmp_path / "repo"
    mini = MiniRepo(build_mini_repo(top / "office"))  # the office one folder down in the repository
    (top / "README.md").write_text("其他内容\n", encoding="utf-8")
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, "commit", "-q", "-m", "first")
    first = git(top, "rev-parse", "HEAD").strip()
    other_floor(mini)
    git(top, "commit", "-q", "-am", "second")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    assert history._git_checkout(history.source(mini.root), first, ours)
    history.checkout_at(mini.root, "HEAD~1", keep_current=(), into=ours)  # (by git: the same files, marked)
    with monkeypatch.context() as m:
        m.setattr(history, "_git_checkout", lambda src, sha, into: False)  # the archive extracted here
        history.checkout_at(mini.root, "HEAD~1", keep_current=(), into=theirs)
    assert tree(ours) == tree(theirs) and "README.md" not in tree(ours)  # the office's folder only
    assert json.loads((ours / history.MARKER).read_text(encoding="utf-8"))["commit"] == first
    assert git(top, "status", "--porcelain") == ""  # the index and work tree as they were
    code, shared = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD~1")
    monkeypatch.setattr(history, "_git_checkout", lambda src, sha, into: False)  # git cannot: history extracts it
    assert (code, shared) == run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD~1")
    assert code == 0 and "考核总分" in shared
