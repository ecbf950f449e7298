"""Turn case rows into the read schemas of the contract, with the clock and the masking policy.

Every personal value goes through the reader's ``disclosure.Viewer``; nothing personal
reaches a schema any other way.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.cases import disclosure, rules, verification
from tongban.cases.clock import STATUS_LABELS, Clock, ClockEvent, compute_clock
from tongban.cases.disclosure import Viewer
from tongban.cases.models import Case, CaseEvent, CaseMaterial, CaseVerification, Task
from tongban.cases.schemas import (
    CaseDetail,
    CaseSummary,
    ClockRead,
    EventRead,
    FieldCheckRead,
    MaterialRead,
    TaskQueueEntry,
    TaskRead,
    VerificationRead,
)
from tongban.cases.submission import per_transaction
from tongban.config import get_settings
from tongban.kit.clock import SHANGHAI, local_today
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


def summary(session: Session, case: Case, viewer: Viewer) -> CaseSummary:
    return CaseSummary(**_summary_fields(session, case, None, viewer))


def _summary_fields(
    session: Session, case: Case, clock: Clock | None, viewer: Viewer
) -> dict[str, Any]:
    name_visibility, name = viewer.show(disclosure.NAME, case.applicant_name)
    return {
        "case_no": case.case_no,
        "title": case.title,
        "state": case.state,
        "state_label": rules.STATE_LABELS[case.state],
        "applicant_name": name,
        "applicant_name_visibility": name_visibility,
        "channel": case.channel,
        "submitted_at": case.submitted_at,
        "department_name": case.lead_department_name,
        "clock": clock_read(case, clock or clock_of(session, case)),
        "version": case.version,
    }


def event_read(event: CaseEvent, viewer: Viewer) -> EventRead:
    return EventRead(
        seq=event.seq,
        at=event.at,
        actor_name=_event_actor_name(event, viewer),
        actor_role=event.actor_role,
        action=event.action,
        action_label=_action_label(event.action),
        from_state=event.from_state,
        to_state=event.to_state,
        national_code=event.national_code,
        note=viewer.show(disclosure.NOTES, event.note)[1],
        payload=event.payload or {},
    )


def _event_actor_name(event: CaseEvent, viewer: Viewer) -> str:
    """Staff names follow their own rule; an applicant acting on the case is the data subject."""
    if event.actor_role == "applicant":
        return viewer.show(disclosure.NAME, event.actor_name)[1] or ""
    return viewer.show(disclosure.STAFF_NAME, event.actor_name, subject=False)[1] or ""


def task_read(task: Task, viewer: Viewer) -> TaskRead:
    return TaskRead(
        id=task.id,
        item_code=task.item_code,
        item_name=task.item_name,
        department_code=task.department_code,
        department_name=task.department_name,
        state=task.state,
        state_label=rules.TASK_STATE_LABELS[task.state],
        note=viewer.show(disclosure.NOTES, task.note)[1],
        decided_at=task.decided_at,
    )


def material_read(material: CaseMaterial, viewer: Viewer) -> MaterialRead:
    filename_visibility, filename = viewer.show(disclosure.FILENAME, material.upload.filename)
    return MaterialRead(
        id=material.id,
        requirement_id=material.requirement_id,
        requirement_name=material.requirement_name,
        item_code=material.item_code,
        filename=filename,
        filename_visibility=filename_visibility,
        content_type=material.upload.content_type,
        size=material.upload.size,
        status=material.status,
        status_label=rules.MATERIAL_STATUS_LABELS[material.status],
    )


def detail(
    session: Session,
    case: Case,
    viewer: Viewer,
    allowed: list[str],
    *,
    clock: Clock | None = None,
    may_unmask: bool = False,
) -> CaseDetail:
    """The full case as ``viewer`` may see it; ``clock`` if the caller has just computed it.

    ``may_unmask``: the case is tied to the reader's work, so the masked fields their
    role may ask for are offered (``unmaskable_fields``).
    """
    actor = viewer.actor
    show_query_code = actor is not None and (actor.is_staff or viewer.own)
    id_visibility, id_number = viewer.show(disclosure.ID_NUMBER, case.applicant_id_number)
    phone_visibility, phone = viewer.show(disclosure.PHONE, case.applicant_phone)
    form, form_visibility = viewer.show_form(case.form_data or {})
    notes_visibility, decision_note = viewer.show(disclosure.NOTES, case.decision_note)
    return CaseDetail(
        **_summary_fields(session, case, clock, viewer),
        query_code=case.query_code if show_query_code else None,
        item_code=case.item_code,
        bundle_code=case.bundle_code,
        applicant_kind=case.applicant_kind,
        applicant_id_number=id_number,
        applicant_id_visibility=id_visibility,
        applicant_phone=phone,
        applicant_phone_visibility=phone_visibility,
        form=form,
        form_visibility=form_visibility,
        notes_visibility=notes_visibility,
        unmaskable_fields=viewer.unmaskable(disclosure.case_fields(case)) if may_unmask else [],
        tasks=[task_read(t, viewer) for t in case.tasks],
        materials=[material_read(m, viewer) for m in case.materials],
        events=[event_read(e, viewer) for e in case.events],
        verifications=[
            verification_read(v, viewer) for v in verification.of_case(session, case.id)
        ],
        allowed_actions=allowed,
        decision=case.decision,
        decision_note=decision_note,
        delivery_method=case.delivery_method,
        delivery_preference=case.delivery_preference,
        decided_by=case.decided_by,
        decision_document=case.decision is not None
        and case.state in (rules.State.CLOSED, rules.State.DELIVERED),
    )


def _action_label(action: str) -> str:
    return rules.ACTION_LABELS.get(action, action)


def verification_read(row: CaseVerification, viewer: Viewer) -> VerificationRead:
    # The compared values arrive masked by the exchange (李**); whoever may not see the
    # applicant's name at all sees no values either.
    visibility, _ = viewer.show(disclosure.NAME, "")
    fields = [] if visibility == "hidden" else [FieldCheckRead(**f) for f in row.fields]
    passed = row.outcome == verification.VERIFIED
    return VerificationRead(
        id=row.id,
        requirement_id=row.requirement_id,
        requirement_name=row.requirement_name,
        service_code=row.service_code,
        source=row.source,
        claim=row.claim,
        outcome=row.outcome,
        outcome_label=verification.OUTCOME_LABELS.get(row.outcome, row.outcome),
        code=row.code,
        message=row.message_zh,
        message_en=row.message_en,
        at=row.at,
        request_id=row.request_id,
        fields=fields,
        fields_visibility=visibility,
        ask_for_paper=None if passed else verification.ASK_FOR_PAPER_ZH,
        paper_checked=row.paper_checked_at is not None,
        paper_checked_by=row.paper_checked_by_name or None,
        paper_checked_at=row.paper_checked_at,
    )


def queue_entry(session: Session, task: Task, viewer: Viewer) -> TaskQueueEntry:
    case = task.case
    name_visibility, name = viewer.show(disclosure.NAME, case.applicant_name)
    return TaskQueueEntry(
        task_id=task.id,
        case_no=case.case_no,
        title=case.title,
        item_name=task.item_name,
        department_name=task.department_name,
        task_state=task.state,
        case_state=case.state,
        applicant_name=name,
        applicant_name_visibility=name_visibility,
        clock=clock_read(case, clock_of(session, case)),
        version=case.version,
    )
