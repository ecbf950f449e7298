"""The SQL adapter on the demo legacy databases (SQLite, and PostgreSQL when there is one)."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tongban.demo.legacy import LegacySources
from tongban.errors import DomainError
from tongban.exchange.adapters import Adapter, Claim, MappingError, SourceError, open_adapter
from tongban.exchange.adapters_sql import SqlAdapter
from tongban.exchange.mapping import load_mapping

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_gives_only_the_elements_asked_for(
    population: Adapter, legacy: LegacySources
) -> None:
    ma = legacy.samples["clean_applicant"][0]
    [record] = population.fetch(["DE0002", "marital_status", "DE0008"], ma)
    assert record.values == {"DE0002": "马晓燕", "DE0009": "20", "DE0008": "彭阳县"}
    assert record.problems == ()
    assert set(record.raw) == {"DE0002", "DE0009", "DE0008"} - {
        "DE0008"
    }  # a derived part has no column


@pytest.mark.parametrize("sample", ["legacy_15_digit", "full_width_id"])
def test_keys_stored_in_legacy_forms_are_found(
    population: Adapter, legacy: LegacySources, sample: str
) -> None:
    for id_number in legacy.samples[sample][:5]:
        [record] = population.fetch(["DE0001", "DE0004"], id_number)
        assert record.values["DE0001"] == id_number
        assert record.values["DE0004"] == f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"


def test_a_lower_case_x_key_finds_the_record(population: Adapter) -> None:
    stored = next(
        r.raw["DE0001"] for r in population.iter_records() if str(r.raw["DE0001"]).endswith("x")
    )
    [record] = population.fetch(["DE0002"], str(stored).upper())
    assert record.values["DE0002"]


def test_keys_padded_in_the_source_are_not_found_but_reported(
    population: Adapter, legacy: LegacySources
) -> None:
    for id_number in legacy.samples["unreachable_key"]:
        assert population.fetch(["DE0002"], id_number) == []
        assert not population.reachable(id_number + "  ", id_number)


def test_unknown_people_have_no_records(population: Adapter) -> None:
    from datetime import date

    from tongban.kit.ids import make_id_number

    assert population.fetch(["DE0002"], make_id_number("110105", date(1949, 12, 31), 2)) == []


def test_a_key_that_fails_cleaning_is_refused(population: Adapter) -> None:
    with pytest.raises(DomainError) as raised:
        population.fetch(["DE0002"], "640425199003159980")
    assert (
        raised.value.code == "invalid_key" and raised.value.details["reason"] == "bad_check_digit"
    )


def test_an_element_the_source_does_not_provide_is_refused(
    population: Adapter, legacy: LegacySources
) -> None:
    with pytest.raises(DomainError) as raised:
        population.fetch(["DE0010"], legacy.samples["clean_applicant"][0])
    assert raised.value.code == "element_not_provided" and raised.value.status == 422


def test_ownership_claims(realestate: Adapter, legacy: LegacySources) -> None:
    li, ma = legacy.samples["conflicting_applicant"][0], legacy.samples["clean_applicant"][0]
    [property_of_li] = realestate.fetch(["DE0010", "DE0011", "DE0013"], li)
    assert property_of_li.values["DE0011"] == "李建君"  # the register's spelling
    assert property_of_li.values["DE0013"] == "1"  # 单独所有
    certificate = str(property_of_li.values["DE0010"])
    assert realestate.check(Claim(li))  # owns something
    assert realestate.check(Claim(li, {"property_cert_no": certificate.replace("(", "（")}))
    assert not realestate.check(Claim(li, {"DE0010": "宁(2001)彭阳县不动产权第7654321号"}))
    assert not realestate.check(Claim(ma))  # owns nothing


def test_history_does_not_count_as_ownership(realestate: Adapter, legacy: LegacySources) -> None:
    for seller, old_certificate in legacy.samples["previous_owner"][:5]:
        assert not realestate.check(Claim(seller, {"DE0010": old_certificate}))
        current = {r.values.get("DE0010") for r in realestate.fetch(["DE0010"], seller)}
        assert old_certificate not in current


def test_a_claim_on_invalid_source_data_is_unverifiable_not_false(
    realestate: Adapter, legacy: LegacySources
) -> None:
    owner = legacy.samples["bad_cert_no"][0]
    with pytest.raises(DomainError) as raised:
        realestate.check(Claim(owner, {"DE0010": "宁(2020)彭阳县不动产权第0000009号"}))
    assert raised.value.code == "claim_unverifiable"
    assert realestate.check(Claim(owner))  # that a record exists is still known


def test_enrolment_claims(social_insurance: Adapter, legacy: LegacySources) -> None:
    ma = legacy.samples["clean_applicant"][0]
    assert social_insurance.check(Claim(ma, {"insurance_status": "1"}))
    assert social_insurance.check(
        Claim(ma, {"insurance_status": "参保缴费"})
    )  # the label works too
    assert not social_insurance.check(Claim(ma, {"insurance_status": "3"}))
    with pytest.raises(DomainError) as raised:
        social_insurance.check(Claim(ma, {"insurance_status": "enrolled"}))
    assert raised.value.code == "invalid_claim"


def test_the_source_is_never_modified(legacy: LegacySources) -> None:
    before = {
        name: digest(getattr(legacy, name))
        for name in ("population", "realestate", "social_insurance")
    }
    adapter = SqlAdapter(load_mapping("population"), f"sqlite:///{legacy.population}")
    try:
        list(adapter.iter_records())
        adapter.fetch(["DE0002"], legacy.samples["clean_applicant"][0])
        with (
            pytest.raises(DBAPIError, match=r"readonly|read-only"),
            adapter.engine.begin() as connection,
        ):
            connection.execute(text("DELETE FROM RK_JBXX"))
    finally:
        adapter.close()
    after = {name: digest(getattr(legacy, name)) for name in before}
    assert before == after


def test_a_missing_database_is_unavailable_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with pytest.raises(SourceError) as raised:
        open_adapter("population", f"sqlite:///{path}")
    assert raised.value.code == "source_unavailable" and raised.value.status == 503
    assert not path.exists()


def test_a_mapping_that_does_not_fit_fails_at_start(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE RK_JBXX (GMSFHM TEXT, XM TEXT)")
    with pytest.raises(MappingError, match="no column XB"):
        open_adapter("population", f"sqlite:///{path}")
    with pytest.raises(MappingError, match="no table BDC_QLR"):
        open_adapter("realestate", f"sqlite:///{path}")


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_population(legacy: LegacySources) -> Iterator[str]:
    """The 公安人口库 copied into a fresh PostgreSQL database."""
    import os

    if "postgresql" not in os.environ.get("TONGBAN_TEST_BACKENDS", "sqlite,postgresql"):
        pytest.skip("PostgreSQL not among TONGBAN_TEST_BACKENDS")
    admin_url = os.environ.get("TONGBAN_TEST_PG_ADMIN_URL", PG_ADMIN_URL)
    name = f"tongban_legacy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("TONGBAN_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    with sqlite3.connect(legacy.population) as db:
        rows = db.execute(
            "SELECT RYID, GMSFHM, XM, XB, CSRQ, MZ, HJDZ, HYZK FROM RK_JBXX"
        ).fetchall()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                'CREATE TABLE "RK_JBXX" ("RYID" INTEGER PRIMARY KEY, "GMSFHM" VARCHAR(20),'
                ' "XM" VARCHAR(50), "XB" CHAR(1), "CSRQ" INTEGER, "MZ" CHAR(2),'
                ' "HJDZ" VARCHAR(200), "HYZK" VARCHAR(4))'
            )
        )
        columns = ("RYID", "GMSFHM", "XM", "XB", "CSRQ", "MZ", "HJDZ", "HYZK")
        connection.execute(
            text(f'INSERT INTO "RK_JBXX" VALUES ({", ".join(":" + c for c in columns)})'),
            [dict(zip(columns, row, strict=True)) for row in rows],
        )
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_same_mapping_reads_postgresql_read_only(
    pg_population: str, population: Adapter, legacy: LegacySources
) -> None:
    adapter = open_adapter("population", pg_population)
    try:
        ma = legacy.samples["clean_applicant"][0]
        assert adapter.fetch(["DE0002", "DE0009"], ma) == population.fetch(["DE0002", "DE0009"], ma)
        for id_number in legacy.samples["legacy_15_digit"][:3]:
            assert adapter.fetch(["DE0004"], id_number) == population.fetch(["DE0004"], id_number)
        assert sum(1 for _ in adapter.iter_records()) == sum(1 for _ in population.iter_records())
        assert isinstance(adapter, SqlAdapter)
        with pytest.raises(DBAPIError, match="read-only"), adapter.engine.begin() as connection:
            connection.execute(text('DELETE FROM "RK_JBXX"'))
    finally:
        adapter.close()
