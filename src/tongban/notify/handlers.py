"""Which domain events queue which messages, and to whom.

Run inside the publisher's transaction (events.py): the outbox rows commit or roll back
with the change that caused them. Texts name the case or complaint number and the item,
never a person's number.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor, Role
from tongban.events import (
    CaseDeadlineNear,
    CaseTransitioned,
    ComplaintAnswered,
    ComplaintDeadlineNear,
    VerificationCodeIssued,
)
from tongban.kit.clock import SHANGHAI, local_today
from tongban.notify.service import notify


def on_verification_code_issued(session: Session, event: VerificationCodeIssued) -> None:
    """The one-time code by SMS to the number being verified, and by e-mail when given."""
    notify(
        session,
        kind="verification_code",
        params={"code": event.code, "purpose": event.purpose, "minutes": event.minutes},
        dedupe_key=f"phone-code:{event.code_id}",
        phone=event.phone,
        email=event.email,
        channels=("sms", "email"),
    )


# Case action → message kind (close and decide depend on the payload: see _case_kind).
CASE_KINDS = {
    "accept": "case_accepted",
    "refuse": "case_refused",
    "request_supplement": "case_supplement",
    "deliver": "case_delivered",
    "receive_electronic": "case_received",
}
MISSING_LIMIT = 120  # characters of the supplement list quoted in a message


def _case_kind(event: CaseTransitioned) -> str | None:
    if event.action == "decide":
        return {"approve": "case_approved", "deny": "case_denied"}.get(
            str(event.payload.get("decision"))
        )
    if event.action == "close":
        electronic = event.payload.get("delivery") == "electronic"
        return "case_decision_ready" if electronic else "case_closed"
    return CASE_KINDS.get(event.action)


def _case_params(event: CaseTransitioned) -> dict[str, str | int]:
    params: dict[str, str | int] = {"case_no": event.case_no, "title": event.title}
    if event.action == "request_supplement":
        missing = "、".join(str(m) for m in event.payload.get("missing", []) if str(m).strip())
        if len(missing) > MISSING_LIMIT:
            missing = missing[: MISSING_LIMIT - 1] + "…"
        params["missing"] = missing or "见一次性告知书"
    if event.action == "deliver":
        params["method"] = str(event.payload.get("method", ""))
    return params


def _occurrence(event: CaseTransitioned) -> str:
    """What makes this event's messages unique: the case event's number when known."""
    if event.seq:
        return f"case:{event.case_no}:{event.seq}"
    return f"case:{event.case_no}:{event.action}:{event.from_state}:{event.to_state}"


def on_case_transitioned(session: Session, event: CaseTransitioned) -> None:
    """The applicant's account (site, e-mail, SMS) and an applicant who filed for them;
    without an account, an SMS to the phone on the application."""
    kind = _case_kind(event)
    if kind is None:
        return
    params = _case_params(event)
    base = _occurrence(event)
    if event.applicant_user_id is not None:
        notify(
            session,
            kind=kind,
            params=params,
            dedupe_key=f"{base}:u{event.applicant_user_id}",
            user_id=event.applicant_user_id,
        )
    elif event.applicant_phone:
        notify(
            session,
            kind=kind,
            params={**params, "query_code": event.query_code},
            dedupe_key=f"{base}:applicant",
            phone=event.applicant_phone,
            channels=("sms",),
        )
    agent = event.submitted_by_user_id
    if agent is not None and agent != event.applicant_user_id and _is_applicant(session, agent):
        notify(session, kind=kind, params=params, dedupe_key=f"{base}:u{agent}", user_id=agent)


def _is_applicant(session: Session, user_id: int) -> bool:
    actor = access_service.actor_by_id(session, user_id)
    return actor is not None and actor.role == Role.APPLICANT


def on_case_deadline_near(session: Session, event: CaseDeadlineNear) -> None:
    """The reviewers of each department whose work is pending; once per case, status, day."""
    kind = "case_deadline_overdue" if event.status == "overdue" else "case_deadline_warning"
    params: dict[str, str | int] = {
        "case_no": event.case_no,
        "title": event.title,
        "deadline": event.deadline_on.isoformat(),
    }
    day = local_today().isoformat()
    for code in dict.fromkeys(event.department_codes):
        for staff in access_service.staff_of_department(session, code):
            _to_staff(
                session, kind, params, f"case-deadline:{event.case_no}:{event.status}:{day}", staff
            )


def on_complaint_answered(session: Session, event: ComplaintAnswered) -> None:
    """The complainant's account, or the anonymous complainant's phone (SMS)."""
    kind = "complaint_responded" if event.action == "respond" else "complaint_resolved"
    params: dict[str, str | int] = {"complaint_no": event.complaint_no, "target": event.target_name}
    base = f"complaint:{event.complaint_no}:{event.cycle}:{event.action}"
    if event.complainant_user_id is not None:
        notify(
            session,
            kind=kind,
            params=params,
            dedupe_key=f"{base}:u{event.complainant_user_id}",
            user_id=event.complainant_user_id,
        )
    elif event.contact_phone:
        notify(
            session,
            kind=kind,
            params=params,
            dedupe_key=f"{base}:contact",
            phone=event.contact_phone,
            channels=("sms",),
        )


COMPLAINT_LEVEL_KINDS = {
    0: "complaint_deadline_warning",
    1: "complaint_deadline_missed",
    2: "complaint_deadline_escalated",
}


def on_complaint_deadline_near(session: Session, event: ComplaintDeadlineNear) -> None:
    """Warnings and the first escalation go to the department's reviewers; the center
    level (and any alarm of a complaint without a department) to the region's admins."""
    kind = COMPLAINT_LEVEL_KINDS.get(event.level, "complaint_deadline_escalated")
    if event.level >= 2 or not event.department_code:
        staff = access_service.staff_of_region(
            session, role=Role.ADMIN, region_code=event.region_code
        )
    else:
        staff = access_service.staff_of_department(session, event.department_code)
    due = event.due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    params: dict[str, str | int] = {
        "complaint_no": event.complaint_no,
        "deadline": event.deadline,
        "due": due,
    }
    base = f"complaint-deadline:{event.complaint_no}:{event.cycle}:{event.deadline}:{event.level}"
    for person in staff:
        _to_staff(session, kind, params, base, person)


def _to_staff(
    session: Session, kind: str, params: dict[str, str | int], base: str, staff: Actor
) -> None:
    notify(
        session,
        kind=kind,
        params=params,
        dedupe_key=f"{base}:u{staff.user_id}",
        user_id=staff.user_id,
    )
