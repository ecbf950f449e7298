"""The verification step at submission: refusals and misconfiguration are outcomes, not errors;
the event log holds no personal values; paper checks are recorded explicitly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from exchange_support import county_session
from exchange_support import demo_actor as actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemCreate
from tongban.demo.cases import SAMPLE_PDF
from tongban.demo.legacy import LegacySources, create_legacy_sources
from tongban.demo.legacy_enterprise import JIANJUN_TRADING
from tongban.demo.legacy_people import ANCHORS
from tongban.errors import Conflict, Invalid

LOAN = "11640425MB00009TBM201007100100001"
MA, LI = ANCHORS
FORM = {"loan_yuan": 200000, "years": 10, "property_address": "彭阳县白阳镇"}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> LegacySources:
    return create_legacy_sources(tmp_path_factory.mktemp("legacy"), people=300)


@pytest.fixture
def county(demo_db: str, legacy: LegacySources) -> Iterator[Session]:
    with county_session(demo_db, legacy.directory) as session:
        yield session


def submit(session: Session) -> CaseDetail:
    ma = actor(session, "applicant_ma")
    item = catalog_service.get_item(session, code=LOAN)
    materials = [
        MaterialIn(
            requirement_id=m.id,
            upload_id=case_service.save_upload(
                session, actor=ma, filename="a.pdf", content=SAMPLE_PDF
            ).upload_id,
        )
        for m in item.materials
        if case_service.must_upload(m)
    ]
    return case_service.submit_case(
        session,
        actor=ma,
        data=CaseCreate(
            item_code=LOAN,
            applicant=ApplicantIn(name=MA.name, id_number=MA.id_number),
            form=FORM,
            materials=materials,
        ),
    )


def test_without_consent_the_property_check_is_denied_and_asks_for_paper(county: Session) -> None:
    case = submit(county)
    by_name = {v.requirement_name: v for v in case.verifications}
    house = by_name["无其他住房证明"]
    assert (house.outcome, house.code) == ("denied", "exchange_consent_missing")
    assert house.ask_for_paper
    assert by_name["申请人户口簿"].outcome == "verified"


def test_the_event_log_keeps_no_personal_value(county: Session) -> None:
    case = submit(county)
    for event in (e for e in case.events if e.action == "verify"):
        text = f"{event.note} {event.payload}"
        assert MA.name not in text and MA.id_number not in text
        assert event.payload["outcome"] and event.payload["service"]


def test_an_item_naming_an_unregistered_service_is_refused_on_save(county: Session) -> None:
    item = catalog_service.get_item(county, code=LOAN)
    data = ItemCreate.model_validate(item.model_dump())
    data.materials[-1].replaced_by_data.service = "marriage.status"  # type: ignore[union-attr]
    with pytest.raises(Invalid) as refused:
        catalog_service.upsert_item(county, data=data)
    assert refused.value.code == "replacement_unknown_service"


def test_a_paper_check_names_a_failed_verification_of_this_case(county: Session) -> None:
    case = submit(county)
    verified = next(v for v in case.verifications if v.outcome == "verified")
    clerk = actor(county, "clerk")
    for bad in ([verified.id], [999999], "1"):
        with pytest.raises(Invalid):
            case_service.act(
                county,
                actor=clerk,
                case_no=case.case_no,
                action=ActionIn(
                    action="accept", version=case.version, payload={"paper_checked": bad}
                ),
            )


MARRIAGE = "11640425MB00010TBR071008300100001"  # 结婚登记: 男女双方居民身份证, 本人户口簿
SEAL = "11640425MB00003TBK101001000100001"  # 印章刻制备案: 营业执照
INVOICE = "11640425MB00004TB9101002000100001"  # 发票申领: 营业执照


def at_window(session: Session, code: str, applicant: ApplicantIn, form: dict[str, Any]) -> Any:
    clerk = actor(session, "clerk")
    item = catalog_service.get_item(session, code=code)
    materials = [
        MaterialIn(
            requirement_id=m.id,
            upload_id=case_service.save_upload(
                session, actor=clerk, filename="a.pdf", content=SAMPLE_PDF
            ).upload_id,
        )
        for m in item.materials
        if case_service.must_upload(m)
    ]
    return case_service.submit_case(
        session,
        actor=clerk,
        data=CaseCreate(
            item_code=code, applicant=applicant, form=form, materials=materials, channel="window"
        ),
    )


def test_a_material_about_both_parties_passes_only_if_both_do(county: Session) -> None:
    ma = ApplicantIn(name=MA.name, id_number=MA.id_number)
    form = {"appointment_date": "2026-12-20", "partner_id": LI.id_number, "partner_name": LI.name}
    both = {v.requirement_name: v for v in at_window(county, MARRIAGE, ma, form).verifications}
    cards = both["男女双方居民身份证"]
    assert (cards.outcome, cards.source, cards.ask_for_paper) == ("verified", "公安人口库", None)
    assert [f.name for f in cards.fields] == [
        "申请人·公民身份号码", "申请人·姓名", "另一方·公民身份号码", "另一方·姓名"
    ]  # fmt: skip
    assert all(f.matches for f in cards.fields)
    assert both["本人户口簿"].outcome == "verified"

    # The other party's name typed as another register spells it: that material is flagged.
    typo = at_window(county, MARRIAGE, ma, {**form, "partner_name": "李建君"})
    flagged = {v.requirement_name: v for v in typo.verifications}["男女双方居民身份证"]
    assert (flagged.outcome, flagged.code) == ("mismatch", "exchange_values_differ")
    assert flagged.message.startswith("另一方：") and flagged.ask_for_paper
    differing = [f for f in flagged.fields if not f.matches]
    assert [(f.name, f.declared, f.registered) for f in differing] == [
        ("另一方·姓名", "李**", "李**")
    ]
    # The clerk accepts only after checking the paper of what did not pass.
    clerk = actor(county, "clerk")
    with pytest.raises(Conflict) as refused:
        case_service.act(county, actor=clerk, case_no=typo.case_no,
                         action=ActionIn(action="accept", version=typo.version))  # fmt: skip
    assert refused.value.code == "verification_unresolved"
    paper = [v.id for v in typo.verifications if v.ask_for_paper]
    accepted = case_service.act(
        county, actor=clerk, case_no=typo.case_no,
        action=ActionIn(action="accept", version=typo.version, payload={"paper_checked": paper}),
    )  # fmt: skip
    assert accepted.state == "in_review"


def test_an_enterprise_applicant_is_checked_by_its_credit_code(
    county: Session, legacy: LegacySources
) -> None:
    jianjun = ApplicantIn(
        kind="enterprise", name=JIANJUN_TRADING.name, credit_code=JIANJUN_TRADING.credit_code
    )
    case = at_window(county, SEAL, jianjun, {"seal_types": "公章", "pickup": "窗口领取"})
    [licence] = case.verifications
    assert (licence.requirement_name, licence.outcome, licence.source, licence.claim) == (
        "营业执照", "verified", "企业登记库", "registered"
    )  # fmt: skip
    for revoked in legacy.samples["enterprise_revoked"][:1]:
        other = ApplicantIn(kind="enterprise", name="某示范公司", credit_code=revoked)
        [flagged] = at_window(county, SEAL, other, {"seal_types": "公章"}).verifications
        assert (flagged.outcome, flagged.code) == ("mismatch", "exchange_claim_false")
    # A person is no enterprise: never a silent pass. (An identity number is no credit code,
    # or, like 马晓燕's by chance, one that passes GB 32100's check but names no enterprise.)
    for person in ANCHORS:
        applicant = ApplicantIn(name=person.name, id_number=person.id_number)
        invoice = at_window(county, INVOICE, applicant, {"invoice_kind": "数电发票（普通发票）"})
        [unknown] = invoice.verifications
        assert unknown.outcome in ("unavailable", "mismatch") and unknown.ask_for_paper
