"""The synthetic people behind the legacy demo sources, and small helpers to write them.

Names are combined from common characters, identity numbers are made with valid
check digits by ``make_id_number`` for the demo counties: nobody real.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tongban.kit.ids import make_id_number

AS_OF = date(2026, 11, 1)  # the sources' "today": fixed, so a seed gives the same files
COUNTIES = {"640425": "彭阳县", "640402": "原州区", "640422": "西吉县", "640423": "隆德县"}
COUNTY_WEIGHTS = (6, 2, 1, 1)
TOWNSHIPS = {"640425": ("白阳镇", "王洼镇", "古城镇", "红河镇", "新集乡", "城阳乡")}
VILLAGES = ("东山", "西沟", "南庄", "北塬", "石岔", "杨坪", "新庄", "河湾", "川口", "崾岘")
ELSEWHERE = ("甘肃省平凉市崆峒区西郊街道", "北京市朝阳区望京街道", "陕西省西安市雁塔区小寨街道")
SURNAMES = "王李张刘陈杨马海丁黄赵吴周徐孙朱胡郭何高罗虎米田冯"
GIVEN = "建国军华明芳丽娟秀英玉兰志强伟刚勇静敏燕霞红梅涛鹏飞磊晶佳欣怡宇浩然涵萱莲文斌春生"
MARITAL_ADULT = (
    ("20", 60),
    ("21", 8),
    ("22", 4),
    ("23", 1),
    ("10", 12),
    ("30", 7),
    ("40", 6),
    ("90", 2),
)
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    gender: str  # GB/T 2261.1: 1 male, 2 female
    birth: date
    county: str
    address: str
    marital: str  # GB/T 2261.2

    @property
    def adult(self) -> bool:
        return (AS_OF - self.birth).days >= 22 * 365


# The demo applicants of users.json: 马晓燕 owns no property and is insured (the
# clean 公积金贷款 case); the property register spells 李建军 as 李建君 (conflict).
ANCHORS = (
    Person("640425199003159981", "马晓燕", "2", date(1990, 3, 15), "640425",
           "宁夏回族自治区固原市彭阳县白阳镇东山村3组12号", "20"),
    Person("640425196509209997", "李建军", "1", date(1965, 9, 20), "640425",
           "宁夏回族自治区固原市彭阳县红河镇河湾村1组5号", "20"),
)  # fmt: skip


# ---------------------------------------------------------------- people


def make_people(rng: random.Random, count: int) -> list[Person]:
    persons = list(ANCHORS)
    used = {p.id_number for p in persons}
    while len(persons) < count:
        county = rng.choices(list(COUNTIES), COUNTY_WEIGHTS)[0]
        birth = date(1936, 1, 1) + (date(2024, 12, 31) - date(1936, 1, 1)) * rng.random()
        gender = rng.choice("12")
        sequence = rng.randrange(1, 997, 2) + (1 if gender == "2" else 0)  # odd: male
        id_number = make_id_number(county, birth, sequence)
        if id_number in used:
            continue
        used.add(id_number)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        adult = (AS_OF - birth).days >= 22 * 365
        marital = weighted(rng, MARITAL_ADULT) if adult else "10"
        persons.append(
            Person(id_number, name, gender, birth, county, address(rng, county), marital)
        )
    return persons


def address(rng: random.Random, county: str) -> str:
    town = rng.choice(TOWNSHIPS.get(county, ("城关镇",)))
    place = f"{town}{rng.choice(VILLAGES)}村{rng.randint(1, 9)}组{rng.randint(1, 60)}号"
    roll = rng.random()
    if roll < 0.02:
        return f"{rng.choice(ELSEWHERE)}{rng.randint(1, 200)}号"  # household moved in from afar
    head = (
        "宁夏回族自治区固原市"
        if roll < 0.72
        else "宁夏固原市"
        if roll < 0.87
        else "固原市"
        if roll < 0.97
        else ""
    )
    return f"{head}{COUNTIES[county]}{place}"


class Pool:
    """Hands out distinct people for the deliberate defects."""

    def __init__(self, rng: random.Random, candidates: list[Person]) -> None:
        self.order = rng.sample(candidates, len(candidates))
        self.taken: list[str] = []

    def take(self, count: int) -> list[Person]:
        chosen, self.order = self.order[:count], self.order[count:]
        self.taken += [p.id_number for p in chosen]
        return chosen


# ---------------------------------------------------------------- helpers


def weighted(rng: random.Random, choices: Iterable[tuple[str, int]]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


class database:  # lower case: used like open()
    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.connection = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.commit()
        self.connection.close()


def insert(db: sqlite3.Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    columns = list(rows[0])
    placeholders = ", ".join("?" for _ in columns)
    db.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
        [tuple(row[c] for c in columns) for row in rows],
    )
