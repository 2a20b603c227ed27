"""Rule module ``complaints``: due day from severity and working days, the
special-severity extension only with its approver, overdue flags.

DOMAIN.md §3 "Complaints" (seed 001). ``policy.complaints.working_days`` gives
the working days per severity; a severity listed in ``needs_approver`` gets its
own (longer) time only when the complaint names an approver, otherwise the
time of ``fallback``. Due day = the n-th working day after the day received
(calendar records: holidays and make-up days count as they are); resolved on
or before the due day is on time. Overdue: resolved after the due day, or
still open on as_of although the due day has passed.

Writes ``<month>/complaints.yaml`` for every month with complaints received;
``ctx.shared["complaints"]`` maps complaint id → :class:`ComplaintStatus` for
the appraisal (whose deduction counts a complaint in the month of its due day).

A key customer's complaint (class in ``policy.classes.key_classes`` on the day
received) must also be answered — its first action, or its resolution —
within ``key_response_hours``; a late answer is flagged (``response_late``)
but does not change the due day or the deduction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from crmdocs.schemas.computed_managers import ComplaintsMonth, ComplaintStatus, HandlerSummary
from crmdocs.schemas.org import Role
from crmdocs.schemas.service import SEVERITY_ZH

from .. import periods

NAME = "complaints"


def counted_severity(policy, complaint) -> tuple[str, str]:
    """(severity whose deadline applies, note)."""
    cp = policy.complaints
    sev = complaint.severity.value
    if sev in cp.needs_approver and not complaint.approver:
        fb = cp.fallback
        note = (
            f"{SEVERITY_ZH.get(complaint.severity, sev)}投诉没有批准人，延期不成立，按 {fb} 的 "
            f"{cp.working_days[fb]} 个工作日计 (no approver: fallback deadline)"
        )
        return fb, note
    return sev, ""


def responsible_manager(repo, complaint) -> str:
    """Whose appraisal an overdue complaint counts against: the handler when a
    customer manager handles it, else the retailer's manager on the day received."""
    handler = repo.people.get(complaint.handler)
    if handler is not None and handler.role is Role.customer_manager:
        return complaint.handler
    retailer = repo.retailers.get(complaint.retailer)
    if retailer is not None:
        return retailer.management.manager_on(complaint.received.date())
    return complaint.handler


def status(ctx, complaint) -> ComplaintStatus:
    policy = ctx.policy
    sev, note = counted_severity(policy, complaint)
    days = policy.complaints.working_days[sev]
    due = ctx.calendar.add_working_days(complaint.received.date(), days)
    if complaint.resolved is not None:
        late = (complaint.resolved.date() - due).days
        state = "overdue" if late > 0 else "on_time"
    else:
        late = (ctx.as_of - due).days
        state = "open_overdue" if late > 0 else "open"
    key = ctx.class_on(complaint.retailer, complaint.received.date()) in policy.classes.key_classes
    respond_by = first = None
    response_late = False
    if key:
        respond_by = complaint.received + dt.timedelta(hours=policy.classes.key_response_hours)
        times = [a.at for a in complaint.actions] + ([complaint.resolved] if complaint.resolved else [])
        first = min(times) if times else None
        if first is not None:
            response_late = first > respond_by
        else:
            response_late = ctx.as_of > respond_by.date()
    return ComplaintStatus(
        key_customer=key, respond_by=respond_by, first_response=first, response_late=response_late,
        id=complaint.id, retailer=complaint.retailer, handler=complaint.handler,
        manager=responsible_manager(ctx.repo, complaint), severity=complaint.severity.value,
        counted_as=sev, working_days=days, approver=complaint.approver, received=complaint.received,
        due=due, resolved=complaint.resolved, state=state, overdue=late > 0,
        days_overdue=max(late, 0), note=note,
    )


def statuses(ctx) -> dict[str, ComplaintStatus]:
    out = {}
    for cid in sorted(ctx.repo.complaints):
        c = ctx.repo.complaints[cid]
        if c.received.date() > ctx.as_of:
            continue
        out[cid] = status(ctx, c)
    return out


def handler_summaries(repo, items: list[ComplaintStatus]) -> list[HandlerSummary]:
    by: dict[str, HandlerSummary] = {}
    for s in items:
        h = by.get(s.handler)
        if h is None:
            person = repo.people.get(s.handler)
            h = by[s.handler] = HandlerSummary(handler=s.handler, name=person.name if person else "")
        h.total += 1
        h.resolved += s.resolved is not None
        h.open += s.resolved is None
        h.overdue += s.overdue
    return [by[k] for k in sorted(by)]


def overdue_by_manager(found: dict[str, ComplaintStatus]) -> dict[tuple[str, str], list[str]]:
    """(manager, month of the due day) → overdue complaint ids."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for cid, s in found.items():
        if s.overdue:
            out[(s.manager, periods.month_of(s.due))].append(cid)
    return out


def compute(ctx) -> dict:
    found = statuses(ctx)
    ctx.shared[NAME] = found
    by_month: dict[str, list[ComplaintStatus]] = defaultdict(list)
    for s in found.values():
        by_month[periods.month_of(s.received.date())].append(s)
    out = {}
    for month in sorted(by_month):
        items = sorted(by_month[month], key=lambda s: (s.received, s.id))
        out[f"{month}/complaints.yaml"] = ComplaintsMonth(
            period=month, as_of=ctx.as_of if any(s.resolved is None for s in items) else None, total=len(items), overdue=sum(s.overdue for s in items),
            complaints=items, handlers=handler_summaries(ctx.repo, items),
        )
    return out
