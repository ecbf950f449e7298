"""What each case action does beyond the state change (guards and effects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.cases import flow, rules
from tongban.cases.models import Case, Task
from tongban.cases.rules import Action
from tongban.cases.schemas import ActionIn, MaterialIn
from tongban.errors import Conflict, Forbidden, Invalid
from tongban.kit.clock import now

Effect = Callable[[Session, Actor, Case, ActionIn], dict[str, Any]]


def _need_note(action: ActionIn, what_zh: str) -> None:
    if not action.note.strip():
        raise Invalid(
            "note_required",
            f"请填写{what_zh}。",
            f"A note ({action.action}) is required.",
            details={"field": "note"},
        )


def _task(case: Case, actor: Actor, payload: dict[str, Any]) -> Task:
    task_id = payload.get("task_id")
    task = next((t for t in case.tasks if t.id == task_id), None)
    if task is None:
        raise Invalid(
            "unknown_task",
            "找不到该部门任务。",
            "No such task in this case.",
            details={"task_id": task_id},
        )
    if task.department_code != actor.department_code:
        raise Forbidden(
            "task_not_yours", "该任务不属于您的部门。", "This task belongs to another department."
        )
    if task.state != "pending":
        raise Conflict(
            "task_already_decided", "该部门任务已办理完毕。", "This task has already been decided."
        )
    return task


def _material(case: Case, payload: dict[str, Any]) -> Any:
    material_id = payload.get("material_id")
    material = next((m for m in case.materials if m.id == material_id), None)
    if material is None:
        raise Invalid(
            "unknown_material",
            "找不到该材料。",
            "No such material in this case.",
            details={"material_id": material_id},
        )
    return material


def refuse(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    _need_note(action, "不予受理的理由")
    return {}


def request_supplement(
    session: Session, actor: Actor, case: Case, action: ActionIn
) -> dict[str, Any]:
    missing = [str(m).strip() for m in action.payload.get("missing", []) if str(m).strip()]
    if not missing:
        raise Invalid(
            "supplement_list_required",
            "一次性告知书须列明全部需补正的材料或内容。",
            "A supplement notice must list everything that is missing.",
            details={"field": "payload.missing"},
        )
    for material_id in action.payload.get("material_ids", []):
        _material(case, {"material_id": material_id}).status = "rejected"
    return {"missing": missing}


def supplement(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    from tongban.cases import service  # the target lookup lives with submission

    added = [MaterialIn.model_validate(m) for m in action.payload.get("materials", [])]
    if added:
        service.attach_supplement(session, actor=actor, case=case, materials=added)
    return {"materials": len(added)}


def accept(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    from tongban.cases import service

    service.check_materials_complete(session, case=case)
    case.accepted_at = now()
    tasks = service.create_tasks(session, case=case)
    return {"tasks": [t.department_code for t in tasks]}


def mark_material(status: str) -> Effect:
    def effect(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
        material = _material(case, action.payload)
        material.status = status
        material.note = action.note
        return {"material_id": material.id, "status": status}

    return effect


def start_special(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    kind = action.payload.get("kind")
    if kind not in rules.SPECIAL_PROCEDURE_KINDS:
        raise Invalid(
            "unknown_special_procedure",
            "特别程序种类须为：" + "、".join(rules.SPECIAL_PROCEDURE_KINDS),
            "The special procedure kind must be one of the statutory kinds.",
            details={"allowed": list(rules.SPECIAL_PROCEDURE_KINDS)},
        )
    return {"kind": kind}


def decide_task(approved: bool) -> Effect:
    def effect(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
        task = _task(case, actor, action.payload)
        if not approved:
            _need_note(action, "审查不通过的理由")
        issued = flow.issue_values(session, case, task, action.payload) if approved else {}
        task.state = "approved" if approved else "denied"
        task.note = action.note
        task.decided_by_user_id = actor.user_id
        task.decided_at = now()
        started = flow.advance(case) if approved else []
        cancelled = [] if approved else flow.cancel_waiting(case)
        payload: dict[str, Any] = {"task_id": task.id, "department_code": task.department_code}
        if issued:
            payload["issued"] = issued
        if started:
            payload["started"] = started
        if cancelled:
            payload["cancelled"] = cancelled
        return payload

    return effect


def decide(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    decision = action.payload.get("decision")
    if decision not in rules.DECISIONS:
        raise Invalid(
            "invalid_decision",
            "决定须为“准予”或“不予”。",
            "The decision must be 'approve' or 'deny'.",
        )
    _check_decider(actor, case)
    if any(t.state in rules.OPEN_TASK_STATES for t in case.tasks):
        raise Conflict(
            "tasks_pending",
            "仍有部门任务未办结，暂不能作出决定。",
            "Some department tasks are still pending.",
        )
    if decision == "approve" and any(t.state == "denied" for t in case.tasks):
        raise Conflict(
            "tasks_denied",
            "有部门审查不通过，不能准予。",
            "A department denied its task; the case cannot be approved.",
        )
    if decision == "deny":
        _need_note(action, "不予许可的理由")
    case.decision = decision
    case.decision_note = action.note
    case.decided_at = now()
    return {"decision": decision}


def _check_decider(actor: Actor, case: Case) -> None:
    """The lead department's reviewer decides; the window decides where the item says so."""
    if case.decided_by == "window":
        if actor.role != Role.CLERK:
            raise Forbidden(
                "decided_at_window",
                "该事项由窗口作出决定。",
                "The window decides this item.",
            )
        return
    if actor.role != Role.REVIEWER or actor.department_code != case.lead_department_code:
        raise Forbidden(
            "not_lead_department", "只有牵头部门可以作出决定。", "Only the lead department decides."
        )


def may_decide(actor: Actor, case: Case) -> bool:
    try:
        _check_decider(actor, case)
    except Forbidden:
        return False
    return not any(t.state in rules.OPEN_TASK_STATES for t in case.tasks)


def close(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    case.closed_at = now()
    # Notifications say "the decision can be downloaded" when delivery is electronic.
    return {
        "national_code": rules.closing_code(case.decision),
        "delivery": case.delivery_preference,
    }


def deliver(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    method = action.payload.get("method")
    if method not in rules.DELIVERY_METHODS:
        raise Invalid(
            "invalid_delivery_method",
            "送达方式须为窗口领取、邮寄或电子送达。",
            "Delivery is pickup, mail or electronic.",
        )
    case.delivery_method = method
    case.delivered_at = now()
    return {"method": method}


def receive_electronic(
    session: Session, actor: Actor, case: Case, action: ActionIn
) -> dict[str, Any]:
    """送达回证 of 电子送达: fired by the platform on the applicant's first download."""
    case.delivery_method = "electronic"
    case.delivered_at = now()
    return {"method": "electronic", **action.payload}


def withdraw(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    return {}


def _none(session: Session, actor: Actor, case: Case, action: ActionIn) -> dict[str, Any]:
    return {}


EFFECTS: dict[Action, Effect] = {
    Action.START_PREREVIEW: _none,
    Action.ACCEPT: accept,
    Action.REFUSE: refuse,
    Action.REQUEST_SUPPLEMENT: request_supplement,
    Action.SUPPLEMENT: supplement,
    Action.ACCEPT_MATERIAL: mark_material("accepted"),
    Action.REJECT_MATERIAL: mark_material("rejected"),
    Action.START_SPECIAL: start_special,
    Action.FINISH_SPECIAL: _none,
    Action.APPROVE_TASK: decide_task(approved=True),
    Action.DENY_TASK: decide_task(approved=False),
    Action.DECIDE: decide,
    Action.CLOSE: close,
    Action.DELIVER: deliver,
    Action.RECEIVE_ELECTRONIC: receive_electronic,
    Action.WITHDRAW: withdraw,
}


def visible_actions(actor: Actor, case: Case) -> list[str]:
    """The actions this actor could fire now (the table, narrowed by simple guards)."""
    allowed = []
    for action in rules.actions_for(rules.State(case.state), actor.role):
        if action in (Action.APPROVE_TASK, Action.DENY_TASK) and not any(
            t.state == "pending" and t.department_code == actor.department_code for t in case.tasks
        ):
            continue
        if action == Action.DECIDE and not may_decide(actor, case):
            continue
        allowed.append(action.value)
    return allowed
