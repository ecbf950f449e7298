"""Scenario: 住房公积金贷款 without 户口簿, 无房证明 or 社保证明 (免提交), on both databases.

The demo county's three legacy department databases — 公安人口库, 不动产登记库, 社保参保库 —
answer for the applicant when the case is submitted. 马晓燕 (no property, insured)
passes every check with no proof uploaded; 李建军 owns a house, and at the window his
name is typed as the property register spells it (李建君): both are flagged, masked,
and the case waits for the paper. When the property register is down the case is
still submitted, and the clerk is told to ask for the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_support import county_session
from exchange_support import demo_actor as actor
from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.demo.cases import SAMPLE_PDF
from tongban.demo.legacy import LegacySources, create_legacy_sources
from tongban.demo.legacy_people import ANCHORS
from tongban.errors import Conflict
from tongban.exchange import service as exchange_service
from tongban.exchange.models import ExchangeProvider
from tongban.exchange.schemas import ConsentCreate

LOAN = "11640425MB00009TBM201007100100001"  # 住房公积金贷款
MA, LI = ANCHORS  # 马晓燕: no property, insured; 李建军: a house, spelled 李建君 there
SOURCES = {
    "申请人户口簿": "公安人口库",
    "无其他住房证明": "不动产登记库",
    "社保缴存证明": "社保参保库",
}
FORM = {"loan_yuan": 300000, "years": 20, "property_address": "彭阳县白阳镇阳光小区3号楼"}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> LegacySources:
    return create_legacy_sources(tmp_path_factory.mktemp("legacy"), people=600)


@pytest.fixture
def county(demo_db: str, legacy: LegacySources) -> Iterator[Session]:
    """The demo county with its legacy sources registered, approved, enabled and granted."""
    with county_session(demo_db, legacy.directory) as session:
        yield session


def consent_to_property_check(session: Session, username: str) -> None:
    """The borrower signs the 个人信息查询授权书 online (the property check's legal basis)."""
    consent = ConsentCreate(
        consumer=f"item:{LOAN}", service_code="realestate.ownership", purpose="housing_fund_loan"
    )
    exchange_service.give_consent(session, actor=actor(session, username), data=consent)


def apply(session: Session, filer: Actor, name: str, id_number: str) -> CaseDetail:
    """Apply uploading only what is not replaced by shared data."""
    item = catalog_service.get_item(session, code=LOAN)
    uploads = [m for m in item.materials if case_service.must_upload(m)]
    assert {m.name for m in uploads} == {"购房合同", "首付款证明"}
    materials = [
        MaterialIn(
            requirement_id=m.id,
            upload_id=case_service.save_upload(
                session, actor=filer, filename="合同.pdf", content=SAMPLE_PDF
            ).upload_id,
        )
        for m in uploads
    ]
    return case_service.submit_case(
        session,
        actor=filer,
        data=CaseCreate(
            item_code=LOAN,
            applicant=ApplicantIn(name=name, id_number=id_number, phone="13900000000"),
            form=FORM,
            materials=materials,
            channel="window" if filer.role.value == "clerk" else "online",
        ),
    )


def login(web: Any, username: str) -> None:
    page = web.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"username": username, "password": "Demo@2026", "csrf_token": token.group(1)}
    assert web.post("/login", data=form, follow_redirects=False).status_code == 303


def checks(case: CaseDetail) -> dict[str, Any]:
    return {v.requirement_name: v for v in case.verifications}


def accept(session: Session, case_no: str, **payload: Any) -> CaseDetail:
    clerk = actor(session, "clerk")
    current = case_service.get_case(session, actor=clerk, case_no=case_no)
    return case_service.act(
        session,
        actor=clerk,
        case_no=case_no,
        action=ActionIn(action="accept", version=current.version, payload=payload),
    )


def test_ma_applies_without_any_proof_and_every_check_passes(county: Session) -> None:
    consent_to_property_check(county, "applicant_ma")
    submitted = apply(county, actor(county, "applicant_ma"), MA.name, MA.id_number)
    assert submitted.state == "submitted"
    assert len(submitted.materials) == 2  # 购房合同 and 首付款证明 only

    clerk_view = case_service.get_case(
        county, actor=actor(county, "clerk"), case_no=submitted.case_no
    )
    found = checks(clerk_view)
    assert {name: v.source for name, v in found.items()} == SOURCES
    for check in found.values():
        assert (check.outcome, check.code, check.ask_for_paper) == ("verified", "", None)
        assert check.at is not None and check.request_id
    assert found["申请人户口簿"].fields and all(f.matches for f in found["申请人户口簿"].fields)
    # The event log records each check, without moving the case.
    verify_events = [e for e in clerk_view.events if e.action == "verify"]
    assert len(verify_events) == 3
    assert all(e.from_state == e.to_state == "submitted" for e in verify_events)
    assert all(e.national_code is None for e in verify_events)
    assert {e.action_label for e in verify_events} == {"共享数据核验（免提交）"}
    assert any(e.note == "无其他住房证明：核验通过（不动产登记库）" for e in verify_events)
    # Nothing is left to check on paper: the clerk accepts at once.
    assert accept(county, submitted.case_no).state == "in_review"


def test_li_is_flagged_with_reasons_and_masked_values(county: Session) -> None:
    consent_to_property_check(county, "applicant_li")
    online = apply(county, actor(county, "applicant_li"), LI.name, LI.id_number)
    flagged = checks(online)
    assert flagged["申请人户口簿"].outcome == "verified"
    assert flagged["社保缴存证明"].outcome == "verified"
    house = flagged["无其他住房证明"]
    assert (house.outcome, house.code, house.source) == (
        "mismatch",
        "exchange_claim_holds",
        "不动产登记库",
    )
    assert "不动产登记库" in house.message and house.ask_for_paper

    # At the window the clerk copies the name from his property certificate: 李建君.
    clerk = actor(county, "clerk")
    window = apply(county, clerk, "李建君", LI.id_number)
    population = checks(window)["申请人户口簿"]
    assert (population.outcome, population.code) == ("mismatch", "exchange_values_differ")
    assert "姓名" in population.message
    by_element = {f.element: f for f in population.fields}
    name = by_element["DE0002"]
    assert (name.matches, name.declared, name.registered) == (False, "李**", "李**")
    assert by_element["DE0001"].matches
    assert LI.id_number not in by_element["DE0001"].registered  # masked
    # The applicant sees the same verdict on their own case.
    own = case_service.get_case(county, actor=actor(county, "applicant_li"), case_no=online.case_no)
    assert checks(own)["无其他住房证明"].ask_for_paper == house.ask_for_paper

    # Acceptance waits for the paper: the clerk checks his 户口簿 (the name is 李建军) —
    # but the register says he owns a house, so the case cannot be accepted as it is.
    with pytest.raises(Conflict) as waiting:
        accept(county, window.case_no)
    assert waiting.value.code == "verification_unresolved"
    assert waiting.value.details["materials"] == ["申请人户口簿", "无其他住房证明"]
    with pytest.raises(Conflict) as still:
        accept(county, window.case_no, paper_checked=[population.id])
    assert still.value.details["materials"] == ["无其他住房证明"]
    clerk_view = case_service.get_case(county, actor=clerk, case_no=window.case_no)
    assert clerk_view.state == "submitted"  # nothing half-done: the refused accept rolled back
    refused = case_service.act(
        county,
        actor=clerk,
        case_no=window.case_no,
        action=ActionIn(
            action="refuse", version=clerk_view.version, note="借款人在本县已有现势住房"
        ),
    )
    assert refused.state == "refused"


def test_a_property_register_that_is_down_still_lets_the_case_in(
    county: Session, demo_db: str, tmp_path: Path
) -> None:
    consent_to_property_check(county, "applicant_ma")
    register = county.scalars(
        select(ExchangeProvider).where(ExchangeProvider.code == "realestate")
    ).one()
    register.location = f"sqlite:///{tmp_path / 'moved-away.db'}"
    register.retries = 0
    county.flush()

    submitted = apply(county, actor(county, "applicant_ma"), MA.name, MA.id_number)
    assert submitted.state == "submitted"
    down = checks(submitted)["无其他住房证明"]
    assert (down.outcome, down.service_code) == ("unavailable", "realestate.ownership")
    assert down.code and "请提供" in down.message
    assert down.ask_for_paper and "提供该材料" in down.ask_for_paper
    assert checks(submitted)["社保缴存证明"].outcome == "verified"
    county.commit()
    # The clerk's workbench page shows the checks and asks for the paper on the accept form.
    from fastapi.testclient import TestClient

    from tongban.app import create_app

    with TestClient(create_app(demo_db)) as web:
        login(web, "clerk")
        page = web.get(f"/workbench/cases/{submitted.case_no}").text
    assert "共享数据核验（免提交）" in page and "社保参保库" in page and "无法核验" in page
    assert f'name="paper_checked" value="{down.id}"' in page
    # Never a silent pass: acceptance needs the paper 无房证明 checked first.
    with pytest.raises(Conflict):
        accept(county, submitted.case_no)
    county.rollback()
    assert accept(county, submitted.case_no, paper_checked=[down.id]).state == "in_review"
