"""The input policy (``tongban.kit.text``) written into the OpenAPI document, so that what the
document allows the server takes: each text field of a request schema, and each text query
or path parameter, gets the ``pattern`` the policy enforces — no control character (line
breaks and tabs only in multi-line fields), no bidi-formatting character, and for a required
field at least one character that trimming leaves. The patterns are built from the policy's
own character sets; a field's policy is read from its ``RequestModel`` class.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic.fields import FieldInfo

from tongban.kit.text import (
    BIDI_CHARACTERS,
    MULTILINE_ALLOWED,
    TRIMMED,
    RequestModel,
    TextPolicy,
)

CLEAN_JSON = "CleanJSONValue"


def _escaped(characters: str) -> str:
    """A character class's body: the characters as escapes, runs written as ranges."""
    points = sorted({ord(ch) for ch in characters})
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return "".join(
        f"\\u{a:04x}"
        if a == b
        else f"\\u{a:04x}-\\u{b:04x}"
        if b > a + 1
        else f"\\u{a:04x}\\u{b:04x}"
        for a, b in runs
    )


def _forbidden(multiline: bool) -> str:
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    if multiline:
        controls = [c for c in controls if c not in MULTILINE_ALLOWED]
    return "".join(controls) + "".join(BIDI_CHARACTERS)


def text_pattern(*, multiline: bool = False, min_length: int = 0) -> str:
    """An anchored ECMA-262 pattern for what the policy lets through: with ``min_length``,
    at least that many characters after trimming (the length is checked on the trimmed
    value; the document's ``maxLength`` on the raw one is stricter than the server)."""
    refused = _forbidden(multiline)
    forbidden = _escaped(refused)
    if min_length <= 0:
        return f"^[^{forbidden}]*$"
    spaces = _escaped("".join(ch for ch in TRIMMED if ch not in refused))
    solid = f"[^{_escaped(refused + TRIMMED)}]"
    if min_length == 1:
        return f"^[{spaces}]*{solid}[^{forbidden}]*$"
    inner = f"[^{forbidden}]{{{min_length - 2},}}"
    return f"^[{spaces}]*{solid}{inner}{solid}[{spaces}]*$"


def _request_models() -> Iterator[type[RequestModel]]:
    pending: list[type[RequestModel]] = [RequestModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not RequestModel:
            yield cls


def _policy(info: FieldInfo) -> TextPolicy:
    return next((m for m in info.metadata if isinstance(m, TextPolicy)), TextPolicy())


def _min_length(info: FieldInfo) -> int:
    return max((getattr(m, "min_length", 0) or 0 for m in info.metadata), default=0)


def document_text_policy(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    schemas[CLEAN_JSON] = _clean_json_schema()
    for cls in _request_models():
        for name in (cls.__name__, f"{cls.__name__}-Input"):
            if name in schemas:
                _document_model(cls, schemas[name])
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                _drop_null(schema)  # an absent parameter is None; none is ever null
                if parameter.get("in") in ("query", "path"):
                    _set_pattern(schema, text_pattern())


def _drop_null(schema: dict[str, Any]) -> None:
    options = schema.get("anyOf")
    if not options:
        return
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) == 1:
        del schema["anyOf"]
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept


def _document_model(cls: type[RequestModel], schema: dict[str, Any]) -> None:
    # Keys beyond the model's fields are checked too (a nested model's holder cleans them).
    schema.setdefault("propertyNames", {}).setdefault("pattern", text_pattern())
    properties: dict[str, Any] = schema.get("properties", {})
    for name, info in cls.model_fields.items():
        prop = properties.get(info.alias or name)
        if prop is None:
            continue
        policy = _policy(info)
        pattern = text_pattern(
            multiline=policy.multiline, min_length=_min_length(info) if policy.trim else 0
        )
        _set_pattern(prop, pattern, nested=text_pattern(multiline=policy.multiline))


def _set_pattern(schema: dict[str, Any], pattern: str, nested: str | None = None) -> None:
    """The pattern on the string in ``schema`` (also one option of anyOf); strings nested in
    arrays and objects get ``nested`` (they are checked, not required)."""
    nested = nested or text_pattern()
    for option in schema.get("anyOf", [schema]):
        kind = option.get("type")
        if kind == "string" and "enum" not in option and "const" not in option:
            if "pattern" not in option and option.get("format") not in ("date", "date-time"):
                option["pattern"] = pattern
        elif kind == "array" and isinstance(option.get("items"), dict):
            _set_pattern(option["items"], nested, nested)
        elif kind == "object" and "properties" not in option and "$ref" not in option:
            option.setdefault("propertyNames", {}).setdefault("pattern", text_pattern())
            values = option.get("additionalProperties", True)
            if values is True or values == {}:
                option["additionalProperties"] = {"$ref": f"#/components/schemas/{CLEAN_JSON}"}
            elif isinstance(values, dict):
                _set_pattern(values, nested, nested)


def _clean_json_schema() -> dict[str, Any]:
    """Any JSON value whose strings the policy lets through (a form's answers, a payload)."""
    ref = {"$ref": f"#/components/schemas/{CLEAN_JSON}"}
    return {
        "anyOf": [
            {"type": "string", "pattern": text_pattern(multiline=True)},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
            {"type": "array", "items": ref},
            {
                "type": "object",
                "propertyNames": {"pattern": text_pattern()},
                "additionalProperties": ref,
            },
        ],
        "description": "any JSON value; its strings follow the input policy",
    }
