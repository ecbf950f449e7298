"""Pure case rules: the state machine (one table), action requirements and labels."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tongban.access.rules import Role
from tongban.errors import DomainError, Forbidden, Invalid


class State(StrEnum):
    SUBMITTED = "submitted"  # 申报
    PREREVIEW = "prereview"  # 预审
    SUPPLEMENT = "supplement"  # 补正（受理前）
    REFUSED = "refused"  # 不予受理
    IN_REVIEW = "in_review"  # 审查（并行任务）
    REVIEW_SUPPLEMENT = "review_supplement"  # 审查中补正，时限暂停
    SUSPENDED = "suspended"  # 特别程序，时限暂停
    DECIDED = "decided"  # 准予 / 不予
    CLOSED = "closed"  # 办结
    DELIVERED = "delivered"  # 送达
    WITHDRAWN = "withdrawn"  # 撤回


class Action(StrEnum):
    START_PREREVIEW = "start_prereview"
    ACCEPT = "accept"
    REFUSE = "refuse"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    ACCEPT_MATERIAL = "accept_material"
    REJECT_MATERIAL = "reject_material"
    START_SPECIAL = "start_special"
    FINISH_SPECIAL = "finish_special"
    APPROVE_TASK = "approve_task"
    DENY_TASK = "deny_task"
    DECIDE = "decide"
    CLOSE = "close"
    DELIVER = "deliver"
    RECEIVE_ELECTRONIC = "receive_electronic"  # 电子送达: the applicant's first download
    WITHDRAW = "withdraw"


S, A, R = State, Action, Role
_BEFORE_ACCEPTANCE = (S.SUBMITTED, S.PREREVIEW)
_OPEN = (S.SUBMITTED, S.PREREVIEW, S.SUPPLEMENT, S.IN_REVIEW, S.REVIEW_SUPPLEMENT, S.SUSPENDED)


@dataclass(frozen=True)
class Transition:
    to_state: State
    roles: frozenset[Role]
    national_code: int | None  # platform state code used in national data exchange


def _t(to: State, *roles: Role, code: int | None = None) -> Transition:
    return Transition(to, frozenset(roles), code)


# (state, action) → transition. Anything not listed is rejected.
TRANSITIONS: dict[tuple[State, Action], Transition] = {
    **{(s, A.START_PREREVIEW): _t(S.PREREVIEW, R.CLERK) for s in (S.SUBMITTED,)},
    **{(s, A.ACCEPT): _t(S.IN_REVIEW, R.CLERK, code=3) for s in _BEFORE_ACCEPTANCE},
    **{(s, A.REFUSE): _t(S.REFUSED, R.CLERK, code=5) for s in _BEFORE_ACCEPTANCE},
    **{(s, A.REQUEST_SUPPLEMENT): _t(S.SUPPLEMENT, R.CLERK, code=6) for s in _BEFORE_ACCEPTANCE},
    (S.IN_REVIEW, A.REQUEST_SUPPLEMENT): _t(S.REVIEW_SUPPLEMENT, R.REVIEWER, code=6),
    (S.SUPPLEMENT, A.SUPPLEMENT): _t(S.PREREVIEW, R.APPLICANT, R.CLERK, code=7),
    (S.REVIEW_SUPPLEMENT, A.SUPPLEMENT): _t(S.IN_REVIEW, R.APPLICANT, R.CLERK, code=7),
    **{(s, A.ACCEPT_MATERIAL): _t(s, R.CLERK) for s in _BEFORE_ACCEPTANCE},
    **{(s, A.REJECT_MATERIAL): _t(s, R.CLERK) for s in _BEFORE_ACCEPTANCE},
    (S.IN_REVIEW, A.START_SPECIAL): _t(S.SUSPENDED, R.REVIEWER, code=9),
    (S.SUSPENDED, A.FINISH_SPECIAL): _t(S.IN_REVIEW, R.REVIEWER, code=10),
    (S.IN_REVIEW, A.APPROVE_TASK): _t(S.IN_REVIEW, R.REVIEWER),
    (S.IN_REVIEW, A.DENY_TASK): _t(S.IN_REVIEW, R.REVIEWER),
    (S.IN_REVIEW, A.DECIDE): _t(S.DECIDED, R.CLERK, R.REVIEWER),
    (S.DECIDED, A.CLOSE): _t(S.CLOSED, R.CLERK),  # code 11/13 chosen by the decision
    (S.CLOSED, A.DELIVER): _t(S.DELIVERED, R.CLERK),
    (S.CLOSED, A.RECEIVE_ELECTRONIC): _t(S.DELIVERED, R.APPLICANT),
    **{(s, A.WITHDRAW): _t(S.WITHDRAWN, R.APPLICANT, R.CLERK, code=14) for s in _OPEN},
}

TERMINAL_STATES = frozenset({S.REFUSED, S.WITHDRAWN, S.DELIVERED})
# Fired by the platform itself (the applicant's first download of the decision document
# is the 送达回证), never requested through the actions API.
INTERNAL_ACTIONS = frozenset({A.RECEIVE_ELECTRONIC})
SPECIAL_PROCEDURE_KINDS = (
    "听证",
    "勘察",
    "招投标",
    "专家评审",
    "公示",
    "检验",
    "检测",
    "检疫",
    "鉴定",
)
DELIVERY_METHODS = ("pickup", "mail", "electronic")
DECISIONS = ("approve", "deny")
NOTE_REQUIRED = frozenset({A.REFUSE, A.DENY_TASK})

STATE_LABELS: dict[str, str] = {
    S.SUBMITTED: "已申报",
    S.PREREVIEW: "预审中",
    S.SUPPLEMENT: "待补正",
    S.REFUSED: "不予受理",
    S.IN_REVIEW: "审查中",
    S.REVIEW_SUPPLEMENT: "审查补正中",
    S.SUSPENDED: "特别程序中",
    S.DECIDED: "已决定",
    S.CLOSED: "已办结",
    S.DELIVERED: "已送达",
    S.WITHDRAWN: "已撤回",
}
ACTION_LABELS: dict[str, str] = {
    "submit": "提交申请",
    A.START_PREREVIEW: "开始预审",
    A.ACCEPT: "受理",
    A.REFUSE: "不予受理",
    A.REQUEST_SUPPLEMENT: "一次性告知补正",
    A.SUPPLEMENT: "补正材料",
    A.ACCEPT_MATERIAL: "材料审核通过",
    A.REJECT_MATERIAL: "材料退回",
    A.START_SPECIAL: "启动特别程序",
    A.FINISH_SPECIAL: "结束特别程序",
    A.APPROVE_TASK: "部门审查通过",
    A.DENY_TASK: "部门审查不通过",
    A.DECIDE: "作出决定",
    A.CLOSE: "办结",
    A.DELIVER: "送达",
    A.RECEIVE_ELECTRONIC: "电子送达（申请人已下载决定书，送达回证）",
    A.WITHDRAW: "撤回申请",
    "recompute_deadline": "重算办理时限",
    "verify": "共享数据核验（免提交）",  # an event only (cases.verification.EVENT_ACTION)
}
TASK_STATE_LABELS = {
    "pending": "办理中",
    "approved": "审查通过",
    "denied": "审查不通过",
    "waiting": "等待前序事项办结",
    "cancelled": "前序事项未通过，不再办理",
}
# Tasks still to be worked on: a case cannot be decided while any remains.
OPEN_TASK_STATES = frozenset({"pending", "waiting"})
MATERIAL_STATUS_LABELS = {
    "submitted": "已提交",
    "accepted": "审核通过",
    "rejected": "需补正",
    "replaced": "已补正替换",
}
DELIVERY_LABELS = {"pickup": "窗口领取", "mail": "邮寄送达", "electronic": "电子送达"}


def parse_action(name: str) -> Action:
    """An action a caller may request (internal ones are fired by the platform only)."""
    if name in _REQUESTABLE:
        return Action(name)
    raise Invalid(
        "unknown_action",
        f"未知的办件操作：{name}",
        f"Unknown case action: {name}",
        details={"allowed": sorted(_REQUESTABLE)},
    )


_REQUESTABLE = frozenset(a.value for a in Action if a not in INTERNAL_ACTIONS)


def transition_for(state: State, action: Action, role: Role) -> Transition:
    """The transition for ``action`` in ``state`` by ``role``, or a specific error."""
    transition = TRANSITIONS.get((state, action))
    if transition is None:
        raise DomainError(
            "action_not_allowed_in_state",
            f"办件当前状态为“{STATE_LABELS[state]}”，不能执行“{ACTION_LABELS[action]}”。",
            f"Action '{action.value}' is not allowed while the case is '{state.value}'.",
            status=409,
            details={"state": state.value, "action": action.value},
        )
    if role not in transition.roles:
        raise Forbidden(
            "role_not_allowed",
            f"您的角色不能执行“{ACTION_LABELS[action]}”。",
            f"Your role may not perform '{action.value}'.",
            details={
                "role": role.value,
                "allowed_roles": sorted(r.value for r in transition.roles),
            },
        )
    return transition


def actions_for(state: State, role: Role) -> list[Action]:
    return [
        a
        for (s, a), t in TRANSITIONS.items()
        if s == state and role in t.roles and a not in INTERNAL_ACTIONS
    ]


def closing_code(decision: str | None, deferred_material: bool = False) -> int:
    """11 办结(通过), 12 办结(容缺通过), 13 办结(不通过)."""
    if decision == "approve":
        return 12 if deferred_material else 11
    return 13
