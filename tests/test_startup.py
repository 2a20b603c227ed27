"""Start-up of `crmdocs validate` answered from the cache: only the named
command is imported, and neither pydantic, the schemas, PyYAML nor numpy —
the start-up is most of a warm run's time. Other commands and --help still
see every command."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import DIARY, TODAY, run_cli

HEAVY = ("pydantic", "crmdocs.schemas", "yaml", "numpy", "pyarrow", "crmdocs.scripts.checks")
PROBE = (
    "import sys, json, contextlib, io\n"
    "from crmdocs.scripts.cli import main\n"
    "buf = io.StringIO()\n"
    "with contextlib.redirect_stdout(buf):\n"
    "    code = main(sys.argv[1:])\n"
    f"print(json.dumps([code, [m for m in {HEAVY!r} if m in sys.modules], buf.getvalue()]))\n"
)


def probe(*argv: str) -> tuple[int, list[str], str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120, check=True)
    return tuple(json.loads(out.stdout.splitlines()[-1]))  # type: ignore[return-value]


def test_a_warm_validate_imports_nothing_heavy(mini):
    args = ("--root", str(mini.root), "validate", "--today", TODAY.isoformat())
    first = probe(*args)  # fills the cache
    code, heavy, out = probe(*args)
    assert (code, out) == (first[0], first[2])
    assert heavy == []


def test_a_new_diary_is_still_checked_against_the_universe(mini):
    args = ("--root", str(mini.root), "validate", "--today", TODAY.isoformat())
    probe(*args)
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))
    code, heavy, out = probe(*args)
    assert code == 1 and "r-9999" in out
    assert "pydantic" in heavy  # the changed file was parsed and validated
    assert "numpy" not in heavy and "pyarrow" not in heavy  # the sales are not read again


def test_help_still_lists_every_command():
    from crmdocs.scripts.cli import command_names

    code, out = run_cli("--help")
    assert code == 0
    assert all(name in out for name in command_names())


def test_one_command_s_help_and_errors_are_unchanged(mini):
    code, out = run_cli("validate", "--help")
    assert code == 0 and "--no-cache" in out
    code, out = run_cli("--root", str(mini.root), "no-such-command")
    assert code == 2 and "no-such-command" in out


def test_the_cli_finds_the_command_after_the_root_option():
    from crmdocs.scripts.cli import _command_in

    assert _command_in(["--root", "x", "validate", "a.yaml"]) == "validate"
    assert _command_in(["--root=x", "recalc"]) == "recalc"
    assert _command_in(["--help"]) is None
    assert _command_in([]) is None
