"""Domain errors: a stable code, bilingual messages and an HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Raised by services; rendered as ``{"error": {code, message, message_en, details}}``."""

    status: int = 400

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        if status is not None:
            self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message_zh,
                "message_en": self.message_en,
                "details": self.details,
            }
        }


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


def not_found(what_zh: str, what_en: str, key: str) -> NotFound:
    return NotFound(
        f"{what_en.lower().replace(' ', '_')}_not_found",
        f"{what_zh}不存在：{key}",
        f"{what_en} not found: {key}",
        details={"key": key},
    )
