"""What the OpenAPI document says about a field the server checks in its service (with a
refusal code of its own: ``invalid_phone``, ``unknown_state`` …) rather than in Pydantic.

``json_schema_extra=enum_of(lambda: rules.STATES)`` or ``=pattern(MOBILE)`` puts the server's
own list or the canonical form into the document, next to the field, without changing who
refuses what. The patterns are the canonical forms: the server also takes the lenient ones a
person types (``+86``, spaces, full-width digits), so a request the document allows is one the
server takes — except for what no pattern holds (a check digit, a date that does not exist),
which the service refuses with its own code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

MOBILE = r"^1[3-9][0-9]{9}$"  # 11-digit mainland mobile number (access.rules.normalize_phone)
# 居民身份证号 (GB 11643): a province, a birth date from 1900 to 2025 (days 01–28: every month
# has them), a sequence number and a check character (which no pattern can check).
ID_NUMBER = (
    r"^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5])[0-9]{4}"
    r"(19[0-9]{2}|20[01][0-9]|202[0-5])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}[0-9X]$"
)
CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"  # GB 32100
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Passwords of at least 8 characters with an ASCII letter and digit: never all digits, never
# all letters (access.rules.password_problems); no control or bidi character (kit.text).
_PRINTABLE = r"[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
STRONG_PASSWORD = (
    f"^{_PRINTABLE}*([A-Za-z]{_PRINTABLE}*[0-9]|[0-9]{_PRINTABLE}*[A-Za-z]){_PRINTABLE}*$"
)

Extra = Callable[[dict[str, Any]], None]


def pattern(regex: str, **more: Any) -> Extra:
    def extra(schema: dict[str, Any]) -> None:
        _on_string(schema, {"pattern": regex, **more})

    return extra


def enum_of(values: Callable[[], Iterable[str]]) -> Extra:
    """The allowed values, read when the document is made (the lists live in the domain's
    rules, some loaded from configuration)."""

    def extra(schema: dict[str, Any]) -> None:
        _on_string(schema, {"enum": sorted(values())})

    return extra


def _on_string(schema: dict[str, Any], keywords: dict[str, Any]) -> None:
    """On the string itself, or on the string option of an optional field."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string":
            option.update(keywords)
