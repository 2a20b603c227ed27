"""Shared test helpers: a tiny, valid repository of records built in ``tmp_path``.

Use the ``mini`` fixture (a :class:`MiniRepo`) and mutate one thing per test::

    def test_unknown_manager(mini):
        rel = mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-nobody"))
        report = mini.validate()
        d = only(report, "unknown_person")
        assert (d.path, d.line, d.field) == (rel, mini.line_of(RETAILER, "cm-nobody"), "management.manager")

The valid office (``valid_records()``; paths relative to ``records/``):

* policy (defaults, but a daily minimum of 1 visit so small plans raise no warning),
  calendar 2026 (中秋节 09-25…27, 国庆节 10-01…07; make-up Saturdays/Sundays 09-20 and 10-10),
  org ``c-city`` → ``k-county`` → departments ``d-east`` and ``d-west``;
* people ``cm-li`` (customer manager, d-east), ``cm-wang`` (customer manager, d-west),
  ``mm-zhao`` (market manager, d-east), ``mm-qian`` (market manager, d-west), ``ad-sun`` (admin);
* brands ``b-hongtashan``, ``b-yunyan``;
* retailers ``r-0001``, ``r-0002`` (d-east, cm-li, urban) and ``r-0003`` (d-west, cm-wang, rural),
  licences valid until 2028-12-31;
* ``cm-li``'s plan and diary for Tuesday 2026-09-01 (the diary reviewed by ``mm-zhao``),
  weekly analysis 2026-W36 (reviewed by ``mm-zhao``) and monthly summary 2026-09,
  a complaint, a survey, targets for 2026-09, ``mm-zhao``'s tier override of ``r-0001``
  for 2026-09, and ``sales/2026-09.csv``.

The ``git_office`` fixture (a :class:`GitOffice`) is the same office under git, with
``office.commit(who, message, when)`` to record changes as one person's commit.

``mini.validate()`` returns the :class:`~crmdocs.scripts.diagnostics.Report` with
``today`` = :data:`TODAY` (so licence warnings do not depend on the wall clock);
``mini.cli("validate", "--format", "json")`` runs the real command and returns
``(exit code, stdout + stderr)``. Module-level helpers (``valid_records``,
``build_mini_repo``, ``only``) work without pytest fixtures (Hypothesis, subprocesses).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import pytest

from crmdocs.scripts import yamlio, yamlwrite
from crmdocs.scripts.diagnostics import Diagnostic, Report

TODAY = dt.date(2026, 9, 1)
"""The validation day of the mini repository (a Tuesday, a working day)."""

# paths (relative to records/) of the records tests mutate most
POLICY = "policy.yaml"
CALENDAR = "calendar/2026.yaml"
CM_LI = "people/cm-li.yaml"
MM_ZHAO = "people/mm-zhao.yaml"
RETAILER = "retailers/d-east/r-0001.yaml"
RETAILER_2 = "retailers/d-east/r-0002.yaml"
RETAILER_WEST = "retailers/d-west/r-0003.yaml"
PLAN = "plans/cm-li/2026/2026-09-01.yaml"
DIARY = "diaries/cm-li/2026/2026-09-01.yaml"
ANALYSIS = "analyses/cm-li/2026/2026-W36.yaml"
SUMMARY = "summaries/cm-li/2026/2026-09.yaml"
COMPLAINT = "complaints/2026/c-2026-0001.yaml"
SURVEY = "surveys/2026/s-2026-r-0001.yaml"
TARGETS = "targets/2026-09.yaml"
SALES = "sales/2026-09.csv"
TIER_OVERRIDE = "tier-overrides/2026-09/r-0001.yaml"


def _retailer(rid: str, dept: str, manager: str, network: str, licence: str, shop: str) -> dict:
    return {
        "id": rid,
        "basic": {
            "licence_no": licence,
            "licence_expiry": "2028-12-31",
            "shop_name": shop,
            "address": "城关镇人民路 1 号",
            "district": "城关镇",
            "network": network,
            "format": "grocery",
            "floor_area": 30,
            "location": "residential",
        },
        "personal": {"owner_name": "张三", "phone": "13812345678"},
        "management": {"department": dept, "manager": manager, "order_day": 2},
    }


def _person(pid: str, name: str, role: str, unit: str, grade: Optional[str] = None) -> dict:
    data: dict[str, Any] = {"id": pid, "name": name, "role": role, "unit": unit, "emails": [f"{pid}@example.com"]}
    if grade:
        data["grade"] = grade
    return data


SALES_ROWS: list[dict[str, Any]] = [
    {"date": "2026-09-01", "retailer": "r-0001", "brand": "b-hongtashan", "quantity": 10, "amount": 1200.0},
    {"date": "2026-09-01", "retailer": "r-0002", "brand": "b-yunyan", "quantity": 5, "amount": 900.0},
    {"date": "2026-09-08", "retailer": "r-0003", "brand": "b-hongtashan", "quantity": 8, "amount": 960.0},
]


def sales_csv(rows: Iterable[dict[str, Any]] = SALES_ROWS) -> str:
    """A monthly sales file in the format ``crmdocs.scripts.sales`` reads."""
    from crmdocs.scripts import sales

    columns = list(getattr(sales, "COLUMNS", ("date", "retailer", "brand", "quantity", "amount")))
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(str(row.get(c, "")) for c in columns))
    return "\n".join(lines) + "\n"


def valid_records() -> dict[str, Any]:
    """Every file of the mini repository: path (relative to records/) → dict or text."""
    return {
        POLICY: {"visits": {"daily_min": {"urban": 1, "rural": 1}}},
        CALENDAR: {
            "year": 2026,
            "holidays": [
                {"name": "中秋节", "from": "2026-09-25", "to": "2026-09-27"},
                {"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"},
            ],
            "workdays": ["2026-09-20", "2026-10-10"],
        },
        "org/c-city.yaml": {"id": "c-city", "name": "市公司", "kind": "city"},
        "org/k-county.yaml": {"id": "k-county", "name": "县公司", "kind": "county", "parent": "c-city"},
        "org/d-east.yaml": {"id": "d-east", "name": "城东客户服务部", "kind": "department", "parent": "k-county"},
        "org/d-west.yaml": {"id": "d-west", "name": "城西客户服务部", "kind": "department", "parent": "k-county"},
        CM_LI: _person("cm-li", "李明", "customer_manager", "d-east", "level-3"),
        "people/cm-wang.yaml": _person("cm-wang", "王芳", "customer_manager", "d-west", "trainee"),
        MM_ZHAO: _person("mm-zhao", "赵强", "market_manager", "d-east"),
        "people/mm-qian.yaml": _person("mm-qian", "钱伟", "market_manager", "d-west"),
        "people/ad-sun.yaml": _person("ad-sun", "孙丽", "admin", "k-county"),
        "brands/b-hongtashan.yaml": {"id": "b-hongtashan", "name": "红塔山（经典）", "price_class": 3, "price": 120.0, "key": True},
        "brands/b-yunyan.yaml": {"id": "b-yunyan", "name": "云烟（软珍品）", "price_class": 2, "price": 180.0},
        RETAILER: _retailer("r-0001", "d-east", "cm-li", "urban", "530102100001", "李记便利店"),
        RETAILER_2: _retailer("r-0002", "d-east", "cm-li", "urban", "530102100002", "王家食杂店"),
        RETAILER_WEST: _retailer("r-0003", "d-west", "cm-wang", "rural", "530102100003", "西村小卖部"),
        PLAN: {
            "manager": "cm-li",
            "date": "2026-09-01",
            "visits": [
                {"retailer": "r-0001", "purpose": "routine"},
                {"retailer": "r-0002", "purpose": "brand_promotion"},
            ],
            "approval": {"by": "mm-zhao", "at": "2026-09-01 08:10"},
        },
        DIARY: {
            "manager": "cm-li",
            "date": "2026-09-01",
            "visits": [
                {
                    "retailer": "r-0001",
                    "time": "09:30",
                    "findings": {"price_tags": "ok", "display": "good", "stock_outs": ["b-yunyan"]},
                    "opinions": "希望增加云烟货源",
                },
                {"retailer": "r-0002", "time": "10:45", "purpose": "brand_promotion"},
            ],
            "business_analysis": "两户经营正常。",
            "market_info": [
                {"category": "price", "content": "红塔山零售价稳定", "brand": "b-hongtashan", "retailer": "r-0001"},
            ],
            "review": {"reviewer": "mm-zhao", "at": "2026-09-01 18:00", "rating": 4, "valuable": [1]},
        },
        ANALYSIS: {
            "manager": "cm-li",
            "week": "2026-W36",
            "market_situation": "本周城东片区动销平稳，中高端烟需求回升。",
            "observations": [
                {"category": "price", "content": "红塔山零售价稳定在 12 元", "brand": "b-hongtashan"},
                {"category": "competitor", "content": "超市新开卷烟专柜", "retailer": "r-0002"},
            ],
            "problems": "云烟货源偏紧。",
            "suggestions": "适当增加云烟投放。",
            "review": {"reviewer": "mm-zhao", "at": "2026-09-07 10:00", "rating": 4, "comment": "分析到位", "valuable": [2]},
        },
        SUMMARY: {
            "manager": "cm-li",
            "month": "2026-09",
            "work_done": "完成拜访 2 户，推广红塔山。",
            "results": [{"label": "销量", "value": 15, "unit": "条"}, {"label": "拜访户数", "value": 2, "unit": "户"}],
            "problems": "个别户明码标价不全。",
            "next_month": "国庆后加强重点客户拜访。",
        },
        COMPLAINT: {
            "id": "c-2026-0001",
            "received": "2026-09-01 09:00",
            "retailer": "r-0001",
            "content": "送货晚了半天",
            "severity": "general",
            "handler": "cm-li",
            "actions": [{"at": "2026-09-01 11:00", "by": "cm-li", "text": "与配送部门核实并回访"}],
            "resolved": "2026-09-01 16:00",
            "result": "已解决",
            "satisfied": True,
        },
        SURVEY: {
            "id": "s-2026-r-0001",
            "retailer": "r-0001",
            "period": "2026-09",
            "date": "2026-09-01",
            "surveyor": "cm-li",
            "quality": "优良",
            "service": "良好",
            "brand_awareness": "驰名",
        },
        TARGETS: {
            "period": "2026-09",
            "targets": [
                {"manager": "cm-li", "sales": 500, "key_brands": 200},
                {"manager": "cm-wang", "sales": 400, "key_brands": 150},
            ],
        },
        SALES: sales_csv(),
        TIER_OVERRIDE: {
            "period": "2026-09",
            "retailer": "r-0001",
            "tier": 12,
            "reason": "新装修扩大经营面积，经部门评审上调",
            "approver": "mm-zhao",
            "date": "2026-09-01",
        },
    }


def valid_record(rel: str) -> dict:
    """A fresh copy of one valid record (for model tests: ``Model.model_validate``)."""
    return copy.deepcopy(valid_records()[rel])


def write_file(path: Path, content: Any) -> None:
    """dict/list → YAML (the project's writer: digit strings quoted); str → text; bytes → raw."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(yamlwrite.dumps(content), encoding="utf-8")


def build_mini_repo(root: Path, records: Optional[dict[str, Any]] = None) -> Path:
    """Write the valid mini repository (or ``records``) under ``root/records``; return root."""
    for rel, content in (valid_records() if records is None else records).items():
        write_file(root / "records" / rel, content)
    return root


@dataclass
class MiniRepo:
    """A repository of records in a temporary folder, with helpers to break it."""

    root: Path

    @property
    def records(self) -> Path:
        return self.root / "records"

    def rel(self, rel: str) -> str:
        """The path diagnostics use for a record: relative to the root."""
        return f"records/{rel}"

    def path(self, rel: str) -> Path:
        return self.records / rel

    def age(self, seconds: int = 3600) -> None:
        """Every record file last modified ``seconds`` ago (a checkout made
        earlier): outside the window in which the caches do not trust a
        file's signature (changed just before the cache was written)."""
        import os
        import time

        past = time.time() - seconds
        for path in self.records.rglob("*"):
            if path.is_file():
                os.utime(path, (past, past))

    def write(self, rel: str, content: Any) -> str:
        """Write a record (dict → YAML, str → text, bytes → raw); return its diagnostic path."""
        write_file(self.path(rel), content)
        return self.rel(rel)

    def read(self, rel: str) -> Any:
        return yamlio.parse(yamlio.decode(self.path(rel).read_bytes()))

    def edit(self, rel: str, change: Callable[[Any], Any]) -> str:
        """Parse a record, let ``change`` mutate it (or return a replacement), write it back."""
        data = self.read(rel)
        result = change(data)
        return self.write(rel, data if result is None else result)

    def text(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> str:
        """Edit the text of a file (for YAML-level mistakes a dict cannot express)."""
        text = self.text(rel)
        assert old in text, f"{old!r} not in {rel}:\n{text}"
        return self.write(rel, text.replace(old, new, 1))

    def move(self, rel: str, new_rel: str) -> str:
        target = self.path(new_rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).rename(target)
        return self.rel(new_rel)

    def delete(self, rel: str) -> None:
        self.path(rel).unlink()

    def line_of(self, rel: str, needle: str, nth: int = 1) -> int:
        """1-based number of the ``nth`` line of ``rel`` containing ``needle``."""
        seen = 0
        for number, line in enumerate(self.text(rel).splitlines(), start=1):
            if needle in line:
                seen += 1
                if seen == nth:
                    return number
        raise AssertionError(f"{needle!r} not found {nth}× in {rel}:\n{self.text(rel)}")

    def validate(self, today: dt.date = TODAY) -> Report:
        from crmdocs.scripts.validate import validate

        return validate(self.root, today=today)[1]

    def load(self):
        """``(Repository, Report)`` of the loader alone (no cross-record checks)."""
        from crmdocs.scripts.repository import load

        return load(self.root)

    def cli(self, *args: str, today: Optional[dt.date] = TODAY) -> tuple[int, str]:
        """Run ``crmdocs --root <root> ARGS`` in-process; return (exit code, stdout+stderr)."""
        return run_cli("--root", str(self.root), *args, *(("--today", today.isoformat()) if today and args and args[0] == "validate" else ()))


def run_cli(*argv: str) -> tuple[int, str]:
    """``crmdocs.scripts.cli.main(argv)`` with output captured; SystemExit becomes the code."""
    from crmdocs.scripts import cli

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 1
    return code, buf.getvalue()


def only(report: Report, code: str, severity: Optional[str] = None) -> Diagnostic:
    """The single diagnostic of ``code`` in ``report`` (fails with the whole report otherwise)."""
    found = [d for d in report.diagnostics if d.code == code and (severity is None or d.severity == severity)]
    assert len(found) == 1, f"expected one {code!r}, got {len(found)}:\n{report.to_text()}"
    return found[0]


def codes(report: Report) -> list[str]:
    return sorted(d.code for d in report.diagnostics)


@pytest.fixture
def mini(tmp_path: Path) -> MiniRepo:
    """The valid mini repository in ``tmp_path`` (see the module docstring)."""
    return MiniRepo(build_mini_repo(tmp_path))


@pytest.fixture
def built(monkeypatch) -> list[str]:
    """The kinds whose models were built (by name), in this process (test_facts*, test_validate_light)."""
    from crmdocs.scripts import repository

    made: list[str] = []
    real = repository.finish_record

    def counting(rel, kind, m, raw, text):
        made.append(kind.name)
        return real(rel, kind, m, raw, text)

    monkeypatch.setattr(repository, "finish_record", counting)
    return made


def warm_caches(mini: MiniRepo, load: bool = True) -> None:
    """``crmdocs validate`` on the aged files (the validation cache), then, with
    ``load``, one recalc-style load (the parsed data and the facts kept)."""
    from crmdocs.scripts.validate import validate

    mini.age()
    code, out = mini.cli("validate")
    assert code == 0, out
    if load:
        validate(mini.root, today=TODAY, facts=True)


# ---------------------------------------------------------------- git repositories
# (tests of the git workflow: audit, history, codeowners, new plan/diary)

CI_BOT = "people/ci-bot.yaml"


def git_env() -> dict[str, str]:
    """An environment where the machine's git configuration plays no part."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def git(root: Path, *args: str, env: Optional[dict[str, str]] = None) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=root, env=env or git_env(), capture_output=True, text=True,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@dataclass
class GitOffice(MiniRepo):
    """The mini repository (plus a CI identity ``ci-bot``) under git, first
    committed by the admin ``ad-sun`` at 2026-08-31 18:00 +08:00. ``commit``
    records every change in the tree as one person's commit at a fixed time."""

    def commit(self, who: str, message: str = "change", when: str = "2026-09-01 08:00") -> str:
        env = git_env()
        stamp = when.replace(" ", "T") + ":00+08:00"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        git(self.root, "add", "-A", env=env)
        git(
            self.root, "-c", f"user.name={who}", "-c", f"user.email={who}@example.com",
            "commit", "-q", "--allow-empty", "-m", message, env=env,
        )
        return self.head()

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()


def build_git_office(root: Path) -> GitOffice:
    records = valid_records()
    records[CI_BOT] = _person("ci-bot", "CI", "ci", "c-city")
    office = GitOffice(build_mini_repo(root, records))
    (root / ".gitignore").write_text("/.cache/\n/build/\n", encoding="utf-8")  # as an office's repository has
    git(root, "init", "-q")
    office.commit("ad-sun", "建立仓库", "2026-08-31 18:00")
    return office


@pytest.fixture
def git_office(tmp_path: Path) -> GitOffice:
    """The mini repository under git (see :class:`GitOffice`)."""
    return build_git_office(tmp_path)


# ---------------------------------------------------------------- report site (test_site*.py, test_browser.py)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    """The demo office's public site (``records/`` of this repository), built
    once per test session with ``--strict``; returns the site folder."""
    from crmdocs.scripts.commands.build import build_site

    root = Path(__file__).resolve().parents[1]
    if not (root / "records" / "policy.yaml").is_file():
        pytest.skip("the demo office (records/) is not there")
    out = tmp_path_factory.mktemp("site-public")
    build_site(root, profile="public", strict=True, site_dir=out)
    return out


@pytest.fixture(scope="session")
def demo_offline_site(tmp_path_factory) -> Path:
    """The demo office's public site built for opening from disk
    (``crmdocs build --offline``), once per test session; returns the folder."""
    from crmdocs.scripts.commands.build import build_site

    root = Path(__file__).resolve().parents[1]
    if not (root / "records" / "policy.yaml").is_file():
        pytest.skip("the demo office (records/) is not there")
    out = tmp_path_factory.mktemp("site-offline")
    build_site(root, profile="public", strict=True, site_dir=out, offline=True)
    return out
