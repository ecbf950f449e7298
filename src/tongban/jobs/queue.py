"""The job queue as the domains see it: ``defer(session, task)`` queues one run of a task
once the session's transaction has committed (PostgreSQL).

After the commit, not inside it: the job's queueing lock is one row that every request
queuing work would otherwise hold until its own commit, making them wait for each other
(design.md: a transaction is a lock). Queued afterwards, in a one-statement transaction
from the side pool (``db.own_transaction``), a worker finds the committed work; if the
process dies in between, the task's next periodic tick does it.

Light on purpose (SQLAlchemy only, no procrastinate import): the web app's code paths use
it. The names match what ``tongban.jobs.postgres`` registers."""

from __future__ import annotations

import logging

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tongban.db import own_transaction

log = logging.getLogger(__name__)

SCHEMA = "procrastinate"  # procrastinate's tables and functions (migration 0014)
QUEUE = "tongban"
DELIVERY_TASK = "deliver_notifications"
_PENDING = "tongban.jobs.deferred"  # session.info key: task names to queue at the commit

# A job row as procrastinate's own defer writes it (its insert trigger notifies the
# workers); a run already waiting, holding the queueing lock, makes this a no-op.
DEFER = text(
    f"INSERT INTO {SCHEMA}.procrastinate_jobs"
    " (queue_name, task_name, lock, queueing_lock, args)"
    " VALUES (:queue, :task, :lock, :queueing_lock, CAST(:args AS jsonb))"
    " ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING"
)


def defer(session: Session, task_name: str) -> None:
    """Queue one run of ``task_name`` when ``session`` commits (nothing if it rolls back).
    PostgreSQL only: on SQLite the county's worker runs the task at its next tick."""
    if session.get_bind().dialect.name == "postgresql":
        session.info.setdefault(_PENDING, set()).add(task_name)


@event.listens_for(Session, "after_commit")
def _queue_after_commit(session: Session) -> None:
    names = session.info.pop(_PENDING, None)
    if not names:
        return
    try:
        with own_transaction(session) as connection:
            for name in sorted(names):
                # The task's name is its lock and queueing lock (tongban.jobs.postgres).
                values = {"task": name, "lock": name, "queueing_lock": name}
                connection.execute(DEFER, {"queue": QUEUE, "args": '{"timestamp": 0}', **values})
    except Exception:  # the commit stands; the task's next tick does the work
        log.warning("could not queue %s after a commit", sorted(names), exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
