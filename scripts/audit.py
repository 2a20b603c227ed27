"""Who may change what (DOMAIN.md §3), checked commit by commit, field by field.

``audit(root, base, head)`` walks the commits in ``base..head`` (one
``git log --raw`` pass), ties each commit's author e-mail to a person of the
people records **as they stood before that commit** (nobody authorises
themselves in the same commit), and checks every changed file:

=====================  ==================================================
records/computed/      the CI identity (role ``ci``) only
policy, people, org,   admins only
calendar, brands,
targets, sales, other
plans, diaries,        the customer manager named in the path; the
weekly analyses,       ``approval`` / ``review`` only by a market manager
monthly summaries      of that manager's department (on the day, or the
                       period's last day), naming themselves
retailer archives      the customer manager of the retailer (old and new
                       version), not the protected fields
                       (:data:`PROTECTED`: ``sales.adjustment``, any class,
                       tier or limit field) nor the territory assignment
                       (:data:`ASSIGNMENT`); the market manager of the
                       department: everything
complaints, surveys    the retailer's customer manager, the department's
                       market manager; complaints also phone agents
tier overrides         the market manager of the retailer's department,
                       naming themselves as approver
other files            admins only (code, CI, site)
=====================  ==================================================

The CI identity changes nothing but computed records; unknown and inactive
authors are refused. Each violation names commit, author, file, field and
rule; ``crmdocs audit`` prints one line each and exits 1.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from pydantic import ValidationError

from crmdocs.schemas import Person
from crmdocs.schemas.org import ROLE_ZH, Role

from .diagnostics import CrmdocsError
from .history import BlobReader, CommitInfo, RawChange, _UNREADABLE, diff_fields, raw_changes, source
from .kinds import COMPUTED, RECORDS, kind_of

# kinds people other than admins write; every other file under records/ (policy,
# calendar, org, people, brands, targets, sales, anything unknown) is the admins'
PERSONAL_KINDS = {"plan", "diary", "analysis", "summary", "retailer", "complaint", "survey", "tier_override"}

# retailer-archive fields a customer manager may not change (prefixes of
# dotted field paths), and path components that mark a computed value
PROTECTED = ("sales.adjustment",)
COMPUTED_NAMES = {"class", "classes", "tier", "tiers", "limit", "limits", "lower", "upper", "coefficient"}
ASSIGNMENT = ("management.department", "management.manager", "management.manager_history")

_WHAT = {"plan": "计划", "diary": "日记", "analysis": "周市场分析", "summary": "月工作总结"}

RULES = {
    "unknown_author": "提交人的邮箱不在任何人员记录的 emails 里 (author not in the people records)",
    "inactive_author": "提交人已不在岗 (author is not active)",
    "ci_only": "计算结果只能由 CI 身份提交 (computed records are written by CI only)",
    "ci_scope": "CI 身份只能提交计算结果 (the CI identity changes computed records only)",
    "admin_only": "只有管理员可以修改 (admins only)",
    "own_records": "客户经理只能写自己的计划和日记、周市场分析和月工作总结 (only the manager's own plans, diaries, analyses and summaries)",
    "review_by_market_manager": "批阅只能由该客户经理所在部门的市场经理写 (review by the department's market manager only)",
    "approval_by_market_manager": "计划审核只能由该客户经理所在部门的市场经理写 (plan approval by the department's market manager only)",
    "market_manager_scope": "市场经理在日记、计划、分析和总结里只能写批阅或审核 (a market manager writes only the review or approval)",
    "signed_by_author": "签名的人必须是提交人本人 (the name signed must be the author's)",
    "territory": "零售户不在提交人的片区内 (retailer outside the author's territory)",
    "protected_field": "客户经理不能改分类、档位、上下限和调整系数 (class, tier, limits and coefficient are not a customer manager's)",
    "assignment": "零售户划片（所属部门、客户经理）只能由市场经理调整 (territory assignment by the market manager only)",
    "delete_archive": "零售户档案不能删除，请把 status 改为 closed (archives are closed, not deleted)",
    "department": "只能修改本部门的记录 (records of the author's own department only)",
    "override_by_market_manager": "档位调整只能由零售户所属部门的市场经理提交 (tier overrides by the department's market manager only)",
    "not_allowed": "此角色不能修改这类记录 (this role may not change these records)",
}


@dataclass(frozen=True)
class Violation:
    commit: CommitInfo
    path: str
    field: str  # "" = the whole file
    rule: str
    detail: str = ""  # expected vs found, Chinese first

    def format(self) -> str:
        c = self.commit
        field_part = self.field or "(整个文件)"
        detail = f"：{self.detail}" if self.detail else ""
        return f"{c.short} {c.author} <{c.email}>: {self.path}: {field_part}: {RULES[self.rule]}{detail} [{self.rule}]"

    def as_dict(self) -> dict:
        """One violation for ``crmdocs audit --format json`` (a CI bot, a review comment)."""
        c = self.commit
        return {
            "commit": c.sha,
            "author": c.author,
            "email": c.email,
            "time": c.time.isoformat(timespec="minutes"),
            "path": self.path,
            "field": self.field,
            "rule": self.rule,
            "message": RULES[self.rule],
            "detail": self.detail,
        }


# ---------------------------------------------------------------- state before a commit


class People:
    """The people records of one tree, indexed by id and e-mail."""

    def __init__(self, persons: Iterable[Person]):
        self.by_id: dict[str, Person] = {}
        self.by_email: dict[str, Person] = {}
        for p in persons:
            self.by_id[p.id] = p
            for email in p.emails:
                self.by_email[email.lower()] = p


class State:
    """Reads records as they stood in a given commit, cached by tree id."""

    def __init__(self, root: Path):
        self.src = source(root)
        if self.src is None:
            raise CrmdocsError(f"{root} 不是 git 仓库，无法审核提交 (not a git repository)")
        self.reader = BlobReader(self.src)
        self._people: dict[str, People] = {}  # by tree id of records/people
        self._people_at: dict[str, People] = {}  # by commit
        self._retailers: dict[str, dict[str, str]] = {}
        self._parents: dict[str, list[str]] = {}

    def parents(self, rev_range: str) -> None:
        out = self.src.git("rev-list", "--parents", rev_range, "--")
        for line in out.split("\n"):
            parts = line.split()
            if parts:
                self._parents[parts[0]] = parts[1:]

    def _subtree(self, sha: str, folder: str):
        tree = self.src.repo.commit(sha).tree
        try:
            return tree / f"{self.src.prefix}{RECORDS}/{folder}"
        except KeyError:
            return None

    def before(self, commit: CommitInfo) -> str:
        """The commit whose tree says who is who for ``commit``: its first
        parent (a root commit vouches for itself)."""
        parents = self._parents.get(commit.sha)
        if parents is None:
            parents = [p.hexsha for p in self.src.repo.commit(commit.sha).parents]
        return parents[0] if parents else commit.sha

    def people(self, sha: str) -> People:
        if sha in self._people_at:
            return self._people_at[sha]
        self._people_at[sha] = found = self._people_of(sha)
        return found

    def _people_of(self, sha: str) -> People:
        tree = self._subtree(sha, "people")
        key = tree.hexsha if tree is not None else ""
        if key not in self._people:
            persons = []
            for blob in (tree.traverse() if tree is not None else ()):
                if blob.type != "blob" or not blob.name.endswith((".yaml", ".yml")):
                    continue
                data = self.reader.data(blob.hexsha)
                try:
                    persons.append(Person.model_validate(data))
                except (ValidationError, TypeError, ValueError):
                    continue  # a broken record authorises nobody
            self._people[key] = People(persons)
        return self._people[key]

    def retailer(self, sha: str, rid: str) -> Optional[dict]:
        tree = self._subtree(sha, "retailers")
        key = tree.hexsha if tree is not None else ""
        if key not in self._retailers:
            index: dict[str, str] = {}
            for blob in (tree.traverse() if tree is not None else ()):
                if blob.type == "blob" and blob.name.endswith(".yaml"):
                    index[blob.name[:-5]] = blob.hexsha
            self._retailers[key] = index
        blob = self._retailers[key].get(rid)
        data = self.reader.data(blob) if blob else None
        return data if isinstance(data, dict) else None


# ---------------------------------------------------------------- the rules


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _under(leaf: str, prefix: str) -> bool:
    return leaf == prefix or leaf.startswith(prefix + ".") or leaf.startswith(prefix + "[")


def _top(leaf: str) -> str:
    return re.split(r"[.\[]", leaf, maxsplit=1)[0]


def _protected(leaf: str) -> Optional[str]:
    for prefix in PROTECTED:
        if _under(leaf, prefix):
            return prefix
    parts = re.sub(r"\[\d+\]", "", leaf).split(".")
    for i, part in enumerate(parts):
        if part in COMPUTED_NAMES:
            return ".".join(parts[: i + 1])
    return None


def _assignment(leaf: str) -> Optional[str]:
    for prefix in ASSIGNMENT:
        if _under(leaf, prefix):
            return prefix
    return None


class Checker:
    def __init__(self, state: State):
        self.state = state
        self.found: list[Violation] = []
        self._seen: set[Violation] = set()

    def add(self, commit: CommitInfo, path: str, field: str, rule: str, detail: str = "") -> None:
        v = Violation(commit, path, field, rule, detail)
        if v not in self._seen:
            self._seen.add(v)
            self.found.append(v)

    def check(self, change: RawChange) -> None:
        commit, path = change.commit, change.path
        before = self.state.before(commit)
        people = self.state.people(before)
        author = people.by_email.get(commit.email.lower())
        if author is None:
            self.add(commit, path, "", "unknown_author", f"{commit.email}")
            return
        if not author.active:
            self.add(commit, path, "", "inactive_author", f"{author.name}（{author.id}）")
            return
        if not path.startswith(f"{RECORDS}/"):
            if author.role is not Role.admin:
                self.add(commit, path, "", "admin_only", _role(author))
            return
        sub = path[len(RECORDS) + 1 :]
        if sub.startswith(f"{COMPUTED}/"):
            if author.role is not Role.ci:
                self.add(commit, path, "", "ci_only", _role(author))
            return
        if author.role is Role.ci:
            self.add(commit, path, "", "ci_scope")
            return
        match = kind_of(sub)
        kind = match[0].name if match else None
        if kind not in PERSONAL_KINDS:  # policy, people, org, …, sales, unknown files
            if author.role is not Role.admin:
                self.add(commit, path, "", "admin_only", _role(author))
            return
        old = self.state.reader.data(change.old)
        new = self.state.reader.data(change.new)
        readable = _UNREADABLE not in (old, new)
        # a change of comments or layout only still counts as touching the file
        leaves = (diff_fields(old, new) or [""]) if readable else [""]
        if change.olds and readable:
            # a merge commit answers only for what differs from every parent
            # (what it resolved or added itself), the rest came from its parents
            for sha in change.olds[1:]:
                other = self.state.reader.data(sha)
                if other is _UNREADABLE:
                    continue
                theirs = set(diff_fields(other, new) or [""])
                leaves = [leaf for leaf in leaves if leaf in theirs]
                if old is None and other is not None:
                    old = other
            if not leaves:
                return
        if kind in ("plan", "diary", "analysis", "summary"):
            self._daily(commit, path, kind, match[1], author, people, old, new, leaves)
        elif kind == "retailer":
            self._retailer(commit, path, change, author, old, new, leaves, readable)
        elif kind in ("complaint", "survey"):
            self._service(commit, path, kind, before, author, old, new)
        elif kind == "tier_override":
            self._override(commit, path, before, author, old, new)

    # tier overrides ------------------------------------------------------
    def _override(self, commit, path, before: str, author: Person, old, new) -> None:
        if author.role is not Role.market_manager:
            self.add(commit, path, "", "override_by_market_manager", _role(author))
            return
        for rid in sorted({str(_get(v, "retailer")) for v in (old, new) if isinstance(v, dict)}):
            archive = self.state.retailer(before, rid) or self.state.retailer(commit.sha, rid)
            department = _get(archive, "management", "department")
            if department != author.unit:
                self.add(commit, path, "retailer", "department", f"零售户 {rid} 属于 {department or '?'}，提交人在 {author.unit}")
        signer = _get(new, "approver")
        if signer is not None and signer != author.id:
            self.add(commit, path, "approver", "signed_by_author", f"写的是 {signer}，提交人是 {author.id}")

    # plans, diaries, weekly analyses, monthly summaries ---------------------
    def _daily(self, commit, path, kind, m, author: Person, people: People, old, new, leaves) -> None:
        manager = m.group("manager")
        if kind == "analysis":  # the department on the period's last day, as validation has it
            from crmdocs.schemas.daily import week_bounds

            day = week_bounds(m.group("week"))[1]
        elif kind == "summary":
            from .periods import bounds

            day = bounds(m.group("month"))[1]
        else:
            day = dt.date.fromisoformat(m.group("date"))
        signed = "approval" if kind == "plan" else "review"
        signer_field = "by" if kind == "plan" else "reviewer"
        rule = "approval_by_market_manager" if kind == "plan" else "review_by_market_manager"
        owner = people.by_id.get(manager)
        department = owner.unit_on(day) if owner else None
        is_mm = author.role is Role.market_manager and department is not None and author.unit == department
        own = author.role is Role.customer_manager and author.id == manager
        for leaf in leaves:
            top = _top(leaf) if leaf else ""
            if top == signed:
                if not is_mm:
                    expected = f"该部门（{department}）的市场经理" if department else "该部门的市场经理"
                    self.add(commit, path, signed, rule, f"应为{expected}，提交人是 {_role(author)}")
            elif not own:
                if is_mm:
                    self.add(commit, path, top, "market_manager_scope")
                else:
                    self.add(commit, path, top, "own_records", f"这是 {manager} 的{_WHAT[kind]}，提交人是 {_role(author)}")
        if is_mm and any(_top(leaf) == signed for leaf in leaves):
            signer = _get(new, signed, signer_field)
            if signer is not None and signer != author.id:
                self.add(commit, path, f"{signed}.{signer_field}", "signed_by_author", f"写的是 {signer}，提交人是 {author.id}")

    # retailer archives -----------------------------------------------------
    def _retailer(self, commit, path, change: RawChange, author: Person, old, new, leaves, readable) -> None:
        versions = [v for v in (old, new) if isinstance(v, dict)]
        departments = {_get(v, "management", "department") for v in versions} | {path.split("/")[2]}
        if author.role is Role.market_manager:
            outside = sorted(d for d in departments if d and d != author.unit)
            if outside:
                self.add(commit, path, "", "department", f"零售户属于 {'、'.join(outside)}，提交人在 {author.unit}")
            signer = _get(new, "sales", "adjustment", "approver")
            if any(_under(leaf, "sales.adjustment") for leaf in leaves) and signer is not None and signer != author.id:
                self.add(commit, path, "sales.adjustment.approver", "signed_by_author", f"写的是 {signer}，提交人是 {author.id}")
            return
        if author.role is not Role.customer_manager:
            self.add(commit, path, "", "not_allowed", _role(author))
            return
        managers = {_get(v, "management", "manager") for v in versions}
        if not versions or managers != {author.id}:
            others = sorted(str(x) for x in managers if x != author.id)
            self.add(commit, path, "", "territory", f"零售户的客户经理是 {'、'.join(others) or '未知'}，提交人是 {author.id}")
            return
        if change.status == "D":
            self.add(commit, path, "", "delete_archive")
            return
        shown: set[str] = set()
        for leaf in leaves:
            prot = _protected(leaf)
            if prot and prot not in shown:
                shown.add(prot)
                self.add(commit, path, prot, "protected_field")
            assign = _assignment(leaf) if change.status == "M" else None
            if assign and assign not in shown:
                shown.add(assign)
                self.add(commit, path, assign, "assignment")
        if change.status == "A" and author.unit not in departments:
            self.add(commit, path, "management.department", "department", f"提交人在 {author.unit}")

    # complaints and surveys -----------------------------------------------
    def _service(self, commit, path, kind, before: str, author: Person, old, new) -> None:
        if author.role is Role.phone_agent and kind == "complaint":
            return
        rids = {_get(v, "retailer") for v in (old, new) if isinstance(v, dict)}
        rids.discard(None)
        if not rids:
            self.add(commit, path, "retailer", "territory", "找不到所涉零售户")
            return
        for rid in sorted(rids):
            archive = self.state.retailer(before, str(rid))
            if archive is None:
                archive = self.state.retailer(commit.sha, str(rid))  # a retailer added in the same commit
            manager = _get(archive, "management", "manager")
            department = _get(archive, "management", "department")
            if author.role is Role.customer_manager and manager == author.id:
                continue
            if author.role is Role.market_manager and department == author.unit:
                continue
            if author.role in (Role.customer_manager, Role.market_manager):
                self.add(commit, path, "retailer", "territory", f"零售户 {rid} 属于 {manager or '?'}（{department or '?'}），提交人是 {author.id}")
            else:
                self.add(commit, path, "", "not_allowed", _role(author))


_ROLE_ZH = ROLE_ZH


def _role(person: Person) -> str:
    return f"{_ROLE_ZH.get(person.role, person.role.value)} {person.name}（{person.id}）"


def audit(root: Path | str, base: str, head: str = "HEAD") -> list[Violation]:
    """Every violation in the commits of ``base..head``, oldest commit first."""
    root = Path(root)
    state = State(root)
    for rev in (base, head):
        try:
            state.src.repo.rev_parse(f"{rev}^{{commit}}")
        except Exception:  # noqa: BLE001 - GitPython raises several kinds here
            raise CrmdocsError(f"找不到提交 {rev!r} (unknown revision)") from None
    rev_range = f"{base}..{head}"
    state.parents(rev_range)
    changes = raw_changes(root, [""], rev_range=rev_range, merges=True) or []
    checker = Checker(state)
    order: dict[str, int] = {}
    for change in changes:
        order.setdefault(change.commit.sha, len(order))
    for change in sorted(changes, key=lambda c: (-order[c.commit.sha], c.path)):
        checker.check(change)
    return checker.found


def ci_identity(root: Path | str) -> tuple[str, str]:
    """(name, e-mail) of the CI identity — the active person with role ``ci``
    in the work tree's people records — for the CI job's ``git config``."""
    from .codeowners import _read

    found = [p for p in _read(Path(root), "people", Person) if p.role is Role.ci and p.active and p.emails]
    if not found:
        raise CrmdocsError(
            "人员记录里没有 CI 身份（role: ci，带 emails）：CI 提交计算结果要用它 (no person with role ci)"
        )
    person = sorted(found, key=lambda p: p.id)[0]
    return person.name, person.emails[0]
