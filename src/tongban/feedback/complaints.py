"""吐槽专区 use cases: file, read, act (assign, respond, resolve, confirm, reopen).

Never commits."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban import events
from tongban.access import throttle
from tongban.access.rules import Actor, Role, region_in_subtree
from tongban.audit import service as audit_service
from tongban.audit.service import Access
from tongban.cases import service as case_service
from tongban.catalog import service as catalog_service
from tongban.config import get_settings
from tongban.errors import DomainError, Invalid, NotFound
from tongban.feedback import history, repository, rules
from tongban.feedback.models import Complaint
from tongban.feedback.rules import Party
from tongban.feedback.schemas import (
    ComplaintActionIn,
    ComplaintCreate,
    ComplaintPage,
    ComplaintRead,
    ComplaintSummary,
    Countdown,
)
from tongban.kit.clock import now
from tongban.privacy.scanner import mask_text
from tongban.privacy.service import mask_value
from tongban.regions import service as regions_service
from tongban.workdays import service as workdays_service

QUERY_CODE_SYMBOLS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
COMPLAINT = "complaint"
_CONTACT = re.compile(r"^[0-9+\- ]{7,20}$")


def file_complaint(
    session: Session, *, actor: Actor | None, data: ComplaintCreate
) -> ComplaintRead:
    """Anyone files; without an account a contact number is required. The complaint is
    assigned at once to the department it names (platform complaints to the center)."""
    if data.category not in rules.CATEGORIES:
        raise Invalid(
            "unknown_category",
            f"未知的诉求类别：{data.category}",
            f"Unknown complaint category: {data.category}",
            details={"allowed": sorted(rules.CATEGORIES)},
        )
    if actor is None and not _CONTACT.match(data.contact_phone.strip()):
        raise Invalid(
            "contact_required",
            "匿名提交请留下联系电话，以便答复。",
            "Without an account, leave a phone number so that we can answer.",
        )
    target = _target(session, actor, data)
    filed_at = now()
    complaint = Complaint(
        complaint_no=f"TS{rules.local_day(filed_at):%Y%m%d}{secrets.token_hex(3).upper()}",
        # 8 of 32 symbols (docs/feedback.md); older 6-digit codes keep working.
        query_code="".join(secrets.choice(QUERY_CODE_SYMBOLS) for _ in range(8)),
        kind=data.kind,
        category=data.category,
        target_kind=data.target_kind,
        target_ref=target["ref"],
        target_name=target["name"],
        region_code=target["region"],
        department_code=target["department"],
        department_name=target["department_name"],
        text=data.text.strip(),
        complainant_user_id=actor.user_id if actor else None,
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone.strip(),
        state=rules.CState.FILED,
        cycle=1,
        filed_at=filed_at,
        escalation_level=0,
        last_event_seq=0,
    )
    _start_cycle(session, complaint, filed_at)
    session.add(complaint)
    session.flush()
    history.append(session, COMPLAINT, complaint, actor, "file", None, "filed")
    to_state = rules.complaint_transition(complaint.state, "assign", Party.SYSTEM)
    history.append(
        session,
        COMPLAINT,
        complaint,
        None,
        "assign",
        complaint.state,
        to_state,
        payload={"department_code": complaint.department_code},
    )
    complaint.state = to_state
    return _read(session, complaint, {Party.COMPLAINANT})


def _target(session: Session, actor: Actor | None, data: ComplaintCreate) -> dict[str, str]:
    center = get_settings().center_region
    ref = data.target_ref.strip()
    if data.target_kind == "item":
        item = catalog_service.get_item(session, code=ref)
        return {
            "ref": ref,
            "name": item.name,
            "region": item.region_code,
            "department": item.department_code,
            "department_name": item.department_name,
        }
    if data.target_kind == "department":
        department = regions_service.get_department(session, ref)
        return {
            "ref": ref,
            "name": department.name,
            "region": department.region_code,
            "department": department.code,
            "department_name": department.name,
        }
    if data.target_kind == "case":
        # Only a case the complainant may see: a public form must not confirm case numbers.
        facts = case_service.case_facts(session, actor=actor, case_no=ref) if actor else None
        if facts is None:
            raise NotFound(
                "case_not_found",
                f"办件不存在或无权查看：{ref}（针对办件的诉求须登录）",
                f"Case not found or not yours: {ref} (sign in to complain about a case)",
            )
        return {
            "ref": ref,
            "name": facts.title,
            "region": facts.region_code,
            "department": facts.department_code,
            "department_name": facts.department_name,
        }
    return {"ref": "", "name": "平台", "region": center, "department": "", "department_name": ""}


def _start_cycle(session: Session, complaint: Complaint, at: datetime) -> None:
    """Both deadlines run from the filing (or the reopening): 24 clock hours, N working days."""
    settings = get_settings()
    days = settings.complaint_result_workdays_by_category.get(
        complaint.category, settings.complaint_result_workdays
    )
    result = workdays_service.add_workdays(session, start=rules.local_day(at), n=days)
    complaint.cycle_started_at = at
    complaint.response_due_at = at + timedelta(hours=settings.complaint_response_hours)
    complaint.result_due_at = rules.end_of_day(result.date)
    complaint.result_due_provisional = result.provisional


# --- reading ---------------------------------------------------------------------------


def parties(actor: Actor | None, complaint: Complaint, code: str | None) -> set[Party]:
    found: set[Party] = set()
    if actor is not None and complaint.complainant_user_id == actor.user_id:
        found.add(Party.COMPLAINANT)
    given = code.strip().upper().encode() if code else b""
    if given and secrets.compare_digest(given, complaint.query_code.encode()):
        found.add(Party.COMPLAINANT)
    if actor is None:
        return found
    handler = actor.role == Role.REVIEWER and bool(complaint.department_code)
    if handler and actor.department_code == complaint.department_code:
        found.add(Party.HANDLER)
    admin = actor.role == Role.ADMIN and bool(actor.region_code)
    if admin and region_in_subtree(complaint.region_code, actor.region_code or ""):
        found.add(Party.ADMIN)
    return found


def _load(
    session: Session, actor: Actor | None, complaint_no: str, code: str | None, *, lock: bool
) -> tuple[Complaint, set[Party]]:
    # A code given without an account's right to see it is a query-code lookup: throttled
    # per address and per complaint before it is compared (docs/feedback.md).
    given_back = (
        throttle.reserve_lookup(session, subject=f"complaint:{complaint_no}") if code else None
    )
    complaint = repository.complaint_by_no(session, complaint_no)
    if complaint is not None and lock:
        complaint = repository.lock_complaint(session, complaint.id)
    found = parties(actor, complaint, code) if complaint else set()
    if complaint is None or not found:
        raise NotFound(
            "complaint_not_found",
            f"诉求不存在或无权查看：{complaint_no}",
            f"Complaint not found (or not visible to you): {complaint_no}",
        )
    if given_back is not None:
        given_back()
    return complaint, found


def get_complaint(
    session: Session, *, actor: Actor | None, complaint_no: str, code: str | None = None
) -> ComplaintRead:
    complaint, found = _load(session, actor, complaint_no, code, lock=False)
    return _read(session, complaint, found, actor=actor)


def list_complaints(
    session: Session,
    *,
    actor: Actor,
    page: int = 1,
    size: int = 20,
    open_only: bool = False,
) -> ComplaintPage:
    """Mine (as complainant) and, for staff, those assigned to my department or center."""
    states = repository.OPEN_COMPLAINT_STATES if open_only else None
    rows, total = repository.complaints(
        session,
        repository.complaint_scope(actor),
        states=states,
        offset=(page - 1) * size,
        limit=size,
    )
    at = now()
    return ComplaintPage(items=[_summary(c, at) for c in rows], total=total, page=page, size=size)


def _countdowns(complaint: Complaint, at: datetime) -> tuple[Countdown, Countdown]:
    response = rules.countdown(complaint.response_due_at, at, complaint.responded_at)
    result = rules.countdown(complaint.result_due_at, at, complaint.resolved_at)
    return (
        Countdown(due_at=complaint.response_due_at, **response),
        Countdown(due_at=complaint.result_due_at, **result),
    )


def _summary(complaint: Complaint, at: datetime) -> ComplaintSummary:
    response, result = _countdowns(complaint, at)
    return ComplaintSummary(
        complaint_no=complaint.complaint_no,
        kind=complaint.kind,
        category_label=rules.CATEGORIES.get(complaint.category, complaint.category),
        target_name=complaint.target_name,
        department_name=complaint.department_name or "政务服务中心",
        state=complaint.state,
        state_label=rules.COMPLAINT_STATE_LABELS[rules.CState(complaint.state)],
        filed_at=complaint.filed_at,
        response=response,
        result=result,
        escalation_level=complaint.escalation_level,
    )


def _read(
    session: Session, complaint: Complaint, found: set[Party], *, actor: Actor | None = None
) -> ComplaintRead:
    staff = bool(found & {Party.HANDLER, Party.ADMIN})
    if staff and actor is not None:  # the complainant's contact, masked, is still personal data
        audit_service.record(
            session,
            actor=actor,
            access=Access(
                action="read",
                subject_kind=COMPLAINT,
                subject_ref=complaint.complaint_no,
                fields=("complaint.text", "complaint.contact"),
                purpose_code="case_handling",
                related=True,
            ),
        )
    response, result = _countdowns(complaint, now())
    return ComplaintRead(
        complaint_no=complaint.complaint_no,
        query_code=complaint.query_code if Party.COMPLAINANT in found else None,
        kind=complaint.kind,
        category=complaint.category,
        category_label=rules.CATEGORIES.get(complaint.category, complaint.category),
        target_kind=complaint.target_kind,
        target_ref=complaint.target_ref,
        target_name=complaint.target_name,
        department_code=complaint.department_code,
        department_name=complaint.department_name or "政务服务中心",
        text=mask_text(complaint.text),
        contact_name=mask_value("name", complaint.contact_name),
        contact_phone=mask_value("phone", complaint.contact_phone),
        anonymous=complaint.complainant_user_id is None,
        state=complaint.state,
        state_label=rules.COMPLAINT_STATE_LABELS[rules.CState(complaint.state)],
        cycle=complaint.cycle,
        filed_at=complaint.filed_at,
        response=response,
        result=result,
        result_due_provisional=complaint.result_due_provisional,
        response_text=mask_text(complaint.response_text),
        resolution_text=mask_text(complaint.resolution_text),
        escalation_level=complaint.escalation_level,
        actions=rules.complaint_actions(complaint.state, found),
        events=history.read(session, COMPLAINT, complaint.id),
    )


# --- acting ----------------------------------------------------------------------------


def act(
    session: Session,
    *,
    actor: Actor | None,
    complaint_no: str,
    data: ComplaintActionIn,
    code: str | None = None,
) -> ComplaintRead:
    complaint, found = _load(session, actor, complaint_no, code, lock=True)
    party = _acting_party(complaint.state, data.action, found)
    to_state = rules.complaint_transition(complaint.state, data.action, party)
    note = data.note.strip()
    if data.action in rules.NOTE_REQUIRED and not note:
        raise Invalid("note_required", "请填写说明。", "Please write a note.")
    from_state = complaint.state
    payload = _apply(session, complaint, data, note, actor)
    history.append(
        session, COMPLAINT, complaint, actor, data.action, from_state, to_state, note, payload
    )
    complaint.state = to_state
    if data.action in ("respond", "resolve"):  # the complainant hears of it (notifications)
        events.publish(
            session,
            events.ComplaintAnswered(
                complaint_no=complaint.complaint_no,
                action=data.action,
                cycle=complaint.cycle,
                target_name=complaint.target_name,
                complainant_user_id=complaint.complainant_user_id,
                contact_phone=complaint.contact_phone,
            ),
        )
    if data.action == "assign" and actor is not None:
        audit_service.record_action(
            session,
            actor=actor,
            action="feedback.complaint_assign",
            subject_kind=COMPLAINT,
            subject_ref=complaint.complaint_no,
        )
    return _read(session, complaint, found, actor=actor)


def _acting_party(state: str, action: str, found: set[Party]) -> Party:
    """The party the action is allowed to; else the first found, for a precise refusal."""
    entry = rules.COMPLAINT_TRANSITIONS.get((rules.CState(state), action))
    allowed = entry[1] if entry else frozenset()
    for party in sorted(found):
        if party in allowed:
            return party
    return sorted(found)[0]


def _apply(
    session: Session,
    complaint: Complaint,
    data: ComplaintActionIn,
    note: str,
    actor: Actor | None,
) -> dict[str, object]:
    at = now()
    if data.action == "assign":
        department = regions_service.get_department(session, data.department_code or "")
        if not region_in_subtree(department.region_code, complaint.region_code[:6]):
            raise DomainError(
                "department_out_of_region",
                "只能分派给本地区的部门。",
                "A complaint can only go to a department of its region.",
                status=422,
            )
        complaint.department_code = department.code
        complaint.department_name = department.name
        return {"department_code": department.code}
    if data.action == "respond":
        complaint.responded_at, complaint.response_text = at, note
    elif data.action == "resolve":
        if complaint.responded_at is None:
            complaint.responded_at, complaint.response_text = at, note
        complaint.resolved_at, complaint.resolution_text = at, note
    elif data.action == "confirm":
        complaint.confirmed_at = at
    elif data.action == "reopen":
        complaint.cycle += 1
        complaint.responded_at = complaint.resolved_at = None
        complaint.response_text = complaint.resolution_text = ""
        complaint.escalation_level = 0
        _start_cycle(session, complaint, at)
        return {"cycle": complaint.cycle}
    return {}
