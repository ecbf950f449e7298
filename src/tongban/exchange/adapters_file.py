"""File-drop adapter: a CSV or Excel (.xlsx) file a department puts somewhere.

The file is read whole and indexed by clean key; it is read again when its size
or modification time changes (the department dropped a new one). Columns are
found by their header text, as named in the mapping.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tongban.exchange.adapters import Adapter, MappingError, RawRow, SourceError
from tongban.exchange.cleaning import Problem, clean_value
from tongban.exchange.mapping import FileSource
from tongban.exchange.mapping import Mapping as SourceMapping

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})


class FileAdapter(Adapter):
    def __init__(self, mapping: SourceMapping, path: Path, **options: Any) -> None:
        super().__init__(mapping, **options)
        if mapping.file is None:
            raise MappingError(f"{mapping.source}: not a file mapping")
        self.file: FileSource = mapping.file
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._rows: list[RawRow] = []
        self._index: dict[str, list[RawRow]] = {}
        self._load()  # a mapping that does not fit the file fails now

    def _rows_for(self, clean_key: str) -> list[RawRow]:
        self._load()
        return self._index.get(clean_key, [])

    def _all_rows(self) -> Iterator[RawRow]:
        self._load()
        yield from self._rows

    def _load(self) -> None:
        try:
            status = self.path.stat()
        except OSError as exc:
            raise SourceError(
                "source_unavailable",
                f"数据文件不存在或无法读取：{self.path.name}",
                f"Data file missing or unreadable: {self.path.name}",
                details={"source": self.source},
            ) from exc
        stamp = (status.st_mtime_ns, status.st_size)
        with self._lock:
            if stamp == self._stamp:
                return
            rows = [self._by_element(row) for row in self._read()]
            self._rows, self._index, self._stamp = rows, self._indexed(rows), stamp

    def _read(self) -> Iterator[dict[str, object]]:
        if self.path.suffix.lower() in EXCEL_SUFFIXES:
            yield from self._read_excel()
        else:
            yield from self._read_csv()

    def _read_csv(self) -> Iterator[dict[str, object]]:
        with self.path.open(encoding=self.file.encoding, newline="") as handle:
            for _ in range(self.file.header_row - 1):
                next(handle, None)
            reader = csv.reader(handle, delimiter=self.file.delimiter)
            header = [name.strip() for name in next(reader, [])]
            self._check_headers(header)
            for values in reader:
                if any(value.strip() for value in values):
                    yield dict(zip(header, values, strict=False))

    def _read_excel(self) -> Iterator[dict[str, object]]:
        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = workbook[self.file.sheet] if self.file.sheet else workbook.worksheets[0]
            rows = sheet.iter_rows(min_row=self.file.header_row, values_only=True)
            header = [str(name).strip() if name is not None else "" for name in next(rows, ())]
            self._check_headers(header)
            for values in rows:
                if any(value not in (None, "") for value in values):
                    yield dict(zip(header, values, strict=False))
        finally:
            workbook.close()

    def _check_headers(self, header: list[str]) -> None:
        wanted = {origin.column for origin in self.mapping.elements.values() if origin.column}
        absent = sorted(wanted - set(header))
        if absent:
            raise MappingError(f"{self.source}: {self.path.name} has no columns {absent}")

    def _by_element(self, row: dict[str, object]) -> RawRow:
        return {
            code: row.get(origin.column)
            for code, origin in self.mapping.elements.items()
            if origin.column
        }

    def _indexed(self, rows: list[RawRow]) -> dict[str, list[RawRow]]:
        element = self.registry.elements[self.mapping.key]
        index: dict[str, list[RawRow]] = {}
        for row in rows:
            key = clean_value(
                element, row.get(element.code), registry=self.registry, gazetteer=self.gazetteer
            )
            if not isinstance(key, Problem):  # such rows show up in the quality report
                index.setdefault(str(key), []).append(row)
        return index
