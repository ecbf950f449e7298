"""How much of the catalog shared data replaces (免提交覆盖), item by item.

Every material of every item is one of three: replaced by shared data (the catalog
names the exchange service, and the claim or the compared elements, that the platform
checks at submission), replaced by a description only (``replaced_by``: an electronic
licence the clerk looks up — not checked by the exchange), or still to be handed in
(paper or upload). Pure: it reads catalog items, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tongban.catalog.schemas import ItemRead, MaterialRead

How = Literal["shared_data", "description", "paper"]
HOW_LABELS = {
    "shared_data": "数据共享替代 shared data",
    "description": "仅有说明 description only",
    "paper": "须提交 still on paper",
}


@dataclass(frozen=True)
class MaterialCoverage:
    code: str
    name: str
    necessity: str
    how: How
    service: str | None = None
    claim: str | None = None
    holds: bool = True
    elements: tuple[str, ...] = ()  # compared elements (without a claim)
    subjects: tuple[str, ...] = ()  # where each checked identity number comes from
    replaced_by: str | None = None  # the guide's wording


@dataclass(frozen=True)
class ItemCoverage:
    code: str
    name: str
    materials: tuple[MaterialCoverage, ...]

    def count(self, how: How) -> int:
        return sum(m.how == how for m in self.materials)


@dataclass(frozen=True)
class Coverage:
    items: tuple[ItemCoverage, ...]

    def count(self, how: How | None = None) -> int:
        return sum(len(i.materials) if how is None else i.count(how) for i in self.items)

    def totals(self) -> dict[str, int]:
        return {
            "items": len(self.items),
            "materials": self.count(),
            "shared_data": self.count("shared_data"),
            "description": self.count("description"),
            "paper": self.count("paper"),
            "items_with_shared_data": sum(i.count("shared_data") > 0 for i in self.items),
        }

    def as_json(self) -> dict[str, Any]:
        return {"totals": self.totals(), "items": [asdict(item) for item in self.items]}


def coverage_of(items: Iterable[ItemRead]) -> Coverage:
    return Coverage(
        tuple(
            ItemCoverage(item.code, item.name, tuple(_material(m) for m in item.materials))
            for item in sorted(items, key=lambda i: i.code)
        )
    )


def _material(material: MaterialRead) -> MaterialCoverage:
    data = material.replaced_by_data
    what = (material.code, material.name, material.necessity)
    if data is None:
        how: How = "description" if material.replaced_by else "paper"
        return MaterialCoverage(*what, how, replaced_by=material.replaced_by)
    subjects = data.checked_subjects()
    compared = sorted({e for s in subjects for e in s.compare or {}})
    return MaterialCoverage(
        *what,
        "shared_data",
        service=data.service,
        claim=data.claim,
        holds=data.holds,
        elements=() if data.claim else tuple(compared),
        subjects=tuple(s.id_number for s in subjects),
        replaced_by=material.replaced_by,
    )


def render_text(coverage: Coverage) -> str:
    totals = coverage.totals()
    lines = [
        "免提交覆盖 Shared-data coverage of the catalog",
        _totals_line(totals),
        "",
    ]
    for item in coverage.items:
        shared = item.count("shared_data")
        lines.append(f"{item.code} {item.name}  ({shared}/{len(item.materials)})")
        for material in item.materials:
            lines.append(f"  {material.code} {material.name}")
            lines.append(f"      {HOW_LABELS[material.how]}{_detail(material)}")
        lines.append("")
    lines.append(_totals_line(totals))
    return "\n".join(lines)


def _totals_line(totals: dict[str, int]) -> str:
    return (
        f"事项 items {totals['items']} · 材料 materials {totals['materials']} · "
        f"数据共享替代 shared data {totals['shared_data']} "
        f"(事项 items {totals['items_with_shared_data']}) · "
        f"仅有说明 description only {totals['description']} · "
        f"须提交 still on paper {totals['paper']}"
    )


def _detail(material: MaterialCoverage) -> str:
    if material.how == "shared_data":
        if material.claim:
            asked = f"claim {material.claim}" + ("" if material.holds else " (must not hold)")
        else:
            asked = "compare " + ", ".join(material.elements)
        people = f"; subjects {', '.join(material.subjects)}" if len(material.subjects) > 1 else ""
        return f": {material.service} {asked}{people}"
    if material.how == "description":
        return f": {material.replaced_by}"
    return ""
