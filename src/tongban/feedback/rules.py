"""Pure feedback rules: rating levels and indicators, the two transition tables
(complaints, rating follow-ups), deadlines and the escalation ladder. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from tongban.errors import DomainError, Forbidden, Invalid
from tongban.kit.clock import SHANGHAI

# --- ratings (好差评, GB/T 39734) -----------------------------------------------------

LEVEL_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS = frozenset({1, 2})  # 差评: opens a follow-up owned by the handling department
ONLINE_INDICATORS = {
    "overall": "整体满意度",
    "efficiency": "办事效率",
    "guide_accuracy": "办事指南精确度",
    "convenience": "办事便捷度",
    "usability": "平台操作性",
}
OFFLINE_INDICATORS = {
    "overall": "整体满意度",
    "service_efficiency": "服务效率",
    "service_level": "服务水平",
    "service_attitude": "服务态度",
}
RATEABLE_CASE_STATES = frozenset({"closed", "delivered"})
APPEAL_REASONS = {"mistaken": "误评", "malicious": "恶意差评"}


def check_rating(channel: str, level: int, indicators: dict[str, int]) -> None:
    """A rating has a level 1–5 and, per indicator of its channel, a level 1–5."""
    allowed = ONLINE_INDICATORS if channel == "online" else OFFLINE_INDICATORS
    unknown = sorted(set(indicators) - set(allowed))
    if (
        level not in LEVEL_LABELS
        or unknown
        or any(v not in LEVEL_LABELS for v in indicators.values())
    ):
        raise Invalid(
            "invalid_rating",
            "评价等级须为 1–5 星，评价指标须为本渠道的指标。",
            "Levels run from 1 to 5 stars and indicators must belong to the channel.",
            details={"unknown_indicators": unknown, "allowed": sorted(allowed)},
        )


# --- complaints (吐槽专区) -------------------------------------------------------------


class CState(StrEnum):
    FILED = "filed"
    ASSIGNED = "assigned"
    RESPONDED = "responded"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"


class Party(StrEnum):
    """Who fires a transition: the complainant, the handling staff, the center admin,
    or the worker."""

    COMPLAINANT = "complainant"
    HANDLER = "handler"
    ADMIN = "admin"
    SYSTEM = "system"


C, P = CState, Party
COMPLAINT_TRANSITIONS: dict[tuple[CState, str], tuple[CState, frozenset[Party]]] = {
    (C.FILED, "assign"): (C.ASSIGNED, frozenset({P.ADMIN, P.SYSTEM})),
    (C.ASSIGNED, "assign"): (C.ASSIGNED, frozenset({P.ADMIN})),  # handed to another department
    (C.ASSIGNED, "respond"): (C.RESPONDED, frozenset({P.HANDLER, P.ADMIN})),
    # Resolving at once also counts as the first response.
    (C.ASSIGNED, "resolve"): (C.RESOLVED, frozenset({P.HANDLER, P.ADMIN})),
    (C.RESPONDED, "resolve"): (C.RESOLVED, frozenset({P.HANDLER, P.ADMIN})),
    (C.RESOLVED, "confirm"): (C.CONFIRMED, frozenset({P.COMPLAINANT})),
    (C.RESOLVED, "auto_confirm"): (C.CONFIRMED, frozenset({P.SYSTEM})),
    (C.RESOLVED, "reopen"): (C.ASSIGNED, frozenset({P.COMPLAINANT})),
}
COMPLAINT_STATE_LABELS = {
    C.FILED: "已提交",
    C.ASSIGNED: "已分派",
    C.RESPONDED: "已响应",
    C.RESOLVED: "已办结待确认",
    C.CONFIRMED: "已确认",
}
COMPLAINT_ACTION_LABELS = {
    "file": "提交",
    "assign": "分派",
    "respond": "首次响应",
    "resolve": "办理完毕",
    "confirm": "确认满意",
    "auto_confirm": "逾期自动确认",
    "reopen": "重新办理",
    "warn": "临期提醒",
    "escalate": "超时升级",
}
NOTE_REQUIRED = frozenset({"respond", "resolve", "reopen"})
COMPLAINT_KINDS = {"complaint": "投诉", "suggestion": "建议"}
TARGET_KINDS = {"item": "服务事项", "department": "部门", "case": "办件", "platform": "平台"}
CATEGORIES = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "guide": "办事指南",
    "system": "系统故障",
    "policy": "政策咨询",
    "other": "其他",
}


def complaint_transition(state: str, action: str, party: Party) -> CState:
    entry = COMPLAINT_TRANSITIONS.get((CState(state), action))
    if entry is None:
        raise DomainError(
            "complaint_action_not_allowed",
            f"诉求当前状态为“{COMPLAINT_STATE_LABELS[CState(state)]}”，不能执行该操作。",
            f"Action '{action}' is not allowed while the complaint is '{state}'.",
            status=409,
            details={"state": state, "action": action},
        )
    to_state, parties = entry
    if party not in parties:
        raise Forbidden(
            "complaint_party_not_allowed",
            "您不能对该诉求执行此操作。",
            f"You may not perform '{action}' on this complaint.",
            details={"action": action, "allowed": sorted(p.value for p in parties)},
        )
    return to_state


def complaint_actions(state: str, parties: set[Party]) -> list[str]:
    return [
        a
        for (s, a), (_, allowed) in COMPLAINT_TRANSITIONS.items()
        if s == state and parties & allowed
    ]


# --- follow-ups of 差评 (回访 → 整改/说明 → 反馈) ---------------------------------------

FOLLOW_UP_TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "call_back"): "called_back",
    ("called_back", "rectify"): "rectified",
    ("called_back", "explain"): "explained",
    ("rectified", "report"): "reported",
    ("explained", "report"): "reported",
}
FOLLOW_UP_FINAL = frozenset({"reported", "voided"})
FOLLOW_UP_STATE_LABELS = {
    "open": "待回访",
    "called_back": "已回访",
    "rectified": "已整改",
    "explained": "已说明",
    "reported": "已反馈评价人",
    "voided": "申诉成立，差评作废",
}
FOLLOW_UP_ACTION_LABELS = {
    "open": "差评生成整改任务",
    "call_back": "回访核实",
    "rectify": "整改",
    "explain": "解释说明",
    "report": "反馈评价人",
    "appeal": "提出申诉",
    "appeal_upheld": "申诉成立",
    "appeal_rejected": "申诉不成立",
    "overdue": "整改超期",
}


def follow_up_transition(state: str, action: str) -> str:
    to_state = FOLLOW_UP_TRANSITIONS.get((state, action))
    if to_state is None:
        raise DomainError(
            "follow_up_action_not_allowed",
            f"整改任务当前为“{FOLLOW_UP_STATE_LABELS.get(state, state)}”，不能执行该操作。",
            f"Action '{action}' is not allowed while the follow-up is '{state}'.",
            status=409,
            details={"state": state, "action": action},
        )
    return to_state


def follow_up_actions(state: str) -> list[str]:
    return [a for (s, a) in FOLLOW_UP_TRANSITIONS if s == state]


# --- deadlines and the escalation ladder ----------------------------------------------


def end_of_day(day: date) -> datetime:
    """A working-day deadline falls due at the end of that day, Beijing time."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


# Alarm levels: the assignee is warned; a miss goes to the department head, then the center.
WARNING, DEPARTMENT_HEAD, CENTER_ADMIN = 0, 1, 2
LEVEL_NAMES = {WARNING: "临期提醒", DEPARTMENT_HEAD: "升级至部门负责人", CENTER_ADMIN: "升级至中心"}


@dataclass(frozen=True)
class Alarm:
    deadline: str  # "response" / "result" / "follow_up"
    level: int


def due_alarms(
    *,
    deadline: str,
    due_at: datetime,
    at: datetime,
    warn_before: timedelta,
    admin_after: timedelta,
    has_department: bool,
) -> list[Alarm]:
    """Every alarm a still-open deadline has earned by ``at``, lowest level first.

    A missed deadline goes to the department's head (its reviewers), and after
    ``admin_after`` more to the center admin; without a department (platform
    complaints) it goes straight to the center.
    """
    alarms = []
    if at >= due_at - warn_before:
        alarms.append(Alarm(deadline, WARNING))
    if at >= due_at and has_department:
        alarms.append(Alarm(deadline, DEPARTMENT_HEAD))
    if at >= due_at + (admin_after if has_department else timedelta(0)):
        alarms.append(Alarm(deadline, CENTER_ADMIN))
    return alarms


def countdown(due_at: datetime | None, at: datetime, done_at: datetime | None) -> dict[str, object]:
    """What a page shows for one deadline: done (on time or late), or the time left/over."""
    if due_at is None:
        return {"status": "none", "seconds": None}
    if done_at is not None:
        return {"status": "met" if done_at <= due_at else "late", "seconds": None}
    seconds = int((due_at - at).total_seconds())
    return {"status": "open" if seconds >= 0 else "overdue", "seconds": seconds}
