"""One row per case, as columns: the read-only export the indicators are computed from.

Like the event log, only plain non-personal columns leave (no applicant, no form, no
notes): indicators count cases, they never need to know who applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import repository
from tongban.cases.models import Case, CaseMaterial, CaseVerification

CASE_SUMMARY_COLUMNS = (
    "case",  # case number
    "item",  # item code, or the bundle code for a 一件事
    "department",  # lead department code
    "department_name",
    "region",
    "channel",  # online / window
    "state",
    "submitted_at",
    "accepted_at",
    "decided_at",
    "closed_at",
    "deadline_at",
    "limit_days",  # promised working days (0 = 即办件)
    "statutory_limit_days",
    "assisted",  # filed by staff on the applicant's behalf (帮办代办), not by the applicant
    "materials_uploaded",
    "data_checks",  # shared-data checks made instead of a paper material (免提交)
    "data_checks_verified",
    "elder_mode",  # filed with the portal's 长辈模式 on
)

_uploaded = (
    select(func.count(CaseMaterial.id))
    .where(CaseMaterial.case_id == Case.id)
    .correlate(Case)
    .scalar_subquery()
)
_checks = (
    select(func.count(CaseVerification.id))
    .where(CaseVerification.case_id == Case.id)
    .correlate(Case)
    .scalar_subquery()
)
_verified = (
    select(func.count(CaseVerification.id))
    .where(CaseVerification.case_id == Case.id, CaseVerification.outcome == "verified")
    .correlate(Case)
    .scalar_subquery()
)

_QUERY = select(
    Case.case_no,
    func.coalesce(Case.item_code, Case.bundle_code),
    Case.lead_department_code,
    Case.lead_department_name,
    Case.region_code,
    Case.channel,
    Case.state,
    Case.submitted_at,
    Case.accepted_at,
    Case.decided_at,
    Case.closed_at,
    Case.deadline_at,
    Case.limit_days,
    Case.statutory_limit_days,
    or_(Case.applicant_user_id.is_(None), Case.submitted_by_user_id != Case.applicant_user_id),
    _uploaded,
    _checks,
    _verified,
    Case.elder_mode,
).order_by(Case.id)


def case_summary(
    session: Session, *, actor: Actor, since: datetime, until: datetime
) -> dict[str, list[Any]]:
    """Every case submitted in [since, until) that ``actor`` may see, as named columns."""
    query = _QUERY.where(Case.submitted_at >= since, Case.submitted_at < until)
    query = repository._scoped(cast("Select[Any]", query), actor)  # the domain's own scope rule
    rows = session.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in CASE_SUMMARY_COLUMNS]
    return {name: list(values) for name, values in zip(CASE_SUMMARY_COLUMNS, columns, strict=True)}
