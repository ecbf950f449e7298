"""The demo exchange: sources generated once, providers approved by a second pair of eyes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange_support import LI, LOAN, MA, entries
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemCreate
from tongban.db import session_factory, transaction
from tongban.demo.exchange import PROVIDERS, all_authorizations, ensure_sources, load_exchange_demo
from tongban.demo.legacy_enterprise import JIANJUN_TRADING, RUYUAN_FARMING
from tongban.demo.loader import read
from tongban.exchange import service
from tongban.exchange.models import ExchangeAuthorization


def test_the_demo_exchange_is_loaded_once_and_each_provider_approved_by_an_admin(
    exchange_db: str,
) -> None:
    with transaction(exchange_db) as s:
        assert load_exchange_demo(s) == 0
    with session_factory(exchange_db)() as s:
        providers = service.providers(s)
        grants = s.scalar(select(func.count()).select_from(ExchangeAuthorization))
        logged = [(e.action, e.actor_username or "system") for e in entries(s)]
    assert {(p.status, p.registered_by, p.decided_by) for p in providers} == {
        ("enabled", "system", "admin")
    }
    assert grants == len(all_authorizations())
    assert logged.count(("exchange.provider.register", "system")) == len(PROVIDERS) == 6
    assert logged.count(("exchange.provider.approve", "admin")) == len(PROVIDERS)
    assert logged.count(("exchange.authorization.grant", "admin")) == grants


def test_the_sources_are_written_where_the_settings_say_only_when_missing(tmp_path: Path) -> None:
    directory = ensure_sources(tmp_path / "sources")
    manifest = directory / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert {p.name for p in directory.iterdir()} >= {
        "population.db",
        "realestate.db",
        "social_insurance.db",
        "subsistence.csv",
        "enterprise.db",
        "manifest.json",
    }
    ensure_sources(directory)
    assert manifest.stat().st_mtime_ns == stamp
    # A source added since the directory was written: generated again, the others the same.
    population = (directory / "population.db").read_bytes()
    (directory / "enterprise.db").unlink()
    ensure_sources(directory)
    assert (directory / "enterprise.db").exists()
    assert (directory / "population.db").read_bytes() == population


def test_loading_again_adds_what_is_missing_and_leaves_a_revoked_grant_revoked(
    exchange_db: str,
) -> None:
    with transaction(exchange_db) as s:
        first = service.authorizations(s)[0]
        service.revoke_authorization(s, actor=None, authorization_id=first.id, note="测试撤销")
    with transaction(exchange_db) as s:
        assert load_exchange_demo(s) == 0
    with session_factory(exchange_db)() as s:
        after = service.authorizations(s)
    assert len(after) == len(all_authorizations())
    assert next(g for g in after if g.id == first.id).status == "revoked"


def test_every_item_replacing_a_material_is_granted_what_it_asks(exchange_db: str) -> None:
    with session_factory(exchange_db)() as s:
        grants = [g for g in service.authorizations(s) if g.consumer_kind == "item"]
    by_key = {(g.consumer, g.service_code, g.purpose): g for g in grants}
    asked = 0
    for item in read("items"):
        for material in item["materials"]:
            wanted = material.get("replaced_by_data")
            if not wanted:
                continue
            asked += 1
            grant = by_key[(item["code"], wanted["service"], wanted["purpose"])]
            assert grant.status == "active"
            if wanted.get("claim"):
                assert wanted["claim"] in grant.claims
            else:
                assert set(wanted["compare"]) <= set(grant.elements)
            if grant.legal_basis == "law":
                assert "《" in grant.legal_reference and "条" in grant.legal_reference
    assert asked == 32
    # Property data for a loan rests on the borrower's consent; the register's own item on law.
    assert by_key[(LOAN, "realestate.ownership", "housing_fund_loan")].legal_basis == "consent"
    transfer = ("11640425MB00008TB0071006000100001", "realestate.ownership")
    assert by_key[(*transfer, "property_transfer_registration")].legal_basis == "law"


def test_the_platform_checks_real_names_and_links_people_to_enterprises(
    exchange_session: Session,
) -> None:
    def platform(function: str, **ask: Any) -> str:
        return service.verify(
            exchange_session, actor=None, consumer_platform=function, purpose=function, **ask
        ).outcome

    name = {"service_code": "population.person_basic", "claim": "name_matches"}
    assert platform("real_name_verification", **name, subject=MA.id_number,
                    claim_values={"DE0002": MA.name}) == "verified"  # fmt: skip
    assert platform("real_name_verification", **name, subject=MA.id_number,
                    claim_values={"DE0002": "马小燕"}) == "mismatch"  # fmt: skip
    registration = {
        "service_code": "enterprise.registration",
        "subject": JIANJUN_TRADING.credit_code,
    }
    assert platform("enterprise_link", **registration, claim="registered") == "verified"
    leader = {"claim": "legal_representative", "claim_values": {"DE0026": LI.id_number}}
    assert platform("enterprise_link", **registration, **leader) == "verified"
    other = {"claim": "legal_representative", "claim_values": {"DE0026": MA.id_number}}
    assert platform("enterprise_link", **registration, **other) == "mismatch"
    named = service.verify(
        exchange_session, actor=None, consumer_platform="enterprise_link",
        purpose="enterprise_link", elements=["DE0023"], **registration,
    )  # fmt: skip
    assert named.records == ({"DE0023": JIANJUN_TRADING.name},)
    agents = {"service_code": "enterprise.agents", "claim": "authorized_agent"}
    for person, expected in ((MA, "verified"), (LI, "mismatch")):
        outcome = platform(
            "enterprise_link", **agents, subject=RUYUAN_FARMING.credit_code,
            claim_values={"DE0031": person.id_number},
        )  # fmt: skip
        assert outcome == expected
    described = service.openapi_of(exchange_session, service_code="enterprise.agents")
    assert described["info"]["x-claims"]["authorized_agent"]["until"] == ["DE0032"]
    # Deny by default: the real-name function may not ask the enterprise register.
    denied = service.verify(
        exchange_session, actor=None, consumer_platform="real_name_verification",
        purpose="real_name_verification", claim="registered", **registration,
    )  # fmt: skip
    assert (denied.outcome, denied.code) == ("denied", "exchange_not_authorized")


def test_the_demo_catalog_saves_against_the_registered_services(
    exchange_session: Session,
) -> None:
    for item in read("items"):  # item save checks every replacement's service, claim, elements
        catalog_service.upsert_item(exchange_session, data=ItemCreate.model_validate(item))
