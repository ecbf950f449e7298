"""The demo 企业登记库: fictional enterprises of the synthetic people, its anchors and defects,
and claims over several rows per key that hold only until a date."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tongban.demo.legacy import DEFECTS, LegacySources, create_legacy_sources, registered
from tongban.demo.legacy_enterprise import (
    ANCHOR_AGENT_UNTIL,
    ANCHOR_ENTERPRISES,
    JIANJUN_TRADING,
    RUYUAN_FARMING,
)
from tongban.demo.legacy_people import ANCHORS
from tongban.errors import Conflict
from tongban.exchange.adapters import Adapter, Claim, open_adapter
from tongban.exchange.cleaning import clean_id_number, tidy
from tongban.exchange.quality import QualityReport, quality_report
from tongban.kit.ids import is_valid_id_number, is_valid_uscc

MA, LI = ANCHORS


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(query).fetchall()


def profile(report: QualityReport) -> dict[str, tuple[int, dict[str, int]]]:
    return {q.code: (q.missing, dict(q.reasons)) for q in report.elements if q.missing or q.reasons}


@pytest.fixture(scope="module")
def enterprise(legacy: LegacySources) -> Iterator[Adapter]:
    adapter = open_adapter("enterprise", f"sqlite:///{legacy.enterprise}")
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def agents(legacy: LegacySources) -> Iterator[Adapter]:
    adapter = open_adapter("enterprise_agents", f"sqlite:///{legacy.enterprise}")
    yield adapter
    adapter.close()


def test_a_few_hundred_fictional_enterprises_of_the_same_people(legacy: LegacySources) -> None:
    enterprises = rows(
        legacy.enterprise, "SELECT TYSHXYDM, QYMC, FDDBR, FDDBRZJHM FROM QY_JBXX ORDER BY QYID"
    )
    assert 250 <= len(enterprises) <= 400
    people = {
        clean_id_number(number): tidy(str(name))
        for number, name in rows(legacy.population, "SELECT GMSFHM, XM FROM RK_JBXX")
    }
    defective = set(legacy.samples["enterprise_defective"])
    for code, name, leader, number in enterprises:
        assert "示范" in str(name)  # every name says it is a demo: no real company
        assert str(code)[:2] == "91" and str(code)[2:6] == "6404"
        assert is_valid_uscc(str(code)) or code[:17] in {d[:17] for d in defective}
        assert people[clean_id_number(number)] == leader  # registered with the police
    for _code, name, number in rows(legacy.enterprise, "SELECT TYSHXYDM, XM, ZJHM FROM QY_JBR"):
        assert not is_valid_id_number(str(number)) or people[str(number)] == name


def test_the_anchors_li_leads_one_enterprise_and_ma_acts_for_another(
    legacy: LegacySources,
) -> None:
    assert [a.credit_code for a in ANCHOR_ENTERPRISES] == legacy.samples["enterprise_anchor"]
    assert all(is_valid_uscc(a.credit_code) for a in ANCHOR_ENTERPRISES)
    assert rows(
        legacy.enterprise,
        f"SELECT QYMC, FDDBR, FDDBRZJHM, DJZT FROM QY_JBXX "
        f"WHERE TYSHXYDM = '{JIANJUN_TRADING.credit_code}'",
    ) == [("彭阳县建军示范商贸有限公司", "李建军", LI.id_number, "CX")]
    assert JIANJUN_TRADING.legal_representative == LI.id_number
    ruyuan = rows(
        legacy.enterprise,
        f"SELECT XM, ZJHM, SQJZRQ FROM QY_JBR WHERE TYSHXYDM = '{RUYUAN_FARMING.credit_code}'",
    )
    assert ("马晓燕", MA.id_number, f"{ANCHOR_AGENT_UNTIL} 23:59:59") in ruyuan
    assert len(ruyuan) >= 2  # several agents under one key
    leader = rows(
        legacy.enterprise,
        f"SELECT FDDBRZJHM FROM QY_JBXX WHERE TYSHXYDM = '{RUYUAN_FARMING.credit_code}'",
    )
    assert leader[0][0] not in {MA.id_number, LI.id_number}


def test_the_quality_report_finds_the_planted_defects(enterprise: Adapter, agents: Adapter) -> None:
    defects = DEFECTS["enterprise"]
    report = quality_report(enterprise)
    found = {
        q.code: (q.missing, dict(q.reasons)) for q in report.elements if q.missing or q.reasons
    }
    assert found == {
        "DE0019": (0, {"bad_check_digit": defects["bad_check_character"]}),
        "DE0027": (0, {"unknown_code": defects["unknown_status"]}),
        "DE0028": (defects["missing_established"], {}),
    }
    assert report.duplicates.extra_rows == report.duplicates.identical == defects["duplicate_rows"]
    assert report.unreachable == 0
    defects = DEFECTS["enterprise_agents"]
    report = quality_report(agents)
    found = {
        q.code: (q.missing, dict(q.reasons)) for q in report.elements if q.missing or q.reasons
    }
    assert found == {
        "DE0031": (0, {"bad_check_digit": defects["bad_id_number"]}),
        "DE0032": (defects["missing_until"], {}),
    }
    assert report.duplicates.extra_rows == 0


def test_legacy_codes_and_dates_are_cleaned(enterprise: Adapter) -> None:
    [record] = enterprise.fetch(
        ["DE0023", "DE0025", "DE0027", "DE0028", "DE0029"], JIANJUN_TRADING.credit_code
    )
    assert record.values == {
        "DE0023": "彭阳县建军示范商贸有限公司",
        "DE0025": "李建军",
        "DE0027": "1",  # CX
        "DE0028": "2012-05-18",  # 2012年5月18日
        "DE0029": "彭阳县红河镇河湾村1组7号",
    }
    words = [r for r in enterprise.iter_records() if r.raw.get("DE0027") in ("在营", "开业")]
    assert words and all(r.values["DE0027"] == "1" for r in words)


def test_registration_claims(enterprise: Adapter, legacy: LegacySources) -> None:
    code = JIANJUN_TRADING.credit_code
    assert enterprise.check(Claim(code, {"DE0027": "1"}))
    assert enterprise.check(Claim(code, {"DE0026": LI.id_number}))
    assert not enterprise.check(Claim(code, {"DE0026": MA.id_number}))
    assert not enterprise.check(Claim(RUYUAN_FARMING.credit_code, {"DE0026": MA.id_number}))
    revoked = legacy.samples["enterprise_revoked"][0]
    assert enterprise.check(Claim(revoked, {"DE0027": "2"}))
    assert not enterprise.check(Claim(revoked, {"DE0027": "1"}))


def test_an_agent_holds_while_the_authorization_runs(
    agents: Adapter, legacy: LegacySources
) -> None:
    def agent(code: str, id_number: str, today: date) -> bool:
        agents.today = today
        try:
            return agents.check(Claim(code, {"DE0031": id_number}, until=["DE0032"]))
        finally:
            agents.today = None

    code = RUYUAN_FARMING.credit_code
    assert agent(code, MA.id_number, date(2026, 12, 3))
    assert agent(code, MA.id_number, ANCHOR_AGENT_UNTIL)  # the last day still counts
    assert not agent(code, MA.id_number, date(2031, 1, 1))
    assert not agent(code, LI.id_number, date(2026, 12, 3))  # not an agent of it
    assert not agent(JIANJUN_TRADING.credit_code, MA.id_number, date(2026, 12, 3))
    expired_code, expired_agent = legacy.samples["enterprise_expired_agent"][0]
    assert not agent(expired_code, expired_agent, date(2026, 12, 3))
    assert agent(expired_code, expired_agent, date(2020, 1, 1))
    # Without `until` a claim ignores the date: any row under the key may hold it.
    assert agents.check(Claim(expired_code, {"DE0031": expired_agent}))


def test_a_row_with_a_broken_date_cannot_vouch_for_its_agent_only(
    agents: Adapter,
) -> None:
    broken = next(r for r in agents.iter_records() if "DE0032" not in r.values)
    code, id_number = broken.values["DE0019"], broken.values["DE0031"]
    with pytest.raises(Conflict) as unverifiable:
        agents.check(Claim(str(code), {"DE0031": id_number}, until=["DE0032"]))
    assert unverifiable.value.code == "claim_unverifiable"
    # Someone else asked about under the same key: the broken row rules itself out.
    assert not agents.check(Claim(str(code), {"DE0031": LI.id_number}, until=["DE0032"]))


def test_the_register_is_deterministic_and_recomputed_without_writing(
    tmp_path: Path, legacy: LegacySources, population: Adapter
) -> None:
    first = create_legacy_sources(tmp_path / "a", people=300, seed=5)
    second = create_legacy_sources(tmp_path / "b", people=300, seed=5)
    with sqlite3.connect(first.enterprise) as a, sqlite3.connect(second.enterprise) as b:
        assert list(a.iterdump()) == list(b.iterdump())
    people, enterprises = registered(people=3000, seed=2026)
    # Everyone recomputed is found in the population register under that name, once.
    for person in people:
        [record] = population.fetch(["DE0002"], person.id_number)
        assert record.values == {"DE0002": person.name}
    clean = {p.id_number for p in people}
    planted = ("duplicate", "unreachable_key", "legacy_15_digit")
    assert not clean & {n for sample in planted for n in legacy.samples[sample]}
    active = {e.credit_code for e in enterprises}
    assert {a.credit_code for a in ANCHOR_ENTERPRISES} <= active
    assert not active & set(legacy.samples["enterprise_defective"])
    in_register = {
        str(code): str(state)
        for code, state in rows(legacy.enterprise, "SELECT TYSHXYDM, DJZT FROM QY_JBXX")
    }
    assert all(in_register[code] in ("CX", "在营", "开业") for code in active)
