"""Checks across records: references, territories, working days, duplicates.

Each check is a small function ``(repo, ctx) -> Iterable[Diagnostic]``; all run,
all problems are reported. Warnings inform and do not fail validation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

from crmdocs.schemas.org import ROLE_ZH, Role, UnitKind
from crmdocs.schemas.retailer import Status

from .diagnostics import Diagnostic
from .kinds import RECORDS
from .repository import Repository
from .workdays import WorkCalendar


@dataclass
class Context:
    today: dt.date
    calendar: WorkCalendar
    # market managers per (department, day), asked once per plan and diary
    market_managers: dict[tuple[str, Optional[dt.date]], list[str]] = field(default_factory=dict)


def who(repo: Repository, pid: str, with_id: bool = True) -> str:
    """A person by name, as the site names them, with the id — 周杰（cm-zhou）, or the name alone;
    the id alone when there is no such person (checks, explain and the explain part of the rules)."""
    person = repo.people.get(pid)
    if person is None:
        return pid
    return f"{person.name}（{pid}）" if with_id else person.name


_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"


def one_slip_away(ref: str, known) -> list[str]:
    """Ids in ``known`` one slip of the keyboard away from ``ref``: a character
    left out (``r-0543`` for ``r-00543``), one too many, one wrong, or two
    swapped. Some 600 look-ups: cheap even for a city's 20,000 retailers."""
    if len(ref) > 64:
        return []
    found = set()
    for i in range(len(ref) + 1):
        head, tail = ref[:i], ref[i:]
        for c in _ID_CHARS:
            found.add(head + c + tail)
            if tail:
                found.add(head + c + tail[1:])
        if tail:
            found.add(head + tail[1:])
            if len(tail) > 1:
                found.add(head + tail[1] + tail[0] + tail[2:])
    found.discard(ref)
    return sorted(x for x in found if x in known)


def _unknown(repo: Repository, what: str, ref: str) -> str:
    """找不到零售户 r-0543：是不是 r-00543（东乡生活超市）？ (no such retailer) — the
    name of a retailer, brand or person one slip away, when there are at most three."""
    known = {"零售户": repo.retailers, "品牌": repo.brands}.get(what, repo.people)
    if what == "客户经理":  # only those who may stand there: a market manager one slip away is no answer
        known = {pid: p for pid, p in repo.people.items() if p.role is Role.customer_manager}
    near = one_slip_away(ref, known)
    english = {"零售户": "retailer", "品牌": "brand", "客户经理": "customer manager"}.get(what, "person")
    if not near or len(near) > 3:
        return f"找不到{what} {ref} (no such {english})"
    names = []
    for rid in near:
        record = known[rid]
        name = record.basic.shop_name if what == "零售户" else getattr(record, "name", "")
        names.append(f"{rid}（{name}）" if name else rid)
    return f"找不到{what} {ref}：是不是 {' 或 '.join(names)}？(no such {english})"


def market_managers(repo: Repository, department: str, day: Optional[dt.date] = None) -> list[str]:
    """Market managers of ``department`` (on ``day``, when given)."""
    out = []
    for pid, person in repo.people.items():
        if person.role is Role.market_manager:
            unit = person.unit_on(day) if day else person.unit
            if unit == department:
                out.append(pid)
    return sorted(out)


def check_basics(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    if not (repo.root / RECORDS).is_dir():  # "找不到记录目录" says it all: not also no policy, no calendar
        return
    if repo.policy is None and not (repo.root / RECORDS / "policy.yaml").exists():  # else its own errors are shown
        yield Diagnostic(f"{RECORDS}/policy.yaml", 0, 0, "", "缺少政策文件 records/policy.yaml (no policy file)", "error", "no_policy")
    if not repo.calendars and not any((repo.root / RECORDS / "calendar").glob("*.yaml")):
        yield Diagnostic(f"{RECORDS}/calendar", 0, 0, "", "缺少工作日历 records/calendar/<年>.yaml (no calendar)", "error", "no_calendar")


def check_org(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    allowed = {UnitKind.county: {UnitKind.city}, UnitKind.department: {UnitKind.county, UnitKind.city}}
    for uid, unit in repo.org.items():
        rel = repo.source("org", uid)
        if unit.parent is None:
            continue
        parent = repo.org.get(unit.parent)
        if parent is None:
            yield repo.diag(rel, ("parent",), f"上级单位 {unit.parent} 不存在 (no such unit)", "unknown_unit")
        elif parent.kind not in allowed.get(unit.kind, set()):
            yield repo.diag(
                rel, ("parent",),
                f"{unit.kind.value} 的上级不能是 {parent.kind.value} (expected a parent of kind {', '.join(k.value for k in allowed.get(unit.kind, []))})",
                "bad_parent",
            )


def check_people(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    grades = repo.policy_or_default.grades.ids()
    email_owner: dict[str, str] = {}
    for pid, person in repo.people.items():
        rel = repo.source("person", pid)
        if person.unit not in repo.org:
            yield repo.diag(rel, ("unit",), f"单位 {person.unit} 不存在 (no such unit)", "unknown_unit")
        for i, past in enumerate(person.unit_history):
            if past.unit not in repo.org:
                yield repo.diag(rel, ("unit_history", i, "unit"), f"单位 {past.unit} 不存在 (no such unit)", "unknown_unit")
        if person.grade is not None and person.grade not in grades:
            yield repo.diag(
                rel, ("grade",), f"等级 {person.grade} 不在政策的等级阶梯里，应为 {', '.join(grades)} (expected one of {grades})",
                "unknown_grade",
            )
        if person.role in (Role.customer_manager, Role.market_manager):
            unit = repo.org.get(person.unit)
            if unit is not None and unit.kind is not UnitKind.department:
                yield repo.diag(rel, ("unit",), f"{person.role.value} 应属于客户服务部，{person.unit} 是 {unit.kind.value} (expected a department)", "bad_unit")
        for i, email in enumerate(person.emails):
            other = email_owner.get(email)
            if other is not None:
                yield repo.diag(rel, ("emails", i), f"邮箱 {email} 已属于 {who(repo, other)} (e-mail used by two people)", "duplicate_email")
            else:
                email_owner[email] = pid


def _customer_manager(repo: Repository, rel: str, loc: tuple, pid: str) -> Iterator[Diagnostic]:
    person = repo.people.get(pid)
    if person is None:
        yield repo.diag(rel, loc, _unknown(repo, "客户经理", pid), "unknown_person")
    elif person.role is not Role.customer_manager:
        yield repo.diag(rel, loc, f"{who(repo, pid)} 不是客户经理，是{ROLE_ZH.get(person.role, person.role.value)} (expected a customer manager)", "not_customer_manager")


def check_retailers(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    policy = repo.policy_or_default
    coef = policy.limits.coefficient
    by_licence: dict[str, str] = {}
    expiry_days = policy.warnings.licence_expiry_days
    representatives = 0
    for rid, r in repo.retailers.items():
        rel = repo.source("retailer", rid)
        mg = r.management
        dept = repo.org.get(mg.department)
        if dept is None:
            yield repo.diag(rel, ("management", "department"), f"客户服务部 {mg.department} 不存在 (no such department)", "unknown_unit")
        yield from _customer_manager(repo, rel, ("management", "manager"), mg.manager)
        manager = repo.people.get(mg.manager)
        if manager is not None and manager.role is Role.customer_manager and manager.unit != mg.department:
            yield repo.diag(
                rel, ("management", "manager"),
                f"客户经理 {who(repo, mg.manager)} 属于 {manager.unit}，这个零售户在 {mg.department}：不在他的片区"
                f" (manager's department is {manager.unit}, retailer's is {mg.department})",
                "territory",
            )
        if manager is not None and manager.role is Role.customer_manager and not manager.active and r.status is not Status.closed:
            yield repo.diag(
                rel, ("management", "manager"),
                f"客户经理 {who(repo, mg.manager)} 已离岗（人员记录 active: false），这户没有人拜访：请把 manager 改成接手的客户经理，"
                f"原负责人写进 manager_history（until 写交接那天）(the retailer's manager is no longer active)",
                "inactive_manager", "warning",
            )
        for i, past in enumerate(mg.manager_history):
            yield from _customer_manager(repo, rel, ("management", "manager_history", i, "manager"), past.manager)
            if any(earlier.until == past.until for earlier in mg.manager_history[:i]):  # whose was the shop then?
                yield repo.diag(
                    rel, ("management", "manager_history", i, "until"),
                    f"{past.until} 这一天已经有一次交接：同一户同一天只能交接一次，请删掉多余的一条"
                    f" (two hand-overs on the same day)",
                    "handover_twice",
                )
        lic = r.basic.licence_no
        if lic in by_licence:
            other = by_licence[lic]
            yield repo.diag(
                rel, ("basic", "licence_no"),
                f"许可证号 {lic} 也在零售户 {other}（{repo.source('retailer', other)}）：同一户不能在两个片区建档"
                f" (retailer in two territories)",
                "two_territories",
            )
        else:
            by_licence[lic] = rid
        adj = r.sales.adjustment
        if adj is not None:
            if not (coef.min <= adj.coefficient <= coef.max):
                yield repo.diag(
                    rel, ("sales", "adjustment", "coefficient"),
                    f"调整系数应在 {coef.min}–{coef.max} 之间，读到的是 {adj.coefficient} (expected {coef.min}..{coef.max})",
                    "coefficient_range",
                )
            approver = repo.people.get(adj.approver)
            if approver is None:
                yield repo.diag(rel, ("sales", "adjustment", "approver"), f"找不到批准人 {adj.approver} (no such person)", "unknown_person")
            elif approver.role is not Role.market_manager:
                yield repo.diag(rel, ("sales", "adjustment", "approver"), f"调整系数要由市场经理批准，{who(repo, adj.approver)} 是 {approver.role.value} (expected a market manager)", "approver_role")
        if r.status is Status.active:
            days = (r.basic.licence_expiry - ctx.today).days
            if days < 0:
                yield repo.diag(rel, ("basic", "licence_expiry"), f"许可证已于 {r.basic.licence_expiry} 过期，状态应改为 suspended (licence expired)", "licence_expired", "warning")
            elif days <= expiry_days:
                yield repo.diag(rel, ("basic", "licence_expiry"), f"许可证 {days} 天后到期（{r.basic.licence_expiry}），请提醒办理延续 (licence expires in {days} days)", "licence_expiring", "warning")
        if r.evaluation.representative:
            representatives += 1
    if repo.retailers and representatives > policy.classes.representative_share * len(repo.retailers):
        yield Diagnostic(
            f"{RECORDS}/retailers", 0, 0, "",
            f"客户代表 {representatives} 户，超过政策上限 {policy.classes.representative_share:.0%} (too many representatives)",
            "warning", "representative_share",
        )
    others = sum(1 for r in repo.retailers.values() if r.basic.format.value == "other")
    if repo.retailers and others > policy.base_class.other_format_cap * len(repo.retailers):
        yield Diagnostic(
            f"{RECORDS}/retailers", 0, 0, "",
            f"业态为“其他”的零售户 {others} 户（{others / len(repo.retailers):.1%}），超过政策上限 "
            f"{policy.base_class.other_format_cap:.0%}：请改为具体业态 (too many retailers of format 'other')",
            "warning", "other_format_share",
        )


def _working_day(repo: Repository, ctx: Context, rel: str, day: dt.date, what: str) -> Iterator[Diagnostic]:
    if not ctx.calendar.covers(day):
        if (repo.root / RECORDS / "calendar" / f"{day.year}.yaml").exists():
            return  # the calendar is there but broken: its own errors say why, once
        yield repo.diag(rel, ("date",), f"没有 {day.year} 年的工作日历 records/calendar/{day.year}.yaml (no calendar for {day.year})", "no_calendar")
    elif not ctx.calendar.is_working_day(day):
        yield repo.diag(rel, ("date",), f"{day}（{ctx.calendar.day_off_reason(day)}）不是工作日，不应有{what} (not a working day)", "not_working_day")


def _owner(r, day: dt.date) -> str:
    mg = r.management
    return mg.manager_on(day) if mg.manager_history else mg.manager


def _territory(repo: Repository, rel: str, loc: tuple, retailer: str, manager: str, day: dt.date, what: str) -> Iterator[Diagnostic]:
    r = repo.retailers.get(retailer)
    if r is None:
        yield repo.diag(rel, loc, _unknown(repo, "零售户", retailer), "unknown_retailer")
        return
    owner = r.management.manager_on(day)
    if owner != manager:
        yield repo.diag(
            rel, loc,
            f"零售户 {retailer}（{r.basic.shop_name}）{day} 归 {who(repo, owner)} 负责，不在本人片区，不能{what}"
            f" (retailer is in {owner}'s territory)",
            "territory",
        )


def _reviewer(
    repo: Repository, ctx: Context, rel: str, loc: tuple, reviewer: str, manager: str, day: dt.date, what: str,
) -> Iterator[Diagnostic]:
    dept = repo.department_of_manager(manager, day)
    allowed = []
    if dept:
        allowed = ctx.market_managers.get((dept, day))  # type: ignore[assignment]
        if allowed is None:
            allowed = ctx.market_managers[(dept, day)] = market_managers(repo, dept, day)
    names = "、".join(who(repo, p) for p in allowed) or "（该部门没有市场经理）"
    unit = repo.org.get(dept) if dept else None
    where = f"{unit.name}（{dept}）" if unit else dept
    if reviewer not in repo.people:
        yield repo.diag(
            rel, loc, f"找不到{what}人 {reviewer}；{what}应由 {where} 的市场经理 {names} 进行 (no such person)",
            "unknown_person",
        )
    elif reviewer not in allowed:
        yield repo.diag(
            rel, loc,
            f"{what}应由 {where} 的市场经理 {names} 进行，{who(repo, reviewer)} 不是 (expected the department's market manager)",
            "wrong_reviewer",
        )


def check_plans(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    policy = repo.policy_or_default.visits
    for (manager, day), plan in repo.plans.items():
        rel = repo.source("plan", (manager, day))
        yield from _customer_manager(repo, rel, ("manager",), manager)
        yield from _working_day(repo, ctx, rel, day, "拜访计划")
        networks: Counter[str] = Counter()
        retailers = repo.retailers
        known = manager in repo.people  # a mistyped manager is reported once, not as every visit's territory
        for i, visit in enumerate(plan.visits):
            r = retailers.get(visit.retailer)
            if r is None or (known and _owner(r, day) != manager):
                yield from _territory(repo, rel, ("visits", i, "retailer"), visit.retailer, manager, day, "列入计划")
            if r is not None:
                networks[r.basic.network] += 1
        if len(plan.visits) > policy.plan_max:
            yield repo.diag(rel, ("visits",), f"计划拜访 {len(plan.visits)} 户，超过上限 {policy.plan_max} 户 (more than {policy.plan_max} visits)", "plan_max")
        if plan.visits and networks:
            network = networks.most_common(1)[0][0].value
            minimum = policy.daily_min.get(network, 0)
            if len(plan.visits) < minimum:
                yield repo.diag(
                    rel, ("visits",),
                    f"计划拜访 {len(plan.visits)} 户，少于每日最少 {minimum} 户（{'城网' if network == 'urban' else '农网'}）(below the daily minimum)",
                    "plan_min", "warning",
                )
        if plan.approval is not None:
            yield from _reviewer(repo, ctx, rel, ("approval", "by"), plan.approval.by, manager, day, "审核计划")


def check_diaries(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    for (manager, day), diary in repo.diaries.items():
        rel = repo.source("diary", (manager, day))
        yield from _customer_manager(repo, rel, ("manager",), manager)
        yield from _working_day(repo, ctx, rel, day, "日记")
        seen: dict[str, int] = {}
        retailers = repo.retailers
        known = manager in repo.people  # a mistyped manager is reported once, not as every visit's territory
        for i, visit in enumerate(diary.visits):
            r = retailers.get(visit.retailer)
            if r is None or (known and _owner(r, day) != manager):
                yield from _territory(repo, rel, ("visits", i, "retailer"), visit.retailer, manager, day, "记入日记")
            if visit.retailer in seen:
                yield repo.diag(rel, ("visits", i, "retailer"), f"零售户 {visit.retailer} 已在第 {seen[visit.retailer] + 1} 条拜访里，同一天只记一次 (visited twice)", "visit_twice", "warning")
            seen.setdefault(visit.retailer, i)
            for j, brand in enumerate(visit.findings.stock_outs):
                if brand not in repo.brands:
                    yield repo.diag(rel, ("visits", i, "findings", "stock_outs", j), _unknown(repo, "品牌", brand), "unknown_brand")
        for i, item in enumerate(diary.market_info):
            if item.retailer is not None and item.retailer not in repo.retailers:
                yield repo.diag(rel, ("market_info", i, "retailer"), _unknown(repo, "零售户", item.retailer), "unknown_retailer")
            if item.brand is not None and item.brand not in repo.brands:
                yield repo.diag(rel, ("market_info", i, "brand"), _unknown(repo, "品牌", item.brand), "unknown_brand")
        if diary.review is not None:
            yield from _reviewer(repo, ctx, rel, ("review", "reviewer"), diary.review.reviewer, manager, day, "批阅")
            if diary.review.at.date() < day:
                yield repo.diag(rel, ("review", "at"), f"批阅时间 {diary.review.at} 早于日记日期 {day} (reviewed before the day)", "review_before")


def _period_writing(
    repo: Repository, ctx: Context, kind: str, key: tuple[str, str], record, first: dt.date, last: dt.date, items: str = "",
) -> Iterator[Diagnostic]:
    """A weekly analysis or monthly summary: written by a customer manager,
    its brands and retailers exist, reviewed by the department's market
    manager (the department on the period's last day) not before it began."""
    manager = key[0]
    rel = repo.source(kind, key)
    yield from _customer_manager(repo, rel, ("manager",), manager)
    for i, item in enumerate(getattr(record, items) if items else ()):
        if item.retailer is not None and item.retailer not in repo.retailers:
            yield repo.diag(rel, (items, i, "retailer"), _unknown(repo, "零售户", item.retailer), "unknown_retailer")
        if item.brand is not None and item.brand not in repo.brands:
            yield repo.diag(rel, (items, i, "brand"), _unknown(repo, "品牌", item.brand), "unknown_brand")
    if record.review is not None:
        yield from _reviewer(repo, ctx, rel, ("review", "reviewer"), record.review.reviewer, manager, last, "批阅")
        if record.review.at.date() < first:
            yield repo.diag(rel, ("review", "at"), f"批阅时间 {record.review.at} 早于所写期间的第一天 {first} (reviewed before the period)", "review_before")


def check_analyses(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    from crmdocs.schemas.daily import week_bounds

    for key, analysis in repo.analyses.items():
        yield from _period_writing(repo, ctx, "analysis", key, analysis, *week_bounds(key[1]), "observations")


def check_summaries(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    from .periods import bounds

    for key, summary in repo.summaries.items():
        yield from _period_writing(repo, ctx, "summary", key, summary, *bounds(key[1]))


def check_complaints(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    policy = repo.policy_or_default.complaints
    for cid, c in repo.complaints.items():
        rel = repo.source("complaint", cid)
        if c.retailer not in repo.retailers:
            yield repo.diag(rel, ("retailer",), _unknown(repo, "零售户", c.retailer), "unknown_retailer")
        if c.handler not in repo.people:
            yield repo.diag(rel, ("handler",), f"找不到处理人 {c.handler} (no such person)", "unknown_person")
        if c.approver is not None and c.approver not in repo.people:
            yield repo.diag(rel, ("approver",), f"找不到批准人 {c.approver} (no such person)", "unknown_person")
        if c.severity.value in policy.needs_approver and c.approver is None:
            yield repo.diag(
                rel, ("severity",),
                f"{c.severity.value} 投诉要有批准人 approver 才能按 {policy.working_days[c.severity.value]} 个工作日处理，"
                f"否则按 {policy.fallback} 的 {policy.working_days[policy.fallback]} 个工作日计 (no approver for the extension)",
                "no_approver", "warning",
            )
        for i, action in enumerate(c.actions):
            if action.by not in repo.people:
                yield repo.diag(rel, ("actions", i, "by"), f"找不到处理人 {action.by} (no such person)", "unknown_person")


def check_surveys(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    for sid, s in repo.surveys.items():
        rel = repo.source("survey", sid)
        if s.retailer not in repo.retailers:
            yield repo.diag(rel, ("retailer",), _unknown(repo, "零售户", s.retailer), "unknown_retailer")
        if s.surveyor not in repo.people:
            yield repo.diag(rel, ("surveyor",), f"找不到走访人 {s.surveyor} (no such person)", "unknown_person")


def check_targets(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    for period, t in repo.targets.items():
        rel = repo.source("targets", period)
        for i, line in enumerate(t.targets):
            yield from _customer_manager(repo, rel, ("targets", i, "manager"), line.manager)


def check_tier_overrides(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    count = repo.policy_or_default.tiers.count
    for key, o in sorted(repo.tier_overrides.items()):
        rel = repo.source("tier_override", key)
        r = repo.retailers.get(o.retailer)
        if r is None:
            yield repo.diag(rel, ("retailer",), _unknown(repo, "零售户", o.retailer), "unknown_retailer")
        if o.tier > count:
            yield repo.diag(rel, ("tier",), f"档位 {o.tier} 超过最高档 {count} (expected a tier 1–{count})", "tier_range")
        approver = repo.people.get(o.approver)
        if approver is None:
            yield repo.diag(rel, ("approver",), f"找不到批准人 {o.approver} (no such person)", "unknown_person")
        elif r is not None and o.approver not in market_managers(repo, r.management.department, o.date):
            dept = r.management.department
            yield repo.diag(
                rel, ("approver",),
                f"档位调整要由零售户所属部门 {dept} 的市场经理批准，{who(repo, o.approver)} 不是"
                f" (expected a market manager of {dept}: {', '.join(market_managers(repo, dept, o.date)) or 'none'})",
                "approver_role",
            )


def check_sales(repo: Repository, ctx: Context) -> Iterator[Diagnostic]:
    sales = repo.sales
    sales.finish()
    for column, ids, codes, known, what, fld in (
        (2, sales.retailer_ids, sales.retailer, repo.retailers, "零售户", "retailer"),
        (3, sales.brand_ids, sales.brand, repo.brands, "品牌", "brand"),
    ):
        unknown = [i for i, v in enumerate(ids) if v not in known]
        if not unknown:
            continue
        import numpy as np  # here: a check of daily files alone never needs it

        rows = np.flatnonzero(np.isin(codes, unknown))
        seen: set[tuple[int, int]] = set()
        for i in rows:  # first row of each unknown id in each file
            key = (int(sales.file_of[i]), int(codes[i]))
            if key in seen:
                continue
            seen.add(key)
            rel, line = sales.origin(int(i))
            yield Diagnostic(rel, line, column, fld,
                             f"找不到{what} {ids[key[1]]}（本文件第一次出现在这一行）(unknown {fld})",
                             "error", "unknown_reference")


CHECKS: tuple[Callable[[Repository, Context], Iterable[Diagnostic]], ...] = (
    check_basics,
    check_org,
    check_people,
    check_retailers,
    check_plans,
    check_diaries,
    check_analyses,
    check_summaries,
    check_complaints,
    check_surveys,
    check_targets,
    check_tier_overrides,
    check_sales,
)


def run_checks(repo: Repository, today: dt.date) -> list[Diagnostic]:
    ctx = Context(today=today, calendar=WorkCalendar(repo.calendars))
    out: list[Diagnostic] = []
    for check in CHECKS:
        out.extend(check(repo, ctx))
    return out
