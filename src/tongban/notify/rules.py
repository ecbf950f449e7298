"""Pure rules of delivery: keys, retries, outcomes, address checks and masking. No I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from tongban.kit.masking import mask_phone

CHANNELS = ("site", "email", "sms")
# Rows a worker may claim: due pending rows, and sending rows whose claim has lapsed.
CLAIMABLE = ("pending", "sending")
FINAL = ("sent", "failed", "skipped", "expired")
KEY_LIMIT = 255
ERROR_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")

OutcomeKind = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to: sent, worth retrying, or a permanent failure.

    ``error`` is a short code with no personal data (never the server's whole answer,
    which may quote the address); ``ref`` is the gateway's or mail server's reference.
    """

    kind: OutcomeKind
    error: str = ""
    ref: str = ""


def row_key(dedupe_key: str, channel: str, recipient: str) -> str:
    """The outbox row's unique key: the caller's key for the message, then channel and
    recipient. An over-long key keeps its head and a hash of the whole (still unique)."""
    key = f"{dedupe_key}:{channel}:{recipient}"
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{key[: KEY_LIMIT - 41]}~{digest}"


def idempotency_key(key: str) -> str:
    """The opaque, stable key a gateway sees: the same for every retry of one row."""
    return hashlib.sha256(f"tongban-notify\x00{key}".encode()).hexdigest()


def message_id(key: str, sender: str) -> str:
    """A stable RFC 5322 Message-ID for the row: a retry is the same message."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "tongban.localhost"
    return f"<{idempotency_key(key)[:40]}@{domain}>"


def retry_delay(attempts: int, *, base: float, cap: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: base, 2×base, 4×base …"""
    return float(min(cap, base * (2 ** max(attempts - 1, 0))))


def after_failure(outcome: Outcome, attempts: int, max_attempts: int) -> str:
    """The row's next status after an attempt that did not send."""
    if outcome.kind == "retry" and attempts < max_attempts:
        return "pending"
    return "failed"


def http_outcome(status: int, ref: str = "") -> Outcome:
    """The SMS gateway contract: 2xx sent, 408/429 and 5xx retry, other 4xx permanent."""
    if 200 <= status < 300:
        return Outcome("sent", ref=ref[:128])
    if status in (408, 425, 429) or status >= 500:
        return Outcome("retry", f"http_{status}")
    return Outcome("failed", f"http_{status}")


# Authentication and "try again later" replies are worth retrying even when 5xx-coded.
_SMTP_RETRYABLE_5XX = frozenset({530, 534, 535, 554})


def smtp_outcome(code: int) -> Outcome:
    """4xx: the server asks us to retry; 5xx: permanent (bad mailbox, refused)."""
    if 400 <= code < 500 or code in _SMTP_RETRYABLE_5XX:
        return Outcome("retry", f"smtp_{code}")
    return Outcome("failed", f"smtp_{code}")


def clean(value: object, limit: int = 500) -> str:
    """A parameter as bounded, clean text: no NUL or control characters (newline kept)."""
    text = _CONTROL.sub("", str(value)).strip()
    return text[:limit]


def valid_email(address: str) -> bool:
    return len(address) <= 254 and bool(_EMAIL.match(address))


def normalize_phone(phone: str) -> str | None:
    """The number as digits (with a leading + kept), or None when it is no phone number."""
    phone = phone.strip()
    if not _PHONE.match(phone):
        return None
    return ("+" if phone.startswith("+") else "") + re.sub(r"[^0-9]", "", phone)


def mask_address(channel: str, address: str) -> str:
    """139****5678, z***@example.cn: enough to recognise one's own, never the whole."""
    if not address:
        return ""
    if channel == "sms":
        return mask_phone(address)
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
