"""JSON API for ratings (好差评) and the complaint zone (吐槽专区): thin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from tongban.access.dependencies import CurrentActor, OptionalActor, require
from tongban.access.rules import Actor
from tongban.deps import SessionDep, WritesOnRead
from tongban.errors import error_responses
from tongban.feedback import service
from tongban.feedback.schemas import (
    AppealDecisionIn,
    AppealIn,
    ComplaintActionIn,
    ComplaintCreate,
    ComplaintPage,
    ComplaintRead,
    FeedbackStats,
    FollowUpActionIn,
    RatingCreate,
    RatingRead,
)
from tongban.kit.params import CaseNo, PageNumber, PageSize, RowId

router = APIRouter(tags=["feedback"])
ComplaintNo = Annotated[str, Path(min_length=1, max_length=32, description="投诉编号")]
QueryCode = Annotated[
    str | None, Query(max_length=8, description="the query code given to an anonymous filer")
]


@router.post("/cases/{case_no}/rating", response_model=RatingRead, status_code=201)
def rate(
    case_no: CaseNo,
    body: RatingCreate,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("feedback.rate"))],
) -> RatingRead:
    """一次一评: the applicant online; a window clerk records an offline rating (409 twice)."""
    return service.rate_case(session, actor=actor, case_no=case_no, data=body)


@router.get("/cases/{case_no}/rating", response_model=RatingRead)
def read_rating(case_no: CaseNo, session: SessionDep, actor: CurrentActor) -> RatingRead:
    return service.get_rating(session, actor=actor, case_no=case_no)


@router.get("/feedback/follow-ups", response_model=list[RatingRead])
def list_follow_ups(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("feedback.handle"))],
    open_only: bool = True,
) -> list[RatingRead]:
    """差评 follow-ups of my department (the center admin: of the region), soonest due first."""
    return service.follow_ups(session, actor=actor, open_only=open_only)


@router.post("/feedback/follow-ups/{follow_up_id}/actions", response_model=RatingRead)
def follow_up_action(
    follow_up_id: RowId,
    body: FollowUpActionIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("feedback.handle"))],
) -> RatingRead:
    return service.act_on_follow_up(session, actor=actor, follow_up_id=follow_up_id, data=body)


@router.post("/ratings/{rating_id}/appeal", response_model=RatingRead)
def appeal(
    rating_id: RowId,
    body: AppealIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("feedback.handle"))],
) -> RatingRead:
    return service.appeal(session, actor=actor, rating_id=rating_id, data=body)


@router.post("/ratings/{rating_id}/appeal/decision", response_model=RatingRead)
def decide_appeal(
    rating_id: RowId,
    body: AppealDecisionIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("feedback.decide_appeal"))],
) -> RatingRead:
    return service.decide_appeal(session, actor=actor, rating_id=rating_id, data=body)


@router.post(
    "/complaints",
    response_model=ComplaintRead,
    status_code=201,
    responses=error_responses(e404="what the complaint is about does not exist"),
)
def file_complaint(
    body: ComplaintCreate, session: SessionDep, actor: OptionalActor
) -> ComplaintRead:
    """Anyone; without an account, a contact phone. Keep the query code it returns."""
    return service.file_complaint(session, actor=actor, data=body)


@router.get("/complaints", response_model=ComplaintPage)
def list_complaints(
    session: SessionDep,
    actor: CurrentActor,
    page: PageNumber = 1,
    size: PageSize = 20,
    open_only: bool = False,
) -> ComplaintPage:
    """Mine, and for staff those of my department (the center admin: of the region)."""
    return service.list_complaints(session, actor=actor, page=page, size=size, open_only=open_only)


@router.get("/complaints/{complaint_no}", response_model=ComplaintRead, dependencies=[WritesOnRead])
def read_complaint(
    complaint_no: ComplaintNo, session: SessionDep, actor: OptionalActor, code: QueryCode = None
) -> ComplaintRead:
    return service.get_complaint(session, actor=actor, complaint_no=complaint_no, code=code)


@router.post(
    "/complaints/{complaint_no}/actions",
    response_model=ComplaintRead,
    responses=error_responses(e429="too many lookups by query code from this address"),
)
def complaint_action(
    complaint_no: ComplaintNo,
    body: ComplaintActionIn,
    session: SessionDep,
    actor: OptionalActor,
    code: QueryCode = None,
) -> ComplaintRead:
    return service.act(session, actor=actor, complaint_no=complaint_no, data=body, code=code)


@router.get("/feedback/stats", response_model=FeedbackStats)
def stats(
    session: SessionDep, actor: Annotated[Actor, Depends(require("feedback.decide_appeal"))]
) -> FeedbackStats:
    """Missed complaint deadlines, escalations and overdue follow-ups in the region."""
    return service.stats(session, actor=actor)
