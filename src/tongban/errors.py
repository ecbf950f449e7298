"""Domain errors: a stable code, bilingual messages and an HTTP status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


# --- the error format in the OpenAPI document ----------------------------------------------


class ErrorBody(BaseModel):
    code: str = Field(description="stable, machine-readable: invalid_text, case_not_found …")
    message: str = Field(description="中文说明")
    message_en: str = Field(description="the same in English")
    details: Any = Field(
        None, description="what the error concerns, e.g. {'field': 'name'}; may be null"
    )


class ErrorResponse(BaseModel):
    """Every error of the API: ``{"error": {code, message, message_en, details}}``."""

    error: ErrorBody


_ERROR_DESCRIPTIONS = {
    400: "malformed request (e.g. a body that is not JSON)",
    401: "not signed in, or the token has expired",
    403: "your role or scope may not do this",
    404: "no such resource (or not visible to you)",
    409: "conflict with the current state (changed by someone else, already done)",
    413: "request body too large",
    422: "invalid input; details name the field (invalid_text, text_required, invalid_form …)",
    429: "too many attempts; try again later",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in _ERROR_DESCRIPTIONS.items()
}


def error_responses(**descriptions: str) -> dict[int | str, dict[str, Any]]:
    """Route-level ``responses=``: the error format with route-specific descriptions, given as
    ``e401="bad credentials"``."""
    return {
        int(key.removeprefix("e")): {"model": ErrorResponse, "description": text}
        for key, text in descriptions.items()
    }
