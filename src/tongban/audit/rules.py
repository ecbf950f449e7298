"""Misuse-alert rules and alert status changes — pure logic, no I/O.

The evaluation (audit.alerts) reads a handful of counts per account from the
counters the append keeps (audit.counters); this module decides which rules those
counts cross, how an alert is keyed so that it is raised once per window, and what it says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from tongban.kit.clock import SHANGHAI

# Actions that hand personal data to the actor; "refused" or "denied" results did not.
READ_ACTIONS = frozenset({"read", "unmask", "download", "export", "exchange"})
UNMASK_ACTION = "unmask"

BULK_READ = "bulk_read"
UNRELATED_READ = "unrelated_read"
OFF_HOURS = "off_hours"
REPEATED_UNMASK = "repeated_unmask"
BASELINE = "baseline"

SEVERITY = {
    BULK_READ: "high",
    UNRELATED_READ: "medium",
    OFF_HOURS: "low",
    REPEATED_UNMASK: "medium",
    BASELINE: "medium",
}
RULE_LABELS_ZH = {
    BULK_READ: "批量读取",
    UNRELATED_READ: "读取无关记录",
    OFF_HOURS: "非工作时间读取",
    REPEATED_UNMASK: "频繁查看明文",
    BASELINE: "偏离个人基线",
}
SEVERITY_LABELS_ZH = {"high": "高", "medium": "中", "low": "低"}

# What an entry's action and purpose code mean, for the citizen's and the auditor's pages.
ACTION_LABELS_ZH = {
    "read": "查看",
    "unmask": "查看明文",
    "download": "下载材料",
    "export": "导出",
    "exchange": "共享核验",
}
PURPOSE_LABELS_ZH = {
    "case_handling": "办理业务",
    "self": "本人查看",
    "agent": "受托代办人查看",
    "decision_document": "下载决定书",
    "progress_query": "办件进度查询",
    "export": "数据导出",
    "exchange": "部门间数据共享核验",
    "audit": "安全审计",
}

# Privileged actions are recorded under dotted codes (catalog.item.save, exchange.peer.trust
# …); the auditor's pages name them by their family, the code stays in the markup.
ACTION_FAMILY_LABELS_ZH = {
    "catalog.": "事项管理",
    "exchange.": "数据共享管理",
    "feedback.": "诉求与评价办理",
    "users.": "账号管理",
    "workdays.": "工作日历维护",
    "alert_": "处理访问告警",
    "key.": "密钥管理",
    "keys.": "密钥管理",
    "consent.": "数据共享授权",
    "verify": "校验访问日志",
}
SUBJECT_KIND_LABELS_ZH = {
    "case": "办件",
    "cases": "办件清单",
    "upload": "申请材料",
    "document": "文书",
    "complaint": "诉求",
    "follow_up": "整改",
    "rating": "评价",
    "user": "账号",
    "item": "服务事项",
    "calendar": "工作日历",
    "key": "密钥",
    "notification": "消息",
    "consent": "数据共享授权",
    "exchange": "数据共享核验",
    "provider": "数据提供方",
    "authorization": "共享授权",
    "peer": "互信节点",
    "alert": "访问告警",
    "audit_log": "访问日志",
    "account_history": "账号访问记录",
}
RESULT_LABELS_ZH = {
    "ok": "成功",
    "denied": "被拒绝",
    "refused": "已拒绝",
    "unavailable": "数据源不可用",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS_ZH:
        return ACTION_LABELS_ZH[action]
    for prefix, label in ACTION_FAMILY_LABELS_ZH.items():
        if action.startswith(prefix):
            return label
    return "其他操作"


def subject_kind_label(kind: str) -> str:
    return SUBJECT_KIND_LABELS_ZH.get(kind, "其他对象")


def result_label(result: str) -> str:
    return RESULT_LABELS_ZH.get(result, "其他结果")


OPEN = "open"
ACKNOWLEDGED = "acknowledged"
CLOSED = "closed"
STATUS_LABELS_ZH = {OPEN: "待处理", ACKNOWLEDGED: "已确认", CLOSED: "已关闭"}
# Alert status → the statuses an auditor may move it to.
STATUS_MOVES = {OPEN: frozenset({ACKNOWLEDGED, CLOSED}), ACKNOWLEDGED: frozenset({CLOSED})}


@dataclass(frozen=True)
class Thresholds:
    window_minutes: int = 60
    bulk_persons: int = 200
    unrelated_reads: int = 20
    unmask_count: int = 20
    baseline_days: int = 30
    baseline_min_days: int = 7
    baseline_sigmas: float = 3.0
    baseline_floor: int = 50
    working_hours: str = "08:00-19:00"


@dataclass(frozen=True)
class Counts:
    """One account's activity, as of the batch just appended."""

    persons_in_window: int = 0
    unrelated_in_window: int = 0
    unmasks_in_window: int = 0
    persons_today: int = 0


@dataclass(frozen=True)
class Finding:
    """A rule crossed: raised as an alert unless one exists for the same window."""

    rule: str
    window_key: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return SEVERITY[self.rule]


def is_personal_read(row: dict[str, Any]) -> bool:
    return (
        row.get("action") in READ_ACTIONS
        and bool(row.get("person_ref"))
        and row.get("result", "ok") == "ok"
    )


def parse_working_hours(text: str) -> tuple[time, time]:
    """ "08:00-19:00" → (08:00, 19:00); a malformed setting is a configuration error."""
    start, _, end = text.partition("-")
    try:
        opens, closes = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"working_hours must look like 08:00-19:00, not {text!r}") from None
    if closes <= opens:
        raise ValueError(f"working_hours must end after they start: {text!r}")
    return opens, closes


def within_hours(moment: datetime, working_hours: str) -> bool:
    opens, closes = parse_working_hours(working_hours)
    local = moment.astimezone(SHANGHAI).time()
    return opens <= local < closes


def is_off_hours(moment: datetime, working_hours: str, is_workday: Callable[[date], bool]) -> bool:
    """Outside the working hours (Beijing time) or on a day off; the calendar is asked last."""
    if not within_hours(moment, working_hours):
        return True
    return not is_workday(local_day(moment))


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def day_start(moment: datetime) -> datetime:
    """Midnight in Beijing of the day ``moment`` falls on, as an aware datetime."""
    day = local_day(moment)
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def window_key(moment: datetime, window_minutes: int) -> str:
    """The fixed window (Beijing time) that ``moment`` falls in, e.g. "2026-11-27T10:00"."""
    local = moment.astimezone(SHANGHAI)
    minutes = local.hour * 60 + local.minute
    start = minutes - minutes % max(window_minutes, 1)
    return f"{local.date().isoformat()}T{start // 60:02d}:{start % 60:02d}"


def day_key(moment: datetime) -> str:
    return local_day(moment).isoformat()


def baseline_limit(daily_counts: Sequence[int], thresholds: Thresholds) -> float | None:
    """max(floor, mean + k·σ) of the account's own earlier days; None without enough history."""
    if len(daily_counts) < thresholds.baseline_min_days:
        return None
    mean = sum(daily_counts) / len(daily_counts)
    variance = sum((c - mean) ** 2 for c in daily_counts) / len(daily_counts)
    return max(
        float(thresholds.baseline_floor), mean + thresholds.baseline_sigmas * math.sqrt(variance)
    )


def window_findings(counts: Counts, thresholds: Thresholds, at: datetime) -> list[Finding]:
    """The window rules: bulk reads, unrelated reads, repeated unmasking."""
    key = window_key(at, thresholds.window_minutes)
    minutes = thresholds.window_minutes
    findings = []
    if counts.persons_in_window > thresholds.bulk_persons:
        findings.append(
            Finding(
                BULK_READ,
                key,
                f"{minutes} 分钟内读取了 {counts.persons_in_window} 人的个人信息"
                f"（阈值 {thresholds.bulk_persons} 人）",
                {"count": counts.persons_in_window, "threshold": thresholds.bulk_persons},
            )
        )
    if counts.unrelated_in_window > thresholds.unrelated_reads:
        findings.append(
            Finding(
                UNRELATED_READ,
                key,
                f"{minutes} 分钟内 {counts.unrelated_in_window} 次读取与本人经办业务无关的记录"
                f"（阈值 {thresholds.unrelated_reads} 次）",
                {"count": counts.unrelated_in_window, "threshold": thresholds.unrelated_reads},
            )
        )
    if counts.unmasks_in_window > thresholds.unmask_count:
        findings.append(
            Finding(
                REPEATED_UNMASK,
                key,
                f"{minutes} 分钟内 {counts.unmasks_in_window} 次查看明文"
                f"（阈值 {thresholds.unmask_count} 次）",
                {"count": counts.unmasks_in_window, "threshold": thresholds.unmask_count},
            )
        )
    for finding in findings:
        finding.details["window_minutes"] = minutes
    return findings


def baseline_finding(
    persons_today: int, limit: float | None, history_days: int, at: datetime
) -> Finding | None:
    """Fires strictly above the limit as shown: a whole number of persons (the limit's floor,
    which a count of persons passes exactly when it passes the limit itself)."""
    if limit is None:
        return None
    shown = math.floor(limit)
    if persons_today <= shown:
        return None
    return Finding(
        BASELINE,
        day_key(at),
        f"今日已读取 {persons_today} 人的个人信息，超出本账号近 {history_days} 个工作日"
        f"的正常水平（上限 {shown} 人）",
        {"count": persons_today, "threshold": shown, "history_days": history_days},
    )


def off_hours_finding(at: datetime, working_hours: str) -> Finding:
    local = at.astimezone(SHANGHAI)
    return Finding(
        OFF_HOURS,
        day_key(at),
        f"于非工作时间（{local:%Y-%m-%d %H:%M}）读取个人信息（工作时间 {working_hours}，"
        "法定工作日）",
        {"first_at": at.isoformat(), "working_hours": working_hours},
    )


def export_finding(
    persons_in_window: int, exporting: int, thresholds: Thresholds, at: datetime
) -> Finding:
    """The bulk-read alert an export refused at the threshold raises."""
    total = persons_in_window + exporting
    return Finding(
        BULK_READ,
        window_key(at, thresholds.window_minutes),
        f"试图导出 {exporting} 人的数据，连同 {thresholds.window_minutes} 分钟内已读取的"
        f"将达 {total} 人（阈值 {thresholds.bulk_persons} 人），导出被拒绝",
        {
            "count": total,
            "exporting": exporting,
            "threshold": thresholds.bulk_persons,
            "window_minutes": thresholds.window_minutes,
            "export_refused": True,
        },
    )


def may_move(current: str, target: str) -> bool:
    return target in STATUS_MOVES.get(current, frozenset())


def since(at: datetime, minutes: int) -> datetime:
    return at - timedelta(minutes=minutes)
