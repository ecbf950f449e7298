"""Data-quality report of a source: completeness, validity and duplicates per element.

Completeness is the share of rows where the element has a value at all; validity
the share of those values that passed cleaning. Duplicates are rows that share
the mapping's unique elements. Examples of problems are masked per element (an
identity number shows 6 + 4 digits), so the report can be printed and passed on.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from tongban.exchange.adapters import Adapter, Record
from tongban.exchange.cleaning import REASONS, Problem, Value
from tongban.exchange.elements import DataElement
from tongban.privacy.service import mask_value

EXAMPLES = 3


@dataclass
class ElementQuality:
    code: str
    name: str
    rows: int = 0
    missing: int = 0
    invalid: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str]] = field(default_factory=list)  # (reason, masked raw)

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def completeness(self) -> float:
        return 100.0 * self.present / self.rows if self.rows else 100.0

    @property
    def validity(self) -> float:
        return 100.0 * (self.present - self.invalid) / self.present if self.present else 100.0


@dataclass
class Duplicates:
    elements: list[str]
    keys: int = 0  # distinct unique-key values held by more than one row
    extra_rows: int = 0  # rows beyond the first for each such key
    identical: int = 0  # extra rows that repeat the first row exactly
    examples: list[str] = field(default_factory=list)


@dataclass
class QualityReport:
    source: str
    title: str
    rows: int
    elements: list[ElementQuality]
    duplicates: Duplicates
    unreachable: int = 0  # rows whose key a lookup does not find (stored in an odd form)
    unreachable_examples: list[str] = field(default_factory=list)

    def element(self, code: str) -> ElementQuality:
        return next(e for e in self.elements if e.code == code)


def quality_report(adapter: Adapter) -> QualityReport:
    mapping, registry = adapter.mapping, adapter.registry
    stats = {code: ElementQuality(code, registry.elements[code].name) for code in mapping.elements}
    groups: dict[tuple[Value, ...], list[Record]] = {}
    key_element = registry.elements[mapping.key]
    report = QualityReport(
        mapping.source, mapping.title, 0, list(stats.values()), Duplicates(mapping.unique)
    )
    for record in adapter.iter_records():
        report.rows += 1
        _count(record, stats, registry.elements)
        if all(code in record.values for code in mapping.unique):
            unique = tuple(record.values[code] for code in mapping.unique)
            groups.setdefault(unique, []).append(record)
        key = record.values.get(mapping.key)
        raw_key = record.raw.get(mapping.key)
        if key is not None and not adapter.reachable(raw_key, str(key)):
            report.unreachable += 1
            if len(report.unreachable_examples) < EXAMPLES:
                report.unreachable_examples.append(_masked(key_element, raw_key))
    _duplicates(report.duplicates, groups, key_element)
    return report


def _count(
    record: Record, stats: Mapping[str, ElementQuality], elements: Mapping[str, DataElement]
) -> None:
    problems: dict[str, Problem] = {problem.element: problem for problem in record.problems}
    for code, quality in stats.items():
        quality.rows += 1
        problem = problems.get(code)
        if problem is None:
            continue
        if problem.reason == "missing":
            quality.missing += 1
            continue
        quality.invalid += 1
        quality.reasons[problem.reason] += 1
        if len(quality.examples) < EXAMPLES:
            quality.examples.append((problem.reason, _masked(elements[code], problem.raw)))


def _duplicates(
    duplicates: Duplicates, groups: Mapping[tuple[Value, ...], list[Record]], key: DataElement
) -> None:
    for values, records in groups.items():
        if len(records) < 2:
            continue
        duplicates.keys += 1
        duplicates.extra_rows += len(records) - 1
        duplicates.identical += sum(1 for r in records[1:] if r.raw == records[0].raw)
        if len(duplicates.examples) < EXAMPLES:
            duplicates.examples.append(_masked(key, records[0].raw.get(key.code, values[0])))


def _masked(element: DataElement, raw: object) -> str:
    if raw is None:
        return "(空)"
    # An address part's problem carries the whole address: mask it as one.
    kind = "address" if element.format == "address_part" else element.mask
    return str(mask_value(kind, str(raw)))


# ---------------------------------------------------------------- across sources


@dataclass(frozen=True)
class Mismatch:
    key: str
    element: str  # the element of ``other`` that differs
    reference_values: tuple[Value, ...]
    other_value: Value


@dataclass
class CrossCheck:
    reference: str
    other: str
    compared: int = 0  # rows of ``other`` whose key the reference holds
    absent: int = 0  # rows of ``other`` whose key the reference does not hold
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def mismatched_keys(self) -> set[str]:
        return {m.key for m in self.mismatches}


def cross_check(reference: Adapter, other: Adapter, pairs: Mapping[str, str]) -> CrossCheck:
    """Rows of ``other`` whose elements differ from ``reference`` under the same key.

    ``pairs`` maps an element of ``other`` to the element of ``reference`` that
    should hold the same value (权利人 DE0011 → 姓名 DE0002). Both sources must be
    keyed by the same element.
    """
    if reference.mapping.key != other.mapping.key:
        raise ValueError("cross_check needs two sources keyed by the same element")
    key = reference.mapping.key
    known: dict[str, list[Record]] = {}
    for record in reference.iter_records():
        if key in record.values:
            known.setdefault(str(record.values[key]), []).append(record)
    result = CrossCheck(reference.source, other.source)
    for record in other.iter_records():
        if key not in record.values:
            continue
        held = known.get(str(record.values[key]))
        if held is None:
            result.absent += 1
            continue
        result.compared += 1
        for mine, theirs in pairs.items():
            expected = tuple(r.values[theirs] for r in held if theirs in r.values)
            value = record.values.get(mine)
            if value is not None and expected and value not in expected:
                result.mismatches.append(Mismatch(str(record.values[key]), mine, expected, value))
    return result


# ---------------------------------------------------------------- text


def render_text(report: QualityReport) -> str:
    """The report as text: Chinese first, English headers beside."""
    lines = [
        f"数据质量报告 Data-quality report: {report.title} ({report.source})",
        f"记录数 Rows: {report.rows}",
        "",
        _row("数据元 Element", "完整率 Complete", "有效率 Valid", "问题 Problems"),
    ]
    for quality in report.elements:
        problems = ", ".join(
            f"{REASONS[reason]} {reason} ×{count}"
            for reason, count in quality.reasons.most_common()
        )
        if quality.missing:
            problems = ", ".join(filter(None, [f"缺失 missing ×{quality.missing}", problems]))
        lines.append(
            _row(
                f"{quality.code} {quality.name}",
                f"{quality.completeness:.2f}%",
                f"{quality.validity:.2f}%",
                problems or "—",
            )
        )
    duplicates = report.duplicates
    lines += [
        "",
        f"重复 Duplicates (by {'+'.join(duplicates.elements)}): {duplicates.keys} 个键 keys, "
        f"{duplicates.extra_rows} 条多余记录 extra rows, "
        f"其中完全相同 identical {duplicates.identical}"
        + (f" — {', '.join(duplicates.examples)}" if duplicates.examples else ""),
        f"按键查不到 Unreachable by key: {report.unreachable}"
        + (f" — {', '.join(report.unreachable_examples)}" if report.unreachable_examples else ""),
    ]
    examples = [q for q in report.elements if q.examples]
    if examples:
        lines += ["", "问题示例 Examples (masked):"]
        for quality in examples:
            shown = "; ".join(f"{REASONS[reason]}: {raw}" for reason, raw in quality.examples)
            lines.append(f"  {quality.code} {quality.name}: {shown}")
    return "\n".join(lines) + "\n"


COLUMNS = (30, 18, 16)


def _row(*cells: str) -> str:
    padded = [_pad(cell, width) for cell, width in zip(cells, COLUMNS, strict=False)]
    return "".join(padded) + cells[-1]


def _pad(text: str, width: int) -> str:
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - shown)
