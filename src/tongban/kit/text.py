"""The one input policy for text: what a text field may hold before it is stored or looked up.

Every text value from outside — API request bodies, path and query parameters, page forms —
is trimmed and checked here:

- no NUL and no other control character (C0, DEL, C1); multi-line fields may hold line
  breaks (``\\r\\n`` and ``\\r`` become ``\\n``) and tabs;
- no bidirectional-override, isolate or mark characters (U+202A–U+202E, U+2066–U+2069,
  U+200E, U+200F, U+061C), which make a name read differently from what is stored;
- no lone surrogates (they cannot be encoded for either database);
- trimmed (Unicode white space, the ideographic space too) before emptiness and length are
  checked; lengths count characters.

``clean_text`` is for one value (page forms call it); ``RequestModel`` applies the policy to
every string of an API request schema — nested dicts and lists too — and refuses NaN and
Infinity in every number it finds.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tongban.errors import Invalid

# Bidirectional formatting characters (Unicode UAX #9): embeddings and overrides, isolates,
# and the implicit marks (LRM, RLM, ALM).
BIDI_CHARACTERS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
MULTILINE_ALLOWED = frozenset("\n\t")
# What trimming removes at either end: spaces (the ideographic and no-break ones too), tabs
# and line breaks — not other control characters (\x1c–\x1f, \x85 count as white space
# for ``str.strip``), which are refused wherever they are.
TRIMMED = (
    " \t\n\r\u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
# Strings nested in a request's dicts and lists (a case's form, an action's payload) that
# their schema does not bound are bounded here.
NESTED_MAX_LENGTH = 10_000

TEXT_ERROR_CODES = ("invalid_text", "text_required", "text_too_long", "invalid_number")


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character the policy does not allow in ``value``, or None."""
    for ch in value:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            if multiline and ch in MULTILINE_ALLOWED:
                continue
            return ch
        if ch in BIDI_CHARACTERS or 0xD800 <= code <= 0xDFFF:
            return ch
    return None


def has_forbidden_character(value: str, *, multiline: bool = False) -> bool:
    return forbidden_character(value, multiline=multiline) is not None


def _code_point(ch: str) -> str:
    return f"U+{ord(ch):04X}"


@dataclass(frozen=True)
class TextProblem:
    """Why a text value was refused: one of ``TEXT_ERROR_CODES`` and what it concerns."""

    code: str
    character: str = ""
    max_length: int = 0


def check_text(
    value: str, *, max_length: int, multiline: bool = False, required: bool = False
) -> tuple[str, TextProblem | None]:
    """``value`` trimmed (line breaks normalised when multi-line), and what is wrong with it."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip(TRIMMED)
    bad = forbidden_character(value, multiline=multiline)
    if bad is not None:
        return value, TextProblem("invalid_text", character=_code_point(bad))
    if required and not value:
        return value, TextProblem("text_required")
    if len(value) > max_length:
        return value, TextProblem("text_too_long", max_length=max_length)
    return value, None


def text_error(code: str, *, field: str, **details: Any) -> Invalid:
    """The domain error for a refused text (or number) value, in Chinese and English."""
    label = field or "文本"
    label_en = field or "text"
    if code == "invalid_text":
        zh = f"「{label}」含有不允许的控制字符或文字方向控制字符，请删除后重试。"
        en = f"{label_en} contains a control or bidirectional-formatting character; remove it."
    elif code == "text_required":
        zh = f"请填写「{label}」（不能只有空格）。"
        en = f"{label_en} is required (spaces alone do not count)."
    elif code == "text_too_long":
        limit = details.get("max_length", "")
        zh = f"「{label}」最多 {limit} 个字。"
        en = f"{label_en} is at most {limit} characters long."
    elif code == "invalid_number":
        zh = f"「{label}」须为有限的数（不接受 NaN 或 Infinity）。"
        en = f"{label_en} must be a finite number (NaN and Infinity are not accepted)."
    else:
        raise ValueError(f"not a text error code: {code}")
    return Invalid(code, zh, en, details={"field": field, **details})


def clean_text(
    value: str, *, field: str, max_length: int, multiline: bool = False, required: bool = False
) -> str:
    """The text trimmed; raises tongban.errors.Invalid (422) with code invalid_text (control/bidi
    characters), text_required (empty after trimming, when required) or text_too_long,
    details {"field": field}, messages in Chinese and English."""
    cleaned, problem = check_text(
        value, max_length=max_length, multiline=multiline, required=required
    )
    if problem is not None:
        raise text_error(problem.code, field=field, **_problem_details(problem))
    return cleaned


def _problem_details(problem: TextProblem) -> dict[str, Any]:
    if problem.code == "invalid_text":
        return {"character": problem.character}
    if problem.code == "text_too_long":
        return {"max_length": problem.max_length}
    return {}


# --- request schemas ----------------------------------------------------------------------


@dataclass(frozen=True)
class TextPolicy:
    """``Annotated`` metadata for a request field: ``multiline`` allows line breaks and tabs
    (in the field's nested strings too); ``trim=False`` keeps the value as typed (passwords),
    still refusing control and bidi characters."""

    multiline: bool = False
    trim: bool = True


MULTILINE = TextPolicy(multiline=True)
VERBATIM = TextPolicy(trim=False)


_TEMPLATES = {
    "invalid_text": "{field} contains a control or bidi-formatting character ({character})",
    "text_required": "{field} is required (spaces alone do not count)",
    "text_too_long": "{field} is at most {max_length} characters long",
    "invalid_number": "{field} must be a finite number (not NaN or Infinity)",
}


def _custom_error(problem: TextProblem, field: str) -> PydanticCustomError:
    return PydanticCustomError(
        problem.code, _TEMPLATES[problem.code], {"field": field, **_problem_details(problem)}
    )


def _holds_request_model(annotation: Any) -> bool:
    """Whether a field's type is, or contains, a ``RequestModel`` (which applies the policy
    to its own fields, with their own limits)."""
    if isinstance(annotation, type) and issubclass(annotation, RequestModel):
        return True
    return any(_holds_request_model(arg) for arg in get_args(annotation))


def _max_length(metadata: list[Any]) -> int | None:
    for item in metadata:
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None


def _min_length(metadata: list[Any]) -> int:
    for item in metadata:
        limit = getattr(item, "min_length", None)
        if isinstance(limit, int):
            return limit
    return 0


def _policy(metadata: list[Any]) -> TextPolicy:
    return next((m for m in metadata if isinstance(m, TextPolicy)), TextPolicy())


def clean_nested(value: Any, *, field: str, multiline: bool) -> Any:
    """Every string in ``value`` (dict keys too) trimmed and checked; NaN and ±Infinity
    refused. Raises ``PydanticCustomError`` naming the path of the bad value."""
    if isinstance(value, str):
        cleaned, problem = check_text(value, max_length=NESTED_MAX_LENGTH, multiline=multiline)
        if problem is not None:
            raise _custom_error(problem, field)
        return cleaned
    if isinstance(value, float) and not math.isfinite(value):
        raise _custom_error(TextProblem("invalid_number"), field)
    if isinstance(value, Mapping):
        cleaned_dict: dict[Any, Any] = {}
        for key, item in value.items():
            path = f"{field}.{key}" if field else str(key)
            cleaned_key = clean_nested(key, field=path, multiline=False)
            cleaned_dict[cleaned_key] = clean_nested(item, field=path, multiline=multiline)
        return cleaned_dict
    if isinstance(value, list | tuple):
        return [
            clean_nested(item, field=f"{field}.{i}", multiline=multiline)
            for i, item in enumerate(value)
        ]
    return value


class RequestModel(BaseModel):
    """Base of every API request schema: the input policy on every field.

    A ``str`` field is trimmed and checked against its ``max_length`` (``text_too_long``);
    a field with ``min_length`` ≥ 1 must not be empty after trimming (``text_required``;
    other fields reach their service trimmed, and it names what is missing). Strings in
    lists and dicts are checked too, their path named (``form.address``). Mark multi-line
    fields ``Annotated[str, MULTILINE]`` and passwords ``Annotated[str, VERBATIM]``. Floats
    must be finite (``invalid_number``).

    The errors are Pydantic errors with these codes; the app renders them as the project's
    422 with ``details.field`` (see ``tongban.app``).
    """

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _input_policy(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        field = cls.model_fields.get(name)
        metadata = list(field.metadata) if field is not None else []
        policy = _policy(metadata)
        if isinstance(value, str):
            if not policy.trim:
                bad = forbidden_character(value, multiline=policy.multiline)
                if bad is not None:
                    raise _custom_error(TextProblem("invalid_text", _code_point(bad)), name)
                return value
            # Required: min_length ≥ 1. Fields whose service checks emptiness with a code of
            # its own (consent_required …) get the trimmed value and say so themselves.
            required = _min_length(metadata) > 0
            limit = _max_length(metadata)
            cleaned, problem = check_text(
                value,
                max_length=limit if limit is not None else NESTED_MAX_LENGTH,
                multiline=policy.multiline,
                required=required,
            )
            if problem is not None:
                raise _custom_error(problem, name)
            return cleaned
        if field is not None and _holds_request_model(field.annotation):
            # The nested models check their own fields; the keys of a dict of them are ours.
            if isinstance(value, Mapping):
                return {
                    clean_nested(k, field=f"{name}.{k}", multiline=False): v
                    for k, v in value.items()
                }
            return value
        return clean_nested(value, field=name, multiline=policy.multiline)


def normalize_width(value: str) -> str:
    """Full-width ASCII forms (０-９, Ａ-Ｚ, ａ-ｚ, the ideographic space) as plain ASCII;
    nothing else changes."""
    return "".join(
        unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" or ch == "\u3000" else ch
        for ch in value
    )
