"""The demo legacy sources: different schemas, the same people, deterministic for a seed."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tongban.demo.legacy import DEFECTS, LegacySources, create_legacy_sources
from tongban.demo.legacy_people import ANCHORS
from tongban.exchange.cleaning import clean_id_number, tidy
from tongban.kit.ids import is_valid_id_number


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(query).fetchall()


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def test_same_seed_same_sources_other_seed_other_people(tmp_path: Path) -> None:
    first = create_legacy_sources(tmp_path / "a", people=400, seed=11)
    second = create_legacy_sources(tmp_path / "b", people=400, seed=11)
    third = create_legacy_sources(tmp_path / "c", people=400, seed=12)
    for name in ("population", "realestate", "social_insurance"):
        assert dump(getattr(first, name)) == dump(getattr(second, name))
        assert dump(getattr(first, name)) != dump(getattr(third, name))
    assert first.subsistence_csv.read_bytes() == second.subsistence_csv.read_bytes()
    assert first.samples == second.samples


def test_too_few_people_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="200"):
        create_legacy_sources(tmp_path, people=50)


def test_three_schemas_with_their_own_names(legacy: LegacySources) -> None:
    tables = {
        name: {
            row[0]
            for row in rows(
                getattr(legacy, name), "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        for name in ("population", "realestate", "social_insurance")
    }
    assert tables == {
        "population": {"RK_JBXX"},
        "realestate": {"BDC_QLR", "BDC_FW"},
        "social_insurance": {"SB_CBXX"},
    }
    # Each keeps dates its own way.
    assert isinstance(
        rows(legacy.population, "SELECT CSRQ FROM RK_JBXX WHERE CSRQ > 0 LIMIT 1")[0][0], int
    )
    assert "/" in str(rows(legacy.realestate, "SELECT DJSJ FROM BDC_FW LIMIT 1")[0][0])
    assert (
        str(rows(legacy.social_insurance, "SELECT AAE030 FROM SB_CBXX LIMIT 1")[0][0])[2:7].count(
            "-"
        )
        == 2
    )


def test_a_few_thousand_people_and_the_demo_applicants(legacy: LegacySources) -> None:
    people = rows(legacy.population, "SELECT COUNT(DISTINCT GMSFHM), COUNT(*) FROM RK_JBXX")[0]
    assert people == (3000 - DEFECTS["population"]["duplicate_rows"] + 3, 3000 + 3)
    for anchor in ANCHORS:
        assert rows(
            legacy.population, f"SELECT XM FROM RK_JBXX WHERE GMSFHM = '{anchor.id_number}'"
        ) == [(anchor.name,)]
    ma = ANCHORS[0].id_number
    assert rows(legacy.realestate, f"SELECT COUNT(*) FROM BDC_QLR WHERE ZJH = '{ma}'") == [(0,)]
    assert rows(legacy.social_insurance, f"SELECT AAC008 FROM SB_CBXX WHERE AAC002 = '{ma}'") == [
        ("1",)
    ]


def test_the_same_person_has_the_same_number_and_name_everywhere(legacy: LegacySources) -> None:
    names = {
        clean_id_number(id_number): tidy(str(name))
        for id_number, name in rows(legacy.population, "SELECT GMSFHM, XM FROM RK_JBXX")
    }
    conflicts = set(legacy.samples["name_conflict"])
    for source, query in [
        (legacy.realestate, "SELECT ZJH, QLRMC FROM BDC_QLR"),
        (legacy.social_insurance, "SELECT AAC002, AAC003 FROM SB_CBXX"),
    ]:
        for id_number, name in rows(source, query):
            assert is_valid_id_number(str(id_number))
            assert id_number in names  # everyone is registered with the police
            assert name == names[id_number] or id_number in conflicts
    differing = {
        i for i, n in rows(legacy.realestate, "SELECT ZJH, QLRMC FROM BDC_QLR") if n != names[i]
    }
    assert differing == conflicts and len(conflicts) == DEFECTS["realestate"]["name_conflict"]
    assert ANCHORS[1].id_number in conflicts


def test_the_roster_drops_hold_the_same_people(legacy: LegacySources) -> None:
    with legacy.subsistence_csv.open(encoding="gb18030", newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    sheet = load_workbook(legacy.subsistence_xlsx, read_only=True)["低保名册"]
    header, *from_xlsx = list(sheet.iter_rows(values_only=True))
    assert list(from_csv[0]) == list(header)
    assert [r["姓名"] for r in from_csv] == [r[1] for r in from_xlsx]
    assert isinstance(from_xlsx[2][2], float)  # the number typed into Excel as a number
    assert any(isinstance(r[4], int) for r in from_xlsx)  # bare serial numbers
    assert from_csv[3]["认定日期"].isdigit()  # Unix seconds
