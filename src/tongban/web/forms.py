"""Application forms generated from an item's JSON Schema, with friendly server-side checks.

A browser sends every field as a string; ``coerce`` turns them into the schema's types
and ``validate`` runs ``jsonschema`` on the result, mapping each failure to a sentence
next to the field it concerns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from tongban.kit.ids import is_valid_id_number, normalize_id_number
from tongban.web.i18n import Gettext

PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


@dataclass
class Field:
    name: str
    title: str
    kind: str  # text | textarea | number | integer | date | select | checkbox
    required: bool = False
    options: list[Any] = field(default_factory=list)
    description: str = ""
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"

    @property
    def html_pattern(self) -> str | None:
        """The schema's pattern as a browser hint: only an anchored one, since HTML matches
        the whole value and JSON Schema searches within it; the server checks either way."""
        if self.pattern and self.pattern.startswith("^") and self.pattern.endswith("$"):
            return self.pattern[1:-1]
        return None

    @property
    def autocomplete(self) -> str:
        """What the browser may offer from its memory; nothing for a field of the item."""
        for suffix, hint in AUTOCOMPLETE_BY_SUFFIX:
            if self.name.endswith(suffix):
                return hint
        return ""


# Item form fields named like these hold the applicant's own contact details.
AUTOCOMPLETE_BY_SUFFIX = (
    ("phone", "tel"),
    ("mobile", "tel"),
    ("email", "email"),
    ("postal_code", "postal-code"),
    ("address", "street-address"),
)


@dataclass
class FormResult:
    data: dict[str, Any]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


def fields_from_schema(schema: dict[str, Any]) -> list[Field]:
    required = set(schema.get("required", []))
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        kind_of = prop.get("type", "string")
        if "enum" in prop:
            kind = "select"
        elif kind_of == "boolean":
            kind = "checkbox"
        elif kind_of in ("integer", "number"):
            kind = kind_of
        elif prop.get("format") == "date":
            kind = "date"
        elif (prop.get("maxLength") or 0) > 100:
            kind = "textarea"
        else:
            kind = "text"
        fields.append(
            Field(
                name=name,
                title=prop.get("title") or name,
                kind=kind,
                required=name in required,
                options=list(prop.get("enum", [])),
                description=prop.get("description", ""),
                max_length=prop.get("maxLength"),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
                pattern=prop.get("pattern"),
            )
        )
    return fields


def coerce(schema: dict[str, Any], raw: dict[str, str], gettext: Gettext) -> FormResult:
    """Strings from the browser → typed values; empty optional fields are left out."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields_from_schema(schema):
        value = (raw.get(f.name) or "").strip()
        prop = schema["properties"][f.name]
        if f.kind == "checkbox":
            data[f.name] = value in ("1", "on", "true", "yes")
            continue
        if value == "":
            continue  # "required" is reported by the schema check with the field's title
        kind_of = prop.get("type", "string")
        try:
            if kind_of == "integer":
                data[f.name] = int(value)
            elif kind_of == "number":
                number = float(value)
                data[f.name] = int(number) if number.is_integer() else number
            else:
                if prop.get("format") == "date":
                    date.fromisoformat(value)
                data[f.name] = value
        except ValueError:
            if kind_of == "integer":
                errors[f.name] = gettext("%(title)s须为整数。", title=f.title)
            elif kind_of == "number":
                errors[f.name] = gettext("%(title)s须为数字。", title=f.title)
            else:
                errors[f.name] = gettext("%(title)s须为日期，格式如 2026-05-01。", title=f.title)
    return FormResult(data, errors)


def validate(schema: dict[str, Any], raw: dict[str, str], gettext: Gettext) -> FormResult:
    result = coerce(schema, raw, gettext)
    titles = {f.name: f.title for f in fields_from_schema(schema)}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(result.data):
        if error.validator == "required":
            for name in error.validator_value:
                if name not in result.data:
                    result.errors.setdefault(
                        name, gettext("请填写%(title)s。", title=titles.get(name, name))
                    )
            continue
        name = str(error.path[0]) if error.path else ""
        if not name or name in result.errors:
            continue
        result.errors[name] = _message(
            error.validator, error.validator_value, titles.get(name, name), gettext
        )
    return result


def _message(kind: Any, limit: Any, title: str, gettext: Gettext) -> str:
    if kind == "maxLength":
        return gettext("%(title)s最多 %(n)s 个字。", title=title, n=limit)
    if kind == "minLength":
        return gettext("%(title)s至少 %(n)s 个字。", title=title, n=limit)
    if kind == "pattern":
        return gettext("%(title)s格式不正确，请检查。", title=title)
    if kind == "minimum":
        return gettext("%(title)s不能小于 %(n)s。", title=title, n=limit)
    if kind == "maximum":
        return gettext("%(title)s不能大于 %(n)s。", title=title, n=limit)
    if kind == "enum":
        return gettext("请从列表中选择%(title)s。", title=title)
    return gettext("%(title)s填写有误，请检查。", title=title)


def validate_applicant(raw: dict[str, str], gettext: Gettext) -> FormResult:
    """The person applying: name, 居民身份证号 (check digit) and a phone number."""
    data: dict[str, Any] = {"kind": "person"}
    errors: dict[str, str] = {}
    name = (raw.get("applicant_name") or "").strip()
    id_number = normalize_id_number(raw.get("applicant_id_number") or "")
    phone = re.sub(r"\s", "", raw.get("applicant_phone") or "")
    if not name:
        errors["applicant_name"] = gettext("请填写申请人姓名。")
    elif len(name) > 64:
        errors["applicant_name"] = gettext("姓名最多 64 个字。")
    if not id_number:
        errors["applicant_id_number"] = gettext("请填写身份证号。")
    elif len(id_number) != 18:
        errors["applicant_id_number"] = gettext("身份证号应为 18 位，请检查。")
    elif not is_valid_id_number(id_number):
        errors["applicant_id_number"] = gettext(
            "身份证号校验未通过，请核对出生日期和最后一位校验码。"
        )
    if not phone:
        errors["applicant_phone"] = gettext("请填写联系电话。")
    elif not PHONE_RE.match(phone):
        errors["applicant_phone"] = gettext(
            "联系电话格式不正确：手机号 11 位，座机如 0954-1234567。"
        )
    data.update(name=name, id_number=id_number, phone=phone)
    return FormResult(data, errors)
