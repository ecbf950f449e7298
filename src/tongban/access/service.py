"""Users, passwords, API tokens and the Actor the other domains see."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tongban.access import login_limits, repository, sessions
from tongban.access.filing import Declared, Filing, filing_for
from tongban.access.models import User
from tongban.access.rules import (
    LEVEL_REGISTER,
    Actor,
    Role,
    normalize_phone,
    password_problems,
)
from tongban.access.throttle import own_transaction
from tongban.config import get_settings
from tongban.errors import Conflict, DomainError, Invalid
from tongban.kit.ids import is_valid_id_number, normalize_id_number
from tongban.privacy.crypto import blind_index, person_ref
from tongban.regions import service as regions_service
from tongban.regions.rules import region_prefix

_settings = get_settings()
_hasher = PasswordHasher(
    time_cost=_settings.argon2_time_cost, memory_cost=_settings.argon2_memory_kib
)
# Verifying against this keeps the time of a failed login the same for unknown users.
_DUMMY_HASH = _hasher.hash("tongban-dummy-password")

__all__ = ["Declared", "Filing", "filing_for"]

UNAUTHENTICATED = DomainError(
    "unauthenticated",
    "请先登录，或登录已过期。",
    "Please sign in; the session or token is missing or expired.",
    status=401,
)
BAD_CREDENTIALS = DomainError(
    "bad_credentials", "用户名或密码错误。", "Wrong username or password.", status=401
)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    region_code: str | None = None,
    department_code: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    assurance_level: int | None = None,
) -> User:
    try:
        role_value = Role(role)
    except ValueError:
        raise Invalid(
            "unknown_role",
            f"未知角色：{role}（可选：{', '.join(r.value for r in Role)}）",
            f"Unknown role: {role} (one of {', '.join(r.value for r in Role)})",
        ) from None
    if problems := password_problems(password):
        raise Invalid(
            "weak_password",
            "密码至少 8 位，且须同时包含字母和数字。",
            "Passwords need at least 8 characters with both letters and digits.",
            details={"problems": problems},
        )
    if repository.by_username(session, username):
        raise Conflict("username_taken", f"用户名已存在：{username}", f"Username taken: {username}")
    if region_code:
        regions_service.get_region(session, region_code)
    if department_code:
        department = regions_service.get_department(session, department_code)
        region_code = region_code or department.region_code
    if role_value == Role.REVIEWER and not department_code:
        raise Invalid(
            "department_required",
            "部门审批人员必须指定所属部门。",
            "A department reviewer needs a department.",
        )
    if role_value in (Role.CLERK, Role.ADMIN) and not region_code:
        region_code = get_settings().center_region
    if id_number is not None:
        id_number = normalize_id_number(id_number)
        if not is_valid_id_number(id_number):
            raise Invalid(
                "invalid_id_number", "身份证号码校验未通过。", "Identity number check failed."
            )
        if repository.by_id_number_index(session, person_ref(id_number)) is not None:
            raise Conflict(
                "identity_registered",
                "该身份证号已有账号（一人一号），请用手机验证码找回密码，或到窗口办理。",
                "This identity already has an account (one per person).",
            )
    phone_ref = None
    if phone:
        phone = normalize_phone(phone) or phone.strip()
        phone_ref = blind_index(phone, domain="phone")
        if repository.by_phone_index(session, phone_ref) is not None:
            raise Conflict(
                "phone_registered",
                "该手机号已注册账号。",
                "This mobile number already has an account.",
            )
    if email is not None:
        email = _checked_email(email)
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role_value.value,
        display_name=display_name or username,
        region_code=region_code,
        department_code=department_code,
        id_number=id_number,
        id_number_index=person_ref(id_number) if id_number else None,
        phone=phone,
        phone_index=phone_ref,
        email=email,
        assurance_level=assurance_level
        if assurance_level is not None
        else (LEVEL_REGISTER if role_value == Role.APPLICANT and id_number else 0),
        session_epoch=0,
    )
    added = repository.add(session, user)
    # Imported here: the audit domain reads accounts through this module.
    from tongban.audit import service as audit_service

    audit_service.record_action(
        session, actor=None, action="users.create", subject_kind="user", subject_ref=username
    )
    return added


def _checked_email(text: str) -> str | None:
    email = text.strip()
    if not email:
        return None
    local, at, domain = email.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > 254
        or any(ch.isspace() or ord(ch) < 32 for ch in email)
    ):
        raise Invalid(
            "invalid_email", "电子邮箱格式不正确。", "Invalid e-mail address.",
            details={"field": "email"},
        )  # fmt: skip
    return email


def set_password(session: Session, user: User, password: str) -> None:
    """A new password: the lock on the account lifts and every session and token ends."""
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1
    sessions.revoke_all(session, user_id=user.id, reason="password")
    for name in {f"uid:{user.id}", user.username, user.phone or ""} - {""}:
        login_limits.clear_account(session, login_limits.account_ref(name))
    session.flush()


def _user_named(session: Session, username: str) -> User:
    user = repository.by_username(session, username)
    if user is None:
        raise DomainError(
            "user_not_found", f"用户不存在：{username}", f"No such user: {username}", status=404
        )
    return user


def password_matches(user: User, password: str) -> bool:
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, *, username: str, password: str, address: str = "") -> Actor:
    """Check the password, within the failed sign-in limits (``login_limits``).

    The attempt is counted before the hash is checked, in a transaction of its own that
    commits at once (``throttle.own_transaction``): parallel attempts see each other's
    counts, and a refusal stays counted whatever the caller's transaction does.
    """
    with own_transaction(session) as counter:
        user = _account(counter, username)
        # Keyed by the account when there is one (its user name, phone and identity
        # number share one budget), else by a blind index of the typed name.
        found = login_limits.keys(f"uid:{user.id}" if user else username, address)
        login_limits.reserve(counter, found)
    actor = _verify(session, username, password)
    with own_transaction(session) as counter:
        login_limits.succeeded(counter, found)
    return actor


def _account(session: Session, login: str) -> User | None:
    """The account a sign-in name stands for: user name, mobile number or identity number."""
    user = repository.by_username(session, login)
    if user is not None:
        return user
    if (phone := normalize_phone(login)) is not None:
        return repository.by_phone_index(session, blind_index(phone, domain="phone"))
    number = normalize_id_number(login)
    if len(number) == 18 and is_valid_id_number(number):
        return repository.by_id_number_index(session, person_ref(number))
    return None


def _verify(session: Session, username: str, password: str) -> Actor:
    user = _account(session, username)
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        raise BAD_CREDENTIALS
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise BAD_CREDENTIALS from None
    return actor_for(user)


def actor_for(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        display_name=user.display_name,
        region_code=user.region_code,
        department_code=user.department_code,
        assurance_level=user.assurance_level or 0,
        session_epoch=user.session_epoch or 0,
    )


def actor_by_id(session: Session, user_id: int, epoch: int | None = None) -> Actor | None:
    """The active account, if ``epoch`` (the session's or token's) is still current."""
    user = repository.by_id(session, user_id)
    if user is None or not user.active:
        return None
    if epoch is not None and epoch != (user.session_epoch or 0):
        return None  # signed out everywhere, or the password changed since
    return actor_for(user)


def applicant_id_number(session: Session, user_id: int) -> str | None:
    return applicant_contact(session, user_id)[0]


def applicant_contact(session: Session, user_id: int) -> tuple[str | None, str | None]:
    """(identity number, phone) the applicant registered with."""
    user = repository.by_id(session, user_id)
    return (user.id_number, user.phone) if user else (None, None)


def actor_by_username(session: Session, username: str) -> Actor | None:
    user = repository.by_username(session, username)
    return actor_for(user) if user is not None and user.active else None


def reviewers(session: Session) -> list[Actor]:
    return [actor_for(u) for u in repository.list_users(session) if u.role == Role.REVIEWER]


@dataclass(frozen=True)
class Contact:
    """Where to reach an account holder (notifications); None when they gave no such address."""

    user_id: int
    display_name: str
    phone: str | None
    email: str | None


def notification_contact(session: Session, user_id: int) -> Contact | None:
    """The account's name, phone and e-mail (plain: for delivery only, never for display)."""
    user = repository.by_id(session, user_id)
    if user is None or not user.active:
        return None
    return Contact(user.id, user.display_name, user.phone or None, user.email or None)


def staff_of_department(session: Session, department_code: str) -> list[Actor]:
    """The active reviewers of a department (who owns its tasks and deadline warnings)."""
    users = repository.staff(session, role=Role.REVIEWER.value, department_code=department_code)
    return [actor_for(u) for u in users]


def staff_of_region(session: Session, *, role: Role, region_code: str) -> list[Actor]:
    """Active staff of ``role`` whose region covers ``region_code`` (window clerks, admins)."""
    users = repository.staff(session, role=role.value)
    return [
        actor_for(u)
        for u in users
        if u.region_code and region_code.startswith(region_prefix(u.region_code))
    ]


def user_id_for_identity(session: Session, *, id_number: str) -> int | None:
    """The registered applicant with this identity number, so a window filing shows in 我的办件."""
    user = repository.applicant_by_id_number(session, id_number)
    return user.id if user else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key(), salt="tongban-api-token")


def issue_token(session: Session, actor: Actor) -> str:
    """A bearer token: the signed id of a new server-side session of kind ``token``."""
    return _serializer().dumps(
        {"sid": sessions.start(session, user_id=actor.user_id, kind="token")}
    )


def _token_session_id(token: str) -> str:
    try:
        data = _serializer().loads(token, max_age=get_settings().token_ttl_seconds)
    except (SignatureExpired, BadSignature):
        raise UNAUTHENTICATED from None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        raise UNAUTHENTICATED  # a token from before session records: sign in again
    return str(data["sid"])


def actor_from_token(session: Session, token: str) -> Actor:
    user = sessions.live_user(session, _token_session_id(token), kind="token")
    if user is None:
        raise UNAUTHENTICATED
    return actor_for(user)


def revoke_token(session: Session, token: str) -> None:
    """Logout for API clients: the token stops working on every server."""
    sessions.revoke(session, _token_session_id(token), reason="logout")


def cookie_may_authenticate(method: str, path: str) -> bool:
    """The browser's session cookie signs in page requests and JSON API reads, never JSON
    API writes: a write needs a bearer token, which no other site can make a browser send
    (docs/accounts.md), so the API needs no CSRF token."""
    return method in ("GET", "HEAD", "OPTIONS") or not path.startswith("/api/")


def start_cookie_session(session: Session, actor: Actor) -> str:
    return sessions.start(session, user_id=actor.user_id, kind="cookie")


def actor_from_cookie_session(session: Session, session_id: object) -> Actor | None:
    """The actor of a browser session (the id the signed cookie carries), if it stands."""
    if not isinstance(session_id, str):
        return None
    user = sessions.live_user(session, session_id, kind="cookie")
    return actor_for(user) if user is not None else None


def end_cookie_session(session: Session, session_id: object) -> None:
    if isinstance(session_id, str) and session_id:
        sessions.revoke(session, session_id, reason="logout")
