"""Acting on a case: one transition of the table with its effects, written under the case's
version, its event appended and its deadline stored; the platform's internal actions too."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban import events
from tongban.access.rules import Actor
from tongban.cases import actions, repository, rules, verification, views
from tongban.cases.models import Case, CaseEvent
from tongban.cases.queries import case_detail as _case_detail
from tongban.cases.queries import load as _load
from tongban.cases.queries import require as _require
from tongban.cases.schemas import ActionIn, CaseDetail
from tongban.errors import Conflict
from tongban.kit.clock import now


def append_event(
    session: Session,
    case: Case,
    actor: Actor,
    action: str,
    from_state: str | None,
    to_state: str,
    national_code: int | None,
    note: str,
    payload: dict[str, Any],
) -> CaseEvent:
    # The counter lives on the case row, which every action updates under its
    # version check; the (case_id, seq) unique key backs it up.
    case.last_event_seq = (case.last_event_seq or 0) + 1
    event = CaseEvent(
        case_id=case.id,  # None for a new case: repository.insert_case fills it in
        seq=case.last_event_seq,
        at=now(),
        actor_user_id=actor.user_id,
        actor_name=actor.display_name or actor.username,
        actor_role=actor.role.value,
        action=action,
        from_state=from_state,
        to_state=to_state,
        national_code=national_code,
        department_code=actor.department_code,
        note=note,
        payload=payload,
        task_id=payload.get("task_id"),
    )
    case.events.append(event)
    return event


def act(session: Session, *, actor: Actor, case_no: str, action: ActionIn) -> CaseDetail:
    _require(actor, "cases.act")
    case = _load(session, actor, case_no)  # 404 first: an out-of-scope case never answers more
    name = rules.parse_action(action.action)
    return _act_on_loaded(session, actor, case, name, action)


def fire_internal(
    session: Session, *, actor: Actor, case: Case, action: rules.Action, payload: dict[str, Any]
) -> CaseDetail:
    """An action the platform fires itself (rules.INTERNAL_ACTIONS), on a case just loaded."""
    request = ActionIn(action=action.value, version=case.version, payload=payload)
    return _act_on_loaded(session, actor, case, action, request)


def _act_on_loaded(
    session: Session, actor: Actor, case: Case, name: rules.Action, action: ActionIn
) -> CaseDetail:
    if action.version is not None and action.version != case.version:
        raise _version_conflict(action.version, case.version)
    # The action changes the case in memory; repository.save_case writes the changes.
    repository.detach(session, case)
    try:
        return _act(session, actor, case, name, action)
    except (StaleDataError, IntegrityError):
        # Another request changed the case between our read and our write.
        raise _version_conflict(action.version, None) from None


def _version_conflict(expected: int | None, current: int | None) -> Conflict:
    return Conflict(
        "version_conflict",
        "办件已被他人更新，请刷新后再操作。",
        "The case changed since you loaded it; reload and try again.",
        details={"expected": expected, "current": current},
    )


def _act(
    session: Session, actor: Actor, case: Case, name: rules.Action, action: ActionIn
) -> CaseDetail:
    from_state = rules.State(case.state)
    transition = rules.transition_for(from_state, name, actor.role)
    checked: dict[str, Any] = {}
    if name == rules.Action.ACCEPT:  # failed shared-data checks need their paper checked
        checked = verification.resolve_for_acceptance(
            session, actor=actor, case=case, paper_checked=action.payload.get("paper_checked", [])
        )
    payload = actions.EFFECTS[name](session, actor, case, action) | checked
    case.state = transition.to_state
    case.updated_at = now()  # bumps the version even when only a task changed
    code = payload.pop("national_code", transition.national_code)
    append_event(
        session,
        case,
        actor,
        name.value,
        from_state,
        transition.to_state,
        code,
        action.note,
        payload,
    )
    clock = refresh_deadline(session, case)
    repository.save_case(session, case)  # inside act()'s conflict handling
    events.publish(
        session,
        events.CaseTransitioned(
            case_no=case.case_no,
            action=name.value,
            from_state=from_state.value,
            to_state=case.state,
            actor_id=actor.user_id,
            payload=dict(payload),
            title=case.title,
            applicant_user_id=case.applicant_user_id,
            submitted_by_user_id=case.submitted_by_user_id,
            applicant_phone=case.applicant_phone or "",
            lead_department_code=case.lead_department_code,
            query_code=case.query_code,
            seq=case.last_event_seq,
        ),
    )
    return _case_detail(session, actor, case, clock=clock)


def refresh_deadline(session: Session, case: Case) -> views.Clock:
    """Store the clock's deadline as absolute timestamps (recomputed on calendar changes).

    Returns the clock, which the response shows too.
    """
    clock = views.clock_of(session, case)
    case.deadline_at = views.end_of_day(clock.deadline_on)
    case.statutory_deadline_at = views.end_of_day(clock.statutory_deadline_on)
    case.deadline_provisional = clock.provisional
    return clock


def recompute_open_deadlines(session: Session) -> int:
    """After an official calendar is loaded: recompute every open case's deadline."""
    changed = 0
    for case in repository.open_accepted_cases(session):
        before = (case.deadline_at, case.deadline_provisional)
        refresh_deadline(session, case)
        if (case.deadline_at, case.deadline_provisional) != before:
            changed += 1
    session.flush()
    return changed
