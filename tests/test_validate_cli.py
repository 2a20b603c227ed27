"""`crmdocs validate`: exit codes, text and JSON output, paths, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import DIARY, PLAN, RETAILER, TODAY, valid_record


def test_valid_repository_exits_0(mini):
    code, out = mini.cli("validate")
    assert code == 0
    assert "0 个错误" in out and "0 errors" in out


def test_an_error_exits_1_with_a_compiler_style_line(mini):
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    code, out = mini.cli("validate")
    line = mini.line_of(PLAN, "r-9999")
    assert code == 1
    assert f"records/{PLAN}:{line}:" in out
    assert ": 错误 error: visits[1].retailer: 找不到零售户 r-9999" in out
    assert "1 个错误" in out


def test_an_unknown_id_one_slip_from_a_known_one_asks_about_it(mini):
    # a hurried 0 left out, a hyphen too many: 找不到零售户 r-001 said nothing more
    def slips(d):
        d["visits"][0]["retailer"] = "r-001"
        d["market_info"][0]["brand"] = "b-hong-tashan"

    mini.edit(DIARY, slips)
    code, out = mini.cli("validate")
    assert code == 1
    assert "visits[0].retailer: 找不到零售户 r-001：是不是 r-0001（李记便利店）？(no such retailer)" in out, out
    assert "market_info[0].brand: 找不到品牌 b-hong-tashan：是不是 b-hongtashan（红塔山（经典））？(no such brand)" in out
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    assert "找不到零售户 r-9999 (no such retailer)" in mini.cli("validate")[1]  # nothing near: no guess


def test_an_unknown_customer_manager_is_asked_about_customer_managers_only(mini):
    # mm-qia is one slip from mm-qian, a market manager: no answer for a customer manager's place
    mini.edit(RETAILER, lambda d: d["management"].update(manager="mm-qia"))
    out = mini.cli("validate")[1]
    assert "找不到客户经理 mm-qia (no such customer manager)" in out and "mm-qian" not in out, out
    mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-wan"))
    assert "找不到客户经理 cm-wan：是不是 cm-wang（王芳）？" in mini.cli("validate")[1]


def test_warnings_alone_exit_0(mini):
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry="2026-09-10"))
    code, out = mini.cli("validate")
    assert code == 0 and "提醒 warning" in out and "1 个提醒" in out


def test_json_format(mini):
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry="2026-09-10"))
    code, out = mini.cli("validate", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["errors"], data["warnings"]) == (1, 1)
    assert data["files"] >= 20
    by_code = {d["code"]: d for d in data["diagnostics"]}
    err = by_code["unknown_retailer"]
    assert err == {
        "path": f"records/{PLAN}",
        "line": mini.line_of(PLAN, "r-9999"),
        "column": err["column"],
        "field": "visits[1].retailer",
        "message": err["message"],
        "severity": "error",
        "code": "unknown_retailer",
    }
    assert err["column"] >= 1 and "r-9999" in err["message"]
    assert by_code["licence_expiring"]["severity"] == "warning"


def test_json_of_a_valid_repository(mini):
    code, out = mini.cli("validate", "--format", "json")
    assert code == 0 and json.loads(out) == {"files": json.loads(out)["files"], "errors": 0, "warnings": 0, "diagnostics": []}


def test_output_is_sorted_and_repeatable(mini):
    mini.edit(DIARY, lambda d: d["review"].update(reviewer="mm-qian"))
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    mini.edit("org/d-west.yaml", lambda d: d.update(parent="k-nowhere"))
    first = mini.cli("validate")
    assert first == mini.cli("validate")
    paths = [line.split(":")[0] for line in first[1].splitlines()[:-1]]
    assert paths == sorted(paths) and len(set(paths)) == 3


def test_paths_restrict_the_report_but_not_the_references(mini):
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    mini.edit("org/d-west.yaml", lambda d: d.update(parent="k-nowhere"))
    code, out = mini.cli("validate", str(mini.records / "plans"))
    assert code == 1 and "r-9999" in out and "k-nowhere" not in out
    code, out = mini.cli("validate", str(mini.records / "diaries"))
    assert code == 0  # the diary's references resolve against every record


def test_today_decides_the_licence_warnings(mini):
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry="2026-09-10"))
    code, out = mini.cli("validate", "--format", "json", today=TODAY)
    assert json.loads(out)["warnings"] == 1
    code, out = mini.cli("validate", "--format", "json", "--today", "2025-01-01", today=None)
    assert json.loads(out)["warnings"] == 0


def test_bad_today_is_a_clean_usage_error(mini):
    code, out = mini.cli("validate", "--today", "2026-02-30", today=None)
    assert code == 2 and "Traceback" not in out and "--today" in out


def test_no_records_folder(tmp_path):
    from conftest import run_cli

    code, out = run_cli("--root", str(tmp_path), "validate")
    assert code == 1 and "records" in out and "Traceback" not in out
    assert "找不到记录目录" in out and "1 个错误" in out  # not also 缺少政策文件 and 缺少工作日历, which follow from it
    assert "缺少政策文件" not in out and "缺少工作日历" not in out


def test_many_files_in_two_processes_report_the_same(mini):
    for i in range(10, 230):
        data = valid_record(RETAILER)
        data["id"] = f"r-{i:04d}"
        data["basic"]["licence_no"] = f"5301021{i:05d}"
        if i == 77:
            data["basic"]["network"] = "city"
        mini.write(f"retailers/d-east/r-{i:04d}.yaml", data)
    one = mini.cli("validate", "--jobs", "1")
    two = mini.cli("validate", "--jobs", "2")
    assert one == two and one[0] == 1 and "r-0077.yaml" in one[1]


def test_the_installed_command(mini):
    """The console script of the venv: exit codes and no traceback."""
    exe = Path(sys.executable).with_name("crmdocs")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "crmdocs.scripts.cli"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    ok = subprocess.run([*cmd, "validate", "--today", TODAY.isoformat()], cwd=mini.root, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    mini.write(DIARY, "manager: cm-li\ndate: 2026-09-01\nvisits: [\n")
    bad = subprocess.run([*cmd, "validate", "--today", TODAY.isoformat()], cwd=mini.root / "records", capture_output=True, text=True, env=env)
    assert bad.returncode == 1
    assert f"records/{DIARY}:" in bad.stdout and "Traceback" not in bad.stdout + bad.stderr


def test_a_path_that_does_not_exist_is_an_error_not_silence(mini):
    code, out = mini.cli("validate", str(mini.records / "plans" / "cm-lii"))
    assert code == 1 and "找不到要检查的文件或目录" in out and "cm-lii" in out and "Traceback" not in out
    assert "；是不是 records/plans/cm-li？" in out, out  # the folder meant, one slip away


def test_a_symbolic_link_to_itself_given_as_the_path_is_a_clear_error(mini):
    # (review7) the hint for a path that is not there resolved it: a link to itself crashed (内部错误 RuntimeError:
    # Symlink loop, exit 70)
    (mini.records / "loopy").symlink_to("loopy")
    code, out = mini.cli("validate", "records/loopy")
    assert code == 1 and "找不到要检查的文件或目录：records/loopy" in out and "内部错误" not in out, out


def test_a_root_that_is_a_symbolic_link_to_itself_is_a_clear_error(tmp_path):
    from conftest import run_cli

    (tmp_path / "loopy").symlink_to("loopy")
    code, out = run_cli("--root", str(tmp_path / "loopy"), "validate")
    assert code == 1 and "无法打开目录" in out and "loopy" in out and "内部错误" not in out, out


def test_a_record_path_typed_in_a_hurry_is_told_the_name_it_should_have(mini):
    code, out = mini.cli("validate", "records/diaries/cm-li/2026/2026-09-1.yaml")
    assert code == 1 and "应为 records/diaries/cm-li/2026/2026-09-01.yaml" in out, out
    code, out = mini.cli("validate", "records/diarys")
    assert code == 1 and "是不是 records/diaries？" in out, out
    code, out = mini.cli("validate", "records/zzz")
    assert code == 1 and "是不是" not in out and "应为" not in out  # nothing near: no guess


def test_each_problem_is_one_line_even_when_the_value_is_not(mini):
    mini.replace(PLAN, "retailer: r-0002", 'retailer: "r-0002\\nsecond line"')
    mini.replace(DIARY, "manager: cm-li", "manager: " + "x" * 5000)
    code, out = mini.cli("validate")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3, out
    assert lines[0].startswith("records/diaries/") and len(lines[0]) < 600
    assert lines[1].startswith(f"records/{PLAN}:") and "⏎" in lines[1]


def test_paths_relative_to_the_root_given_with_root(mini, monkeypatch, tmp_path_factory):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    code, out = mini.cli("validate", "records/plans")
    assert code == 1 and "r-9999" in out
    assert mini.cli("validate", "records/diaries")[0] == 0


def test_a_terminal_that_is_not_utf8_still_gets_the_messages(mini):
    exe = Path(sys.executable).with_name("crmdocs")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "crmdocs.scripts.cli"]
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    done = subprocess.run(
        [*cmd, "--root", str(mini.root), "validate", "--today", TODAY.isoformat()],
        capture_output=True, env={**os.environ, "PYTHONIOENCODING": "latin-1"},
    )
    out = (done.stdout + done.stderr).decode("utf-8")
    assert done.returncode == 1 and "找不到零售户 r-9999" in out and "内部错误" not in out


def test_a_coded_choice_written_in_chinese_says_which_code_to_write(mini):
    mini.edit(RETAILER, lambda d: d["basic"].update(network="城网"))
    code, out = mini.cli("validate")
    assert code == 1
    line = next(x for x in out.splitlines() if "basic.network" in x)
    assert "urban（城网）" in line and "rural（农网）" in line  # was: 只能填 'urban' or 'rural'
    assert "“城网”请写成 urban" in line


def test_a_path_outside_records_is_refused_not_passed(mini, tmp_path):
    (mini.root / "notes.yaml").write_text("a: [1\n", encoding="utf-8")
    code, out = mini.cli("validate", str(mini.root / "notes.yaml"))
    assert code == 1 and "不在" in out and "只检查 records/" in out  # was: exit 0, "0 个错误"
    stray = tmp_path / "elsewhere.yaml"
    stray.write_text("a: 1\n", encoding="utf-8")
    code, out = mini.cli("validate", str(stray))
    assert code == 1 and "不在" in out
    code, out = mini.cli("validate", str(mini.root / "records" / "plans"))
    assert code == 0, out


def test_a_path_outside_any_repository_is_an_error(tmp_path, monkeypatch):
    from conftest import run_cli

    stray = tmp_path / "elsewhere.yaml"
    stray.write_text("a: 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out = run_cli("validate", str(stray))
    assert code == 1 and "records" in out, out


def test_an_id_number_of_the_wrong_shape_says_what_shape(mini):
    mini.edit(RETAILER, lambda d: d["personal"].update(id_number="51152319610207027"))
    code, out = mini.cli("validate")
    line = next(x for x in out.splitlines() if "personal.id_number" in x)
    assert code == 1 and "18 位" in line  # was: 格式不对，读到的是 '…' with no word of what is expected


def test_a_path_relative_to_the_root_given_with_root_is_fine(mini, tmp_path, monkeypatch):
    elsewhere = tmp_path / "other"
    (elsewhere / "records" / "plans").mkdir(parents=True)  # the same relative path exists here too
    monkeypatch.chdir(elsewhere)
    code, out = mini.cli("validate", "records/plans")  # mini.cli passes --root
    assert code == 0, out


def test_a_field_indented_with_a_full_width_space_says_so(mini):
    text = mini.text(DIARY).replace("\ndate:", "\n\u3000date:", 1)
    mini.write(DIARY, text.encode("utf-8"))
    code, out = mini.cli("validate")
    assert code == 1 and "全角空格" in out, out  # was: 不认识这个字段，是写错了名字吗？ for "　date"


def test_chinese_comma_in_a_list_and_full_width_digits_are_named(mini):
    mini.edit(DIARY, lambda d: d["visits"][0]["findings"].update(stock_outs=["b-yunyan，b-hongtashan"]))
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-０００２"))
    code, out = mini.cli("validate")
    assert code == 1
    assert "中文逗号" in next(x for x in out.splitlines() if "stock_outs[0]" in x)
    assert "全角数字" in next(x for x in out.splitlines() if "visits[1].retailer" in x)


def test_chinese_quotes_and_a_full_width_number_are_named(mini):
    # a phone's input method: “09:30” said only 时刻 ““09:30”” 不对; rating: ４ gave no full-width hint
    mini.write(DIARY, mini.text(DIARY).replace('time: "09:30"', "time: “09:30”").replace("time: '09:30'", "time: “09:30”")
               .replace("rating: 4", "rating: ４"))
    code, out = mini.cli("validate")
    assert code == 1
    time = next(x for x in out.splitlines() if "visits[0].time" in x)
    assert "两边用了中文引号，请改成英文引号" in time and time.endswith("(expected a clock time HH:MM)"), time
    rating = next(x for x in out.splitlines() if "review.rating" in x)
    assert "全角数字" in rating and rating.endswith("(expected a number, found text)"), rating
    mini.write(DIARY, mini.text(DIARY).replace("“09:30”", "09：30"))
    time = next(x for x in mini.cli("validate")[1].splitlines() if "visits[0].time" in x)
    assert "中文冒号“：”，请改成英文冒号“:”" in time, time
