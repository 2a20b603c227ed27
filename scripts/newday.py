"""A customer manager's day in two commands: ``crmdocs new plan`` and ``crmdocs new diary``.

``new_plan`` writes the next working day's visit plan with the retailers due
for a visit, in this order (DOMAIN.md §3 "Visits"):

1. overdue — not visited within their class's required cycle (most overdue
   first; the rules' coverage, ``rules.visits``);
2. key customers (``policy.classes.key_classes``) due within the look-ahead;
3. retailers with an open complaint (``rules.complaints``);
4. retailers with an abnormal order since their last visit (``rules.abnormal``);
5. then, up to the daily minimum for the territory's network, those whose
   cycle ends soonest — never more than ``policy.visits.plan_max``.

``new_diary`` writes a day's diary prefilled from that day's plan. Both files
are validated before they are written, carry Chinese comments saying where
to write what, and are never written over an existing file. Numbers come from
the policy; the rules' results are used through the same library functions
as ``crmdocs recalc``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from crmdocs.schemas import Diary, Plan
from crmdocs.schemas.daily import INFO_CATEGORY_ZH, PURPOSE_ZH, ABSENCE_ZH, PlannedVisit, Purpose, Visit
from crmdocs.schemas.org import Role

from .diagnostics import CrmdocsError
from .kinds import RECORDS, kind_of, path_for
from .repository import Repository, load, parse_record
from .workdays import NoCalendar, WorkCalendar
from .yamlwrite import dumps, write_atomic

WEEKDAY_ZH = "一二三四五六日"
# modules whose results the plan uses, in the rules' own order (visits and
# appraisals are not needed to choose tomorrow's retailers)
RULES_USED = ("classes", "tiers", "limits", "abnormal", "complaints")
LOOK_AHEAD_DAYS = 2  # key customers whose cycle ends within this many days are planned early
ABNORMAL_DAYS = 7  # abnormal orders of the last week (and since the last visit) are followed up


# ---------------------------------------------------------------- who and when


def git_email(root: Path) -> Optional[str]:
    """``git config user.email`` as seen from ``root`` (None when unset or no git)."""
    try:
        done = subprocess.run(["git", "config", "user.email"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip().lower()
    return value or None


def _refuse_leaver(pid: str, person) -> None:
    # audit refuses a leaver's commits: a file written for them could never be handed in
    if not person.active:
        raise CrmdocsError(f"{person.name}（{pid}）已离岗（人员记录 active: false），不再写计划、日记和总结；"
                           f"片区已交给别人时，用接手人的 --manager (the customer manager has left)")


def pick_manager(repo: Repository, root: Path, manager: Optional[str]) -> str:
    if manager:
        person = repo.people.get(manager)
        if person is None:
            managers = {pid: p for pid, p in sorted(repo.people.items()) if p.role is Role.customer_manager}
            by_name = [pid for pid, p in managers.items() if p.name == manager.strip()]
            if len(by_name) == 1:  # --manager 刘平: the name of one customer manager
                return by_name[0]
            near = by_name or [pid for pid, p in managers.items() if manager.lower() in pid or manager in p.name]
            hint = ("；是不是 " + " 或 ".join(f"{pid}（{managers[pid].name}）" for pid in near[:5]) + "？") if near else ""
            raise CrmdocsError(f"找不到人员 {manager}：--manager 写客户经理的编号（{RECORDS}/people/ 里的文件名）或姓名"
                               f"{hint} (no such person)")
        if person.role is not Role.customer_manager:
            raise CrmdocsError(f"{person.name}（{manager}）不是客户经理 (not a customer manager)")
        _refuse_leaver(manager, person)
        return manager
    email = git_email(root)
    if not email:
        raise CrmdocsError("没有 --manager，git config user.email 也未设置：请用 --manager 指定客户经理编号 (who are you?)")
    for pid, person in sorted(repo.people.items()):
        if email in person.emails and person.role is Role.customer_manager:
            _refuse_leaver(pid, person)
            return pid
    raise CrmdocsError(
        f"git 邮箱 {email} 不属于任何客户经理的人员记录（emails）；请用 --manager 指定，或请管理员把邮箱加进人员记录"
        f" (e-mail {email} is no customer manager's)"
    )


def _working(calendar: WorkCalendar, day: dt.date, what: str) -> None:
    try:
        ok = calendar.is_working_day(day)
    except NoCalendar as exc:
        raise CrmdocsError(str(exc)) from None
    if not ok:
        raise CrmdocsError(f"{day.isoformat()}（{calendar.day_off_reason(day)}）不是工作日，不用写{what}；请用 --date 指定工作日 (not a working day)")


def within_calendars(repo: Repository, day: dt.date, what: str, typed: bool = True, which: str = "下一个工作日") -> None:
    """Refuse a day outside the years of the working calendars (``records/calendar/<yyyy>.yaml``):
    a slip such as 2999-12-31 would otherwise start a week or month in the year 3000.
    ``typed``: the day came from --date (else it is ``which``: the next working day, or today, at the turn of a year)."""
    if day.year not in repo.calendars:
        years = "、".join(str(y) for y in sorted(repo.calendars))
        if not typed:
            raise CrmdocsError(
                f"{which}在 {day.year} 年，还没有 {day.year} 年的工作日历（现有 {years} 年）：请管理员按国务院的放假通知"
                f"添加 {RECORDS}/calendar/{day.year}.yaml，或用 --date 指定日期 (no working calendar for {day.year} yet)")
        raise CrmdocsError(
            f"{day.isoformat()} 不在工作日历的年份内（现有 {years} 年）：{what}只能写有工作日历的年份；"
            f"日期写错了吗？确要写 {day.year} 年，请先添加 {RECORDS}/calendar/{day.year}.yaml "
            f"(date outside the working calendars' years)")


def next_working_day(calendar: WorkCalendar, today: dt.date) -> dt.date:
    try:
        return calendar.add_working_days(today, 1)
    except NoCalendar as exc:
        raise CrmdocsError(str(exc)) from None


def _due(calendar: WorkCalendar, day: dt.date, deadline) -> str:
    try:
        when = calendar.add_working_days(day, deadline.days_after) if deadline.days_after else day
    except NoCalendar:
        return deadline.time
    return f"{when.isoformat()} {deadline.time}"


# ---------------------------------------------------------------- choosing retailers


@dataclass
class Candidate:
    retailer: str
    rank: int  # 0 overdue, 1 key, 2 complaint, 3 abnormal, 4 soonest due
    order: tuple = ()
    purpose: Purpose = Purpose.routine
    reasons: list[str] = field(default_factory=list)


def _rules_context(repo: Repository, day: dt.date):
    """The rules' context with the modules the plan needs computed, standing
    on the day before ``day`` (or the records' last day, if earlier)."""
    from .rules import last_day, make_context

    as_of = min(last_day(repo), day - dt.timedelta(days=1))
    ctx = make_context(repo, None, as_of)
    for name in RULES_USED:
        module = importlib.import_module(f"crmdocs.scripts.rules.{name}")
        module.compute(ctx)
    return ctx


def _last_visits(repo: Repository, before: dt.date) -> dict[str, list[dt.date]]:
    out: dict[str, list[dt.date]] = defaultdict(list)
    for (_, day), diary in repo.diaries.items():
        if day < before:
            for visit in diary.visits:
                out[visit.retailer].append(day)
    for dates in out.values():
        dates.sort()
    return out


def due_retailers(repo: Repository, manager: str, day: dt.date) -> list[Candidate]:
    """The retailers of ``manager``'s territory due for a visit on ``day``,
    best first, capped at the policy's plan maximum."""
    from .rules import visits as visit_rules

    ctx = _rules_context(repo, day)
    policy = ctx.policy
    vp = policy.visits
    territory = visit_rules.territory_on(repo, day).get(manager, [])
    lookup = visit_rules.class_lookup(ctx, day)
    last_visits = _last_visits(repo, day)
    start0 = visit_rules.regime_start(repo)
    longest = max(vp.cycle_days.values())
    before = (start0 - dt.timedelta(days=1)) if start0 else day
    key_classes = set(policy.classes.key_classes)

    found: dict[str, Candidate] = {}

    def add(rid: str, rank: int, order: tuple, reason: str, purpose: Purpose = Purpose.routine) -> None:
        cand = found.get(rid)
        if cand is None:
            found[rid] = Candidate(rid, rank, order, purpose, [reason])
            return
        if rank < cand.rank:
            cand.rank, cand.order = rank, order
        if purpose is not Purpose.routine and cand.purpose is Purpose.routine:
            cand.purpose = purpose
        cand.reasons.append(reason)

    def due(gap: int, cycle: int) -> str:  # one wording for key customers and the top-up
        return "今天到期" if gap >= cycle else f"还有 {cycle - gap} 天到期"

    gaps: dict[str, tuple[int, int, str]] = {}
    for rid in territory:
        cls = lookup(rid)
        cycle = vp.cycle_days.get(cls, longest) if cls else longest
        dates = last_visits.get(rid, [])
        last = dates[-1] if dates else None
        gap = (day - (last or before)).days
        label = f"{cls.upper()} 类" if cls else "未分类"
        seen = f"上次 {last.isoformat()}" if last else "记录中未拜访过"
        gaps[rid] = (gap, cycle, f"{label}，周期 {cycle} 天，{seen}")
        if gap > cycle:
            add(rid, 0, (-(gap - cycle), rid), f"超期 {gap - cycle} 天（{label}，周期 {cycle} 天，{seen}）")
        elif cls in key_classes and cycle - gap <= LOOK_AHEAD_DAYS:
            add(rid, 1, (cycle - gap, rid), f"重点客户，{due(gap, cycle)}（{label}，周期 {cycle} 天，{seen}）")

    mine = set(territory)
    statuses = ctx.shared.get("complaints")
    if isinstance(statuses, dict) and statuses:
        open_ids = [(s.retailer, cid) for cid, s in statuses.items() if getattr(s, "resolved", None) is None]
    else:  # the complaints rule gave nothing: open = not resolved
        open_ids = [(c.retailer, cid) for cid, c in repo.complaints.items() if c.resolved is None]
    for rid, cid in sorted(open_ids):
        complaint = repo.complaints.get(cid)
        if rid in mine and complaint is not None and complaint.received.date() < day:
            add(rid, 2, (complaint.received, rid), f"投诉 {cid} 未办结（{complaint.received:%m-%d} 受理）", Purpose.complaint)

    recent: dict[str, list[dict]] = defaultdict(list)
    for item in ctx.shared.get("abnormal", []) or []:
        rid = item.get("retailer")
        when = item.get("date")
        if rid not in mine or not isinstance(when, dt.date) or when >= day:
            continue
        dates = last_visits.get(rid, [])
        last = dates[-1] if dates else None
        if (day - when).days > ABNORMAL_DAYS or (last is not None and when <= last):
            continue
        recent[rid].append(item)
    for rid, items in sorted(recent.items()):
        items.sort(key=lambda it: it["date"], reverse=True)
        newest = items[0]
        from .spreadsheet_export import without_gloss

        message = without_gloss(str(newest.get("message", "")))
        more = f"共 {len(items)} 笔，" if len(items) > 1 else ""
        add(rid, 3, (-newest["date"].toordinal(), rid), f"异常订单{more}{newest['date']:%m-%d}：{message}", Purpose.information)

    chosen = sorted(found.values(), key=lambda c: (c.rank, c.order))
    networks = [repo.retailers[r].basic.network.value for r in territory]
    network = max(set(networks), key=networks.count) if networks else "urban"
    minimum = vp.daily_min.get(network, 0)
    if len(chosen) < minimum:
        rest = sorted((r for r in territory if r not in found), key=lambda r: (gaps[r][1] - gaps[r][0], r))
        for rid in rest[: minimum - len(chosen)]:
            gap, cycle, about = gaps[rid]
            chosen.append(Candidate(rid, 4, (), Purpose.routine, [f"{due(gap, cycle)}（{about}）"]))
    return chosen[: vp.plan_max]


# ---------------------------------------------------------------- the files


def _rel(kind: str, record) -> str:
    return f"{RECORDS}/{path_for(kind, record)}"


def _check(rel: str, text: str) -> None:
    match = kind_of(rel[len(RECORDS) + 1 :])
    assert match is not None
    loaded = parse_record(rel, match[0], match[1], text.encode("utf-8"))
    if loaded.diagnostics or loaded.record is None:
        raise CrmdocsError(f"生成的 {rel} 没有通过检查 (generated file is invalid)", loaded.diagnostics)


def _refuse_existing(root: Path, rel: str) -> None:
    if (root / rel).exists():
        raise CrmdocsError(f"{rel} 已经存在，不会覆盖；请直接编辑它 (exists: not overwritten)")


def _shop_comments(text: str, repo: Repository) -> str:
    def note(m: re.Match) -> str:
        r = repo.retailers.get(m.group(2))
        return f"{m.group(0)}  # {r.basic.shop_name}" if r else m.group(0)

    return re.sub(r"^(- retailer: )(\S+)$", note, text, flags=re.M)


def _purposes() -> str:
    return " / ".join(f"{p.value} {zh}" for p, zh in PURPOSE_ZH.items())


def plan_text(repo: Repository, manager: str, day: dt.date) -> tuple[str, str]:
    """(path relative to root, file text) of the plan ``manager`` should hand in for ``day``."""
    calendar = WorkCalendar(repo.calendars)
    _working(calendar, day, "计划")
    chosen = due_retailers(repo, manager, day)
    plan = Plan(
        manager=manager, date=day,
        visits=[PlannedVisit(retailer=c.retailer, purpose=c.purpose, note="；".join(c.reasons)) for c in chosen],
    )
    person = repo.people[manager]
    vp = repo.policy_or_default.visits
    header = (
        f"# 拜访计划：{person.name}（{manager}）{day.isoformat()} 星期{WEEKDAY_ZH[day.weekday()]}\n"
        f"# 由 crmdocs new plan 按拜访周期、重点客户、未办结投诉和异常订单排出，请核对、增删后提交。\n"
        f"# 提交截止：{_due(calendar, day, vp.plan_deadline)}；每天最多 {vp.plan_max} 户，每户只列一次。\n"
        f"# 每户的 purpose（拜访目的）可改为：{_purposes()}\n"
        f"# note 写安排理由或要办的事；请假时删去 visits 里的各户，在 note 写明原因。\n"
        f"# approval（审核）由市场经理在代码评审时填写，请勿自填。\n"
    )
    body = _shop_comments(dumps(plan), repo)
    if not chosen:
        body += "# 片区内今天没有到期要访的零售户；可按需要自行添加 visits。\n"
    text = header + body
    rel = _rel("plan", plan)
    _check(rel, text)
    return rel, text


def _times(n: int) -> list[dt.time]:
    step = min(20, max(5, 480 // max(n, 1)))
    start = dt.datetime(2000, 1, 1, 9, 0)
    return [(start + dt.timedelta(minutes=step * i)).time() for i in range(n)]


DIARY_TAIL = """\
# ---- 以下按实际情况填写（去掉行首的 # 即生效）----
# 经营分析（片区客户经营、销量变化）：
# business_analysis: |
#   ……
# 市场分析（价格、竞品、消费变化）：
# market_analysis: |
#   ……
# 市场信息，每条一项；category 可选：{categories}
# market_info:
# - category: price
#   content: ……
#   retailer: r-……
#   brand: b-……
# 当天没有拜访时删去 visits，写 absence：{absences}
# review（批阅）由市场经理填写，请勿自填。
"""

VISIT_HINT = (
    "  # 每户还可写（去掉行首的 # 即生效）：\n"
    "  # findings:            # 检查发现：price_tags ok/partial/missing，display good/fair/poor，\n"
    "  #   price_tags: ok      #   suspected_illegal 疑似假烟私烟 true/false，stock_outs 断货品牌\n"
    "  # opinions: ……         # 客户意见和建议\n"
    "  # help_given: ……       # 提供的帮助\n"
    "  # follow_up: ……        # 需跟进事项\n"
)


def diary_text(repo: Repository, manager: str, day: dt.date) -> tuple[str, str]:
    """(path relative to root, file text) of ``manager``'s diary for ``day``, from that day's plan."""
    calendar = WorkCalendar(repo.calendars)
    _working(calendar, day, "日记")
    plan = repo.plans.get((manager, day))
    if plan is None:
        raise CrmdocsError(
            f"{manager} 没有 {day.isoformat()} 的拜访计划（{RECORDS}/plans/{manager}/{day.year}/{day.isoformat()}.yaml）；"
            f"先写计划：crmdocs new plan --date {day.isoformat()} (no plan for that day)"
        )
    times = _times(len(plan.visits))
    visits = [Visit(retailer=v.retailer, time=t, purpose=v.purpose) for v, t in zip(plan.visits, times)]
    diary = Diary(manager=manager, date=day, visits=visits) if visits else Diary(manager=manager, date=day, absence="leave")
    person = repo.people[manager]
    vp = repo.policy_or_default.visits
    header = (
        f"# 客户经理日记：{person.name}（{manager}）{day.isoformat()} 星期{WEEKDAY_ZH[day.weekday()]}\n"
        f"# 由 crmdocs new diary 按当天计划预填：没去的户删掉，临时去的户加上，到店时刻 time 按实际改写。\n"
        f"# 提交截止：{_due(calendar, day, vp.diary_deadline)}。\n"
    )
    body = dumps(diary)
    body = re.sub(r'^(  time: "\d\d:\d\d")$', r"\1  # 到店时刻：按实际改写", body, flags=re.M)
    # the fields a visit may have, shown once (under the first visit)
    body = re.sub(r"^(  time: .*\n(?:  purpose: .*\n)?)", lambda m: m.group(1) + VISIT_HINT, body, count=1, flags=re.M)
    if not visits:
        body += "# 当天计划里没有拜访：absence 已预填为 leave（请假），请按实际改为 sick / training / meeting，或写上拜访。\n"
    tail = DIARY_TAIL.format(
        categories=" / ".join(f"{k.value} {zh}" for k, zh in INFO_CATEGORY_ZH.items()),
        absences=" / ".join(f"{k.value} {zh}" for k, zh in ABSENCE_ZH.items()),
    )
    text = header + _shop_comments(body, repo) + tail
    rel = _rel("diary", diary)
    _check(rel, text)
    return rel, text


def _load(root: Path) -> Repository:
    from .validate import default_jobs

    repo, _ = load(root, jobs=default_jobs())
    if not repo.calendars:
        raise CrmdocsError(f"{root / RECORDS / 'calendar'} 里没有工作日历，无法确定工作日 (no calendar)")
    return repo


def new_plan(root: Path | str, manager: Optional[str] = None, day: Optional[dt.date] = None,
             today: Optional[dt.date] = None) -> Path:
    """Write the plan for ``day`` (default: the next working day after ``today``)."""
    root = Path(root)
    repo = _load(root)
    who = pick_manager(repo, root, manager)
    typed = day is not None
    day = day or next_working_day(WorkCalendar(repo.calendars), today or dt.date.today())
    within_calendars(repo, day, "拜访计划", typed)
    _refuse_existing(root, f"{RECORDS}/plans/{who}/{day.year}/{day.isoformat()}.yaml")
    rel, text = plan_text(repo, who, day)
    write_atomic(root / rel, text)
    return root / rel


def new_diary(root: Path | str, manager: Optional[str] = None, day: Optional[dt.date] = None,
              today: Optional[dt.date] = None) -> Path:
    """Write the diary for ``day`` from that day's plan. Default: today; when
    today has no plan, the latest day of the past week whose plan has no
    diary yet (a diary may be handed in the next morning)."""
    root = Path(root)
    repo = _load(root)
    who = pick_manager(repo, root, manager)
    typed = day is not None
    if day is None:
        today = today or dt.date.today()
        waiting = [d for (m, d) in repo.plans if m == who and today - dt.timedelta(days=7) < d <= today
                   and (who, d) not in repo.diaries]
        day = today if (who, today) in repo.plans or not waiting else max(waiting)
    within_calendars(repo, day, "日记", typed, "今天" if day == today else "要写的日记")
    _refuse_existing(root, f"{RECORDS}/diaries/{who}/{day.year}/{day.isoformat()}.yaml")
    rel, text = diary_text(repo, who, day)
    write_atomic(root / rel, text)
    return root / rel


# ---------------------------------------------------------------- a week's analysis, a month's summary (seed 003)

ANALYSIS_TAIL = """\
# 存在的问题：
# problems: ……
# 建议：
# suggestions: ……
# review（批阅）由市场经理填写，请勿自填。
"""

SUMMARY_TAIL = """\
# 存在的问题：
# problems: ……
# 下月工作计划：
# next_month: ……
# review（批阅）由市场经理填写，请勿自填。
"""


def analysis_text(repo: Repository, manager: str, day: dt.date) -> tuple[str, str]:
    """(path relative to root, file text) of ``manager``'s market analysis of
    the ISO week containing ``day``: the week's market information from the
    diaries prefilled as observations (keep the important ones)."""
    from crmdocs.schemas import WeeklyAnalysis
    from crmdocs.schemas.daily import MarketInfo, week_bounds, week_of

    week = week_of(day)
    first, last = week_bounds(week)
    diaries = [d for (m, d_), d in sorted(repo.diaries.items()) if m == manager and first <= d_ <= last]
    visits = sum(len(d.visits) for d in diaries)
    items = [MarketInfo.model_validate(i.model_dump()) for d in diaries for i in d.market_info]
    analysis = WeeklyAnalysis(
        manager=manager, week=week,
        market_situation=f"本周拜访 {visits} 户次（日记 {len(diaries)} 篇）。……",
        observations=items,
    )
    person = repo.people[manager]
    header = (
        f"# 周市场分析：{person.name}（{manager}）{week}（{first.isoformat()} 至 {last.isoformat()}）\n"
        f"# 由 crmdocs new analysis 预填：market_situation 写本周市场形势；observations 是本周日记里的市场信息，\n"
        f"# 留下重要的、补上品牌/价格/竞争方面的观察（category 可选："
        f"{' / '.join(f'{k.value} {zh}' for k, zh in INFO_CATEGORY_ZH.items())}）。\n"
    )
    def named(m: re.Match) -> str:  # the shop's or the brand's name beside its id
        ref = m.group(2)
        if m.group(1) == "retailer" and ref in repo.retailers:
            return f"{m.group(0)}  # {repo.retailers[ref].basic.shop_name}"
        if m.group(1) == "brand" and ref in repo.brands:
            return f"{m.group(0)}  # {repo.brands[ref].name}"
        return m.group(0)

    body = re.sub(r"^  (retailer|brand): (\S+)$", named, dumps(analysis), flags=re.M)
    text = header + body + ANALYSIS_TAIL
    rel = _rel("analysis", analysis)
    _check(rel, text)
    return rel, text


def summary_text(repo: Repository, manager: str, day: dt.date) -> tuple[str, str]:
    """(path relative to root, file text) of ``manager``'s work summary of the
    month containing ``day``, with the month's figures counted from the diaries."""
    from crmdocs.schemas import MonthlySummary
    from crmdocs.schemas.daily import Figure

    from .periods import month_of

    month = month_of(day)
    diaries = [d for (m, d_), d in sorted(repo.diaries.items()) if m == manager and month_of(d_) == month]
    plans = [p for (m, d_), p in repo.plans.items() if m == manager and month_of(d_) == month]
    visits = sum(len(d.visits) for d in diaries)
    results = [
        Figure(label="拜访户次", value=visits, unit="户次"),
        Figure(label="计划拜访户次", value=sum(len(p.visits) for p in plans), unit="户次"),
        Figure(label="日记", value=len(diaries), unit="篇"),
        Figure(label="上报市场信息", value=sum(len(d.market_info) for d in diaries), unit="条"),
    ]
    summary = MonthlySummary(manager=manager, month=month, work_done="本月……", results=results)
    person = repo.people[manager]
    header = (
        f"# 月工作总结：{person.name}（{manager}）{month}\n"
        f"# 由 crmdocs new summary 预填：work_done 写本月完成的工作；results 的数字由本月计划和日记统计，可增删\n"
        f"# （value 写数字，不加引号）。\n"
    )
    text = header + dumps(summary) + SUMMARY_TAIL
    rel = _rel("summary", summary)
    _check(rel, text)
    return rel, text


def _new_periodic(root, manager, day, today, existing, make_text, what) -> Path:
    """Shared by ``new analysis`` and ``new summary``: refuse an existing file, else write the prefilled one."""
    root = Path(root)
    repo = _load(root)
    who = pick_manager(repo, root, manager)
    typed = day is not None
    day = day or today or dt.date.today()
    within_calendars(repo, day, what, typed, "今天")
    _refuse_existing(root, existing(who, day))
    rel, text = make_text(repo, who, day)
    write_atomic(root / rel, text)
    return root / rel


def new_analysis(root: Path | str, manager: Optional[str] = None, day: Optional[dt.date] = None,
                 today: Optional[dt.date] = None) -> Path:
    """Write the market analysis of the week of ``day`` (default: today)."""
    from crmdocs.schemas.daily import week_of

    def existing(who: str, day: dt.date) -> str:
        week = week_of(day)
        return f"{RECORDS}/analyses/{who}/{week[:4]}/{week}.yaml"

    return _new_periodic(root, manager, day, today, existing, analysis_text, "周市场分析")


def new_summary(root: Path | str, manager: Optional[str] = None, day: Optional[dt.date] = None,
                today: Optional[dt.date] = None) -> Path:
    """Write the work summary of the month of ``day`` (default: today)."""
    from .periods import month_of

    def existing(who: str, day: dt.date) -> str:
        return f"{RECORDS}/summaries/{who}/{day.year}/{month_of(day)}.yaml"

    return _new_periodic(root, manager, day, today, existing, summary_text, "月工作总结")
