"""Citizen accounts: sign-up on a confirmed mobile number, password reset, sign-out everywhere.

Sign-up is three steps: a one-time code is sent to the number (``request_code``), the
code is confirmed (``confirm_code`` → a short-lived signed proof of the number), and the
account is created with a password (``register``) at level 1 (phone confirmed). The
identity is then confirmed against the population register (identity.py, level 2).
Codes are stored as keyed hashes only; numbers are encrypted with a blind index.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tongban import events
from tongban.access import repository, throttle
from tongban.access.models import IdentityCheck, PhoneCode, User
from tongban.access.rules import (
    CODE_LENGTH,
    CODE_MAX_GUESSES,
    CODE_PURPOSES,
    CODE_TTL_SECONDS,
    LEVEL_PHONE,
    PHONE_PROOF_TTL_SECONDS,
    Actor,
    Role,
    normalize_phone,
    password_problems,
)
from tongban.access.throttle import CountedRefusal
from tongban.config import get_settings
from tongban.errors import Conflict, DomainError, Invalid
from tongban.kit.clock import now
from tongban.privacy.crypto import blind_index, keyring


@dataclass(frozen=True)
class CodeSent:
    expires_in: int
    sent: bool  # False for a reset asked for an unknown number (said the same way)


def phone_ref(phone: str) -> str:
    return blind_index(phone, domain="phone")


def parse_phone(text: str) -> str:
    phone = normalize_phone(text or "")
    if phone is None:
        raise Invalid(
            "invalid_phone",
            "手机号码格式不正确：请填写 11 位中国大陆手机号。",
            "Invalid mobile number: 11 digits, mainland China.",
            details={"field": "phone"},
        )
    return phone


def check_password(password: str) -> None:
    if problems := password_problems(password):
        raise Invalid(
            "weak_password",
            "密码至少 8 位，且须同时包含字母和数字。",
            "Passwords need at least 8 characters with both letters and digits.",
            details={"problems": problems, "field": "password"},
        )


def _code_hash(purpose: str, phone: str, code: str) -> str:
    key = keyring().derive(b"tongban-phone-code")
    return hmac.new(key, f"{purpose}\x00{phone}\x00{code}".encode(), "sha256").hexdigest()


def request_code(
    session: Session, *, phone: str, purpose: str, email: str | None = None
) -> CodeSent:
    """Send a one-time code to ``phone`` (and ``email``); at most a few per number and hour."""
    if purpose not in CODE_PURPOSES:
        raise Invalid(
            "unknown_code_purpose", "验证码用途无效。", "Unknown code purpose.",
            details={"allowed": list(CODE_PURPOSES)},
        )  # fmt: skip
    number = parse_phone(phone)
    ref = phone_ref(number)
    registered = repository.by_phone_index(session, ref) is not None
    if purpose == "signup" and registered:
        raise Conflict(
            "phone_registered",
            "该手机号已注册，请直接登录；忘记密码可通过手机验证码重置。",
            "This number already has an account: sign in, or reset the password.",
        )
    throttle.check(session, "code_phone", ref)
    throttle.hit(session, "code_phone", ref)
    if purpose == "reset" and not registered:
        # Answered like a sent code, so the form does not tell who has an account.
        return CodeSent(CODE_TTL_SECONDS, sent=False)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))
    row = PhoneCode(
        purpose=purpose,
        phone=number,
        phone_index=ref,
        code_hash=_code_hash(purpose, number, code),
        expires_at=now() + timedelta(seconds=CODE_TTL_SECONDS),
        guesses=0,
    )
    session.add(row)
    session.flush()
    events.publish(
        session,
        events.VerificationCodeIssued(
            code_id=row.id,
            purpose=purpose,
            phone=number,
            code=code,
            minutes=CODE_TTL_SECONDS // 60,
            email=(email or "").strip() or None,
        ),
    )
    return CodeSent(CODE_TTL_SECONDS, sent=True)


WRONG_CODE = ("wrong_code", "验证码不正确或已过期，请重新获取。", "Wrong or expired code.")


def confirm_code(session: Session, *, phone: str, purpose: str, code: str) -> str:
    """The signed proof that ``phone`` was confirmed; a wrong guess is counted (and kept)."""
    number = parse_phone(phone)
    row = repository.latest_phone_code(session, phone_ref(number), purpose)
    if row is None or row.expires_at <= now() or row.used_at or row.guesses >= CODE_MAX_GUESSES:
        raise CountedRefusal(*WRONG_CODE, status=422)
    if not hmac.compare_digest(row.code_hash, _code_hash(purpose, number, code.strip())):
        row.guesses += 1
        session.flush()
        left = CODE_MAX_GUESSES - row.guesses
        raise CountedRefusal(*WRONG_CODE, status=422, details={"guesses_left": left})
    row.confirmed_at = now()
    session.flush()
    return _proofs().dumps({"c": row.id, "p": purpose})


def _proofs() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key(), salt="tongban-phone-proof")


def use_proof(session: Session, proof: str, purpose: str) -> PhoneCode:
    """The confirmed code a proof stands for, marked used (a proof works once)."""
    try:
        data = _proofs().loads(proof, max_age=PHONE_PROOF_TTL_SECONDS)
    except (BadSignature, SignatureExpired):
        data = None
    row = repository.phone_code(session, int(data["c"])) if isinstance(data, dict) else None
    if row is None or data.get("p") != purpose or row.confirmed_at is None or row.used_at:
        raise Invalid(
            "phone_proof_invalid",
            "手机验证已失效，请重新获取验证码。",
            "The phone confirmation expired; ask for a new code.",
        )
    row.used_at = now()
    return row


def register(
    session: Session,
    *,
    proof: str,
    password: str,
    display_name: str = "",
    email: str | None = None,
) -> Actor:
    """A citizen account on a confirmed mobile number (level 1)."""
    from tongban.access import service  # the one place users are created and hashed

    check_password(password)
    code = use_proof(session, proof, "signup")
    if repository.by_phone_index(session, code.phone_index) is not None:
        raise Conflict(
            "phone_registered",
            "该手机号已注册，请直接登录。",
            "This number already has an account.",
        )
    user = service.create_user(
        session,
        username=new_username(session),
        password=password,
        role=Role.APPLICANT.value,
        display_name=display_name.strip()[:64] or "用户" + code.phone[-4:],
        phone=code.phone,
        email=email,
        assurance_level=LEVEL_PHONE,
    )
    session.add(IdentityCheck(user_id=user.id, level=LEVEL_PHONE, method="phone_code",
                              outcome="verified"))  # fmt: skip
    session.flush()
    return service.actor_for(user)


def new_username(session: Session) -> str:
    """An opaque sign-in name (people sign in with their phone or identity number)."""
    while True:
        name = "u" + "".join(secrets.choice("23456789abcdefghjkmnpqrstuvwxyz") for _ in range(9))
        if repository.by_username(session, name) is None:
            return name


def reset_password(session: Session, *, proof: str, password: str) -> None:
    """A new password on a confirmed number; every session and token stops working."""
    from tongban.access import service

    check_password(password)
    code = use_proof(session, proof, "reset")
    user = repository.by_phone_index(session, code.phone_index)
    if user is None or not user.active:
        raise Invalid(
            "phone_proof_invalid",
            "手机验证已失效，请重新获取验证码。",
            "The phone confirmation expired; ask for a new code.",
        )
    service.set_password(session, user, password)


def change_password(session: Session, *, actor: Actor, old: str, new: str) -> None:
    from tongban.access import service

    user = repository.by_id(session, actor.user_id)
    if user is None or not service.password_matches(user, old):
        raise DomainError(
            "bad_credentials", "原密码不正确。", "The current password is wrong.", status=401
        )
    check_password(new)
    service.set_password(session, user, new)


def sign_out_everywhere(session: Session, *, actor: Actor) -> None:
    """Every session and API token of the account stops working (including this one)."""
    from tongban.access import sessions

    user: User | None = repository.by_id(session, actor.user_id)
    if user is not None:
        user.session_epoch += 1
        sessions.revoke_all(session, user_id=user.id, reason="everywhere")
        session.flush()


@dataclass(frozen=True)
class AccountView:
    username: str
    display_name: str
    role: str
    assurance_level: int
    assurance_label: str
    phone_masked: str | None
    id_number_masked: str | None
    email_masked: str | None


def account_view(session: Session, *, actor: Actor) -> AccountView:
    """The account as its holder sees it (numbers masked: the page may be seen by others)."""
    from tongban.access.rules import LEVEL_LABELS
    from tongban.kit.masking import mask_id_number, mask_phone

    user = repository.by_id(session, actor.user_id)
    if user is None:
        raise DomainError("unauthenticated", "请先登录。", "Please sign in.", status=401)
    level = user.assurance_level or 0
    email = user.email or None
    return AccountView(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        assurance_level=level,
        assurance_label=LEVEL_LABELS.get(level, str(level)),
        phone_masked=mask_phone(user.phone) if user.phone else None,
        id_number_masked=mask_id_number(user.id_number) if user.id_number else None,
        email_masked=_mask_email(email) if email else None,
    )


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"
