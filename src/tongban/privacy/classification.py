"""The classification inventory (数据分类分级清单) behind ``tongban privacy report``.

Every classified field in one list: the platform's own fields from policy.toml and the
form fields every active service item declares under "x-privacy". For each: class,
level, where it is stored, which audiences see it plain, masked or not at all, and who
may ask to unmask it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead
from tongban.privacy.policy import (
    AUDIENCE_LABELS,
    AUDIENCES,
    LEVEL_LABELS,
    PERSONAL_LABELS,
    FormFieldDeclaration,
    Policy,
    RoleRule,
    load_policy,
)

# Form answers live in one JSON column, encrypted as a whole (EncryptedJSON).
FORM_STORED = "cases.form_data"
FORM_STORED_NOTE = "cases.form_data（整体加密）"
PLATFORM = "平台"
VISIBILITY_LABELS = {"plain": "明文", "masked": "脱敏", "hidden": "不可见"}
UNDECLARED = "未声明"
_PAGE = 100


@dataclass(frozen=True)
class Seen:
    """Audiences by what they see of a field, and the roles that may ask to unmask it."""

    plain: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    unmask: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: RoleRule) -> Seen:
        def having(seen: str) -> tuple[str, ...]:
            return tuple(a for a in AUDIENCES if rule.visibility(a) == seen)

        return cls(having("plain"), having("masked"), having("hidden"), tuple(rule.unmask))

    def visibility(self, audience: str) -> str:
        for seen in ("plain", "masked", "hidden"):
            if audience in getattr(self, seen):
                return seen
        return ""


@dataclass(frozen=True)
class ClassifiedField:
    key: str  # policy name (case.applicant_phone) or form field name
    label: str
    item_code: str | None  # None for the platform's own fields
    item_name: str
    stored: str
    encrypted: bool
    declared: bool = True
    category: str = UNDECLARED
    level: str = ""  # general / important / core; "" when undeclared
    personal: str = ""  # none / personal / sensitive; "" when undeclared
    mask: str = ""
    purpose: str = ""
    roles: Seen = Seen()


def classified_fields(session: Session) -> list[ClassifiedField]:
    """The platform's fields, then each active item's form fields in catalog order."""
    policy = load_policy()
    fields = platform_fields(policy)
    for item in _active_items(session):
        fields.extend(form_fields(item, policy))
    return fields


def platform_fields(policy: Policy) -> list[ClassifiedField]:
    return [
        ClassifiedField(
            key=key,
            label=spec.label,
            item_code=None,
            item_name=PLATFORM,
            stored=spec.stored,
            encrypted=spec.encrypted,
            category=spec.category,
            level=spec.level,
            personal=spec.personal,
            mask=spec.mask,
            roles=Seen.of(spec),
        )
        for key, spec in policy.fields.items()
    ]


def form_fields(item: ItemRead, policy: Policy) -> list[ClassifiedField]:
    """An item's form fields; one saved before declarations became mandatory shows as 未声明."""
    fields = []
    for name, spec in item.form_schema.get("properties", {}).items():
        undeclared = ClassifiedField(
            key=name,
            label=str(spec.get("title") or name),
            item_code=item.code,
            item_name=item.name,
            stored=FORM_STORED,
            encrypted=True,
            declared=False,
        )
        try:
            declaration = FormFieldDeclaration.model_validate(spec["x-privacy"])
        except (KeyError, ValidationError):
            fields.append(undeclared)
            continue
        fields.append(
            replace(
                undeclared,
                declared=True,
                category=declaration.category,
                level=declaration.level,
                personal=declaration.personal,
                mask=declaration.mask,
                purpose=declaration.purpose,
                roles=Seen.of(policy.form_rule(declaration)),
            )
        )
    return fields


def _active_items(session: Session) -> list[ItemRead]:
    items: list[ItemRead] = []
    page = 1
    while True:
        listing = catalog_service.list_items(session, page=page, size=_PAGE)
        items.extend(catalog_service.get_item(session, code=s.code) for s in listing.items)
        if page * _PAGE >= listing.total:
            return items
        page += 1


# --- output ----------------------------------------------------------------------------


def summary(fields: list[ClassifiedField]) -> dict[str, Any]:
    declared = [f for f in fields if f.declared]
    return {
        "fields": len(fields),
        "platform_fields": sum(f.item_code is None for f in fields),
        "form_fields": sum(f.item_code is not None for f in fields),
        "items": len({f.item_code for f in fields if f.item_code}),
        "by_level": {level: sum(f.level == level for f in declared) for level in LEVEL_LABELS},
        "by_personal": {c: sum(f.personal == c for f in declared) for c in PERSONAL_LABELS},
        "undeclared": len(fields) - len(declared),
    }


def report_json(fields: list[ClassifiedField]) -> dict[str, Any]:
    return {
        "summary": summary(fields),
        "audiences": AUDIENCES,
        "fields": [
            {**asdict(f), "level_zh": LEVEL_LABELS.get(f.level, UNDECLARED)} for f in fields
        ],
    }


_COLUMNS = (
    ("字段", "Field"),
    ("来源", "Source"),
    ("分类", "Category"),
    ("级别", "Level"),
    ("个人信息", "PIPL"),
    *((AUDIENCE_LABELS[a], a.capitalize()) for a in AUDIENCES),
    ("可申请明文", "Unmask"),
    ("加密", "Encrypted"),
    ("存储位置", "Stored"),
    ("收集目的", "Purpose"),
)


def report_text(fields: list[ClassifiedField]) -> str:
    """An aligned table in Chinese with English headers in brackets, and a summary."""
    counts = summary(fields)
    levels = " · ".join(f"{LEVEL_LABELS[k]} {v}" for k, v in counts["by_level"].items())
    classes = " · ".join(f"{PERSONAL_LABELS[k]} {v}" for k, v in counts["by_personal"].items())
    header = [
        "数据分类分级清单 (Data classification report)",
        f"字段 (fields) {counts['fields']}：平台 {counts['platform_fields']}，"
        f"事项表单 {counts['form_fields']}（{counts['items']} 个事项，"
        f"存储于 {FORM_STORED_NOTE}）",
        f"级别 (level)：{levels}",
        f"个人信息 (PIPL)：{classes}",
        f"未声明 (undeclared)：{counts['undeclared']}",
        "",
    ]
    rows = [[f"{zh} ({en})" for zh, en in _COLUMNS], *(_row(f) for f in fields)]
    return "\n".join(header + _aligned(rows)) + "\n"


def _row(field: ClassifiedField) -> list[str]:
    def names(audiences: tuple[str, ...]) -> str:
        return "、".join(AUDIENCE_LABELS[a] for a in audiences) or "—"

    seen = [VISIBILITY_LABELS.get(field.roles.visibility(a), UNDECLARED) for a in AUDIENCES]
    return [
        f"{field.label} {field.key}",
        field.item_name,
        field.category,
        LEVEL_LABELS.get(field.level, UNDECLARED),
        PERSONAL_LABELS.get(field.personal, UNDECLARED),
        *seen,
        names(field.roles.unmask) if field.declared else UNDECLARED,
        "是" if field.encrypted else "否",
        field.stored,
        field.purpose or "—",
    ]


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell + " " * (width - display_width(cell))
            for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
