"""The demo county's data exchange: three legacy department databases and a roster, as providers.

``load_exchange_demo`` writes the fictional legacy sources (demo/legacy.py) into
``settings.exchange_sources_dir`` when they are not there yet, registers one
provider per source with its services, has the demo administrator approve and
enable them (registered by the operator, approved by ``admin``: four eyes), and
grants the demo items what they need — 住房公积金贷款 and 最低生活保障申请 — plus
the window clerks' identity check. Everything goes through the exchange service,
so it is validated and audited like production data. Idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.config import get_settings
from tongban.demo.legacy import create_legacy_sources
from tongban.errors import NotFound
from tongban.exchange import service as exchange_service
from tongban.exchange.schemas import AuthorizationCreate, ProviderCreate

HOUSING_FUND_LOAN = "11640425MB00009TBM201007100100001"  # 住房公积金贷款
SUBSISTENCE = "11640425MB00010TBR051008000100001"  # 最低生活保障申请

PROVIDERS: list[dict[str, Any]] = [
    {
        "code": "population",
        "name": "公安人口库",
        "department_code": "11640425MB00003TBK",
        "kind": "sql",
        "file": "population.db",
        "services": [
            {
                "code": "population.person_basic",
                "name": "人口基本信息",
                "elements": [f"DE000{n}" for n in range(1, 10)],
                "claims": {
                    "name_matches": {"label": "姓名与户籍登记一致", "equals": ["DE0002"]},
                    "registered_in_county": {
                        "label": "户籍在彭阳县",
                        "fixed": {"DE0008": "彭阳县"},
                    },
                },
                "description": "户口簿的替代：按公民身份号码核验姓名、户籍等。",
            }
        ],
    },
    {
        "code": "realestate",
        "name": "不动产登记库",
        "department_code": "11640425MB00008TB0",
        "kind": "sql",
        "file": "realestate.db",
        "services": [
            {
                "code": "realestate.ownership",
                "name": "不动产权属",
                "elements": ["DE0010", "DE0011", "DE0012", "DE0013", "DE0014"],
                "claims": {
                    "owns_property": {"label": "在本县有现势不动产"},
                    "owns_certificate": {"label": "是该不动产权证的权利人", "equals": ["DE0010"]},
                },
                "description": "不动产权证书的替代；仅现势权利。",
            }
        ],
    },
    {
        "code": "social_insurance",
        "name": "社保参保库",
        "department_code": "11640425MB00005TBY",
        "kind": "sql",
        "file": "social_insurance.db",
        "services": [
            {
                "code": "social_insurance.enrolment",
                "name": "社会保险参保信息",
                "elements": ["DE0002", "DE0015", "DE0016", "DE0017", "DE0018"],
                "claims": {"enrolled": {"label": "正常参保缴费", "fixed": {"DE0015": "1"}}},
                "description": "参保证明的替代。",
            }
        ],
    },
    {
        "code": "subsistence",
        "name": "低保名册",
        "department_code": "11640425MB00010TBR",
        "kind": "file",
        "file": "subsistence.csv",
        "services": [
            {
                "code": "subsistence.status",
                "name": "最低生活保障状态",
                "elements": ["DE0002", "DE0021", "DE0022"],
                "claims": {
                    "receives_subsistence": {"label": "正在享受低保", "fixed": {"DE0021": "1"}}
                },
                "description": "低保证的替代。",
            }
        ],
    },
]

HOUSING_LAW = "《住房公积金管理条例》第二十六条；住房城乡建设部《住房公积金个人住房贷款业务规范》"
AID_LAW = "《社会救助暂行办法》第十一条（家庭经济状况核查）"
AUTHORIZATIONS: list[dict[str, Any]] = [
    # 住房公积金贷款: identity and enrolment by law; property (财产信息) on the borrower's consent.
    {
        "consumer": HOUSING_FUND_LOAN,
        "service_code": "population.person_basic",
        # 户口簿 免提交: the name and number are compared, so the clerk sees which one differs.
        "elements": ["DE0001", "DE0002"],
        "claims": ["name_matches"],
        "legal_basis": "law",
        "legal_reference": HOUSING_LAW,
    },
    {
        "consumer": HOUSING_FUND_LOAN,
        "service_code": "social_insurance.enrolment",
        "claims": ["enrolled"],
        "legal_basis": "law",
        "legal_reference": HOUSING_LAW,
    },
    {
        "consumer": HOUSING_FUND_LOAN,
        "service_code": "realestate.ownership",
        "claims": ["owns_property", "owns_certificate"],
        "legal_basis": "consent",
        "legal_reference": "借款人签署的个人信息查询授权书（个人信息保护法第十四条）",
    },
    # 最低生活保障: the family's economic situation is checked by law.
    {
        "consumer": SUBSISTENCE,
        "service_code": "population.person_basic",
        "elements": ["DE0002", "DE0005", "DE0009"],
        "claims": ["name_matches", "registered_in_county"],
        "legal_basis": "law",
        "legal_reference": AID_LAW,
        "purpose": "subsistence_assessment",
        "purpose_label": "低保家庭经济状况核查",
    },
    {
        "consumer": SUBSISTENCE,
        "service_code": "realestate.ownership",
        "claims": ["owns_property"],
        "legal_basis": "law",
        "legal_reference": AID_LAW,
        "purpose": "subsistence_assessment",
        "purpose_label": "低保家庭经济状况核查",
    },
    {
        "consumer": SUBSISTENCE,
        "service_code": "subsistence.status",
        "claims": ["receives_subsistence"],
        "legal_basis": "law",
        "legal_reference": AID_LAW,
        "purpose": "subsistence_assessment",
        "purpose_label": "低保家庭经济状况核查",
    },
    # The window clerk checks that a name belongs to an identity number.
    {
        "consumer_kind": "role",
        "consumer": "clerk",
        "service_code": "population.person_basic",
        "claims": ["name_matches"],
        "legal_basis": "law",
        "legal_reference": "《国务院关于在线政务服务的若干规定》第八条（身份认证）",
        "purpose": "identity_check",
        "purpose_label": "窗口核验申请人身份",
    },
]


def ensure_sources(directory: Path | None = None) -> Path:
    """The legacy sources' directory, generated on first use (deterministic for the seed)."""
    directory = directory or get_settings().exchange_sources_dir
    if not (directory / "manifest.json").exists():
        create_legacy_sources(directory)
    return directory


def load_exchange_demo(session: Session, directory: Path | None = None) -> int:
    """Register, approve and enable the demo providers; grant the demo items. Returns how many
    providers were added (0 when the demo exchange is already there)."""
    if exchange_service.providers(session):
        return 0
    directory = ensure_sources(directory).resolve()
    admin = access_service.actor_by_username(session, "admin")
    if admin is None:
        raise NotFound("demo_user_missing", "缺少演示管理员 admin", "Demo user admin is missing")
    for spec in PROVIDERS:
        data = {k: v for k, v in spec.items() if k != "file"}
        path = directory / spec["file"]
        location = f"sqlite:///{path}" if spec["kind"] == "sql" else str(path)
        data |= {"location": location, "mapping": spec["code"]}
        exchange_service.register_provider(
            session, actor=None, data=ProviderCreate.model_validate(data)
        )
        exchange_service.decide_provider(
            session, actor=admin, code=spec["code"], approve=True, note="演示数据源，审核通过"
        )
        exchange_service.set_provider_status(session, actor=admin, code=spec["code"], enabled=True)
    for grant in AUTHORIZATIONS:
        data = {
            "consumer_kind": "item",
            "purpose": "housing_fund_loan",
            "purpose_label": "住房公积金贷款审核",
            **grant,
        }
        exchange_service.add_authorization(
            session, actor=admin, data=AuthorizationCreate.model_validate(data)
        )
    return len(PROVIDERS)
