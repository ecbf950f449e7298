"""The signed exchange protocol (tongban-exchange/1): request and response envelopes.

A message is ``{"body": {...}, "signature": {"algorithm", "key_id", "value"}}``. The
signature covers a context line and the body as canonical JSON (keys sorted, no
spaces, UTF-8), so a request signature can never pass for a response one. The
response carries the SHA-256 of the whole signed request (``request_hash``): a
response is bound to exactly one request. Requests carry a timestamp and a random
nonce; the provider refuses stale timestamps and nonces it has seen.

Bodies hold only strings, integers, booleans, lists and objects, so the canonical
bytes of a received body are those its sender signed. Signatures are checked on the
received dictionaries, before anything else reads them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tongban.audit.signing import Signer, Verifier
from tongban.errors import DomainError

PROTOCOL: Final = "tongban-exchange/1"
REQUEST_CONTEXT = b"tongban-exchange/1 request\n"
RESPONSE_CONTEXT = b"tongban-exchange/1 response\n"
HEX32 = r"^[0-9a-f]{32}$"

_M = TypeVar("_M", bound=BaseModel)
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentAssertion(_Strict):
    """The consumer node vouches that it holds the person's consent (checked there)."""

    ref: str = Field(max_length=64)
    given_at: str
    expires_at: str


class RequestBody(_Strict):
    protocol: Literal["tongban-exchange/1"] = PROTOCOL
    request_id: str = Field(pattern=HEX32)
    consumer_node: str = Field(min_length=1, max_length=64)
    consumer: str = Field(min_length=3, max_length=72)  # item:<code> or role:<role>
    provider_node: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)
    elements: list[str] = Field(default_factory=list, max_length=64)
    claim: str | None = Field(default=None, max_length=64)
    claim_values: dict[str, str] = Field(default_factory=dict)
    subject: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=32)
    legal_basis: Literal["law", "consent"]
    case_no: str = Field(default="", max_length=32)
    consent: ConsentAssertion | None = None
    issued_at: str
    nonce: str = Field(pattern=HEX32)


ResponseStatus = Literal["answered", "refused", "unavailable"]


class ResponseBody(_Strict):
    protocol: Literal["tongban-exchange/1"] = PROTOCOL
    request_id: str = Field(pattern=HEX32)
    request_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    provider_node: str
    status: ResponseStatus
    claim_holds: bool | None = None
    records: list[dict[str, str | int]] = Field(default_factory=list)
    problems: list[dict[str, str]] = Field(default_factory=list)  # element + reason only
    error: dict[str, str] | None = None  # code, message, message_en
    source: str = ""  # the source's title, for the clerk ("公安人口库")
    issued_at: str


class Signature(_Strict):
    algorithm: str
    key_id: str
    value: str  # base64


class ProtocolError(DomainError):
    """A message that fails the protocol: malformed, badly signed, stale or replayed."""

    status = 401


def canonical(data: Any) -> bytes:
    return _CANONICAL.encode(data).encode()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a timestamp without a zone")
    return moment


def new_id() -> str:
    return secrets.token_hex(16)


def sign(body: dict[str, Any], context: bytes, signer: Signer) -> dict[str, Any]:
    """The signed message ``{"body", "signature"}`` for a body already dumped to JSON types."""
    value = signer.sign(context + canonical(body))
    signature = {
        "algorithm": signer.algorithm,
        "key_id": signer.key_id,
        "value": base64.b64encode(value).decode(),
    }
    return {"body": body, "signature": signature}


def message_hash(message: dict[str, Any]) -> str:
    """SHA-256 of the whole signed message (what a response is bound to)."""
    return hashlib.sha256(canonical(message)).hexdigest()


def signed_request(body: RequestBody, signer: Signer) -> dict[str, Any]:
    return sign(body.model_dump(mode="json"), REQUEST_CONTEXT, signer)


def signed_response(body: ResponseBody, signer: Signer) -> dict[str, Any]:
    return sign(body.model_dump(mode="json"), RESPONSE_CONTEXT, signer)


def signature_holds(message: dict[str, Any], context: bytes, verifier: Verifier) -> bool:
    """True when the message is signed by ``verifier``'s key over exactly its body."""
    try:
        signature = Signature.model_validate(message["signature"])
        value = base64.b64decode(signature.value, validate=True)
        body = message["body"]
    except (KeyError, TypeError, ValueError, ValidationError):
        return False
    if signature.algorithm != verifier.algorithm or signature.key_id != verifier.key_id:
        return False
    return verifier.verify(context + canonical(body), value)


def signer_of(message: dict[str, Any]) -> str:
    """The key id a message claims to be signed with ('' when it names none)."""
    signature = message.get("signature") if isinstance(message, dict) else None
    return str(signature.get("key_id", "")) if isinstance(signature, dict) else ""


def parse_request(message: Any) -> RequestBody:
    return _parse(RequestBody, message)


def parse_response(message: Any) -> ResponseBody:
    return _parse(ResponseBody, message)


def _parse(model: type[_M], message: Any) -> _M:
    try:
        if not isinstance(message, dict) or set(message) != {"body", "signature"}:
            raise ValueError("a message is {body, signature}")
        Signature.model_validate(message["signature"])
        return model.model_validate(message["body"])
    except (ValueError, ValidationError) as exc:
        raise ProtocolError(
            "exchange_malformed_message",
            "数据共享报文格式不正确。",
            "The exchange message is malformed.",
            status=400,
            details={"problem": str(exc)[:300]},
        ) from None


def check_fresh(issued_at: str, *, now: datetime, max_skew_seconds: int) -> None:
    """Refuse a message whose timestamp is unreadable or too far from now (either way)."""
    try:
        moment = parse_iso(issued_at)
    except ValueError:
        moment = None
    if moment is None or abs(now - moment) > timedelta(seconds=max_skew_seconds):
        raise ProtocolError(
            "exchange_stale_message",
            f"报文时间戳缺失或与当前时间相差超过 {max_skew_seconds} 秒，已拒绝。",
            f"The message's timestamp is missing or more than {max_skew_seconds} s from now.",
            details={"issued_at": issued_at, "now": iso(now)},
        )
