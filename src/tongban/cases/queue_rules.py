"""Work queues: which open cases wait for whom — pure rules, no I/O.

Every non-final state of the transition table is listed by at least one role's queue
(a test walks the table), so no case ever needs its number typed to be found. The
repository builds the same conditions in SQL for the lists; ``queues_listing`` is the
reference a test compares them with, and ``disclosure`` uses it to treat a case in
the reader's own queue as tied to their work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tongban.access.rules import Actor, Role, region_in_subtree
from tongban.cases.rules import OPEN_TASK_STATES, State


class Queue(StrEnum):
    ACCEPTANCE = "acceptance"  # 待受理
    TASKS = "tasks"  # 部门待办（审查任务）
    DECIDE = "decide"  # 待决定
    CLOSE = "close"  # 待办结
    DELIVER = "deliver"  # 待送达（按送达方式）
    SUPPLEMENT = "supplement"  # 补正中
    SPECIAL = "special"  # 特别程序中
    OVERDUE = "overdue"  # 已超期（督办）


QUEUE_LABELS: dict[Queue, str] = {
    Queue.ACCEPTANCE: "待受理",
    Queue.TASKS: "部门审查任务",
    Queue.DECIDE: "待决定",
    Queue.CLOSE: "待办结",
    Queue.DELIVER: "待送达",
    Queue.SUPPLEMENT: "补正中",
    Queue.SPECIAL: "特别程序中",
    Queue.OVERDUE: "已超期",
}
QUEUE_HINTS: dict[Queue, str] = {
    Queue.ACCEPTANCE: "已申报、待窗口预审受理的办件",
    Queue.TASKS: "本部门待审查的任务，按办理期限排序",
    Queue.DECIDE: "各部门审查已完成、等待作出决定的办件",
    Queue.CLOSE: "已作出决定、待办结的办件",
    Queue.DELIVER: "已办结、待送达结果的办件（按送达方式）",
    Queue.SUPPLEMENT: "等待申请人补正材料的办件",
    Queue.SPECIAL: "处于听证、检验、专家评审等特别程序的办件",
    Queue.OVERDUE: "已超过承诺办理期限仍未办结的办件",
}

# The queues each role owns, in the order the workbench shows them.
ROLE_QUEUES: dict[Role, tuple[Queue, ...]] = {
    Role.CLERK: (
        Queue.ACCEPTANCE,
        Queue.SUPPLEMENT,
        Queue.DECIDE,
        Queue.CLOSE,
        Queue.DELIVER,
        Queue.OVERDUE,
    ),
    Role.REVIEWER: (Queue.TASKS, Queue.DECIDE, Queue.SUPPLEMENT, Queue.SPECIAL, Queue.OVERDUE),
    Role.ADMIN: (Queue.OVERDUE,),
}

ACCEPTANCE_STATES = (State.SUBMITTED, State.PREREVIEW)
SUPPLEMENT_STATES = (State.SUPPLEMENT, State.REVIEW_SUPPLEMENT)


def owned_queues(actor: Actor) -> tuple[Queue, ...]:
    return ROLE_QUEUES.get(actor.role, ())


@dataclass(frozen=True)
class QueueFacts:
    """What queue membership depends on, read off a case and its tasks."""

    state: str
    region_code: str
    lead_department_code: str
    decided_by: str  # department | window
    task_states: tuple[tuple[str, str], ...]  # (department code, task state)
    overdue: bool  # accepted, in review and past its promised deadline

    @property
    def open_tasks(self) -> bool:
        return any(state in OPEN_TASK_STATES for _, state in self.task_states)

    def departments(self, *states: str) -> frozenset[str]:
        return frozenset(d for d, s in self.task_states if not states or s in states)


def queues_listing(actor: Actor, case: QueueFacts) -> list[Queue]:
    """The actor's queues that list this case."""
    return [queue for queue in owned_queues(actor) if _lists(queue, actor, case)]


def _lists(queue: Queue, actor: Actor, case: QueueFacts) -> bool:
    if actor.role in (Role.CLERK, Role.ADMIN):
        return _in_region(actor, case) and _region_queue(queue, case)
    if actor.role == Role.REVIEWER and actor.department_code:
        return _department_queue(queue, actor.department_code, case)
    return False


def _in_region(actor: Actor, case: QueueFacts) -> bool:
    return actor.region_code is not None and region_in_subtree(case.region_code, actor.region_code)


def awaits_decision(case: QueueFacts) -> bool:
    return case.state == State.IN_REVIEW and not case.open_tasks


def _region_queue(queue: Queue, case: QueueFacts) -> bool:
    """The window's queues (a clerk's, within the region they serve)."""
    match queue:
        case Queue.ACCEPTANCE:
            return case.state in ACCEPTANCE_STATES
        case Queue.SUPPLEMENT:
            return case.state in SUPPLEMENT_STATES
        case Queue.DECIDE:
            return case.decided_by == "window" and awaits_decision(case)
        case Queue.CLOSE:
            return case.state == State.DECIDED
        case Queue.DELIVER:
            return case.state == State.CLOSED
        case Queue.OVERDUE:
            return case.overdue
    return False


def _department_queue(queue: Queue, department: str, case: QueueFacts) -> bool:
    """A department reviewer's queues: its tasks, and the cases it leads."""
    leads = case.lead_department_code == department
    involved = leads or department in case.departments()
    match queue:
        case Queue.TASKS:
            return case.state == State.IN_REVIEW and department in case.departments("pending")
        case Queue.DECIDE:
            return leads and case.decided_by == "department" and awaits_decision(case)
        case Queue.SUPPLEMENT:
            return case.state == State.REVIEW_SUPPLEMENT and involved
        case Queue.SPECIAL:
            return case.state == State.SUSPENDED and involved
        case Queue.OVERDUE:
            owes = department in case.departments("pending") or (
                leads and case.decided_by == "department" and awaits_decision(case)
            )
            return case.overdue and owes
    return False
