"""Declarative mappings from a legacy source to data elements (mappings/<source>.toml).

A mapping names where each element lives in the source (a column, a file header or
a JSON path), how the source writes it (its own codes, its date encoding) and
which elements make a row unique. It never says how to change the source: the
adapters only read.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.exchange.cleaning import SourceRules
from tongban.exchange.dates import DateEncoding
from tongban.exchange.elements import Registry, load_registry

MAPPINGS_DIR = Path(__file__).with_name("mappings")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ElementSource(BaseModel):
    """Where one element comes from: exactly one of column, path or derived_from."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None  # SQL "COL" or "TABLE.COL"; file: the header text
    path: str | None = None  # REST: dotted JSON path inside a record
    derived_from: str | None = None  # an address element this part is split from
    codes: dict[str, str] = {}  # the source's own code → standard code
    dates: DateEncoding = "auto"

    @model_validator(mode="after")
    def _one_origin(self) -> ElementSource:
        origins = [o for o in (self.column, self.path, self.derived_from) if o is not None]
        if len(origins) != 1:
            raise ValueError("name exactly one of column, path, derived_from")
        return self

    def rules(self) -> SourceRules:
        return SourceRules(codes=self.codes, dates=self.dates)


class Join(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(pattern=IDENTIFIER.pattern)
    left: str = Field(pattern=IDENTIFIER.pattern)  # column of the main table
    right: str = Field(pattern=IDENTIFIER.pattern)  # column of the joined table


class SqlSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(pattern=IDENTIFIER.pattern)
    joins: list[Join] = []
    where: dict[str, str | int] = {}  # column → value: only rows the provider stands behind


class FileSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    encoding: str = "utf-8"  # CSV only; many government exports are GB18030
    delimiter: str = Field(",", min_length=1, max_length=1)
    sheet: str | None = None  # Excel: the sheet name (default: the first)
    header_row: int = Field(1, ge=1)


class RestSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lookup: str = Field(pattern=r"\{key\}")  # path template, e.g. /api/persons/{key}
    records: str = ""  # JSON path to the record (or list of records) in a lookup answer
    listing: str | None = Field(None, pattern=r"\{page\}")  # e.g. /api/persons?page={page}
    items: str = ""  # JSON path to the list of records in a listing answer
    first_page: int = 1
    timeout_seconds: float = Field(5.0, gt=0)


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    department: str
    kind: Literal["sql", "file", "rest"]
    key: str  # the element records are looked up by
    unique: list[str] = Field(min_length=1)  # elements that identify one row
    elements: dict[str, ElementSource]
    sql: SqlSource | None = None
    file: FileSource | None = None
    rest: RestSource | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        if getattr(self, self.kind) is None:
            raise ValueError(f"a {self.kind} mapping needs a [{self.kind}] table")
        for code in [self.key, *self.unique]:
            if code not in self.elements or self.elements[code].derived_from:
                raise ValueError(f"{code} must be mapped from the source itself")
        for code, origin in self.elements.items():
            if origin.derived_from and origin.derived_from not in self.elements:
                raise ValueError(f"{code} is derived from unmapped {origin.derived_from}")
            if self.kind == "rest" and origin.column:
                raise ValueError(f"{code}: a REST source maps JSON paths, not columns")
            if self.kind != "rest" and origin.path:
                raise ValueError(f"{code}: only a REST source maps JSON paths")
        return self

    def check_against(self, registry: Registry) -> None:
        """Every element exists; derived parts come from an address element."""
        for code, origin in self.elements.items():
            if code not in registry.elements:
                raise ValueError(f"{self.source}: unknown data element {code}")
            element = registry.elements[code]
            if (element.format == "address_part") != (origin.derived_from is not None):
                raise ValueError(f"{self.source}: {code} is an address part iff derived")
            if origin.derived_from:
                base = registry.elements.get(origin.derived_from)
                if base is None or base.format != "address":
                    raise ValueError(f"{self.source}: {code} must derive from an address")
            if origin.codes and element.format != "code":
                raise ValueError(f"{self.source}: {code} has source codes but is no code")
            if origin.codes:
                codelist = registry.codelist_of(element)
                strays = sorted(set(origin.codes.values()) - set(codelist.codes))
                if strays:
                    raise ValueError(f"{self.source}: {code} maps to unknown codes {strays}")

    @property
    def source_elements(self) -> list[str]:
        """Elements read from the source itself (not derived)."""
        return [code for code, origin in self.elements.items() if not origin.derived_from]


def load_mapping(name_or_path: str | Path, registry: Registry | None = None) -> Mapping:
    """A mapping by source name (mappings/<name>.toml) or path, checked against the registry."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
    with path.open("rb") as handle:
        mapping = Mapping.model_validate(tomllib.load(handle))
    mapping.check_against(registry or load_registry())
    return mapping
