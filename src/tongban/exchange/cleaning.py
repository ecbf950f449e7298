"""Cleaning and standardization of legacy values on the way in (pure, no I/O).

Every function returns either the clean value or a ``Problem`` naming the
element, the raw value and a stable reason code: a value that cannot be cleaned
is reported, never passed on as it came nor silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from tongban.exchange.addresses import AddressParts, Gazetteer, split_address
from tongban.exchange.dates import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    DateEncoding,
    date_or_none,
    parse_date,
)
from tongban.exchange.elements import CodeList, DataElement, Registry
from tongban.kit.ids import (
    PROVINCE_PREFIXES,
    id_number_check_char,
    is_valid_id_number,
    is_valid_uscc,
)

Value = str | int

# Legacy systems write "unknown" as these.
EMPTY_MARKERS = frozenset({"", "null", "none", "nil", "n/a", "-", "--", "无", "不详"})

REASONS = {
    "missing": "缺失",
    "bad_length": "长度不符",
    "bad_characters": "含非法字符",
    "bad_area": "地区码无效",
    "bad_birth_date": "出生日期无效",
    "bad_check_digit": "校验位错误",
    "stored_as_number": "被存为数值（精度丢失）",
    "bad_format": "格式不符",
    "bad_date": "日期无效",
    "ambiguous_date": "日月次序不明",
    "out_of_range": "超出范围",
    "future_date": "日期晚于当前",
    "not_integer": "不是整数",
    "unknown_code": "代码不在代码表中",
    "too_long": "过长",
    "too_short": "过短",
    "unsplittable_address": "无法拆分省市县",
    "address_invalid": "所属地址无效",
}


@dataclass(frozen=True, slots=True)
class Problem:
    element: str  # element code, e.g. DE0001
    raw: object
    reason: str  # a key of REASONS

    @property
    def reason_zh(self) -> str:
        return REASONS[self.reason]


# ---------------------------------------------------------------- text


def half_width(text: str, *, punctuation: bool = False) -> str:
    """Full-width digits, letters and spaces to ASCII.

    Chinese punctuation (，。：（）…) is left alone unless ``punctuation`` is set:
    in Chinese text it is the right form, and NFKC would turn 。into nothing like it
    but ，into a comma.
    """
    out = []
    for ch in text:
        if ch == "\u3000":
            out.append(" ")
        elif "\uff01" <= ch <= "\uff5e" and (punctuation or ch.isalnum()):
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return "".join(out)


_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")


def tidy(text: str) -> str:
    """Half-width alphanumerics, trimmed, inner spaces collapsed, none between Chinese."""
    text = _SPACES.sub(" ", half_width(text)).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


def _as_text(raw: object) -> str | None:
    """The raw value as tidy text, or None when it says nothing."""
    if raw is None:
        return None
    text = tidy(str(raw))
    return None if text.lower() in EMPTY_MARKERS else text


# ---------------------------------------------------------------- identifiers


def upgrade_id_number(value: str) -> str | None:
    """A 15-digit first-generation number as its 18-digit form (born 19xx), or None."""
    if len(value) != 15 or not value.isdigit():
        return None
    first17 = f"{value[:6]}19{value[6:]}"
    return first17 + id_number_check_char(first17)


def clean_id_number(raw: object, *, element: str = "DE0001") -> str | Problem:
    if isinstance(raw, float):
        return Problem(element, raw, "stored_as_number")  # 18 digits do not survive a double
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    value = text.replace(" ", "").upper()
    if len(value) == 15:
        upgraded = upgrade_id_number(value)
        if upgraded is None:
            return Problem(element, raw, "bad_characters")
        value = upgraded
    if len(value) != 18:
        return Problem(element, raw, "bad_length")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return Problem(element, raw, "bad_characters")
    if value[:2] not in PROVINCE_PREFIXES:
        return Problem(element, raw, "bad_area")
    if date_or_none(int(value[6:10]), int(value[10:12]), int(value[12:14])) is None:
        return Problem(element, raw, "bad_birth_date")
    if not is_valid_id_number(value):
        return Problem(element, raw, "bad_check_digit")
    return value


def id_number_variants(value: str) -> list[str]:
    """How a legacy table may hold a clean 18-digit number: for lookups by exact match."""
    forms = {value, value.lower()}
    if value[6:8] == "19":
        forms.add(value[:6] + value[8:17])  # first-generation 15-digit number
    forms |= {_full_width(form) for form in list(forms)}
    return sorted(forms)


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


_USCC_CHARS = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{18}$")


def clean_credit_code(raw: object, *, element: str = "DE0019") -> str | Problem:
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    value = text.replace(" ", "").upper()
    if len(value) != 18:
        return Problem(element, raw, "bad_length")
    if not _USCC_CHARS.match(value):
        return Problem(element, raw, "bad_characters")
    return value if is_valid_uscc(value) else Problem(element, raw, "bad_check_digit")


_NAME_DOTS = re.compile(rf"(?<=[{_CJK}])\s*[·•・‧･.]\s*(?=[{_CJK}])")
_CHINESE_NAME = re.compile(rf"^[{_CJK}]+(?:·[{_CJK}]+)*$")
_LATIN_NAME = re.compile(r"^[A-Za-z]+(?:[ .'-][A-Za-z]+)*$")


def clean_name(raw: object, *, element: str) -> str | Problem:
    """A person's name: Chinese (with · between parts of ethnic names) or Latin letters."""
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    value = _NAME_DOTS.sub("·", text)
    if _LATIN_NAME.match(value):
        return value.upper()
    if not _CHINESE_NAME.match(value):
        return Problem(element, raw, "bad_characters")
    if len(value) < 2:
        return Problem(element, raw, "too_short")
    return value if len(value) <= 30 else Problem(element, raw, "too_long")


def clean_text(raw: object, *, element: str, max_length: int = 200) -> str | Problem:
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    return text if len(text) <= max_length else Problem(element, raw, "too_long")


_BRACKETS = str.maketrans(
    {"（": "(", "）": ")", "〔": "(", "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")"}
)
_CERT_NO = re.compile(rf"^[{_CJK}]\(\d{{4}}\)[{_CJK}]{{1,20}}不动产权第\d{{7}}号$")


def clean_property_cert_no(raw: object, *, element: str = "DE0010") -> str | Problem:
    """不动产权证号 as 宁(2024)彭阳县不动产权第0001234号 (half-width brackets)."""
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    value = text.replace(" ", "").translate(_BRACKETS)
    return value if _CERT_NO.match(value) else Problem(element, raw, "bad_format")


# ---------------------------------------------------------------- numbers and codes


def clean_integer(
    raw: object, *, element: str, minimum: int | None = None, maximum: int | None = None
) -> int | Problem:
    if isinstance(raw, bool):
        return Problem(element, raw, "not_integer")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            return Problem(element, raw, "not_integer")
        number = int(raw)
    else:
        text = _as_text(raw)
        if text is None:
            return Problem(element, raw, "missing")
        if not re.fullmatch(r"[+-]?\d+", text.replace(" ", "")):
            return Problem(element, raw, "not_integer")
        number = int(text.replace(" ", ""))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return Problem(element, raw, "out_of_range")
    return number


def clean_code(
    raw: object, *, element: str, codelist: CodeList, source_codes: Mapping[str, str] = {}
) -> str | Problem:
    """A standard code from the source's own code, a standard code, label or alias.

    ``source_codes`` (from the source's mapping file) wins: a source that writes 2
    for 已婚 means 20, not GB/T 2261.2's 2.
    """
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # Excel keeps every number as a double
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    folded = {key.strip().casefold(): code for key, code in source_codes.items()}
    code = folded.get(text.casefold())
    if code is None:
        code = codelist.standard_code(text)
    return code if code is not None else Problem(element, raw, "unknown_code")


# ---------------------------------------------------------------- dates


def clean_date(
    raw: object, *, element: str, encoding: DateEncoding = "auto", latest: date | None = None
) -> str | Problem:
    """An ISO date (YYYY-MM-DD) from the many ways legacy systems write one."""
    value = raw
    if not isinstance(raw, date | int | float):
        value = _as_text(raw)
        if value is None:
            return Problem(element, raw, "missing")
    parsed = parse_date(value, encoding)
    if isinstance(parsed, str):
        return Problem(element, raw, parsed)
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return Problem(element, raw, "out_of_range")
    if latest is not None and parsed > latest:
        return Problem(element, raw, "future_date")
    return parsed.isoformat()


# ---------------------------------------------------------------- addresses


def clean_address(raw: object, *, element: str, gazetteer: Gazetteer) -> AddressParts | Problem:
    text = _as_text(raw)
    if text is None:
        return Problem(element, raw, "missing")
    parts = split_address(text.replace(" ", ""), gazetteer)
    return parts if parts is not None else Problem(element, raw, "unsplittable_address")


# ---------------------------------------------------------------- by element


@dataclass(frozen=True)
class SourceRules:
    """How one source writes one element: its own codes and its date encoding."""

    codes: Mapping[str, str] = field(default_factory=dict)
    dates: DateEncoding = "auto"


def clean_value(
    element: DataElement,
    raw: object,
    *,
    registry: Registry,
    gazetteer: Gazetteer,
    rules: SourceRules = SourceRules(),
    today: date | None = None,
) -> Value | Problem:
    """The clean value of ``raw`` as ``element`` (an address comes back as its full text)."""
    code = element.code
    match element.format:
        case "id_number":
            return clean_id_number(raw, element=code)
        case "credit_code":
            return clean_credit_code(raw, element=code)
        case "name":
            return clean_name(raw, element=code)
        case "text" | "address_part":
            return clean_text(raw, element=code)
        case "property_cert_no":
            return clean_property_cert_no(raw, element=code)
        case "integer":
            return clean_integer(
                raw, element=code, minimum=element.minimum, maximum=element.maximum
            )
        case "code":
            codelist = registry.codelist_of(element)
            return clean_code(raw, element=code, codelist=codelist, source_codes=rules.codes)
        case "date":
            latest = (today or date.today()) if element.latest == "today" else None
            return clean_date(raw, element=code, encoding=rules.dates, latest=latest)
        case "address":
            parts = clean_address(raw, element=code, gazetteer=gazetteer)
            return parts if isinstance(parts, Problem) else parts.full
