"""The worker's use cases: deadline warnings and escalations, auto-confirmation, overdue
follow-ups. Each is idempotent: an alarm's unique key (or a state re-checked under the
row lock) lets only the first of any number of sweeps act. Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban import events
from tongban.audit import service as audit_service
from tongban.config import get_settings
from tongban.feedback import history, repository, rules
from tongban.feedback.complaints import COMPLAINT
from tongban.feedback.models import Complaint
from tongban.feedback.ratings import FOLLOW_UP
from tongban.feedback.schemas import SweepReport


def sweep_deadlines(session: Session, *, at: datetime, report: SweepReport) -> None:
    settings = get_settings()
    warn_before = timedelta(hours=settings.complaint_warning_hours)
    admin_after = timedelta(hours=settings.complaint_admin_escalation_hours)
    for candidate in repository.complaints_to_sweep(session, warn_horizon=at + warn_before):
        complaint = repository.lock_complaint(session, candidate.id)
        if complaint is None or complaint.state not in repository.OPEN_COMPLAINT_STATES:
            continue  # answered meanwhile by someone holding the lock before us
        for deadline, due_at, done_at in (
            ("response", complaint.response_due_at, complaint.responded_at),
            ("result", complaint.result_due_at, complaint.resolved_at),
        ):
            if done_at is not None:
                continue
            alarms = rules.due_alarms(
                deadline=deadline,
                due_at=due_at,
                at=at,
                warn_before=warn_before,
                admin_after=admin_after,
                has_department=bool(complaint.department_code),
            )
            for alarm in alarms:
                if _raise(session, complaint, alarm, due_at):
                    if alarm.level == rules.WARNING:
                        report.warnings += 1
                    else:
                        report.escalations += 1


def _raise(session: Session, complaint: Complaint, alarm: rules.Alarm, due_at: datetime) -> bool:
    created = repository.insert_alarm(
        session,
        {
            "subject_kind": COMPLAINT,
            "subject_id": complaint.id,
            "cycle": complaint.cycle,
            "deadline": alarm.deadline,
            "level": alarm.level,
            "region_code": complaint.region_code,
            "department_code": complaint.department_code,
            "due_at": due_at,
        },
    )
    if not created:
        return False
    action = "warn" if alarm.level == rules.WARNING else "escalate"
    payload = {"deadline": alarm.deadline, "level": alarm.level}
    what = "首次响应" if alarm.deadline == "response" else "办理结果"
    note = f"{what}时限：{rules.LEVEL_NAMES[alarm.level]}"
    history.append(
        session, COMPLAINT, complaint, None, action, complaint.state, complaint.state, note, payload
    )
    events.publish(  # the assignee's reviewers, or the center's admins, are told (notifications)
        session,
        events.ComplaintDeadlineNear(
            complaint_no=complaint.complaint_no,
            cycle=complaint.cycle,
            deadline=alarm.deadline,
            level=alarm.level,
            due_at=due_at,
            department_code=complaint.department_code,
            region_code=complaint.region_code,
        ),
    )
    if alarm.level > rules.WARNING:
        complaint.escalation_level = max(complaint.escalation_level, alarm.level)
        audit_service.record_action(
            session,
            actor=None,  # the worker
            action=f"feedback.escalate.{alarm.deadline}.{alarm.level}",
            subject_kind=COMPLAINT,
            subject_ref=complaint.complaint_no,
        )
    return True


def auto_confirm(session: Session, *, at: datetime, report: SweepReport) -> None:
    days = get_settings().complaint_auto_confirm_days
    for complaint_id in repository.complaints_to_confirm(
        session, resolved_before=at - timedelta(days=days)
    ):
        complaint = repository.lock_complaint(session, complaint_id)
        if complaint is None or complaint.state != rules.CState.RESOLVED:
            continue
        to_state = rules.complaint_transition(complaint.state, "auto_confirm", rules.Party.SYSTEM)
        history.append(
            session, COMPLAINT, complaint, None, "auto_confirm", complaint.state, to_state
        )
        complaint.state = to_state
        complaint.confirmed_at = at
        report.auto_confirmed += 1


def mark_overdue_follow_ups(session: Session, *, at: datetime, report: SweepReport) -> None:
    for candidate in repository.overdue_follow_ups(session, at):
        follow_up = repository.lock_follow_up(session, candidate.id)
        if follow_up is None or follow_up.overdue or follow_up.state in rules.FOLLOW_UP_FINAL:
            continue
        created = repository.insert_alarm(
            session,
            {
                "subject_kind": FOLLOW_UP,
                "subject_id": follow_up.id,
                "cycle": 1,
                "deadline": FOLLOW_UP,
                "level": rules.CENTER_ADMIN,
                "region_code": follow_up.region_code,
                "department_code": follow_up.department_code,
                "due_at": follow_up.due_at,
            },
        )
        if not created:
            continue
        follow_up.overdue = True
        history.append(
            session, FOLLOW_UP, follow_up, None, "overdue", follow_up.state, follow_up.state
        )
        audit_service.record_action(
            session,
            actor=None,
            action="feedback.escalate.follow_up",
            subject_kind="rating",
            subject_ref=follow_up.case_no,
        )
        report.follow_ups_overdue += 1
