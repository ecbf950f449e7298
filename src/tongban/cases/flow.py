"""A bundle's stages and the values one item's approval issues to the next (一件事 flow).

企业开办一件事 is applied for by a person before the company exists: 企业设立登记 (stage 0)
issues the 统一社会信用代码, and only then do 印章, 发票, 社保 and 公积金 (stage 1) start,
with that code in their form. Items of one stage run in parallel (并联办理).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.cases import submission
from tongban.cases.models import Case, Task
from tongban.errors import Invalid
from tongban.kit.ids import is_valid_uscc, normalize_uscc

WAITING, PENDING, CANCELLED = "waiting", "pending", "cancelled"


def stage_of(target: submission.Target, item_code: str) -> int:
    for index, stage in enumerate(target.stages):
        if item_code in stage:
            return index
    return 0


def initial_state(stage: int) -> str:
    return PENDING if stage == 0 else WAITING


def advance(case: Case) -> list[int]:
    """Start the next stage once every task before it is approved; returns the tasks started."""
    if any(t.state in (PENDING, "denied") for t in case.tasks):
        return []
    waiting = [t for t in case.tasks if t.state == WAITING]
    if not waiting:
        return []
    next_stage = min(t.stage for t in waiting)
    started = [t for t in waiting if t.stage == next_stage]
    for task in started:
        task.state = PENDING
    return [t.id for t in started]


def cancel_waiting(case: Case) -> list[int]:
    """A denied task ends the bundle's later stages: their tasks will not be handled."""
    cancelled = [t for t in case.tasks if t.state == WAITING]
    for task in cancelled:
        task.state = CANCELLED
    return [t.id for t in cancelled]


def issue_values(
    session: Session, case: Case, task: Task, payload: dict[str, Any]
) -> dict[str, str]:
    """The values the task's item issues (e.g. the new 统一社会信用代码), checked and written
    into the application so that later items receive them. Required within a bundle."""
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    item = next((i for i in target.items if i.code == task.item_code), None)
    spec = item.issues if item is not None else {}
    given = payload.get("issued") or {}
    if not spec:
        return {}
    if not isinstance(given, dict):
        raise _invalid_issued(list(spec))
    values = {}
    for field, kind in spec.items():
        raw = str(given.get(field) or "").strip()
        if not raw:
            if case.bundle_code:
                raise _invalid_issued([field], missing=True)
            continue
        values[field] = _checked(field, kind, raw)
    if values:
        case.form_data = {**(case.form_data or {}), **values}
    return values


def _checked(field: str, kind: str, raw: str) -> str:
    if kind == "credit_code":
        code = normalize_uscc(raw)
        if not is_valid_uscc(code):
            raise Invalid(
                "invalid_credit_code",
                "统一社会信用代码无效：请核对 18 位代码及校验位。",
                "Invalid unified social credit code.",
                details={"field": f"payload.issued.{field}"},
            )
        return code
    if len(raw) > 128:
        raise _invalid_issued([field])
    return raw


def _invalid_issued(fields: list[str], *, missing: bool = False) -> Invalid:
    return Invalid(
        "issued_value_required" if missing else "issued_value_invalid",
        "请填写本事项办结后核发的内容：" + "、".join(fields),
        "Enter what approving this item issues: " + ", ".join(fields),
        details={"fields": fields},
    )
