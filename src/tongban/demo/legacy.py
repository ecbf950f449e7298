"""Fictional legacy department databases for the data-exchange demo.

``create_legacy_sources`` writes four SQLite files with deliberately different
schemas, date encodings and code lists — 公安人口库 (population.db), 不动产登记库
(realestate.db), 社保参保库 (social_insurance.db), 企业登记库 (enterprise.db,
demo/legacy_enterprise.py) — and one 民政 低保 roster as a GB18030 CSV drop and an
.xlsx drop. The same synthetic people appear in every
source under the same identity number (valid check digits from
``make_id_number``; names combined from common characters, nobody real).

On top of the everyday untidiness that cleaning must absorb (full-width digits,
stray spaces, 15-digit numbers, lower-case x) each source carries a small, fixed
set of defects (``DEFECTS``) that the data-quality report must find with exactly
these counts, and a few deliberate conflicts (a name that differs between the
population and the property register). Output is deterministic for a seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tongban.demo.legacy_enterprise import (
    ENTERPRISE_DEFECTS,
    Enterprise,
    plan_enterprises,
    write_enterprise,
)
from tongban.demo.legacy_people import (
    ANCHORS,
    AS_OF,
    COUNTIES,
    FULL_WIDTH,
    TOWNSHIPS,
    Person,
    Pool,
    database,
    insert,
    make_people,
)
from tongban.demo.legacy_roster import write_roster

ESTATES = ("阳光花园", "锦绣家园", "茹河湾小区", "新华苑", "金鸡坪小区")
DEFAULT_SEED = 2026
EMPLOYERS = (
    "彭阳县示范商贸有限公司",
    "彭阳县茹河农业发展有限公司",
    "固原示范建筑工程有限公司",
    "彭阳县人民医院（演示）",
    "彭阳县第一中学（演示）",
    "彭阳县城乡公交有限公司（演示）",
)
SIMILAR = {
    "军": "君",
    "明": "铭",
    "华": "桦",
    "丽": "莉",
    "芳": "方",
    "英": "瑛",
    "伟": "玮",
    "燕": "艳",
}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DEFECTS: dict[str, dict[str, int]] = {
    "population": {
        "duplicate_rows": 3,
        "bad_check_digit": 4,
        "missing_name": 5,
        "missing_birth_date": 2,
        "unknown_marital_code": 2,
        "unsplittable_address": 1,
        "unreachable_key": 2,
    },
    "realestate": {
        "name_conflict": 3,
        "missing_location": 2,
        "bad_cert_no": 1,
        "duplicate_rows": 1,
    },
    "social_insurance": {
        "unknown_status": 2,
        "missing_employer": 3,
        "negative_months": 1,
        "duplicate_rows": 2,
    },
    "subsistence": {"missing_id": 1, "bad_date": 1},
    "subsistence_xlsx": {"id_stored_as_number": 1},
    **ENTERPRISE_DEFECTS,
}
LEGACY_15_DIGIT = 6  # people whose number the population register holds in 15 digits


@dataclass
class LegacySources:
    directory: Path
    population: Path
    realestate: Path
    social_insurance: Path
    subsistence_csv: Path
    subsistence_xlsx: Path
    enterprise: Path
    defects: dict[str, dict[str, int]] = field(default_factory=lambda: DEFECTS)
    samples: dict[str, list[Any]] = field(default_factory=dict)


def create_legacy_sources(
    directory: Path, *, people: int = 3000, seed: int = DEFAULT_SEED
) -> LegacySources:
    """Write the four databases, the two roster drops and manifest.json into ``directory``."""
    if people < 200:
        raise ValueError("at least 200 people: the deliberate defects need room")
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    persons = make_people(rng, people)
    pool = Pool(rng, [p for p in persons[len(ANCHORS) :] if p.birth.year < 2000])
    sources = LegacySources(
        directory=directory,
        population=directory / "population.db",
        realestate=directory / "realestate.db",
        social_insurance=directory / "social_insurance.db",
        subsistence_csv=directory / "subsistence.csv",
        subsistence_xlsx=directory / "subsistence.xlsx",
        enterprise=directory / "enterprise.db",
    )
    sources.samples = {
        "clean_applicant": [ANCHORS[0].id_number],
        "conflicting_applicant": [ANCHORS[1].id_number],
    }
    _write_population(sources, rng, persons, pool)
    spared = set(pool.taken)  # people with a defect stay out of the other sources
    others = [p for p in persons if p.id_number not in spared]
    _write_realestate(sources, rng, others)
    _write_social_insurance(sources, rng, others)
    adults = [p for p in others[len(ANCHORS) :] if p.adult]
    write_roster(sources.subsistence_csv, sources.subsistence_xlsx, rng, adults, sources.samples)
    # Its own generator, after the others: adding the register changed none of them.
    own = random.Random(seed + 1)
    write_enterprise(sources.enterprise, plan_enterprises(own, others), own, sources.samples)
    (directory / "manifest.json").write_text(
        json.dumps({"seed": seed, "people": people, "defects": sources.defects,
                    "samples": sources.samples},
                   ensure_ascii=False, indent=2),
        encoding="utf-8",
    )  # fmt: skip
    return sources


def registered(
    *, people: int = 3000, seed: int = DEFAULT_SEED
) -> tuple[list[Person], list[Enterprise]]:
    """The people and the 存续 enterprises the sources of ``seed`` hold cleanly (no planted
    defect), recomputed without writing anything — for demo cases that should pass the checks."""
    rng = random.Random(seed)
    persons = make_people(rng, people)
    pool = Pool(rng, [p for p in persons[len(ANCHORS) :] if p.birth.year < 2000])
    pool.take(LEGACY_15_DIGIT + sum(DEFECTS["population"].values()))  # as _write_population
    others = [p for p in persons if p.id_number not in set(pool.taken)]
    plan = plan_enterprises(random.Random(seed + 1), others)
    active = [
        e for e in plan.enterprises if e.status == "1" and e.credit_code not in plan.defective
    ]
    return others, active


# ---------------------------------------------------------------- 公安人口库


def _write_population(
    sources: LegacySources, rng: random.Random, persons: list[Person], pool: Pool
) -> None:
    defects = DEFECTS["population"]
    rows = {p.id_number: _population_row(p) for p in persons}
    for person in pool.take(
        LEGACY_15_DIGIT
    ):  # first-generation 15-digit numbers (cleaning upgrades them)
        rows[person.id_number]["GMSFHM"] = person.id_number[:6] + person.id_number[8:17]
        sources.samples.setdefault("legacy_15_digit", []).append(person.id_number)
    for person in pool.take(defects["bad_check_digit"]):
        wrong = "0" if person.id_number[17] != "0" else "1"
        rows[person.id_number]["GMSFHM"] = person.id_number[:17] + wrong
    for n, person in enumerate(pool.take(defects["missing_name"])):
        rows[person.id_number]["XM"] = None if n % 2 else ""
    for n, person in enumerate(pool.take(defects["missing_birth_date"])):
        rows[person.id_number]["CSRQ"] = None if n % 2 else 0
    for code, person in zip(("7", "99"), pool.take(defects["unknown_marital_code"]), strict=True):
        rows[person.id_number]["HYZK"] = code
    for person in pool.take(defects["unsplittable_address"]):
        rows[person.id_number]["HJDZ"] = "见户籍档案"
    for person in pool.take(defects["unreachable_key"]):
        rows[person.id_number]["GMSFHM"] = person.id_number + "  "  # CHAR(20) padding
        sources.samples.setdefault("unreachable_key", []).append(person.id_number)
    doubled = pool.take(defects["duplicate_rows"])
    sources.samples["duplicate"] = [p.id_number for p in doubled]
    _untidy_population(sources, rng, rows, spared=set(pool.taken))
    ordered = list(rows.values()) + [dict(rows[p.id_number]) for p in doubled]
    with database(sources.population) as db:
        db.execute(
            "CREATE TABLE RK_JBXX (RYID INTEGER PRIMARY KEY, GMSFHM VARCHAR(20), XM VARCHAR(50),"
            " XB CHAR(1), CSRQ INTEGER, MZ CHAR(2), HJDZ VARCHAR(200), HYZK VARCHAR(4))"
        )
        db.execute("CREATE INDEX IDX_RK_JBXX_GMSFHM ON RK_JBXX (GMSFHM)")
        insert(db, "RK_JBXX", ordered)


def _population_row(person: Person) -> dict[str, Any]:
    return {
        "GMSFHM": person.id_number,
        "XM": person.name,
        "XB": person.gender,
        "CSRQ": int(f"{person.birth:%Y%m%d}"),  # integers, as the old system kept them
        "MZ": "03" if person.name[0] in "马海丁虎米" else "01",
        "HJDZ": person.address,
        "HYZK": person.marital,
    }


def _untidy_population(
    sources: LegacySources, rng: random.Random, rows: dict[str, dict[str, Any]], *, spared: set[str]
) -> None:
    """Everyday untidiness that cleaning absorbs: not defects."""
    for id_number, row in rows.items():
        if id_number in spared or id_number in {a.id_number for a in ANCHORS}:
            continue
        roll = rng.random()
        if roll < 0.01:
            row["GMSFHM"] = id_number.translate(FULL_WIDTH)
            sources.samples.setdefault("full_width_id", []).append(id_number)
        elif id_number.endswith("X") and roll < 0.4:
            row["GMSFHM"] = id_number.lower()
        if rng.random() < 0.02:
            row["XM"] = f" {row['XM'][0]} {row['XM'][1:]}\u3000"
        if rng.random() < 0.03:
            row["HYZK"] = row["HYZK"].translate(FULL_WIDTH)


# ---------------------------------------------------------------- 不动产登记库


def _write_realestate(sources: LegacySources, rng: random.Random, persons: list[Person]) -> None:
    adults = [p for p in persons if p.adult and p not in ANCHORS]
    owners = [p for p in adults if rng.random() < 0.35]
    owners = [ANCHORS[1], *owners, *(p for p in owners if rng.random() < 0.15)]  # some own two
    houses: list[dict[str, Any]] = []
    holders: list[dict[str, Any]] = []
    for serial, owner in enumerate(owners, start=1):
        registered = date(2016, 1, 1) + (AS_OF - date(2016, 1, 1)) * rng.random()
        cert = f"宁({registered.year}){COUNTIES[owner.county]}不动产权第{serial:07d}号"
        if rng.random() < 0.05:  # typed with full-width brackets (the same in both tables)
            cert = cert.replace("(", "（").replace(")", "）")
        houses.append(_house(rng, cert, owner, registered, "现势"))
        partner = rng.choice(adults) if serial > 1 and rng.random() < 0.2 else owner
        share = "单独所有" if partner == owner else "共同共有"
        holders += [_holder(cert, holder, share) for holder in dict.fromkeys([owner, partner])]
        if rng.random() < 0.1:  # sold before: the old certificate is history
            seller = rng.choice(adults)
            old = f"宁({registered.year - 3})彭阳县不动产权第{900000 + serial:07d}号"
            houses.append(
                _house(
                    rng, old, seller, registered.replace(year=registered.year - 3, day=1), "历史"
                )
            )
            holders.append(_holder(old, seller, "单独所有"))
            sources.samples.setdefault("previous_owner", []).append([seller.id_number, old])
    _realestate_defects(sources, rng, houses, holders)
    with database(sources.realestate) as db:
        db.execute(
            "CREATE TABLE BDC_FW (FWID INTEGER PRIMARY KEY, BDCQZH VARCHAR(60), BDCDYH CHAR(28),"
            " ZL VARCHAR(200), JZMJ NUMERIC(10, 2), DJSJ VARCHAR(10), QSZT VARCHAR(4))"
        )
        db.execute(
            "CREATE TABLE BDC_QLR (QLRID INTEGER PRIMARY KEY, BDCQZH VARCHAR(60),"
            " QLRMC VARCHAR(100), ZJZL VARCHAR(10), ZJH VARCHAR(18), GYFS VARCHAR(10))"
        )
        db.execute("CREATE INDEX IDX_BDC_QLR_ZJH ON BDC_QLR (ZJH)")
        db.execute("CREATE INDEX IDX_BDC_FW_BDCQZH ON BDC_FW (BDCQZH)")
        insert(db, "BDC_FW", houses)
        insert(db, "BDC_QLR", holders)


def _holder(cert: str, person: Person, share: str) -> dict[str, Any]:
    return {
        "BDCQZH": cert,
        "QLRMC": person.name,
        "ZJZL": "身份证",
        "ZJH": person.id_number,
        "GYFS": share,
    }


def _house(
    rng: random.Random, cert: str, owner: Person, registered: date, state: str
) -> dict[str, Any]:
    town = rng.choice(TOWNSHIPS["640425"])
    return {
        "BDCQZH": cert,
        "BDCDYH": f"{owner.county}{rng.randrange(10**6):06d}GB{rng.randrange(10**5):05d}"
                  f"F{rng.randrange(10**8):08d}",
        "ZL": f"彭阳县{town}{rng.choice(ESTATES)}{rng.randint(1, 20)}号楼"
              f"{rng.randint(1, 4)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室",
        "JZMJ": round(rng.uniform(45, 160), 2),
        "DJSJ": f"{registered.year}/{registered.month}/{registered.day}",  # 2024/1/5
        "QSZT": state,
    }  # fmt: skip


def _realestate_defects(
    sources: LegacySources,
    rng: random.Random,
    houses: list[dict[str, Any]],
    holders: list[dict[str, Any]],
) -> None:
    current = {h["BDCQZH"] for h in houses if h["QSZT"] == "现势"}
    rows_of: dict[str, int] = {}
    for holder in holders:
        rows_of[holder["ZJH"]] = rows_of.get(holder["ZJH"], 0) + 1
    # Only sole owners of a single current property, so each defect counts once.
    sole = [
        h
        for h in holders
        if h["BDCQZH"] in current and h["GYFS"] == "单独所有" and rows_of[h["ZJH"]] == 1
    ]
    assert sole[0]["ZJH"] == ANCHORS[1].id_number
    victims = [sole[0], *rng.sample(sole[1:], 6)]
    for holder in victims[:3]:
        holder["QLRMC"] = _misspelt(holder["QLRMC"])
        sources.samples.setdefault("name_conflict", []).append(holder["ZJH"])
    by_cert = {h["BDCQZH"]: h for h in houses}
    for n, holder in enumerate(victims[3:5]):
        by_cert[holder["BDCQZH"]]["ZL"] = None if n % 2 else ""
    bad = "彭阳县不动产权第12345号"
    by_cert[victims[5]["BDCQZH"]]["BDCQZH"] = victims[5]["BDCQZH"] = bad
    sources.samples["bad_cert_no"] = [victims[5]["ZJH"]]
    holders.append(dict(victims[6]))  # entered twice
    sources.samples["realestate_duplicate"] = [victims[6]["ZJH"]]


def _misspelt(name: str) -> str:
    last = name[-1]
    return name[:-1] + SIMILAR.get(last, "华" if last != "华" else "花")


# ---------------------------------------------------------------- 社保参保库


def _write_social_insurance(
    sources: LegacySources, rng: random.Random, persons: list[Person]
) -> None:
    rows: list[dict[str, Any]] = []
    for person in persons:
        age = (AS_OF - person.birth).days // 365
        roll = rng.random()
        if person in ANCHORS:
            roll = 0.0
        elif not 18 <= age <= 70 or roll >= 0.83:
            continue
        status = "1" if roll < 0.70 else "2" if roll < 0.78 else "3"
        start = date(2000, 1, 1) + (date(2026, 6, 1) - date(2000, 1, 1)) * rng.random()
        months = (AS_OF.year - start.year) * 12 + AS_OF.month - start.month
        rows.append({
            "AAC002": person.id_number, "AAC003": person.name, "AAB004": rng.choice(EMPLOYERS),
            "AAC008": status,
            "AAE030": f"{start.day:02d}-{MONTHS[start.month - 1]}-{start.year}",  # 05-JAN-2024
            "JFYS": months if status == "1" else rng.randint(0, months),
        })  # fmt: skip
    defects = DEFECTS["social_insurance"]
    victims = rng.sample(rows[len(ANCHORS) :], 8)
    victims[0]["AAC008"], victims[1]["AAC008"] = "9", "A"
    victims[2]["AAB004"], victims[3]["AAB004"], victims[4]["AAB004"] = None, "", " "
    victims[5]["JFYS"] = -3
    rows += [dict(v) for v in victims[6 : 6 + defects["duplicate_rows"]]]
    with database(sources.social_insurance) as db:
        db.execute(
            "CREATE TABLE SB_CBXX (AAC001 INTEGER PRIMARY KEY, AAC002 VARCHAR(18),"
            " AAC003 VARCHAR(50), AAB004 VARCHAR(100), AAC008 CHAR(1), AAE030 VARCHAR(11),"
            " JFYS INTEGER)"
        )
        db.execute("CREATE INDEX IDX_SB_CBXX_AAC002 ON SB_CBXX (AAC002)")
        insert(db, "SB_CBXX", rows)
