"""The case event log as columns: the read-only export other domains analyse.

Only plain, non-personal columns leave (no notes, no payloads, no applicant):
process analysis needs what happened when and by which office, never who applied.
Rows stream from the database in batches, so memory stays bounded by the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import repository
from tongban.cases.models import Case, CaseEvent

EVENT_LOG_COLUMNS = (
    "case",  # case number
    "item",  # item code, or the bundle code for a 一件事
    "lead_department",
    "seq",
    "at",
    "action",
    "actor_role",
    "from_state",
    "to_state",
    "task_id",
    "department",  # the acting user's department (null for the window and applicants)
    "deadline_at",
)

_QUERY = (
    select(
        Case.case_no,
        func.coalesce(Case.item_code, Case.bundle_code),
        Case.lead_department_code,
        CaseEvent.seq,
        CaseEvent.at,
        CaseEvent.action,
        CaseEvent.actor_role,
        CaseEvent.from_state,
        CaseEvent.to_state,
        CaseEvent.task_id,
        CaseEvent.department_code,
        Case.deadline_at,
    )
    .join(Case, Case.id == CaseEvent.case_id)
    .order_by(CaseEvent.case_id, CaseEvent.seq)
)


def event_log(
    session: Session,
    *,
    actor: Actor,
    since: datetime,
    until: datetime,
    item_code: str | None = None,
    batch_size: int = 20_000,
) -> Iterator[dict[str, list[Any]]]:
    """Every event of the cases submitted in [since, until) that ``actor`` may see.

    Yields batches of columns named as ``EVENT_LOG_COLUMNS``; a case's events are
    whole (they follow the case's submission date, not each event's own time).
    """
    query = _QUERY.where(Case.submitted_at >= since, Case.submitted_at < until)
    if item_code is not None:
        query = query.where(func.coalesce(Case.item_code, Case.bundle_code) == item_code)
    query = repository._scoped(cast("Select[Any]", query), actor)  # the domain's own scope rule
    result = session.execute(query.execution_options(yield_per=batch_size))
    for rows in result.partitions():
        columns = zip(*rows, strict=True)  # rows → columns
        yield {name: list(values) for name, values in zip(EVENT_LOG_COLUMNS, columns, strict=True)}
