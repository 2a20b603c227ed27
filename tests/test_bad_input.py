"""The bad-input corpus (``tests/bad/``): every case placed into a valid
repository ends in a clear message naming the file (and the line, where the
file has lines), exit 1, and never a traceback.

Cases that must not be committed (a 50 MB file, a directory where a file
should be, symlinks out of the repository) are made by the tests themselves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TODAY, run_cli

BAD = Path(__file__).parent / "bad"

# case file → (where it goes under records/, line expected or None for a whole-file problem, words expected)
CASES: dict[str, tuple[str, int | None, str]] = {
    "malformed.yaml": ("org/d-bad.yaml", 5, "没有配对"),
    "tabs.yaml": ("people/cm-tab.yaml", 7, "Tab"),
    "bom-with-error.yaml": ("brands/b-bom.yaml", 3, "price_class"),
    "gbk.yaml": ("retailers/d-east/r-0100.yaml", 5, "GBK"),
    "utf16.yaml": ("brands/b-utf16.yaml", 1, "UTF-16"),
    "duplicate-keys.yaml": ("brands/b-dup.yaml", 4, "写了两次"),
    "billion-laughs.yaml": ("org/d-lol.yaml", 2, "锚点"),
    "empty.yaml": ("brands/b-empty.yaml", 1, "文件是空的"),
    "impossible-date.yaml": ("plans/cm-li/2026/2026-09-02.yaml", 2, "2026-02-30"),
    "text-as-number.yaml": ("retailers/d-east/r-0101.yaml", 14, "引号"),
    "number-as-text.yaml": ("brands/b-numtext.yaml", 3, "不要加引号"),
    "dotdot-id.yaml": ("plans/cm-li/2026/2026-09-03.yaml", 5, "visits[1].retailer"),
    "dotdot-manager.yaml": ("diaries/cm-li/2026/2026-09-03.yaml", 1, "manager"),
    "control-char.yaml": ("org/d-ctrl.yaml", 2, "控制字符"),
    "not-a-mapping.yaml": ("org/d-list.yaml", 1, "字段: 值"),
    "multi-document.yaml": ("org/d-multi.yaml", 5, "---"),
    "python-tag.yaml": ("org/d-python.yaml", 2, "标签"),
    "deep-nesting.yaml": ("org/d-deep.yaml", 2, "嵌套太深"),
    "infinity.yaml": ("brands/b-inf.yaml", 4, "普通数字"),
    "fullwidth-colon.yaml": ("diaries/cm-li/2026/2026-09-04.yaml", 5, "中文冒号"),
    "indentation.yaml": ("diaries/cm-li/2026/2026-09-07.yaml", 6, "缩进不对"),
    "indented-too-far.yaml": ("diaries/cm-li/2026/2026-09-08.yaml", 6, "缩进"),
    "sales-gbk.csv": ("sales/2026-06.csv", 3, "UTF-8"),
    "sales-columns.csv": ("sales/2026-07.csv", 1, "date,retailer,brand,quantity,amount"),
    "sales-rows.csv": ("sales/2026-08.csv", 3, "quantity"),
    "sales-corrupt.csv.gz": ("sales/2026-10.csv.gz", None, "gzip"),
}


def _place(mini, case: str) -> str:
    target = CASES[case][0]
    mini.path(target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BAD / case, mini.path(target))
    return f"records/{target}"


def _assert_clean_failure(code: int, out: str) -> None:
    assert code == 1, out
    assert "Traceback" not in out and "Error:" not in out.replace("错误 error:", ""), out
    assert "内部错误" not in out, out  # the CLI's last-resort handler hides a bug, never bad input


def test_every_corpus_file_has_a_case():
    assert sorted(p.name for p in BAD.iterdir() if p.name != "README.md") == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_gives_a_clear_message(mini, case):
    rel = _place(mini, case)
    _, line, words = CASES[case]
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    mine = [x for x in out.splitlines() if x.startswith(rel + ":")]
    assert mine, out
    where = f"{rel}:{line}:" if line else f"{rel}:"
    assert any(x.startswith(where) for x in mine), out
    assert words in "\n".join(mine), out


def test_bom_alone_is_fine(mini):
    text = mini.text("brands/b-yunyan.yaml")
    mini.write("brands/b-yunyan.yaml", "\ufeff".encode() + text.encode())
    assert mini.cli("validate")[0] == 0


def test_every_case_at_once_through_the_installed_command(mini):
    """One repository holding the whole corpus: all reported in one run, by the real console script."""
    for case in CASES:
        _place(mini, case)
    exe = Path(sys.executable).with_name("crmdocs")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from crmdocs.scripts.cli import main; raise SystemExit(main())"]
    done = subprocess.run(
        [*cmd, "--root", str(mini.root), "validate", "--today", TODAY.isoformat()],
        capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120,
    )
    out = done.stdout + done.stderr
    _assert_clean_failure(done.returncode, out)
    for case, (target, _, _) in CASES.items():
        assert f"records/{target}:" in out, case


def _validate_in_1_gb(mini, timeout: int) -> subprocess.CompletedProcess:
    """``crmdocs validate`` of ``mini`` in a child process limited to 1 GB of address space."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from crmdocs.scripts.cli import main\n"
        f"sys.exit(main(['--root', {str(mini.root)!r}, 'validate', '--today', '2026-09-01']))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_billion_laughs_does_not_exhaust_memory(mini):
    """Under a 1 GB address-space limit the expansion (10^10 strings) would die; the check refuses it first."""
    _place(mini, "billion-laughs.yaml")
    done = _validate_in_1_gb(mini, timeout=60)
    out = done.stdout + done.stderr
    _assert_clean_failure(done.returncode, out)
    assert "records/org/d-lol.yaml:2:" in out


# ---------------------------------------------------------------- made by the tests


def test_a_50_mb_file(mini):
    big = mini.path("diaries/cm-li/2026/2026-09-02.yaml")
    with open(big, "wb") as fh:
        fh.write(b"manager: cm-li\ndate: 2026-09-02\nbusiness_analysis: |\n")
        line = ("  " + "经营正常" * 20 + "\n").encode()
        fh.write(line * (50 * 1024 * 1024 // len(line)))
    assert big.stat().st_size >= 50 * 1024 * 1024 - 1024
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/diaries/cm-li/2026/2026-09-02.yaml: 错误 error: 文件太大" in out


def test_a_directory_where_a_file_should_be(mini):
    mini.delete("brands/b-yunyan.yaml")
    mini.path("brands/b-yunyan.yaml").mkdir()
    (mini.path("brands/b-yunyan.yaml") / "oops.yaml").write_text("id: x\n")
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/brands/b-yunyan.yaml: 错误 error: 这里应是文件，却是一个目录" in out


def test_policy_as_a_directory(mini):
    mini.delete("policy.yaml")
    mini.path("policy.yaml").mkdir()
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/policy.yaml: 错误 error: 这里应是文件" in out


def test_a_symlink_out_of_the_repository(mini, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.yaml"
    outside.write_text("id: r-0009\n")
    mini.path("retailers/d-east/r-0009.yaml").symlink_to(outside)
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/retailers/d-east/r-0009.yaml: 错误 error: 链接指向仓库之外" in out
    assert "secret" not in out.split("链接指向仓库之外")[0]


def test_a_directory_symlink_out_of_the_repository(mini, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "r-0009.yaml").write_text("id: r-0009\n")
    mini.path("retailers/d-far").symlink_to(outside, target_is_directory=True)
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/retailers/d-far: 错误 error: 目录链接不读取" in out
    assert "r-0009" not in out


def test_a_symlink_inside_the_repository_is_read(mini):
    mini.path("brands/b-yunyan.yaml").rename(mini.root / "b-yunyan.yaml")
    mini.path("brands/b-yunyan.yaml").symlink_to(mini.root / "b-yunyan.yaml")
    assert mini.cli("validate")[0] == 0


def test_hidden_and_temporary_files_are_not_records(mini):
    mini.write("brands/.b-yunyan.yaml.x1y2.tmp", "garbage: [")
    mini.write("brands/.hidden.yaml", "garbage: [")
    mini.write("retailers/d-east/notes.txt", "随手记")
    assert mini.cli("validate")[0] == 0


def test_unreadable_file(mini):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    mini.path("brands/b-yunyan.yaml").chmod(0)
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/brands/b-yunyan.yaml: 错误 error: 读不了" in out


def test_record_outside_records_is_not_read(mini):
    mini.write("../elsewhere.yaml", "garbage: [")
    assert mini.cli("validate")[0] == 0


def test_no_traceback_when_the_root_does_not_exist(tmp_path):
    code, out = run_cli("--root", str(tmp_path / "nowhere"), "validate")
    _assert_clean_failure(code, out)


@pytest.mark.parametrize(
    "argv",
    [["recalc"], ["recalc", "--check"], ["explain", "manager", "cm-li"], ["explain", "retailer", "../r-0001"], ["export", "appraisals", "--out", "{tmp}/a.xlsx"]],
    ids=lambda argv: "-".join(a for a in argv if "{" not in a),
)
def test_other_commands_refuse_the_corpus_cleanly(mini, tmp_path, argv):
    for case in CASES:
        _place(mini, case)
    code, out = run_cli("--root", str(mini.root), *[a.format(tmp=tmp_path) for a in argv])
    assert code != 0 and "Traceback" not in out and "内部错误" not in out, out
    assert not (tmp_path / "a.xlsx").exists()  # nothing half-made from broken records


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"format": 1, "version": "x", "files": 7}', b"\x00\xff" * 100, b"[]"])
def test_a_corrupt_validation_cache_is_ignored(mini, garbage):
    mini.edit("plans/cm-li/2026/2026-09-01.yaml", lambda d: d["visits"][1].update(retailer="r-9999"))
    first = mini.cli("validate")
    from crmdocs.scripts.cache import CACHE_FILE

    cache = mini.root / CACHE_FILE
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(garbage)
    again = mini.cli("validate")
    assert again == first and again[0] == 1 and "Traceback" not in again[1]


def test_cache_directory_where_the_cache_file_should_be(mini):
    from crmdocs.scripts.cache import CACHE_FILE

    (mini.root / CACHE_FILE).mkdir(parents=True)
    code, out = mini.cli("validate")
    assert code == 0 and "Traceback" not in out


def test_sales_numbers_too_large_for_any_shop(mini):
    rel = mini.write(
        "sales/2026-09.csv",
        "date,retailer,brand,quantity,amount\n2026-09-02,r-0001,b-yunyan,99999999999999999999,100.0\n"
        "2026-09-02,r-0001,b-yunyan,3,1e999\n2026-09-02,r-0001,b-yunyan,3,nan\n",
    )
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    for line in (2, 3, 4):
        assert f"{rel}:{line}:4: 错误 error: quantity: 数量或金额大得不可能" in out


def test_a_million_bad_sales_rows_give_a_short_report(mini):
    row = "2026-09-02,r-0001,b-yunyan,lots,100.0\n"
    rel = mini.write("sales/2026-09.csv", "date,retailer,brand,quantity,amount\n" + row * 200_000)
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert len(out.splitlines()) < 100
    assert f"{rel}:2:4: 错误 error: quantity:" in out
    assert "还有 199950 行有错" in out


def test_an_unexpected_bug_is_one_line_not_a_traceback(mini, monkeypatch):
    from crmdocs.scripts import cli

    def boom(args):
        raise ZeroDivisionError("division by zero")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), boom))
    code, out = mini.cli("validate")
    assert code == 70 and "内部错误 ZeroDivisionError" in out and "CRMDOCS_DEBUG" in out and "Traceback" not in out
    monkeypatch.setenv("CRMDOCS_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        mini.cli("validate")


def _with_func(parser, func):
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    sub.choices["validate"].set_defaults(func=func)
    return parser


def test_symlink_loop_and_dangling_symlink(mini):
    mini.path("people/loop.yaml").symlink_to(mini.path("people/loop.yaml"))
    mini.path("people/dangling.yaml").symlink_to(mini.path("people/nobody.yaml"))
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/people/loop.yaml: 错误 error: 链接指向不存在的文件或自身" in out
    assert "records/people/dangling.yaml: 错误 error: 链接指向不存在的文件或自身" in out


def test_a_fifo_is_not_read(mini):
    os.mkfifo(mini.path("brands/b-fifo.yaml"))  # reading it would block for ever
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    assert "records/brands/b-fifo.yaml: 错误 error: 这不是普通文件" in out


def test_hidden_directories_are_not_records(mini):
    mini.write(".trash/r-0001.yaml", "garbage: [")
    mini.write("people/.old/cm-x.yaml", "garbage: [")
    assert mini.cli("validate")[0] == 0


def test_file_and_folder_names_that_are_not_utf8(mini):
    people = os.fsencode(mini.path("people"))
    with open(people + b"/\xd5\xc5\xc8\xfd.yaml", "wb") as fh:  # 张三 in GBK
        fh.write(b"id: x\n")
    os.mkdir(people + b"/\xb3\xc7\xb6\xab")  # 城东 in GBK
    for fmt in ("text", "json"):
        code, out = mini.cli("validate", "--format", fmt)
        _assert_clean_failure(code, out)
        assert out.count("不是 UTF-8") == 2


def test_a_huge_list_of_wrong_items_gives_a_short_report(mini):
    rel = mini.write("plans/cm-li/2026/2026-09-02.yaml", "manager: cm-li\ndate: 2026-09-02\nvisits: [" + ",".join(["1"] * 20_000) + "]\n")
    code, out = mini.cli("validate")
    _assert_clean_failure(code, out)
    mine = [line for line in out.splitlines() if line.startswith(rel)]
    assert len(mine) == 101 and sum("还有 19900 个问题没有一一列出" in line for line in mine) == 1


def test_millions_of_tiny_items_do_not_exhaust_memory(mini):
    """Under 5 MB but 2.4 million list items (validating them all took 4 GB): refused early."""
    rel = mini.write("plans/cm-li/2026/2026-09-02.yaml", "manager: cm-li\ndate: 2026-09-02\nvisits: [" + ",".join(["1"] * 2_400_000) + "]\n")
    rel2 = mini.write("plans/cm-li/2026/2026-09-03.yaml", "manager: cm-li\ndate: 2026-09-03\nvisits:\n" + "- {retailer: r-1}\n" * 60_000)
    done = _validate_in_1_gb(mini, timeout=120)
    out = done.stdout + done.stderr
    _assert_clean_failure(done.returncode, out)
    assert f"{rel}:1:1: 错误 error: 文件里的条目超过" in out and f"{rel2}:1:1: 错误 error: 文件里的条目超过" in out


@pytest.mark.parametrize("args, in_the_way", [
    (("codeowners",), ".github"),  # a file where a folder is to be written
    (("schema",), "schemas"),
    (("new", "plan", "--manager", "cm-li", "--date", "2026-09-02"), "records/plans/cm-li/2026"),
])
def test_a_file_in_the_way_of_a_write_is_a_clear_error(mini, args, in_the_way):
    target = mini.root / in_the_way
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    target.write_text("x", encoding="utf-8")
    code, out = mini.cli(*args)
    assert code == 1, out  # was 70: 内部错误 FileExistsError
    assert "无法读写" in out and in_the_way in out and "内部错误" not in out and "Traceback" not in out


@pytest.mark.parametrize("raised, words, not_words", [
    # a full disk while writing: no file name came with it (it said "无法读写 ：")
    (OSError(28, "No space left on device"), "无法读写文件：No space left on device", "无法读写 ："),
    # a missing file is not a folder in the way nor a full disk
    (FileNotFoundError(2, "No such file or directory", "/nowhere/x.yaml"), "找不到 /nowhere/x.yaml", "磁盘是否已满"),
])
def test_a_file_system_error_says_what_it_knows(mini, monkeypatch, raised, words, not_words):
    from crmdocs.scripts.commands import codeowners

    def refuse(args):
        raise raised

    monkeypatch.setattr(codeowners, "run", refuse)
    code, out = mini.cli("codeowners")
    assert code == 1 and words in out and not_words not in out and "内部错误" not in out, out
