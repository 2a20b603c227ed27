"""Where each record kind lives under ``records/`` and what its file name
promises about its content. The one place that knows the layout."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from crmdocs.schemas import Record

RECORDS = "records"
COMPUTED = "computed"  # records/computed/: written by `crmdocs recalc` only

_ID = r"(?P<id>[^/]+)"
_YEAR = r"(?P<year>\d{4})"
_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"


@dataclass(frozen=True)
class Agreement:
    """A part of the file name that must equal a value inside the file."""

    group: str  # regex group of the path
    field: tuple[str | int, ...]  # where the value sits in the record
    get: Callable[[Any], str]  # the value, as text
    label: str  # 中文 name of the value


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # 中文
    model_name: str  # the class in crmdocs.schemas, imported on first use (the layout alone is light)
    pattern: re.Pattern[str]
    example: str  # an example path, for messages and the README
    glob: str  # for editor settings (yaml.schemas)
    agreements: tuple[Agreement, ...] = field(default_factory=tuple)

    @property
    def model(self) -> type[Record]:
        import crmdocs.schemas

        return getattr(crmdocs.schemas, self.model_name)

    @property
    def top(self) -> str:
        """The first folder of this kind's paths ("retailers"), or its file
        name ("policy.yaml"): no other kind's paths start with it."""
        return self.example.partition("/")[0]

    def match(self, rel: str) -> Optional[re.Match[str]]:
        return self.pattern.fullmatch(rel)


def _a(group: str, path: tuple, get: Callable[[Any], Any], label: str) -> Agreement:
    return Agreement(group, path, lambda r: str(get(r)), label)


KINDS: tuple[Kind, ...] = (
    Kind("policy", "政策", "Policy", re.compile(r"policy\.yaml"), "policy.yaml", "records/policy.yaml"),
    Kind(
        "calendar", "工作日历", "Calendar", re.compile(rf"calendar/{_YEAR}\.yaml"), "calendar/2026.yaml",
        "records/calendar/*.yaml", (_a("year", ("year",), lambda r: r.year, "年份"),),
    ),
    Kind(
        "org", "组织单位", "OrgUnit", re.compile(rf"org/{_ID}\.yaml"), "org/d-chengguan.yaml",
        "records/org/*.yaml", (_a("id", ("id",), lambda r: r.id, "编号"),),
    ),
    Kind(
        "person", "人员", "Person", re.compile(rf"people/{_ID}\.yaml"), "people/cm-zhang-wei.yaml",
        "records/people/*.yaml", (_a("id", ("id",), lambda r: r.id, "编号"),),
    ),
    Kind(
        "brand", "品牌", "Brand", re.compile(rf"brands/{_ID}\.yaml"), "brands/b-hongtashan.yaml",
        "records/brands/*.yaml", (_a("id", ("id",), lambda r: r.id, "编号"),),
    ),
    Kind(
        "retailer", "零售户档案", "Retailer", re.compile(rf"retailers/(?P<department>[^/]+)/{_ID}\.yaml"),
        "retailers/d-chengguan/r-00001.yaml", "records/retailers/*/*.yaml",
        (
            _a("id", ("id",), lambda r: r.id, "编号"),
            _a("department", ("management", "department"), lambda r: r.management.department, "客户服务部"),
        ),
    ),
    Kind(
        "plan", "拜访计划", "Plan", re.compile(rf"plans/(?P<manager>[^/]+)/{_YEAR}/{_DATE}\.yaml"),
        "plans/cm-zhang-wei/2026/2026-09-01.yaml", "records/plans/*/*/*.yaml",
        (
            _a("manager", ("manager",), lambda r: r.manager, "客户经理"),
            _a("date", ("date",), lambda r: r.date.isoformat(), "日期"),
            _a("year", ("date",), lambda r: r.date.year, "年份"),
        ),
    ),
    Kind(
        "diary", "客户经理日记", "Diary", re.compile(rf"diaries/(?P<manager>[^/]+)/{_YEAR}/{_DATE}\.yaml"),
        "diaries/cm-zhang-wei/2026/2026-09-01.yaml", "records/diaries/*/*/*.yaml",
        (
            _a("manager", ("manager",), lambda r: r.manager, "客户经理"),
            _a("date", ("date",), lambda r: r.date.isoformat(), "日期"),
            _a("year", ("date",), lambda r: r.date.year, "年份"),
        ),
    ),
    Kind(
        "analysis", "周市场分析", "WeeklyAnalysis",
        re.compile(rf"analyses/(?P<manager>[^/]+)/{_YEAR}/(?P<week>\d{{4}}-W\d{{2}})\.yaml"),
        "analyses/cm-zhang-wei/2026/2026-W36.yaml", "records/analyses/*/*/*.yaml",
        (
            _a("manager", ("manager",), lambda r: r.manager, "客户经理"),
            _a("week", ("week",), lambda r: r.week, "周"),
            _a("year", ("week",), lambda r: r.week[:4], "年份"),
        ),
    ),
    Kind(
        "summary", "月工作总结", "MonthlySummary",
        re.compile(rf"summaries/(?P<manager>[^/]+)/{_YEAR}/(?P<month>\d{{4}}-\d{{2}})\.yaml"),
        "summaries/cm-zhang-wei/2026/2026-09.yaml", "records/summaries/*/*/*.yaml",
        (
            _a("manager", ("manager",), lambda r: r.manager, "客户经理"),
            _a("month", ("month",), lambda r: r.month, "月份"),
            _a("year", ("month",), lambda r: r.month[:4], "年份"),
        ),
    ),
    Kind(
        "complaint", "客户投诉", "Complaint", re.compile(rf"complaints/{_YEAR}/{_ID}\.yaml"),
        "complaints/2026/c-2026-0001.yaml", "records/complaints/*/*.yaml",
        (
            _a("id", ("id",), lambda r: r.id, "编号"),
            _a("year", ("received",), lambda r: r.received.year, "受理年份"),
        ),
    ),
    Kind(
        "survey", "走访报告单", "Survey", re.compile(rf"surveys/{_YEAR}/{_ID}\.yaml"),
        "surveys/2026/s-2026-r-00001.yaml", "records/surveys/*/*.yaml",
        (
            _a("id", ("id",), lambda r: r.id, "编号"),
            _a("year", ("date",), lambda r: r.date.year, "走访年份"),
        ),
    ),
    Kind(
        "targets", "销售目标", "Targets", re.compile(r"targets/(?P<period>[^/]+)\.yaml"),
        "targets/2026-09.yaml", "records/targets/*.yaml",
        (_a("period", ("period",), lambda r: r.period, "期间"),),
    ),
    Kind(
        "tier_override", "档位调整", "TierOverride", re.compile(rf"tier-overrides/(?P<period>[^/]+)/{_ID}\.yaml"),
        "tier-overrides/2026-10/r-00001.yaml", "records/tier-overrides/*/*.yaml",
        (
            _a("period", ("period",), lambda r: r.period, "期间"),
            _a("id", ("retailer",), lambda r: r.retailer, "零售户"),
        ),
    ),
)

BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}

HANDED_IN = "handed-in.csv"  # hand-in times from the old system (history.read_handed_in_csv), in records/

SALES_PATTERN = re.compile(r"sales/(?P<month>\d{4}-\d{2})\.csv(?:\.gz)?")  # plain or gzip


def is_sales(rel: str) -> bool:
    """Whether ``rel`` (relative to the repository root) is a monthly sales file."""
    return rel.startswith(f"{RECORDS}/sales/") and SALES_PATTERN.fullmatch(rel[len(RECORDS) + 1 :]) is not None


def _by_top() -> dict[str, Kind]:
    """Each kind by :attr:`Kind.top`. Every pattern starts with its kind's
    top as written (a folder and "/", or the whole file name) and no two kinds
    share one, so a path can be of the kind its top names only."""
    out: dict[str, Kind] = {}
    for kind in KINDS:
        top, source = kind.top, kind.pattern.pattern
        literal = top.replace(".", r"\.")
        if not re.fullmatch(r"[a-z][a-z-]*(\\\.yaml)?", literal) or not (
            source == literal if "/" not in kind.example else source.startswith(literal + "/")
        ) or top in out or not kind.match(kind.example):
            raise AssertionError(f"the layout of {kind.name} ({source}) does not start with a folder of its own")
        out[top] = kind
    return out


_BY_TOP = _by_top()


def kind_of(rel: str) -> Optional[tuple[Kind, re.Match[str]]]:
    """The kind of a path relative to ``records/`` ("/" separated): the one
    its first folder names, when its pattern matches (one pattern tried, not
    a dozen)."""
    kind = _BY_TOP.get(rel.partition("/")[0])
    if kind is None:
        return None
    m = kind.pattern.fullmatch(rel)
    return (kind, m) if m else None


_LOOSE_DAY = re.compile(r"(\d{4})[-_.]?(\d{1,2})[-_.]?(\d{1,2})")


def _top_kind(rel: str) -> tuple[Optional[Kind], str, str]:
    """(the kind ``rel``'s first folder names — None when none —, that folder, the rest)."""
    top, _, rest = rel.partition("/")
    return _BY_TOP.get(re.sub(r"\.ya?ml$", ".yaml", top.lower(), flags=re.IGNORECASE)), top, rest


def should_be(rel: str) -> Optional[str]:
    """The path (relative to ``records/``) a ``.yaml`` file at ``rel`` that is no
    record's path should have, when that can be told: a plan's or diary's day
    written short or without its year folder, ``.yml``, capitals; else None."""
    kind, _, rest = _top_kind(rel)
    if kind is None:
        return None
    stem = re.sub(r"\.ya?ml$", "", rest, flags=re.IGNORECASE)
    parts = stem.split("/") if stem else []
    wanted = [f"{kind.top}/{stem}.yaml".lower() if "/" in kind.example else kind.top]  # .yml, .YAML, capitals
    day = _LOOSE_DAY.fullmatch(parts[-1]) if parts else None
    if kind.name in ("plan", "diary") and day and len(parts) in (2, 3):  # 2026-11-3, or no year folder
        y, m, d = (int(g) for g in day.groups())
        wanted.insert(0, f"{kind.top}/{parts[0]}/{y:04d}/{y:04d}-{m:02d}-{d:02d}.yaml")
    return next((path for path in wanted if path != rel and kind.match(path)), None)


def misplaced(rel: str) -> str:
    """What to tell about a ``.yaml`` file under ``records/`` (``rel``
    relative to it) that is no record's path: the layout of the kind its
    first folder names, with the path it should have when that can be told
    (:func:`should_be`), or the folders there are."""
    import difflib

    kind, top, _ = _top_kind(rel)
    if kind is None and top == "sales":  # a folder of its own, of CSV files (not a kind of YAML record)
        return f"{RECORDS}/sales/ 里只放订单系统导出的销售数据，每月一个 CSV：{RECORDS}/sales/2026-09.csv（或 .csv.gz） (sales are CSV files)"
    if kind is None:
        stems = {k.removesuffix(".yaml"): k for k in _BY_TOP}
        near = difflib.get_close_matches(re.sub(r"\.ya?ml$", "", top.lower()), list(stems), n=1, cutoff=0.6)
        hint = f"是不是 {RECORDS}/{stems[near[0]]}{'/' if '/' in rel else ''}？" if near else ""
        tops = "、".join(f"{k}{'' if k.endswith('.yaml') else '/'}" for k in _BY_TOP)
        return f"{RECORDS}/ 下没有 “{top}” 这类记录。{hint}记录放在这些位置：{tops} (unknown record folder)"
    path = should_be(rel)
    if path is not None:
        return f"{kind.label}的文件位置或名字不对：应为 {RECORDS}/{path} (expected path)"
    return (f"{kind.label}的文件位置或名字不对：应像 {RECORDS}/{kind.example} 这样放（文件名小写，扩展名 .yaml）"
            " (not a valid path for this kind of record)")


def path_for(kind: str, record: Any) -> str:
    """The path (relative to ``records/``) a record belongs at — used by the
    generators, so they and the validator agree by construction."""
    if kind == "policy":
        return "policy.yaml"
    if kind == "calendar":
        return f"calendar/{record.year}.yaml"
    if kind in ("org", "person", "brand"):
        folder = {"org": "org", "person": "people", "brand": "brands"}[kind]
        return f"{folder}/{record.id}.yaml"
    if kind == "retailer":
        return f"retailers/{record.management.department}/{record.id}.yaml"
    if kind in ("plan", "diary"):
        folder = "plans" if kind == "plan" else "diaries"
        return f"{folder}/{record.manager}/{record.date.year}/{record.date.isoformat()}.yaml"
    if kind == "analysis":
        return f"analyses/{record.manager}/{record.week[:4]}/{record.week}.yaml"
    if kind == "summary":
        return f"summaries/{record.manager}/{record.month[:4]}/{record.month}.yaml"
    if kind == "complaint":
        return f"complaints/{record.received.year}/{record.id}.yaml"
    if kind == "survey":
        return f"surveys/{record.date.year}/{record.id}.yaml"
    if kind == "targets":
        return f"targets/{record.period}.yaml"
    if kind == "tier_override":
        return f"tier-overrides/{record.period}/{record.retailer}.yaml"
    raise KeyError(kind)
