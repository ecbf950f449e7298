"""Display masking of personal identifiers (common practice; see reference.md)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """First 6 + last 4: 640425********1234."""
    if not value:
        return ""
    value = "".join(value.split())  # "640425 19900315 1234" is still one number
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """3 + 4 of the national number: +86 139-1234-5678 → 139****5678."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and value.lstrip().startswith(("+86", "86")):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
    ]
)


# Legal-form endings of organisation names, longest first (有限责任公司 before 公司).
ORGANISATION_SUFFIXES = (
    "有限责任公司",
    "股份有限公司",
    "专业合作社",
    "有限公司",
    "合作社",
    "事务所",
    "门市部",
    "经营部",
    "公司",
    "中心",
    "商行",
    "店",
    "厂",
    "场",
    "馆",
)


def mask_name(value: str | None) -> str:
    """Keep the surname: 张*, 欧阳** (a 2-character 欧阳 is 欧 + given name: 欧*).

    An organisation name keeps its first two characters and its legal form:
    宁夏********有限公司.
    """
    if not value:
        return ""
    value = value.strip()
    suffix = next((s for s in ORGANISATION_SUFFIXES if value.endswith(s)), "")
    if suffix and len(value) > 4 and "·" not in value:
        middle = len(value) - 2 - len(suffix)
        return value[:2] + "*" * max(middle, 0) + suffix
    surname_len = 2 if value[:2] in COMPOUND_SURNAMES and len(value) > 2 else 1
    return value[:surname_len] + "*" * (len(value) - surname_len)
