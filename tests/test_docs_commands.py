"""Meta-tests that keep the docs true: every `crmdocs` command has help text,
every option is explained, and README.md's command table lists every command
(and nothing that does not exist). A failure names the command to document."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from conftest import run_cli

from crmdocs.scripts.cli import build_parser, command_names

README = Path(__file__).resolve().parents[1] / "README.md"


def _subparsers() -> tuple[dict[str, argparse.ArgumentParser], dict[str, str]]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
    return dict(action.choices), helps


def _readme_commands() -> set[str]:
    """Commands named in the first column of README.md's "## Commands" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1] if "## Commands" in text else ""
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    return set(re.findall(r"^\|\s*`crmdocs ([a-z][a-z-]*)", section, flags=re.M))


COMMANDS = sorted(_subparsers()[0])


def test_every_command_module_registers_its_command():
    assert set(command_names()) == set(COMMANDS), "a module in scripts/commands/ must add the command of its own name"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_description(name):
    parsers, helps = _subparsers()
    assert helps[name].strip(), f"`crmdocs {name}` has no help= text (shown in `crmdocs --help`)"
    assert (parsers[name].description or "").strip(), f"`crmdocs {name}` has no description= (shown in `crmdocs {name} --help`)"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_explained(name):
    parser = _subparsers()[0][name]
    silent = [
        "/".join(a.option_strings) or a.dest
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction) and a.help != argparse.SUPPRESS and not (a.help or "").strip()
    ]
    assert silent == [], f"`crmdocs {name}`: options without help text: {silent}"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_runs_cleanly(name):
    code, out = run_cli(name, "--help")
    assert code == 0 and f"crmdocs {name}" in out and "Traceback" not in out


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme_table(name):
    assert name in _readme_commands(), (
        f"`crmdocs {name}` is missing from README.md's command table (section '## Commands'); "
        f"add a row: | `crmdocs {name} …` | what it does |"
    )


def test_readme_lists_no_command_that_does_not_exist():
    stale = sorted(_readme_commands() - set(COMMANDS))
    assert stale == [], f"README.md's command table lists commands that do not exist: {stale}"


def test_the_site_pages_use_only_commands_and_options_that_exist():
    # the hand-written pages (site/*.md) are what an office follows: a renamed option must not linger there
    subs, _ = _subparsers()
    wrong = []
    for page in sorted((README.parent / "site").rglob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            for m in re.finditer(r"crmdocs ([a-z][a-z-]*)([^`\n]*)", line):
                cmd, rest = m.group(1), m.group(2)
                if cmd not in subs:
                    wrong.append(f"{page.name}: crmdocs {cmd}")
                    continue
                options = {o for a in subs[cmd]._actions for o in a.option_strings}
                wrong += [f"{page.name}: crmdocs {cmd} {o}" for o in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest)
                          if o not in options]
    assert not wrong, wrong
