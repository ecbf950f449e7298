"""Turn case rows into the read schemas of the contract (with the clock and masking)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import rules
from tongban.cases.clock import STATUS_LABELS, Clock, ClockEvent, compute_clock
from tongban.cases.models import Case, CaseEvent, Task
from tongban.cases.schemas import (
    CaseDetail,
    CaseSummary,
    ClockRead,
    EventRead,
    MaterialRead,
    TaskQueueEntry,
    TaskRead,
)
from tongban.cases.submission import per_transaction
from tongban.config import get_settings
from tongban.kit.clock import SHANGHAI, local_today
from tongban.kit.masking import mask_id_number, mask_phone
from tongban.workdays import service as workdays_service
from tongban.workdays.service import WorkCalendar, WorkdayCount, WorkdayResult


def clock_of(session: Session, case: Case, events: list[CaseEvent] | None = None) -> Clock:
    rows = events if events is not None else case.events
    return compute_clock(
        [ClockEvent(e.action, e.from_state, e.to_state, e.at) for e in rows],
        limit_days=case.limit_days,
        statutory_days=case.statutory_limit_days,
        calendar=_LazyCalendar(session),
        today=local_today(),
        warning_workdays=get_settings().warning_workdays,
    )


class _LazyCalendar:
    """The calendar, read on first use: the clock of a case not yet accepted needs none."""

    __slots__ = ("_calendar", "_session")

    def __init__(self, session: Session) -> None:
        self._session = session
        self._calendar: WorkCalendar | None = None

    def _get(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = _calendar(self._session)
        return self._calendar

    def add_workdays(self, start: date, n: int) -> WorkdayResult:
        return self._get().add_workdays(start, n)

    def workdays_between(self, start: date, end: date) -> WorkdayCount:
        return self._get().workdays_between(start, end)


_CALENDAR_CACHE = "work_calendar"


def _calendar(session: Session) -> WorkCalendar:
    """One calendar per transaction: a page may compute dozens of clocks."""
    cache = per_transaction(session, _CALENDAR_CACHE)
    if "calendar" not in cache:
        cache["calendar"] = workdays_service.calendar(session)
    calendar: WorkCalendar = cache["calendar"]
    return calendar


def forget_calendar(session: Session) -> None:
    """The calendar changed inside this transaction: read it again on next use."""
    session.info.pop(_CALENDAR_CACHE, None)


def end_of_day(day: date | None) -> datetime | None:
    """A deadline day ends at midnight Beijing time; stored as an absolute UTC timestamp."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def clock_read(case: Case, clock: Clock) -> ClockRead:
    return ClockRead(
        status=clock.status,
        status_label=STATUS_LABELS[clock.status],
        accepted_on=clock.accepted_on,
        deadline_on=clock.deadline_on,
        statutory_deadline_on=clock.statutory_deadline_on,
        remaining_workdays=clock.remaining_workdays,
        paused_workdays=clock.paused_workdays,
        provisional=clock.provisional,
        limit_days=case.limit_days,
    )


def summary(session: Session, case: Case) -> CaseSummary:
    return CaseSummary(**_summary_fields(session, case, None))


def _summary_fields(session: Session, case: Case, clock: Clock | None) -> dict[str, Any]:
    return {
        "case_no": case.case_no,
        "title": case.title,
        "state": case.state,
        "state_label": rules.STATE_LABELS[case.state],
        "applicant_name": case.applicant_name,
        "channel": case.channel,
        "submitted_at": case.submitted_at,
        "department_name": case.lead_department_name,
        "clock": clock_read(case, clock or clock_of(session, case)),
        "version": case.version,
    }


def event_read(event: CaseEvent) -> EventRead:
    return EventRead(
        seq=event.seq,
        at=event.at,
        actor_name=event.actor_name,
        actor_role=event.actor_role,
        action=event.action,
        action_label=rules.ACTION_LABELS.get(event.action, event.action),
        from_state=event.from_state,
        to_state=event.to_state,
        national_code=event.national_code,
        note=event.note,
        payload=event.payload or {},
    )


def task_read(task: Task) -> TaskRead:
    return TaskRead(
        id=task.id,
        item_code=task.item_code,
        item_name=task.item_name,
        department_code=task.department_code,
        department_name=task.department_name,
        state=task.state,
        state_label=rules.TASK_STATE_LABELS[task.state],
        note=task.note,
        decided_at=task.decided_at,
    )


def detail(
    session: Session,
    case: Case,
    actor: Actor | None,
    allowed: list[str],
    clock: Clock | None = None,
) -> CaseDetail:
    """The full case; ``clock`` if the caller has just computed it for these events."""
    show_query_code = actor is not None and (
        actor.is_staff or case.applicant_user_id == actor.user_id
    )
    return CaseDetail(
        **_summary_fields(session, case, clock),
        query_code=case.query_code if show_query_code else None,
        item_code=case.item_code,
        bundle_code=case.bundle_code,
        applicant_kind=case.applicant_kind,
        applicant_id_masked=mask_id_number(case.applicant_id_number),
        applicant_phone_masked=mask_phone(case.applicant_phone),
        form=case.form_data or {},
        tasks=[task_read(t) for t in case.tasks],
        materials=[
            MaterialRead(
                id=m.id,
                requirement_id=m.requirement_id,
                requirement_name=m.requirement_name,
                item_code=m.item_code,
                filename=m.upload.filename,
                content_type=m.upload.content_type,
                size=m.upload.size,
                status=m.status,
                status_label=rules.MATERIAL_STATUS_LABELS[m.status],
            )
            for m in case.materials
        ],
        events=[event_read(e) for e in case.events],
        allowed_actions=allowed,
        decision=case.decision,
        decision_note=case.decision_note,
        delivery_method=case.delivery_method,
    )


def queue_entry(session: Session, task: Task) -> TaskQueueEntry:
    case = task.case
    return TaskQueueEntry(
        task_id=task.id,
        case_no=case.case_no,
        title=case.title,
        item_name=task.item_name,
        department_name=task.department_name,
        task_state=task.state,
        case_state=case.state,
        clock=clock_read(case, clock_of(session, case)),
        version=case.version,
    )
