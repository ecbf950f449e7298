"""好差评 use cases: rate a closed case once, follow up a 差评, appeal and decide. Never commits."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role, region_in_subtree
from tongban.audit import service as audit_service
from tongban.cases import service as case_service
from tongban.config import get_settings
from tongban.errors import Conflict, Forbidden, NotFound
from tongban.feedback import history, repository, rules
from tongban.feedback.models import FollowUp, Rating
from tongban.feedback.schemas import (
    AppealDecisionIn,
    AppealIn,
    FollowUpActionIn,
    FollowUpRead,
    RatingCreate,
    RatingRead,
)
from tongban.kit.clock import now
from tongban.privacy.scanner import mask_text
from tongban.workdays import service as workdays_service

FOLLOW_UP = "follow_up"


def require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "forbidden",
            "您的角色无权执行此操作。",
            "Your role may not do this.",
            details={"permission": permission},
        )


def _case_not_found(case_no: str) -> NotFound:
    return NotFound(
        "case_not_found",
        f"办件不存在或无权查看：{case_no}",
        f"Case not found (or not visible to you): {case_no}",
    )


def rate_case(session: Session, *, actor: Actor, case_no: str, data: RatingCreate) -> RatingRead:
    """一次一评: the applicant online, or a window clerk from the rating pad (offline)."""
    require(actor, "feedback.rate")
    facts = case_service.case_facts(session, actor=actor, case_no=case_no)
    if facts is None:
        raise _case_not_found(case_no)
    if facts.state not in rules.RATEABLE_CASE_STATES:
        raise Conflict(
            "case_not_closed",
            "办件办结后才能评价。",
            "A case can be rated once it is closed.",
            details={"state": facts.state},
        )
    if repository.rating_for_case(session, case_no) is not None:
        raise _already_rated(case_no)
    channel = "online" if actor.role == Role.APPLICANT else "offline"
    rules.check_rating(channel, data.level, data.indicators)
    rating = Rating(
        case_no=case_no,
        region_code=facts.region_code,
        item_code=facts.item_code,
        title=facts.title,
        department_code=facts.department_code,
        department_name=facts.department_name,
        channel=channel,
        level=data.level,
        indicators=data.indicators,
        comment=data.comment.strip(),
        rater_user_id=facts.applicant_user_id,
        recorded_by_user_id=actor.user_id,
        rated_at=now(),
    )
    session.add(rating)
    try:
        session.flush()  # the unique case_no settles a race between two ratings
    except IntegrityError:
        raise _already_rated(case_no) from None
    follow_up = _open_follow_up(session, rating) if data.level in rules.BAD_LEVELS else None
    return rating_read(rating, follow_up)


def _already_rated(case_no: str) -> Conflict:
    return Conflict(
        "already_rated",
        "该办件已评价（一次一评）。",
        "This case has already been rated (one rating per case).",
        details={"case_no": case_no},
    )


def _open_follow_up(session: Session, rating: Rating) -> FollowUp:
    due = workdays_service.add_workdays(
        session, start=rules.local_day(rating.rated_at), n=get_settings().follow_up_workdays
    )
    follow_up = FollowUp(
        rating_id=rating.id,
        case_no=rating.case_no,
        region_code=rating.region_code,
        department_code=rating.department_code,
        state="open",
        opened_at=rating.rated_at,
        due_at=rules.end_of_day(due.date),
        due_provisional=due.provisional,
        overdue=False,
        last_event_seq=0,
    )
    session.add(follow_up)
    session.flush()
    history.append(session, FOLLOW_UP, follow_up, None, "open", None, "open")
    return follow_up


def get_rating(session: Session, *, actor: Actor, case_no: str) -> RatingRead:
    require(actor, "cases.read")
    if case_service.case_facts(session, actor=actor, case_no=case_no) is None:
        raise _case_not_found(case_no)
    rating = repository.rating_for_case(session, case_no)
    if rating is None:
        raise NotFound("rating_not_found", "该办件尚未评价。", "This case has not been rated yet.")
    return rating_read(rating, repository.follow_up_of(session, rating.id))


def act_on_follow_up(
    session: Session, *, actor: Actor, follow_up_id: int, data: FollowUpActionIn
) -> RatingRead:
    require(actor, "feedback.handle")
    follow_up = repository.lock_follow_up(session, follow_up_id)
    if follow_up is None or not _handles(actor, follow_up.department_code, follow_up.region_code):
        raise NotFound("follow_up_not_found", "整改任务不存在。", "Follow-up not found.")
    to_state = rules.follow_up_transition(follow_up.state, data.action)
    history.append(
        session, FOLLOW_UP, follow_up, actor, data.action, follow_up.state, to_state, data.note
    )
    follow_up.state = to_state
    if to_state == "reported":
        follow_up.reported_at = now()
    rating = repository.rating(session, follow_up.rating_id)
    assert rating is not None
    return rating_read(rating, follow_up)


def appeal(session: Session, *, actor: Actor, rating_id: int, data: AppealIn) -> RatingRead:
    """The handling department asks the center to void a mistaken or malicious 差评."""
    require(actor, "feedback.handle")
    rating, follow_up = _bad_rating(session, actor, rating_id)
    if rating.appeal_state or follow_up.state in rules.FOLLOW_UP_FINAL:
        raise Conflict("appeal_not_open", "该评价不能再申诉。", "This rating cannot be appealed.")
    rating.appeal_state = "pending"
    rating.appeal_reason_code = data.reason_code
    rating.appeal_reason = data.reason
    history.append(
        session,
        FOLLOW_UP,
        follow_up,
        actor,
        "appeal",
        follow_up.state,
        follow_up.state,
        data.reason,
        {"reason_code": data.reason_code},
    )
    return rating_read(rating, follow_up)


def decide_appeal(
    session: Session, *, actor: Actor, rating_id: int, data: AppealDecisionIn
) -> RatingRead:
    """The center admin's decision, with its reason; an upheld appeal voids the 差评."""
    require(actor, "feedback.decide_appeal")
    rating, follow_up = _bad_rating(session, actor, rating_id)
    if rating.appeal_state != "pending":
        raise Conflict("no_pending_appeal", "该评价没有待决定的申诉。", "No appeal is pending.")
    rating.appeal_state = "upheld" if data.uphold else "rejected"
    rating.appeal_decision = data.reason
    rating.appeal_decided_by_user_id = actor.user_id
    rating.appeal_decided_at = now()
    to_state = "voided" if data.uphold else follow_up.state
    action = "appeal_upheld" if data.uphold else "appeal_rejected"
    history.append(
        session, FOLLOW_UP, follow_up, actor, action, follow_up.state, to_state, data.reason
    )
    follow_up.state = to_state
    audit_service.record_action(
        session,
        actor=actor,
        action=f"feedback.{action}",
        subject_kind="rating",
        subject_ref=rating.case_no,
    )
    return rating_read(rating, follow_up)


def _bad_rating(session: Session, actor: Actor, rating_id: int) -> tuple[Rating, FollowUp]:
    rating = repository.rating(session, rating_id)
    follow_up = repository.follow_up_of(session, rating_id) if rating else None
    if (
        rating is None
        or follow_up is None
        or not _handles(actor, rating.department_code, rating.region_code)
    ):
        raise NotFound("rating_not_found", "差评不存在。", "Bad rating not found.")
    locked = repository.lock_follow_up(session, follow_up.id)
    assert locked is not None
    return rating, locked


def _handles(actor: Actor, department_code: str, region_code: str) -> bool:
    """The handling department's reviewers, or the center admin of the region."""
    if actor.role == Role.REVIEWER:
        return bool(actor.department_code) and actor.department_code == department_code
    if actor.role == Role.ADMIN:
        return bool(actor.region_code) and region_in_subtree(region_code, actor.region_code or "")
    return False


def follow_ups(session: Session, *, actor: Actor, open_only: bool = True) -> list[RatingRead]:
    require(actor, "feedback.handle")
    rows = repository.follow_ups(session, actor, open_only=open_only)
    return [rating_read(rating, follow_up) for follow_up, rating in rows]


def pending_appeals(session: Session, *, actor: Actor) -> list[RatingRead]:
    require(actor, "feedback.decide_appeal")
    return [
        rating_read(r, repository.follow_up_of(session, r.id))
        for r in repository.pending_appeals(session, actor)
    ]


def rating_read(rating: Rating, follow_up: FollowUp | None) -> RatingRead:
    return RatingRead(
        id=rating.id,
        case_no=rating.case_no,
        title=rating.title,
        department_name=rating.department_name,
        channel=rating.channel,
        level=rating.level,
        level_label=rules.LEVEL_LABELS[rating.level],
        indicators=rating.indicators,
        comment=mask_text(rating.comment),
        rated_at=rating.rated_at,
        appeal_state=rating.appeal_state,
        appeal_reason_code=rating.appeal_reason_code,
        appeal_decision=rating.appeal_decision,
        follow_up=_follow_up_read(follow_up) if follow_up else None,
    )


def _follow_up_read(follow_up: FollowUp) -> FollowUpRead:
    return FollowUpRead(
        id=follow_up.id,
        state=follow_up.state,
        state_label=rules.FOLLOW_UP_STATE_LABELS.get(follow_up.state, follow_up.state),
        department_code=follow_up.department_code,
        opened_at=follow_up.opened_at,
        due_at=follow_up.due_at,
        due_provisional=follow_up.due_provisional,
        reported_at=follow_up.reported_at,
        overdue=follow_up.overdue,
        actions=rules.follow_up_actions(follow_up.state),
    )
