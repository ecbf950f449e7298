"""Adapters: read a department's legacy source as clean data elements, never change it.

Every adapter answers three questions through its mapping file:

* ``fetch(elements, key)`` — the records of one person (or property, company…)
  with only the elements asked for, cleaned;
* ``check(claim)`` — a yes/no answer ("is this person enrolled?", "does this
  person own property X?"), preferred over whole records;
* ``iter_records()`` — every record, for the data-quality report.

A value that fails cleaning is carried as a ``Problem`` in its record, never
passed on raw and never dropped without a trace. Concrete adapters:
``adapters_sql.SqlAdapter``, ``adapters_file.FileAdapter`` and
``adapters_rest.RestAdapter``; ``open_adapter`` picks one for a mapping.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tongban.errors import Conflict, DomainError, Invalid
from tongban.exchange.addresses import Gazetteer
from tongban.exchange.cleaning import Problem, Value, clean_address, clean_value
from tongban.exchange.elements import Registry, demo_gazetteer, load_registry
from tongban.exchange.mapping import Mapping as SourceMapping
from tongban.exchange.mapping import load_mapping
from tongban.kit.clock import local_today

RawRow = dict[str, object]  # element code → the value as the source holds it


class MappingError(ValueError):
    """The mapping does not fit the source (a table, column or header is not there)."""


class SourceError(DomainError):
    """The source could not be read: it is down, too slow or answered nonsense."""

    status = 503


@dataclass(frozen=True)
class Record:
    values: dict[str, Value]
    problems: tuple[Problem, ...] = ()
    raw: RawRow = field(default_factory=dict)

    def project(self, codes: Collection[str]) -> Record:
        return Record(
            values={c: v for c, v in self.values.items() if c in codes},
            problems=tuple(p for p in self.problems if p.element in codes),
            raw={c: v for c, v in self.raw.items() if c in codes},
        )


@dataclass(frozen=True)
class Claim:
    """A yes/no question: does a record under ``key`` hold these values?

    ``equals`` maps element codes (or ids) to the claimed values; empty asks
    whether there is any record at all. ``until`` names date elements that end a
    record's validity: a record counts only while each is ``today`` or later.
    Several records under one key (an enterprise's agents): any one may hold.
    """

    key: str
    equals: Mapping[str, Value] = field(default_factory=dict)
    until: Sequence[str] = ()


class Adapter(ABC):
    def __init__(
        self,
        mapping: SourceMapping,
        *,
        registry: Registry | None = None,
        gazetteer: Gazetteer | None = None,
        today: date | None = None,
    ) -> None:
        self.mapping = mapping
        self.registry = registry or load_registry()
        self.gazetteer = gazetteer or demo_gazetteer()
        self.today = today  # None: the real today (dates after it are reported)
        mapping.check_against(self.registry)

    @property
    def source(self) -> str:
        return self.mapping.source

    # ------------------------------------------------------------ the interface

    def fetch(self, elements: Sequence[str], key: str) -> list[Record]:
        """Records under ``key`` with only ``elements`` (codes or ids), cleaned."""
        wanted = {self._provided(element) for element in elements}
        clean_key = self.clean_key(key)
        needed = wanted | {self.mapping.key}
        records = [self.clean(raw, only=needed) for raw in self._rows_for(clean_key)]
        return [
            record.project(wanted)
            for record in records
            if record.values.get(self.mapping.key) == clean_key
        ]

    def check(self, claim: Claim) -> bool:
        """True if a record under the claim's key has every claimed value (and is current).

        A record whose claimed element failed cleaning, and whose valid elements do
        not already rule it out, can neither confirm nor deny: when no other record
        confirms, that raises ``claim_unverifiable`` rather than answering no.
        """
        expected = {self._provided(code): value for code, value in claim.equals.items()}
        expected = {code: self._clean_expected(code, value) for code, value in expected.items()}
        until = [self._provided(code) for code in claim.until]
        today = (self.today or local_today()).isoformat()  # dates are clean ISO text
        records = self.fetch([self.mapping.key, *expected, *until], claim.key)

        def failing(record: Record) -> set[str]:
            values = record.values
            return {c for c, v in expected.items() if values.get(c) != v} | {
                c for c in until if str(values.get(c, "")) < today
            }

        if any(not failing(record) for record in records):
            return True
        asked = {*expected, *until}

        def undecided(record: Record) -> bool:
            broken = {p.element for p in record.problems} & asked
            return bool(broken) and failing(record) <= broken

        if any(undecided(record) for record in records):
            raise Conflict(
                "claim_unverifiable",
                f"{self.mapping.title}中该记录的数据有误，无法核验，请提供证明材料",
                f"The {self.source} record holds invalid data and cannot be verified; "
                "please provide the document",
                details={"source": self.source, "elements": sorted(asked)},
            )
        return False

    def iter_records(self) -> Iterator[Record]:
        """Every record of the source, cleaned (problems included)."""
        for raw in self._all_rows():
            yield self.clean(raw)

    def reachable(self, raw_key: object, clean_key: str) -> bool:
        """Whether ``fetch(…, clean_key)`` finds the row holding ``raw_key``."""
        return True

    def close(self) -> None:  # noqa: B027 - most adapters hold nothing to release
        """Release connections; the adapter is not used afterwards."""

    # ------------------------------------------------------------ cleaning

    def clean_key(self, key: str) -> str:
        element = self.registry.elements[self.mapping.key]
        result = clean_value(element, key, registry=self.registry, gazetteer=self.gazetteer)
        if isinstance(result, Problem):
            raise Invalid(
                "invalid_key",
                f"查询键{element.name}无效（{result.reason_zh}）",
                f"Invalid lookup key for {element.name_en}: {result.reason}",
                details={"element": element.code, "reason": result.reason},
            )
        return str(result)

    def clean(self, raw: RawRow, *, only: Collection[str] | None = None) -> Record:
        """The record of a raw row: every mapped element, or ``only`` these (and their bases)."""
        values: dict[str, Value] = {}
        problems: list[Problem] = []
        for code in self._to_clean(only):
            origin = self.mapping.elements[code]
            element = self.registry.elements[code]
            if element.format == "address":
                self._clean_address(code, raw.get(code), values, problems)
                continue
            result = clean_value(
                element,
                raw.get(code),
                registry=self.registry,
                gazetteer=self.gazetteer,
                rules=origin.rules(),
                today=self.today,
            )
            if isinstance(result, Problem):
                problems.append(result)
            else:
                values[code] = result
        return Record(values=values, problems=tuple(problems), raw=raw)

    def _to_clean(self, only: Collection[str] | None) -> list[str]:
        elements = self.mapping.elements
        if only is None:
            return self.mapping.source_elements
        bases = {elements[code].derived_from or code for code in only}
        return [code for code in self.mapping.source_elements if code in bases]

    def _clean_address(
        self, code: str, raw: object, values: dict[str, Value], problems: list[Problem]
    ) -> None:
        parts = clean_address(raw, element=code, gazetteer=self.gazetteer)
        derived = {
            part_code: self.registry.elements[part_code].part
            for part_code, origin in self.mapping.elements.items()
            if origin.derived_from == code
        }
        if isinstance(parts, Problem):
            problems.append(parts)
            reason = "missing" if parts.reason == "missing" else "address_invalid"
            problems.extend(Problem(part_code, raw, reason) for part_code in derived)
            return
        values[code] = parts.full
        for part_code, part in derived.items():
            value = getattr(parts, part or "")
            if value:
                values[part_code] = value
            else:
                problems.append(Problem(part_code, raw, "missing"))

    def _clean_expected(self, code: str, value: Value) -> Value:
        element = self.registry.elements[code]
        result = clean_value(element, value, registry=self.registry, gazetteer=self.gazetteer)
        if isinstance(result, Problem):
            raise Invalid(
                "invalid_claim",
                f"核验值{element.name}无效（{result.reason_zh}）",
                f"Invalid claimed value for {element.name_en}: {result.reason}",
                details={"element": code, "reason": result.reason},
            )
        return result

    def _provided(self, code_or_id: str) -> str:
        try:
            code = self.registry.element(code_or_id).code
        except KeyError:
            code = code_or_id
        if code not in self.mapping.elements:
            raise Invalid(
                "element_not_provided",
                f"{self.mapping.title}不提供数据元：{code_or_id}",
                f"Source {self.source} does not provide data element {code_or_id}",
                details={"source": self.source, "element": code_or_id},
            )
        return code

    # ------------------------------------------------------------ per kind of source

    @abstractmethod
    def _rows_for(self, clean_key: str) -> list[RawRow]:
        """Raw rows that may hold ``clean_key`` (the caller keeps only true matches)."""

    @abstractmethod
    def _all_rows(self) -> Iterator[RawRow]:
        """Every raw row the mapping covers."""


def open_adapter(mapping: SourceMapping | str, location: str | Path, **options: Any) -> Adapter:
    """The adapter for ``mapping`` (or a mapping name) reading ``location``.

    ``location`` is a SQLAlchemy URL, a file path or a base URL, per the mapping's kind.
    """
    if isinstance(mapping, str):
        mapping = load_mapping(mapping)
    if mapping.kind == "sql":
        from tongban.exchange.adapters_sql import SqlAdapter

        return SqlAdapter(mapping, str(location), **options)
    if mapping.kind == "file":
        from tongban.exchange.adapters_file import FileAdapter

        return FileAdapter(mapping, Path(location), **options)
    from tongban.exchange.adapters_rest import RestAdapter

    return RestAdapter(mapping, str(location), **options)
