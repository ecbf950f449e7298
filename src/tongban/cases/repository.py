"""Every query of the cases domain, scoped by the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tongban.access.rules import Actor, Role
from tongban.cases.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseSequence,
    IdempotencyRecord,
    Task,
    Upload,
)
from tongban.db import own_transaction
from tongban.regions.rules import region_prefix

OPEN_REVIEW_STATES = ("in_review", "review_supplement", "suspended")


# Scope conditions with bind parameters, so that the statements built on them are
# built once and reused from SQLAlchemy's compiled cache (building a select costs
# about as much as running it on SQLite).
_SCOPES: dict[str, ColumnElement[bool]] = {
    # The person applied for, and the citizen who filed it for them (委托 agent, or the
    # person acting for an enterprise): both follow the case.
    "applicant": or_(
        Case.applicant_user_id == bindparam("scope_user_id"),
        Case.submitted_by_user_id == bindparam("scope_user_id"),
    ),
    # A department sees the cases it has a task in, and those it leads (牵头部门: a bundle
    # case's lead department need handle none of its items).
    "reviewer": or_(
        Case.lead_department_code == bindparam("scope_department"),
        exists().where(
            and_(Task.case_id == Case.id, Task.department_code == bindparam("scope_department"))
        ),
    ),
    "region": Case.region_code.startswith(bindparam("scope_prefix")),
    "none": false(),
}


def _scope(actor: Actor) -> tuple[str, dict[str, Any]]:
    """Which cases the actor may see: one of _SCOPES and its parameters."""
    if actor.role == Role.APPLICANT:
        return "applicant", {"scope_user_id": actor.user_id}
    if actor.role == Role.REVIEWER:
        return "reviewer", {"scope_department": actor.department_code}
    if actor.role in (Role.CLERK, Role.ADMIN) and actor.region_code:
        return "region", {"scope_prefix": region_prefix(actor.region_code)}
    return "none", {}


def _scoped(query: Select[Any], actor: Actor) -> Select[Any]:
    """Only cases the actor may see: a forgotten check cannot leak rows."""
    key, params = _scope(actor)
    return query.where(_SCOPES[key]).params(params)


# One case with everything its detail shows, in two statements built once. Its
# materials (with their upload) and tasks are few, so they come joined in the
# case's own query; the events, the collection that grows, come in a second one
# (a plain query: selectinload would rebuild its statement on every load).
_CASE_FOR = {
    key: select(Case)
    .where(Case.case_no == bindparam("case_no"), condition)
    .options(
        joinedload(Case.tasks),
        joinedload(Case.materials).joinedload(CaseMaterial.upload),
    )
    for key, condition in _SCOPES.items()
}
_EVENTS_OF = (
    select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.seq)
)


def case_for(session: Session, actor: Actor, case_no: str) -> Case | None:
    key, params = _scope(actor)
    result = session.execute(_CASE_FOR[key], {"case_no": case_no, **params})
    case: Case | None = result.unique().scalar_one_or_none()
    if case is not None:
        events = list(session.scalars(_EVENTS_OF, {"case_id": case.id}))
        # Loaded state, not a change: the unit of work has nothing to write for it.
        set_committed_value(case, "events", events)
    return case


def case_by_no(session: Session, case_no: str) -> Case | None:
    return session.scalar(select(Case).where(Case.case_no == case_no))


def count_cases(session: Session, actor: Actor) -> int:
    query = _scoped(select(func.count()).select_from(Case), actor)
    return session.scalar(query) or 0


def _filtered(actor: Actor, states: Sequence[str] | None, item_code: str | None) -> Select[Any]:
    query = _scoped(select(Case), actor)
    if states:
        query = query.where(Case.state.in_(states))
    if item_code:
        query = query.where(Case.item_code == item_code)
    return query


def page_cases(
    session: Session,
    actor: Actor,
    states: Sequence[str] | None,
    page: int,
    size: int,
    item_code: str | None = None,
) -> tuple[list[Case], int]:
    query = _filtered(actor, states, item_code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Case.submitted_at.desc(), Case.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    return list(rows), total


def cases_touched_by(
    session: Session, *, user_id: int, department_code: str | None, case_ids: Sequence[int]
) -> set[int]:
    """Of ``case_ids``, those the user acted on or (if given) their department has a task in."""
    if not case_ids:
        return set()
    query: Select[Any] = select(CaseEvent.case_id).where(
        CaseEvent.case_id.in_(case_ids), CaseEvent.actor_user_id == user_id
    )
    if department_code is not None:
        tasks = select(Task.case_id).where(
            Task.case_id.in_(case_ids), Task.department_code == department_code
        )
        return set(session.scalars(union(query, tasks)))
    return set(session.scalars(query.distinct()))


def cases_for_export(
    session: Session, actor: Actor, states: Sequence[str] | None, item_code: str | None, limit: int
) -> list[Case]:
    """At most ``limit`` cases in the actor's scope, oldest first (a CSV reads top down)."""
    query = _filtered(actor, states, item_code)
    return list(session.scalars(query.order_by(Case.submitted_at, Case.id).limit(limit)))


def task_queue(session: Session, actor: Actor, page: int, size: int) -> tuple[list[Task], int]:
    """Pending department tasks of cases under review (补正 and 特别程序 have queues of their
    own: the task waits for the applicant or the procedure there)."""
    query = select(Task).join(Case).where(Case.state == "in_review", Task.state == "pending")
    if actor.role == Role.REVIEWER:
        query = query.where(Task.department_code == actor.department_code)
    elif actor.region_code:
        query = query.where(Case.region_code.startswith(region_prefix(actor.region_code)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Task.case))
        .order_by(Case.deadline_at.is_(None), Case.deadline_at, Task.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return list(rows), total


def _sequence_upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(CaseSequence)
        .values(region_code=bindparam("region_code"), day=bindparam("day"), value=1)
        .on_conflict_do_update(
            index_elements=["region_code", "day"], set_={"value": CaseSequence.value + 1}
        )
        .returning(CaseSequence.value)
    )


_SEQUENCE_UPSERTS = {dialect: _sequence_upsert(dialect) for dialect in ("postgresql", "sqlite")}


def next_sequence(session: Session, region_code: str, day: str) -> int:
    """Atomic per-(region, day) counter; unique under concurrency on both databases, not
    gap-free (docs/cases.md, "Case numbers").

    PostgreSQL: taken and committed in a transaction of its own, so the day's counter row
    is locked for one statement, not until the submission commits — submissions of a day
    run in parallel. A submission that fails afterwards leaves its number unused.
    SQLite: on the session's connection, whose IMMEDIATE transaction already holds the
    database's one write lock (writers are serial there anyway; a second connection would
    wait for this one to commit)."""
    statement = _SEQUENCE_UPSERTS[session.get_bind().dialect.name]
    values = {"region_code": region_code, "day": day}
    if session.get_bind().dialect.name == "sqlite":
        return int(session.connection().execute(statement, values).scalar_one())
    with own_transaction(session) as connection:
        return int(connection.execute(statement, values).scalar_one())


def idempotency_record(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )


_UPLOADS_BY_TOKEN = select(Upload).where(Upload.token.in_(bindparam("tokens", expanding=True)))


def uploads_by_token(session: Session, tokens: Sequence[str]) -> dict[str, Upload]:
    if not tokens:
        return {}
    rows = session.scalars(_UPLOADS_BY_TOKEN, {"tokens": list(tokens)})
    return {upload.token: upload for upload in rows}


_CLAIM_UPLOADS = (
    update(Upload)
    .where(Upload.id.in_(bindparam("ids", expanding=True)), Upload.case_id.is_(None))
    .values(case_id=bindparam("case_id"))
)


def claim_uploads(session: Session, case_id: int, upload_ids: Sequence[int]) -> int:
    """Attach unclaimed uploads to a case; returns how many were still unclaimed.

    The ``case_id IS NULL`` condition is evaluated under the row lock, so of two
    requests racing for one upload only one claims it.
    """
    if not upload_ids:
        return 0
    result = session.connection().execute(
        _CLAIM_UPLOADS, {"ids": list(upload_ids), "case_id": case_id}
    )
    return int(result.rowcount)


def open_accepted_cases(session: Session) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(Case.accepted_at.is_not(None), Case.state.in_(OPEN_REVIEW_STATES))
            .options(selectinload(Case.events))
        )
    )


# --- writing a case ------------------------------------------------------------------
#
# The unit of work costs several times the statements it emits for a case's few
# rows, so the case aggregate is written with plain statements instead: a new
# case is inserted as built; an acting request detaches the loaded case, lets
# the action change it in memory and then writes exactly what changed. The case
# row carries the optimistic lock (its version) either way.

_UPDATE_CASE = update(Case).where(
    Case.id == bindparam("b_id"), Case.version == bindparam("b_version")
)
_UPDATE_TASK = update(Task).where(Task.id == bindparam("b_id"))
_UPDATE_MATERIAL = update(CaseMaterial).where(CaseMaterial.id == bindparam("b_id"))
_INSERT_CHILD: dict[type[Any], Any] = {
    model: insert(model).returning(model.id, sort_by_parameter_order=True)
    for model in (Task, CaseMaterial, CaseEvent)
}
_INSERT_CASE = insert(Case).returning(Case.id)
_INSERT_IDEMPOTENCY = insert(IdempotencyRecord)


def insert_case(session: Session, case: Case) -> None:
    """Insert a new case with its events and materials; sets their ids."""
    case.version = 1
    case.id = session.connection().execute(_INSERT_CASE, _row(case)).scalar_one()
    _insert_children(session, case)


def insert_idempotency_record(
    session: Session, *, user_id: int, key: str, request_hash: str, case_no: str
) -> None:
    record = IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash, case_no=case_no)
    session.connection().execute(_INSERT_IDEMPOTENCY, _row(record))


def detach(session: Session, case: Case) -> None:
    """Take the case and its collections out of the session: ``save_case`` writes them."""
    for child in (*case.tasks, *case.materials, *case.events):
        session.expunge(child)
    session.expunge(case)


def save_case(session: Session, case: Case) -> None:
    """Write a detached case's changes; StaleDataError if another request changed it first."""
    version = case.version
    values = _changes(case)
    values.pop("version", None)
    result = session.connection().execute(
        _UPDATE_CASE, {**values, "version": version + 1, "b_id": case.id, "b_version": version}
    )
    if result.rowcount != 1:
        raise StaleDataError(f"case {case.id} is no longer at version {version}")
    set_committed_value(case, "version", version + 1)
    for statement, rows in ((_UPDATE_TASK, case.tasks), (_UPDATE_MATERIAL, case.materials)):
        for row in rows:
            changes = _changes(row) if row.id is not None else {}
            if changes:
                session.connection().execute(statement, {**changes, "b_id": row.id})
    _insert_children(session, case)


def _insert_children(session: Session, case: Case) -> None:
    connection = session.connection()
    for model, rows in (
        (Task, case.tasks),
        (CaseMaterial, case.materials),
        (CaseEvent, case.events),
    ):
        new = [row for row in rows if row.id is None]
        if not new:
            continue
        for row in new:
            row.case_id = case.id
        rows_in = [_row(row) for row in new]
        ids = connection.execute(_INSERT_CHILD[model], rows_in).scalars().all()
        for row, new_id in zip(new, ids, strict=True):
            row.id = new_id


def _row(obj: Any) -> dict[str, Any]:
    """The column values of a new object, with its columns' plain defaults filled in.

    Plain defaults are set on the object too, as the unit of work would after an
    INSERT (the response shows them); SQLAlchemy computes the callable ones
    (timestamps) when it executes the INSERT.
    """
    state = inspect(obj)
    values = state.dict
    row: dict[str, Any] = {}
    for column in state.mapper.columns:
        key = column.key
        if key in values:
            row[key] = values[key]
        elif column.default is not None and column.default.is_scalar:
            row[key] = column.default.arg
            setattr(obj, key, column.default.arg)
    row.pop("id", None)
    return row


def _changes(obj: Any) -> dict[str, Any]:
    """Changed column values of a loaded object, from the ORM's attribute history."""
    state = inspect(obj)
    unmodified = state.unmodified
    return {
        prop.key: state.dict[prop.key]
        for prop in state.mapper.column_attrs
        if prop.key not in unmodified and state.attrs[prop.key].history.has_changes()
    }


def set_decision_document(session: Session, case_id: int, sha256: str) -> str:
    """Name the issued decision document on the case, unless a concurrent request named
    one first; returns the one named. The version does not move: the document follows
    from the decision and changes nothing a concurrent editor saw."""
    connection = session.connection()
    connection.execute(
        update(Case)
        .where(Case.id == case_id, Case.decision_document_sha256.is_(None))
        .values(decision_document_sha256=sha256)
    )
    named = connection.execute(
        select(Case.decision_document_sha256).where(Case.id == case_id)
    ).scalar_one()
    return str(named)


def link_applicant(session: Session, *, person_ref: str, user_id: int) -> int:
    """Give a person's cases that have no account yet to their newly verified account."""
    result = session.connection().execute(
        update(Case)
        .where(Case.applicant_id_index == person_ref, Case.applicant_user_id.is_(None))
        .values(applicant_user_id=user_id)
    )
    return int(result.rowcount)
