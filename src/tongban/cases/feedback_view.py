"""What the feedback domain may know of a case: no personal data, only whose it is,
where it was handled and whether it is closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import repository


@dataclass(frozen=True)
class CaseFacts:
    case_no: str
    state: str
    region_code: str
    item_code: str | None
    title: str
    department_code: str  # the lead (handling) department
    department_name: str
    applicant_user_id: int | None
    closed_at: datetime | None


def case_facts(session: Session, *, actor: Actor | None, case_no: str) -> CaseFacts | None:
    """The case's facts if ``actor`` may see the case (None: the caller checks nothing
    personal is shown, e.g. a complaint naming a case)."""
    if actor is None:
        case = repository.case_by_no(session, case_no)
    else:
        case = repository.case_for(session, actor, case_no)
    if case is None:
        return None
    return CaseFacts(
        case_no=case.case_no,
        state=case.state,
        region_code=case.region_code,
        item_code=case.item_code,
        title=case.title,
        department_code=case.lead_department_code,
        department_name=case.lead_department_name,
        applicant_user_id=case.applicant_user_id,
        closed_at=case.closed_at,
    )
