"""Display masking of personal identifiers (common practice; see reference.md)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """First 6 + last 4: 640425********1234."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """3 + 4: 139****5678."""
    if not value:
        return ""
    digits = value.removeprefix("+86").strip()
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


def mask_name(value: str | None) -> str:
    """Keep the surname: 张*, 欧阳**; an organisation name keeps its first and last characters."""
    if not value:
        return ""
    surname_len = 2 if value[:2] in COMPOUND_SURNAMES and len(value) > 2 else 1
    return value[:surname_len] + "*" * (len(value) - surname_len)
