"""The reader's work queues: counts for the workbench's landing page, and each queue's list.

Counting reads no personal data (no audit entry); a list shows masked names and is
recorded like every read — as tied to the reader's work, since the case waits for them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import queue_repository, rules
from tongban.cases.models import Case
from tongban.cases.queue_rules import (
    QUEUE_HINTS,
    QUEUE_LABELS,
    Queue,
    QueueFacts,
    owned_queues,
)
from tongban.cases.schemas import CasePage, QueueCount, QueueOverview, TaskPage
from tongban.errors import Forbidden, Invalid
from tongban.kit.clock import now


def facts_of(case: Case, task_states: list[tuple[str, str]] | None = None) -> QueueFacts:
    """The queue facts of a case (its loaded tasks unless ``task_states`` is given)."""
    tasks = (
        task_states
        if task_states is not None
        else [(t.department_code, t.state) for t in case.tasks]
    )
    overdue = (
        case.state == rules.State.IN_REVIEW
        and case.deadline_at is not None
        and case.deadline_at < now()
    )
    return QueueFacts(
        state=case.state,
        region_code=case.region_code,
        lead_department_code=case.lead_department_code,
        decided_by=case.decided_by or "department",
        task_states=tuple(tasks),
        overdue=overdue,
    )


def parse_queue(actor: Actor, kind: str) -> Queue:
    try:
        queue = Queue(kind)
    except ValueError:
        raise Invalid(
            "unknown_queue",
            f"未知的工作队列：{kind}",
            f"Unknown work queue: {kind}",
            details={"allowed": [q.value for q in owned_queues(actor)]},
        ) from None
    if queue not in owned_queues(actor):
        raise Forbidden(
            "queue_not_yours",
            "该工作队列不属于您的角色。",
            "This work queue does not belong to your role.",
            details={"allowed": [q.value for q in owned_queues(actor)]},
        )
    return queue


def overview(session: Session, *, actor: Actor) -> QueueOverview:
    at = now()
    counts = []
    for queue in owned_queues(actor):
        count = queue_repository.count(session, queue=queue, actor=actor, at=at)
        channels = (
            queue_repository.delivery_counts(session, actor=actor, at=at)
            if queue == Queue.DELIVER
            else {}
        )
        counts.append(
            QueueCount(
                kind=queue.value,
                label=QUEUE_LABELS[queue],
                hint=QUEUE_HINTS[queue],
                count=count,
                by_channel=channels,
            )
        )
    return QueueOverview(role=actor.role.value, queues=counts)


def cases_in(
    session: Session, *, actor: Actor, queue: Queue, page: int, size: int, channel: str | None
) -> tuple[list[Case], int]:
    if channel is not None and channel not in rules.DELIVERY_METHODS:
        raise Invalid(
            "unknown_delivery_channel",
            "送达方式须为窗口领取、邮寄或电子送达。",
            "The channel is pickup, mail or electronic.",
            details={"allowed": list(rules.DELIVERY_METHODS)},
        )
    return queue_repository.page(
        session, queue=queue, actor=actor, at=now(), page=page, size=size, channel=channel
    )


__all__ = ["CasePage", "TaskPage", "cases_in", "facts_of", "overview", "parse_queue"]
