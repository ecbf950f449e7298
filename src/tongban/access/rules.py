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
    # Window / service-station staff: register citizens in person (L3), record 委托.
    "accounts.in_person": frozenset({Role.CLERK}),
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
    assurance_level: int = 0  # 实名认证 level (applicants)
    session_epoch: int = 0  # sessions and tokens of an older epoch are void

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


# --- 实名认证: levels of assurance --------------------------------------------------------

LEVEL_NONE, LEVEL_PHONE, LEVEL_REGISTER, LEVEL_IN_PERSON = 0, 1, 2, 3
LEVEL_LABELS = {
    LEVEL_NONE: "未实名",
    LEVEL_PHONE: "一级（手机号已验证）",
    LEVEL_REGISTER: "二级（身份经人口库核验）",
    LEVEL_IN_PERSON: "三级（窗口或服务站当面核验）",
}

# One-time phone codes and the throttles on sign-up and identity checks.
CODE_LENGTH = 6
CODE_TTL_SECONDS = 10 * 60
CODE_MAX_GUESSES = 5
PHONE_PROOF_TTL_SECONDS = 30 * 60
CODE_PURPOSES = ("signup", "reset")
# (scope, attempts allowed, window seconds)
THROTTLES: dict[str, tuple[int, int]] = {
    "code_phone": (5, 3600),  # codes sent to one number per hour
    "verify_identity": (5, 86400),  # identity checks of one identity number per day
    "verify_account": (5, 86400),  # identity and enterprise checks by one account per day
}

_MOBILE = frozenset("0123456789")


def normalize_phone(text: str) -> str | None:
    """A mainland mobile number as 11 ASCII digits, or None (+86, spaces and dashes allowed;
    full-width digits are read as digits, any other character is refused)."""
    cleaned = []
    for ch in text.strip():
        if "０" <= ch <= "９":
            ch = chr(ord(ch) - 0xFEE0)
        if ch in " -\u3000":
            continue
        cleaned.append(ch)
    digits = "".join(cleaned)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) != 11 or not set(digits) <= _MOBILE or digits[0] != "1" or digits[1] in "012":
        return None
    return digits


def delegation_covers(item_codes: list[str], wanted: list[str]) -> bool:
    """A delegation with no item list covers every item; otherwise each wanted one."""
    return not item_codes or all(code in item_codes for code in wanted)
