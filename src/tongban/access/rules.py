"""Roles, permissions and scopes — pure data and logic."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tongban.regions.rules import region_prefix


class Role(StrEnum):
    APPLICANT = "applicant"
    CLERK = "clerk"  # 窗口受理人员
    REVIEWER = "reviewer"  # 部门审批人员
    ADMIN = "admin"  # 中心管理员
    AUDITOR = "auditor"  # 安全审计员


ROLE_LABELS_ZH = {
    Role.APPLICANT: "申请人",
    Role.CLERK: "窗口人员",
    Role.REVIEWER: "部门审批人员",
    Role.ADMIN: "中心管理员",
    Role.AUDITOR: "安全审计员",
}

STAFF_ROLES = frozenset({Role.CLERK, Role.REVIEWER, Role.ADMIN, Role.AUDITOR})

# permission → roles that hold it; scope is applied separately by repositories.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "cases.submit": frozenset({Role.APPLICANT, Role.CLERK}),
    "cases.read": frozenset({Role.APPLICANT, Role.CLERK, Role.REVIEWER, Role.ADMIN}),
    "cases.act": frozenset({Role.APPLICANT, Role.CLERK, Role.REVIEWER, Role.ADMIN}),
    "workbench.queue": frozenset({Role.CLERK, Role.REVIEWER, Role.ADMIN}),
    "catalog.manage": frozenset({Role.ADMIN}),
    "users.manage": frozenset({Role.ADMIN}),
    "uploads.create": frozenset({Role.APPLICANT, Role.CLERK}),
    "cases.export": frozenset({Role.CLERK, Role.ADMIN}),
    "privacy.unmask": frozenset({Role.CLERK, Role.REVIEWER}),
    "audit.read": frozenset({Role.AUDITOR}),
    "audit.manage": frozenset({Role.AUDITOR}),
    "exchange.manage": frozenset({Role.ADMIN}),  # providers, authorizations, statistics
    "exchange.read": frozenset({Role.CLERK, Role.REVIEWER, Role.ADMIN}),  # service descriptions
    "exchange.request": frozenset({Role.CLERK, Role.REVIEWER}),  # checks as a role consumer
    "exchange.consent": frozenset({Role.APPLICANT}),  # one's own consents to data sharing
    "feedback.rate": frozenset({Role.APPLICANT, Role.CLERK}),  # clerk: the window rating pad
    "feedback.handle": frozenset({Role.REVIEWER, Role.ADMIN}),  # complaints and 差评 follow-ups
    "feedback.decide_appeal": frozenset({Role.ADMIN}),  # mistaken / malicious rating appeals
    "insight.read": frozenset({Role.ADMIN}),  # process analyses (堵点)
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: the authenticated user as the domains see it."""

    user_id: int
    username: str
    role: Role
    display_name: str = ""
    region_code: str | None = None
    department_code: str | None = None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def region_in_subtree(code: str, root: str) -> bool:
    return code.startswith(region_prefix(root))


PASSWORD_MIN_LENGTH = 8


def password_problems(password: str) -> list[str]:
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append("too_short")
    if password.isdigit() or password.isalpha():
        problems.append("needs_letters_and_digits")
    return problems
