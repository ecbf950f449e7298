"""The data-element registry (数据元目录), read from elements.toml and checked on load.

Levels, personal-information classes and mask kinds use the privacy policy's
vocabulary (tongban.privacy.policy), so an element and a form field classified the
same way are masked the same way.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.exchange.addresses import Gazetteer
from tongban.privacy.policy import Level, MaskKind, PersonalClass

ELEMENTS_FILE = Path(__file__).with_name("elements.toml")
ELEMENT_CODE = re.compile(r"^DE\d{4}$")

ElementType = Literal["string", "date", "integer", "code"]
Format = Literal[
    "id_number",
    "credit_code",
    "name",
    "text",
    "address",
    "address_part",
    "property_cert_no",
    "date",
    "integer",
    "code",
]
AddressPart = Literal["province", "city", "county"]

# Which type each format produces: the registry refuses any other pairing.
FORMAT_TYPES: dict[str, ElementType] = {
    "id_number": "string",
    "credit_code": "string",
    "name": "string",
    "text": "string",
    "address": "string",
    "address_part": "string",
    "property_cert_no": "string",
    "date": "date",
    "integer": "integer",
    "code": "code",
}


class CodeList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    standard: str = ""
    note: str = ""
    codes: dict[str, str] = Field(min_length=1)
    aliases: dict[str, str] = {}

    @model_validator(mode="after")
    def _aliases_name_codes(self) -> CodeList:
        strays = sorted(code for code in self.aliases.values() if code not in self.codes)
        if strays:
            raise ValueError(f"aliases point to unknown codes: {strays}")
        return self

    def standard_code(self, value: str) -> str | None:
        """The code for a code, a label or an alias of this list; None if it is none of them."""
        if value in self.codes:
            return value
        for code, label in self.codes.items():
            if label == value:
                return code
        return self.aliases.get(value)


class DataElement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = ""  # filled from the table key
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str
    type: ElementType
    format: Format
    standard: str = ""
    level: Level
    personal: PersonalClass
    mask: MaskKind
    codelist: str | None = None
    part: AddressPart | None = None
    minimum: int | None = None
    maximum: int | None = None
    latest: Literal["today"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DataElement:
        if FORMAT_TYPES[self.format] != self.type:
            raise ValueError(f"format {self.format} produces {FORMAT_TYPES[self.format]}")
        if (self.format == "code") != (self.codelist is not None):
            raise ValueError("a code list goes with format 'code', and only with it")
        if (self.format == "address_part") != (self.part is not None):
            raise ValueError("'part' goes with format 'address_part', and only with it")
        if self.personal == "sensitive" and self.level == "general":
            raise ValueError("sensitive personal information is at least 'important'")
        return self


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    elements: dict[str, DataElement]
    codelists: dict[str, CodeList]

    @model_validator(mode="after")
    def _check(self) -> Registry:
        for code, element in self.elements.items():
            if not ELEMENT_CODE.match(code):
                raise ValueError(f"element code {code!r} is not DE + 4 digits")
            element.code = code
            if element.codelist is not None and element.codelist not in self.codelists:
                raise ValueError(f"{code}: unknown code list {element.codelist!r}")
        ids = [element.id for element in self.elements.values()]
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        if doubled:
            raise ValueError(f"element ids used twice: {doubled}")
        return self

    def element(self, code_or_id: str) -> DataElement:
        """An element by code (DE0001) or id (id_number); KeyError if there is none."""
        if code_or_id in self.elements:
            return self.elements[code_or_id]
        for element in self.elements.values():
            if element.id == code_or_id:
                return element
        raise KeyError(code_or_id)

    def codelist_of(self, element: DataElement) -> CodeList:
        if element.codelist is None:
            raise KeyError(f"{element.code} has no code list")
        return self.codelists[element.codelist]


@lru_cache
def load_registry(path: Path = ELEMENTS_FILE) -> Registry:
    with path.open("rb") as handle:
        return Registry.model_validate(tomllib.load(handle))


@lru_cache(maxsize=1)
def demo_gazetteer() -> Gazetteer:
    """Every province plus the demo regions (demo/regions.json)."""
    provinces = load_registry().codelists["province"]
    regions_file = files("tongban.demo").joinpath("regions.json")
    demo = [(r["code"], r["name"]) for r in json.loads(regions_file.read_text(encoding="utf-8"))]
    return Gazetteer.build([*provinces.codes.items(), *demo], provinces.aliases)
