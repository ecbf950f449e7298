"""Split a Chinese address into province / prefecture / county (pure).

Known names come first: every province (the GB/T 2260 province code list in
elements.toml, with short forms such as 宁夏) and the regions the platform knows
(demo/regions.json, or the regions table later). A county or prefecture that is not
known is recognised by its suffix (县/区/旗/市…, 市/州/盟/地区); a province never
is — the 34 provinces are a closed list, and a suffix rule would take 固原市 for a
province. Missing upper levels are filled in from a known lower level
(彭阳县… → 宁夏回族自治区 固原市 彭阳县). 直辖市 have no separate prefecture: the
prefecture part repeats the municipality.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tongban.regions.rules import level_of, parent_of

MUNICIPALITY_PREFIXES = frozenset({"11", "12", "31", "50"})
# A place name never contains these: they start the part below the county.
_NOT_IN_NAME = r"[^\d\s省市县区旗镇乡村街路号巷组栋楼室,，]"
CITY_PATTERN = re.compile(rf"{_NOT_IN_NAME}{{1,10}}?(?:自治州|地区|市|州|盟)")
COUNTY_PATTERN = re.compile(rf"{_NOT_IN_NAME}{{1,10}}?(?:自治县|自治旗|特区|林区|县|区|旗|市)")


@dataclass(frozen=True, slots=True)
class AddressParts:
    full: str
    province: str
    city: str
    county: str
    detail: str
    region_code: str | None  # the county's GB/T 2260 code when the county is known


@dataclass(frozen=True)
class Gazetteer:
    """Region names by code and codes by name (full names and province short forms)."""

    names: Mapping[str, str]  # code → full name
    codes: Mapping[str, str]  # full or short name → code
    by_level: Mapping[int, tuple[tuple[str, str], ...]] = field(init=False)

    def __post_init__(self) -> None:
        # (name, code) per level, longest name first: the first match is the best.
        ordered = sorted(self.codes.items(), key=lambda item: -len(item[0]))
        levels = {
            level: tuple(i for i in ordered if level_of(i[1]) == level) for level in (1, 2, 3)
        }
        object.__setattr__(self, "by_level", levels)

    @classmethod
    def build(
        cls, regions: Iterable[tuple[str, str]], province_aliases: Mapping[str, str]
    ) -> Gazetteer:
        names = {code: name for code, name in regions if len(code) == 6}
        codes = {name: code for code, name in names.items()}
        codes.update({alias: code for alias, code in province_aliases.items() if code in names})
        return cls(names=names, codes=codes)

    def match_at(self, text: str, start: int, level: int) -> tuple[str, str] | None:
        """The longest known name of ``level`` at ``text[start:]``: (code, matched text)."""
        for name, code in self.by_level[level]:
            if text.startswith(name, start):
                return code, name
        return None


def split_address(text: str, gazetteer: Gazetteer) -> AddressParts | None:
    """Province, prefecture and county of ``text``, or None when they cannot be told."""
    position = 0
    province, position = _known(text, position, gazetteer, 1)
    city, position = _city(text, position, gazetteer, province)
    county, position = _county(text, position, gazetteer)
    province, city = _fill_upwards(gazetteer, province, city, county)
    if not province[1] or not county[1]:
        return None
    return AddressParts(
        full=text,
        province=province[1],
        city=city[1],
        county=county[1],
        detail=text[position:],
        region_code=county[0],
    )


Part = tuple[str | None, str]  # (code when known, name)


def _known(text: str, position: int, gazetteer: Gazetteer, level: int) -> tuple[Part, int]:
    found = gazetteer.match_at(text, position, level)
    if found is None:
        return (None, ""), position
    code, matched = found
    return (code, gazetteer.names[code]), position + len(matched)


def _city(text: str, position: int, gazetteer: Gazetteer, province: Part) -> tuple[Part, int]:
    if province[0] and province[0][:2] in MUNICIPALITY_PREFIXES:
        return province, position  # 直辖市: the county follows directly
    city, after = _known(text, position, gazetteer, 2)
    if city[1]:
        return city, after
    match = CITY_PATTERN.match(text, position)
    # Without a province before it, a suffix match may just as well be a county
    # (e.g. a county-level city): leave it to the county step.
    if match and province[1] and not gazetteer.match_at(text, position, 3):
        return (None, match.group()), match.end()
    return (None, ""), position


def _county(text: str, position: int, gazetteer: Gazetteer) -> tuple[Part, int]:
    county, after = _known(text, position, gazetteer, 3)
    if county[1]:
        return county, after
    match = COUNTY_PATTERN.match(text, position)
    if match:
        return (None, match.group()), match.end()
    return (None, ""), position


def _fill_upwards(
    gazetteer: Gazetteer, province: Part, city: Part, county: Part
) -> tuple[Part, Part]:
    if county[0] and not city[1]:
        city = _region(gazetteer, parent_of(county[0]))
    if city[0] and not province[1]:
        province = _region(gazetteer, parent_of(city[0]))
    return province, city


def _region(gazetteer: Gazetteer, code: str | None) -> Part:
    if code is None or code not in gazetteer.names:
        return (None, "")
    return (code, gazetteer.names[code])
