"""`crmdocs recalc`: deterministic, atomic writes under records/computed/ only;
`--check` catches hand edits, missing and extra files; `--diff REV` lists what
a policy change does."""

import os
import re
import subprocess

import pytest

from conftest import DIARY, POLICY, RETAILER, run_cli, valid_record
from manager_fixtures import context, run_rules

from crmdocs.scripts import recalc, yamlwrite

MANAGER_FILE = "records/computed/2026-09/managers/cm-li.yaml"


def snapshot(root, inside=True):
    """path → (bytes, mtime) of every file inside (or outside) records/computed/."""
    out = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or ".git" in path.parts or ".cache" in path.parts:  # (git-ignored caches)
            continue
        rel = path.relative_to(root).as_posix()
        if rel.startswith("records/computed/") == inside:
            out[rel] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def test_recalc_writes_manager_and_complaint_records_with_a_header(mini):
    code, out = mini.cli("recalc")
    assert code == 0, out
    for rel in (MANAGER_FILE, "records/computed/2026-Q3/managers/cm-li.yaml", "records/computed/2026/managers/cm-wang.yaml",
                "records/computed/2026-09/complaints.yaml"):
        assert (mini.root / rel).is_file(), rel
    text = (mini.root / MANAGER_FILE).read_text(encoding="utf-8")
    assert text.startswith("# 本文件由 `crmdocs recalc` 计算生成，请勿手工修改")
    assert "&id" not in text and "*id" not in text  # no YAML aliases
    assert "写入" in out


def test_recalc_twice_gives_byte_identical_files_and_touches_nothing_the_second_time(mini):
    assert mini.cli("recalc")[0] == 0
    first = snapshot(mini.root)
    code, out = mini.cli("recalc")
    assert code == 0 and "写入 0 个文件" in out
    assert snapshot(mini.root) == first  # same bytes, same modification times


def test_recalc_never_touches_files_outside_computed(mini):
    before = snapshot(mini.root, inside=False)
    assert mini.cli("recalc")[0] == 0
    assert snapshot(mini.root, inside=False) == before


def test_check_agrees_after_recalc(mini):
    mini.cli("recalc")
    code, out = mini.cli("recalc", "--check")
    assert code == 0, out
    assert "一致" in out


def _console(root, *args):
    """The ``crmdocs`` console script as installed (``cli.entry``), output through a pipe."""
    import sys

    code = "from crmdocs.scripts.cli import entry; entry()"
    done = subprocess.run([sys.executable, "-c", code, "--root", str(root), *args], capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def test_the_console_script_leaving_at_once_still_prints_everything_and_the_right_exit_code(mini):
    """recalc keeps its results for a quick exit (os._exit, no freeing a city's records one by one):
    the output must still be flushed through a pipe, and a failing check still exit 1."""
    mini.cli("recalc")
    code, out = _console(mini.root, "recalc", "--check")
    assert code == 0 and out.rstrip().endswith("computed files agree)")
    path = mini.root / MANAGER_FILE
    path.write_text(path.read_text(encoding="utf-8") + "extra: 1\n", encoding="utf-8")
    code, out = _console(mini.root, "recalc", "--check")
    assert code == 1 and MANAGER_FILE in out and "手工修改" in out


def test_python_dash_m_leaves_as_quickly_as_the_console_script(mini, tmp_path):
    """`python -m crmdocs.scripts.cli` (as the benchmark runs it) takes the same quick exit after
    recalc: an exit handler must not run (os._exit), and the output and exit code are whole."""
    import os
    import sys

    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(
        "import atexit, sys\natexit.register(lambda: sys.stderr.write('FREED-ONE-BY-ONE\\n'))\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "hook"), os.environ.get("PYTHONPATH")]))}
    mini.cli("recalc")
    done = subprocess.run([sys.executable, "-m", "crmdocs.scripts.cli", "--root", str(mini.root), "recalc", "--check"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("computed files agree)")
    assert "FREED-ONE-BY-ONE" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "crmdocs.scripts.cli", "--root", str(mini.root), "validate"],
                          capture_output=True, text=True, env=env)
    assert "FREED-ONE-BY-ONE" in done.stderr  # (the hook works: a command that keeps nothing exits normally)


def test_in_process_main_frees_what_a_command_kept(mini):
    from crmdocs.scripts import cli

    assert mini.cli("recalc")[0] == 0
    assert cli.KEEP == []


def test_check_catches_a_hand_edit_and_names_the_file_and_line(mini):
    mini.cli("recalc")
    path = mini.root / MANAGER_FILE
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("total:"))
    path.write_text(text.replace(lines[number - 1], lines[number - 1].split(":")[0] + ": 99.0"), encoding="utf-8")
    code, out = mini.cli("recalc", "--check")
    assert code == 1
    assert f"{MANAGER_FILE}:{number}:" in out
    assert "手工修改" in out and "total: 99.0" in out
    assert "1 个文件" in out
    # (review7) it said 请运行 crmdocs recalc 并提交, a commit the audit refuses ([ci_only]: records/computed is CI's)
    assert "并提交" not in out and "由 CI 运行 crmdocs recalc 提交" in out and "audit" in out, out


def test_check_catches_stale_missing_and_extra_files(mini):
    mini.cli("recalc")
    (mini.root / "records/computed/2026-09/complaints.yaml").unlink()
    extra = mini.root / "records/computed/2025-01/managers/cm-old.yaml"
    extra.parent.mkdir(parents=True)
    extra.write_text("total: 1\n", encoding="utf-8")
    mini.edit("targets/2026-09.yaml", lambda d: d["targets"][0].update(sales=20))  # records changed, no recalc
    code, out = mini.cli("recalc", "--check")
    assert code == 1
    assert "records/computed/2026-09/complaints.yaml: 缺少" in out
    assert "records/computed/2025-01/managers/cm-old.yaml: 多出" in out
    assert f"{MANAGER_FILE}:" in out  # stale: the sales score changed


def test_recalc_removes_files_no_longer_produced_and_leftover_temp_files(mini):
    mini.cli("recalc")
    old = mini.root / "records/computed/2025-01/managers/cm-old.yaml"
    old.parent.mkdir(parents=True)
    old.write_text("x: 1\n", encoding="utf-8")
    leftover = mini.root / "records/computed/2026-09/.complaints.yaml.abc.tmp"  # a killed run's temp file
    leftover.write_text("half", encoding="utf-8")
    code, out = mini.cli("recalc")
    assert code == 0
    assert "删除 records/computed/2025-01/managers/cm-old.yaml" in out
    assert not old.exists() and not (mini.root / "records/computed/2025-01").exists()
    assert not leftover.exists()


def test_recalc_refuses_to_compute_on_records_with_errors(mini):
    mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-nobody"))
    code, out = mini.cli("recalc")
    assert code == 1
    assert "records/retailers/d-east/r-0001.yaml" in out and "先改正" in out
    assert "Traceback" not in out
    assert not (mini.root / "records/computed").exists()


def test_recalc_in_a_folder_that_does_not_exist_says_so(tmp_path):
    code, out = run_cli("--root", str(tmp_path / "nowhere"), "recalc", "--check")
    assert code == 1
    assert "找不到记录目录" in out
    assert "内部错误" not in out and "Traceback" not in out


def test_a_killed_run_leaves_every_old_file_whole(mini, monkeypatch):
    mini.cli("recalc")
    old = snapshot(mini.root)
    mini.edit("targets/2026-09.yaml", lambda d: d.update(targets=[{**t, "sales": 20} for t in d["targets"]]))
    calls = {"n": 0}
    real = os.replace

    def killed(src, dst):
        if "/.cache/" in str(dst):  # the loading's caches are not the files written
            return real(src, dst)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the run is stopped between two files
        real(src, dst)

    monkeypatch.setattr(yamlwrite.os, "replace", killed)
    computed = recalc.compute(mini.root, handed_in=None)
    texts = recalc.render(computed)
    with pytest.raises(KeyboardInterrupt):
        recalc.write(mini.root, texts)
    monkeypatch.undo()
    now = snapshot(mini.root)
    assert set(now) == set(old)  # nothing half-written, no temp file left behind
    kinds = []
    for rel, (data, _) in now.items():
        new_text = texts[rel[len("records/computed/"):]].encode("utf-8")
        assert data in (old[rel][0], new_text), rel
        if new_text != old[rel][0]:
            kinds.append("new" if data == new_text else "old")
    assert kinds.count("new") == 1 and "old" in kinds  # stopped after the first file, before the second
    assert mini.cli("recalc")[0] == 0
    assert mini.cli("recalc", "--check")[0] == 0


# ---------------------------------------------------------------- --diff


def git(root, *args):
    return subprocess.run(
        ["git", "-c", "user.name=测试", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout


def test_diff_against_a_revision_whose_policy_differs(mini):
    (mini.root / ".gitignore").write_text("/.cache/\n", encoding="utf-8")  # as an office's repository has
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records")
    git(mini.root, "commit", "-q", "-m", "records")
    # the sales floor goes from 60 % to 0 %: cm-li sold 15 of 500 (3 %) → 0 points before, 30 × 3 % = 0.9 after
    mini.edit(POLICY, lambda d: d.update(appraisal={"indicators": {
        "sales": {"points": 30, "floor": 0.0}, "key_brands": {"points": 20, "floor": 0.6},
        "plan_execution": {"points": 15, "floor": 0.5}, "coverage": {"points": 10},
        "diary_on_time": {"points": 10}, "satisfaction": {"points": 10}, "information": {"points": 5},
    }}))
    status = git(mini.root, "status", "--porcelain")
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0, out
    # cm-wang sold 8 of 400 (2 %) → 30 × 2 % = 0.6 more, scaled up (indicators without input): both change
    assert "2026-09：考核总分变化 2 人" in out
    line = next(li for li in out.splitlines() if li.strip().startswith("2026-09 客户经理 cm-li 李明："))
    assert "考核总分" in line and "（+0.9）" in line
    assert "覆盖" not in out and "visits" not in out  # only what a reviewer of a policy change needs
    assert git(mini.root, "status", "--porcelain") == status  # the working tree is left as it was
    assert not (mini.root / "records/computed").exists()


def test_diff_with_no_policy_change_says_so(mini):
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records")
    git(mini.root, "commit", "-q", "-m", "records")
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0 and "没有变化" in out


def test_diff_with_an_unknown_revision_is_a_clean_error(mini):
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records")
    git(mini.root, "commit", "-q", "-m", "records")
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "no-such-rev")
    assert code == 1
    assert "no-such-rev" in out and "Traceback" not in out


def test_compare_shows_grade_recommendation_changes_not_their_wording(mini):
    import datetime as dt

    ctx = context(mini, as_of=dt.date(2026, 9, 1))
    old = run_rules(ctx, "visits", "complaints", "appraisals")
    new = {k: v.model_copy(deep=True) for k, v in old.items()}
    q = new["2026-Q3/managers/cm-li.yaml"]
    q.grade.action, q.grade.to, q.grade.rule = "promote", "level-2", "另一种说法"
    changes = recalc.compare(old, new)
    assert [(c.file, c.field, c.old, c.new) for c in changes] == [
        ("2026-Q3/managers/cm-li.yaml", "grade.action", "none", "promote"),
        ("2026-Q3/managers/cm-li.yaml", "grade.to", None, "level-2"),
    ]


def test_review_counts_class_moves_up_and_down_and_names_who(mini):
    import datetime as dt

    from pydantic import BaseModel

    class Table(BaseModel):
        retailers: dict[str, dict]

    old = {"2026-10/classes/d-east.yaml": Table(retailers={"r-0001": {"class": "c", "tier": 10}, "r-0002": {"class": "b"}}),
           "2026-11/classes/d-east.yaml": Table(retailers={"r-0001": {"class": "c", "tier": 10}, "r-0002": {"class": "b"}})}
    new = {"2026-10/classes/d-east.yaml": Table(retailers={"r-0001": {"class": "c", "tier": 10}, "r-0002": {"class": "b"}}),
           "2026-11/classes/d-east.yaml": Table(retailers={"r-0001": {"class": "b", "tier": 12}, "r-0002": {"class": "d"}})}
    ctx = context(mini, as_of=dt.date(2026, 9, 1))
    before = run_rules(ctx, "visits", "complaints", "appraisals")
    after = {k: v.model_copy(deep=True) for k, v in before.items()}
    after["2026-Q3/managers/cm-li.yaml"].grade.action = "promote"
    old.update(before)
    new.update(after)
    lines = recalc.review(old, new, ["a", "b", "c", "d", "e"])
    text = "\n".join(lines)
    assert "2026-11：分类变化 2 户（升 1，降 1）；档位变化 1 户（升 1，降 0）" in text
    assert "2026-Q3：等级建议变化 1 人" in text
    assert "2026-11 零售户 r-0001：分类 c → b；档位 10 → 12（+2）" in text
    assert "2026-Q3 客户经理 cm-li：等级建议 none → promote" in text
    assert "2026-10" not in text  # nothing changed there


def test_hand_in_times_come_from_git_and_the_imported_csv(mini):
    from manager_fixtures import diary

    def commit(when, *paths):
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        subprocess.run(["git", "add", *paths], cwd=mini.root, check=True)
        subprocess.run(["git", "-c", "user.name=李明", "-c", "user.email=cm-li@example.com", "-c", "commit.gpgsign=false",
                        "commit", "-q", "-m", "x"], cwd=mini.root, check=True, env=env)

    git(mini.root, "init", "-q")
    commit("2026-09-01T08:00:00+08:00", "records")  # plan and diary of 09-01: on time
    diary(mini, "cm-li", "2026-09-02", ["r-0001"])
    commit("2026-09-03T10:00:00+08:00", "records")  # due 09-03 09:00 → 1 hour late
    code, out = mini.cli("recalc")
    assert code == 0, out
    data = mini.read("computed/2026-09/managers/cm-li.yaml")
    diaries = data["visits"]["diaries"]
    assert (diaries["on_time"], diaries["late"], diaries["unknown"]) == (1, 1, 0)
    late = diaries["items"][0]
    assert (late["date"], late["status"], late["hours_late"]) == ("2026-09-02", "late", 1.0)
    assert data["visits"]["plans"]["on_time"] == 1
    # a time imported from the old system wins over the commit time
    mini.write("handed-in.csv", "path,time\nrecords/plans/cm-li/2026/2026-09-01.yaml,2026-09-01 08:45\n")
    assert mini.cli("recalc")[0] == 0
    plans = mini.read("computed/2026-09/managers/cm-li.yaml")["visits"]["plans"]
    assert (plans["late"], plans["items"][0]["hours_late"]) == (1, 0.25)


def test_diff_against_a_target_change_and_a_revision_that_is_not_there(mini):
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records")
    git(mini.root, "commit", "-q", "-m", "records")
    mini.edit("targets/2026-09.yaml", lambda d: d["targets"][0].update(sales=15))  # cm-li: 15 of 15 → full marks
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0, out
    assert "2026-09 客户经理 cm-li 李明：考核总分" in out
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "nope")
    assert code == 1 and "找不到版本 'nope'" in out


def test_written_files_leave_out_empty_fields_and_derivable_text_with_pyyaml_s_bytes():
    import datetime as dt

    from crmdocs.schemas.computed_retailers import AbnormalFile, AbnormalOrder, BrandLine

    order = AbnormalOrder(date=dt.date(2026, 9, 3), retailer="r-0001", name="李记", rule="above_upper", brand="b-1",
                          quantity=12, limit=9, message="b-1 订购 12 条，超过该品牌上限 9 条")
    record = AbnormalFile(month="2026-09", manager="cm-li", count=1, weeks={"2026-W36": [order]})
    text = recalc.render_record(record)
    assert "null" not in text and "mean" not in text  # empty fields are not written
    assert "message" not in text and "超过" not in text  # the explanation stays on the site
    # one flagged order, one line
    assert ("  2026-W36:\n  - {date: 2026-09-03, retailer: r-0001, name: 李记, rule: above_upper, brand: b-1, "
            "quantity: 12, limit: 9}\n") in text
    assert text == yamlwrite._pyyaml_dumps(
        recalc._rows(record, record.model_dump(mode="python", by_alias=True, exclude_none=True)), recalc.HEADER)
    assert order.message.startswith("b-1 订购")  # still there for the site
    line = BrandLine(quantity=10, share=0.5, main=True, turnover=1.25, lower=1, upper=2)
    assert line.main and "share" not in recalc.render_record(line)


def test_the_plain_writer_writes_pyyaml_s_bytes_for_awkward_scalars():
    import datetime as dt

    data = {"a": 1.0, "b": 0.1 + 0.2, "c": 1e-07, "d": float("nan"), "e": -2.5, "f": 1e16, "g": True, "h": None,
            "i": "0832", "j": "yes", "k": "李记", "l": "", "m": dt.date(2026, 9, 1), "n": [1, "x: y", 3.25],
            "o": {}, "p": [], "q": {"r": [{"s": 1, "t": {"u": "v"}}]}, 2: "two", "w": "a\nb"}
    assert yamlwrite.dumps_plain(data) == yamlwrite._pyyaml_dumps(data)
    del data["w"]
    assert yamlwrite.dumps_plain(data) == yamlwrite._pyyaml_dumps(data)


def test_forked_workers_write_and_check_the_same_bytes_as_one_process(mini, monkeypatch):
    computed = recalc.compute(mini.root, handed_in=None)
    texts = recalc.render(computed)
    monkeypatch.setattr(recalc, "_PARALLEL_FILES", 1)
    result = recalc.settle(mini.root, computed, write_files=True, jobs=2)
    assert sorted(result.written) == sorted(texts) and result.unchanged == 0
    assert recalc.check(mini.root, texts) == []
    assert recalc.settle(mini.root, computed, write_files=True, jobs=2).unchanged == len(texts)
    manager = mini.root / MANAGER_FILE
    lines = manager.read_text(encoding="utf-8").splitlines(keepends=True)
    manager.write_text("".join(lines[:4] + ["edited: by hand\n"] + lines[4:]), encoding="utf-8")
    (manager.parent / "extra.yaml").write_text("x: 1\n", encoding="utf-8")
    found = recalc.settle(mini.root, computed, write_files=False, jobs=2)
    assert [(d.path, d.kind) for d in found] == [(d.path, d.kind) for d in recalc.check(mini.root, texts)]
    assert [(d.path, d.kind) for d in found] == [
        (MANAGER_FILE.rsplit("/", 1)[0] + "/cm-li.yaml", "differs"), (MANAGER_FILE.rsplit("/", 1)[0] + "/extra.yaml", "extra")]
    assert found[0].line == 5 and found[0].found == "edited: by hand"
    assert recalc.settle(mini.root, computed, write_files=True, jobs=2).removed == ["2026-09/managers/extra.yaml"]


def test_limits_are_written_one_row_per_brand_with_pyyaml_s_bytes():
    import datetime as dt

    from crmdocs.schemas.computed_retailers import BrandLine, LimitLine, LimitsDerivation, LimitsFile, Window

    line = BrandLine(quantity=7, share=0.1, main=True, turnover=0.88, lower=0, upper=2)
    item = LimitsDerivation(name="李记", lower_factor=0.8, upper_factor=1.2, k=1.0, k_source="default",
                            basis="history", weeks=8, total=LimitLine(quantity=84, turnover=10.5, lower=8, upper=12),
                            brands={"b-1": line, "b-2": BrandLine(quantity=3, share=0.05, main=True, turnover=0.38)})
    record = LimitsFile(month="2026-11", department="d-1", week="2026-W48",
                        window=Window(start=dt.date(2026, 9, 28), end=dt.date(2026, 11, 22)), weeks=8,
                        lower_limits=True, brand_limits=True, retailers={"r-1": item})
    text = recalc.render_record(record)
    assert "    total: {quantity: 84, turnover: 10.5, lower: 8, upper: 12}\n" in text
    assert "      b-1: {quantity: 7, turnover: 0.88, lower: 0, upper: 2}\n      b-2: {quantity: 3, turnover: 0.38}\n" in text
    data = recalc._rows(record, record.model_dump(mode="python", by_alias=True, exclude_none=True))
    assert text == yamlwrite._pyyaml_dumps(data, recalc.HEADER) == yamlwrite.dumps(data, recalc.HEADER)
    from crmdocs.scripts import yamlio

    back = yamlio.parse(text)
    assert back["retailers"]["r-1"]["brands"]["b-1"] == {"quantity": 7, "turnover": 0.88, "lower": 0, "upper": 2}


def test_flow_rows_take_chinese_words_and_leave_other_text_to_pyyaml():
    row = yamlwrite.FlowMap(market="乡村", format="食杂店", scale="小", share=0.0005, ahead=3)
    assert yamlwrite.dumps_plain({"base": row}) == "base: {market: 乡村, format: 食杂店, scale: 小, share: 0.0005, ahead: 3}\n"
    for awkward in ("a, b", "x: y", "{z}", "0832", "yes", ""):
        data = {"base": yamlwrite.FlowMap(market=awkward, n=1)}
        assert yamlwrite.dumps_plain(data) == yamlwrite._pyyaml_dumps(data), awkward


def _new_office(tmp_path):
    """Policy and calendar only: no plan, diary, complaint or sales yet."""
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "office"
    (root / "records" / "calendar").mkdir(parents=True)
    shutil.copy(repo / "records" / "policy.yaml", root / "records" / "policy.yaml")
    shutil.copy(repo / "records" / "calendar" / "2026.yaml", root / "records" / "calendar" / "2026.yaml")
    return root


def test_a_new_office_is_told_there_is_nothing_dated_yet_not_the_stand_in_day(tmp_path):
    root = _new_office(tmp_path)
    code, out = run_cli("--root", str(root), "recalc")
    assert code == 0 and "尚无带日期的记录" in out and "2000-01-01" not in out
    code, out = run_cli("--root", str(root), "export", "appraisals", "--out", str(tmp_path / "a.xlsx"))
    assert code == 1 and "还没有带日期的记录" in out and "2000-01" not in out and "内部错误" not in out


def test_all_without_diff_is_refused_not_a_writing_recalc(mini):
    """--all only widens --diff's list; alone it ran a whole recalc that wrote records/computed/."""
    code, out = mini.cli("recalc", "--all")
    assert code == 1 and "--diff" in out
    assert not (mini.root / "records" / "computed").exists()



def test_review_of_a_moved_last_day_reports_no_class_or_tier_change():
    """A diary of a new month moves the records' last day: the old month keeps its published lists without
    the full derivations and the limits in force move to the new month. --diff said 档位变化 898 户（升 0，降 898）
    and 分类变化 898 户 for a month whose lists were unchanged, and counted a new month's tiers as going down."""
    from pydantic import BaseModel

    class Table(BaseModel):
        classes: dict[str, str] = {}
        tiers: dict[str, int] = {}
        retailers: dict[str, dict] = {}

    full = {"r-0001": {"class": "c", "tier": 10, "lower": 3}, "r-0002": {"class": "b", "tier": 12, "lower": 4}}
    old = {"2026-11/classes/d-east.yaml": Table(classes={"r-0001": "c", "r-0002": "b"}, retailers=full),
           "2026-11/tiers/d-east.yaml": Table(tiers={"r-0001": 10, "r-0002": 12}, retailers=full),
           "2026-11/limits/d-east.yaml": Table(retailers=full)}
    new = {"2026-11/classes/d-east.yaml": Table(classes={"r-0001": "c", "r-0002": "b"}),
           "2026-11/tiers/d-east.yaml": Table(tiers={"r-0001": 10, "r-0002": 12}),
           "2026-12/classes/d-east.yaml": Table(classes={"r-0001": "c", "r-0002": "b"}, retailers=full),
           "2026-12/tiers/d-east.yaml": Table(tiers={"r-0001": 10, "r-0002": 12}, retailers=full),
           "2026-12/limits/d-east.yaml": Table(retailers=full)}
    assert recalc.review(old, new, ["a", "b", "c", "d", "e"]) == []
    new["2026-11/tiers/d-east.yaml"].tiers["r-0001"] = 9
    text = "\n".join(recalc.review(old, new, ["a", "b", "c", "d", "e"]))
    assert "2026-11：档位变化 1 户（升 0，降 1）" in text and "2026-12" not in text, text


def test_diff_names_classes_people_and_shops_as_the_site_does(mini):
    # it said 零售户 r-0001：分类 d → c and 客户经理 cm-li where the site and explain say D 类, 李明, 李记便利店
    (mini.root / ".gitignore").write_text("/.cache/\n", encoding="utf-8")
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records")
    git(mini.root, "commit", "-q", "-m", "records")
    mini.edit(POLICY, lambda d: d.update(classes={"rule": {"mode": "composite", "classes": [
        {"id": "a", "name": "A 类", "min": 40}, {"id": "b", "name": "B 类", "min": 30}, {"id": "c", "name": "C 类", "min": 20},
        {"id": "d", "name": "D 类", "min": 10}, {"id": "e", "name": "E 类", "min": 0}]}}))
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD", "--all")
    assert code == 0, out
    line = next(li for li in out.splitlines() if "零售户 r-0001" in li and "分类" in li)
    assert re.search(r"零售户 r-0001 李记便利店：分类 [A-E] 类 → [A-E] 类", line), line


def test_diff_says_when_the_day_everything_stands_on_moved(mini):
    # (review7) a pull request adding one diary of a later day moved as_of: the demo's --diff then listed
    # 限量变化 628 户 and six other managers' scores changed, with no word of why (the records' last day moved)
    (mini.root / ".gitignore").write_text("/.cache/\n", encoding="utf-8")
    git(mini.root, "init", "-q")
    git(mini.root, "add", "records")
    git(mini.root, "commit", "-q", "-m", "records")
    mini.edit(POLICY, lambda d: d.update(appraisal={"indicators": {  # a change that shows in the list
        "sales": {"points": 30, "floor": 0.0}, "key_brands": {"points": 20, "floor": 0.6},
        "plan_execution": {"points": 15, "floor": 0.5}, "coverage": {"points": 10},
        "diary_on_time": {"points": 10}, "satisfaction": {"points": 10}, "information": {"points": 5},
    }}))
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0 and "考核总分" in out and "计算日" not in out, out  # the same day: nothing to say
    diary = valid_record(DIARY)
    diary["date"] = "2026-09-30"
    diary.pop("review", None)
    mini.write("diaries/cm-li/2026/2026-09-30.yaml", diary)
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD")
    assert code == 0, out
    assert re.search(r"计算日 2026-09-\d\d → 2026-09-30（记录里最后一天）", out), out
