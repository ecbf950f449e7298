"""The demo county's data exchange: four legacy department databases and a roster, as providers.

``load_exchange_demo`` writes the fictional legacy sources (demo/legacy.py) into
``settings.exchange_sources_dir`` when they are not there yet, registers one
provider per source (the enterprise register twice: its enterprises and its agents
are two tables, two mappings) with its services, has the demo administrator approve
and enable them (registered by the operator, approved by ``admin``: four eyes), and
grants what needs them: every demo item whose materials are replaced by shared data
(免提交, generated from items.json; 住房公积金贷款 and 最低生活保障申请 by hand), the
window clerks' identity check, and the platform's 实名核验 and enterprise link.
Everything goes through the exchange service, so it is validated and audited like
production data. Idempotent: what is registered or granted (or was, and has been
revoked) is left alone; what is missing is added.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.catalog.schemas import SharedDataReplacement
from tongban.config import get_settings
from tongban.demo.legacy import create_legacy_sources
from tongban.demo.loader import read
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
    {
        "code": "enterprise",
        "name": "企业登记库",
        "department_code": "11640425MB00002TBX",
        "kind": "sql",
        "file": "enterprise.db",
        "services": [
            {
                "code": "enterprise.registration",
                "name": "企业登记信息",
                "elements": ["DE0019", "DE0023", "DE0024", "DE0025", "DE0027", "DE0028", "DE0029"],
                "claims": {
                    "registered": {"label": "登记状态为存续（在营）", "fixed": {"DE0027": "1"}},
                    "legal_representative": {
                        "label": "是该企业的法定代表人",
                        "equals": ["DE0026"],
                    },
                },
                "description": "营业执照的替代：按统一社会信用代码核验登记状态、名称和法定代表人。",
            }
        ],
    },
    {
        # The same database, its agents' table: one enterprise, several rows (a mapping of its own).
        "code": "enterprise_agents",
        "name": "企业登记库（经办人授权）",
        "department_code": "11640425MB00002TBX",
        "kind": "sql",
        "file": "enterprise.db",
        "services": [
            {
                "code": "enterprise.agents",
                "name": "企业经办人授权",
                "elements": ["DE0030", "DE0032"],
                "claims": {
                    "authorized_agent": {
                        "label": "是该企业授权期内的经办人（联络员）",
                        "equals": ["DE0031"],
                        "until": ["DE0032"],
                    }
                },
                "description": "企业授权委托书的替代：核验经办人身份及授权期限。",
            }
        ],
    },
]

DEFAULTS = {"purpose": "housing_fund_loan", "purpose_label": "住房公积金贷款审核"}
IDENTITY_LAW = "《国务院关于在线政务服务的若干规定》第五条（统一身份认证）"
ENTERPRISE_LINK_LAW = (
    "《企业信息公示暂行条例》第六条（注册登记信息）；"
    "《国务院关于在线政务服务的若干规定》第五条（法人统一身份认证）"
)
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
        "legal_reference": IDENTITY_LAW,
        "purpose": "identity_check",
        "purpose_label": "窗口核验申请人身份",
    },
    # The platform itself: 实名核验 when an account is registered, and linking a person to
    # an enterprise they may act for (its legal representative or an authorized agent).
    {
        "consumer_kind": "platform",
        "consumer": "real_name_verification",
        "service_code": "population.person_basic",
        "claims": ["name_matches"],
        "legal_basis": "law",
        "legal_reference": f"《中华人民共和国网络安全法》第二十四条；{IDENTITY_LAW}",
        "purpose": "real_name_verification",
        "purpose_label": "实名核验（注册账号时核验姓名与公民身份号码）",
    },
    {
        "consumer_kind": "platform",
        "consumer": "enterprise_link",
        "service_code": "enterprise.registration",
        "elements": ["DE0023"],
        "claims": ["legal_representative", "registered"],
        "legal_basis": "law",
        "legal_reference": ENTERPRISE_LINK_LAW,
        "purpose": "enterprise_link",
        "purpose_label": "关联企业（核验法定代表人身份）",
    },
    {
        "consumer_kind": "platform",
        "consumer": "enterprise_link",
        "service_code": "enterprise.agents",
        "claims": ["authorized_agent"],
        "legal_basis": "law",
        "legal_reference": ENTERPRISE_LINK_LAW,
        "purpose": "enterprise_link",
        "purpose_label": "关联企业（核验经办人授权）",
    },
]

# 免提交 grants generated from the catalog: per item and service, on this legal basis.
SHARING_LAW = (
    "《国务院关于在线政务服务的若干规定》第七条（通过数据共享能够获得的信息，不得要求另行提供）"
)
LAWS = {
    "population.person_basic": f"{IDENTITY_LAW}；{SHARING_LAW}",
    "enterprise.registration": f"《企业信息公示暂行条例》第六条（注册登记信息）；{SHARING_LAW}",
    "realestate.ownership": "《不动产登记暂行条例》第二十四条、第二十五条"
    "（登记信息互通共享，能够共享取得的信息不得要求申请人重复提交）",
}
# Property (个人财产信息) is asked on the person's consent unless the register itself asks.
CONSENT_SERVICES = {"realestate.ownership": "11640425MB00008TB0"}
CONSENT_REFERENCE = "申请人签署的个人信息查询授权书（个人信息保护法第十四条）"


def catalog_authorizations(items: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One grant per item, service and purpose its materials' shared-data replacements name:
    the claims they ask and the elements they compare, no more (minimization)."""
    grants: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in read("items") if items is None else items:
        for wanted in _replacements(item):
            key = (item["code"], wanted.service, wanted.purpose)
            grant = grants.setdefault(key, _grant(item, wanted.service, wanted.purpose))
            if wanted.claim:
                grant["claims"] = sorted({*grant["claims"], wanted.claim})
            else:  # the elements compared, for every person the material concerns
                compared = {e for s in wanted.checked_subjects() for e in s.compare or {}}
                grant["elements"] = sorted({*grant["elements"], *compared})
    return list(grants.values())


def _replacements(item: dict[str, Any]) -> Iterator[SharedDataReplacement]:
    for material in item["materials"]:
        if material.get("replaced_by_data"):
            yield SharedDataReplacement.model_validate(material["replaced_by_data"])


def _grant(item: dict[str, Any], service: str, purpose: str) -> dict[str, Any]:
    owner = CONSENT_SERVICES.get(service)
    consent = owner is not None and owner != item["department_code"]
    return {
        "consumer": item["code"],
        "service_code": service,
        "elements": [],
        "claims": [],
        "legal_basis": "consent" if consent else "law",
        "legal_reference": CONSENT_REFERENCE if consent else LAWS.get(service, SHARING_LAW),
        "purpose": purpose,
        "purpose_label": f"{item['name']}（免提交核验）"[:128],
    }


def all_authorizations() -> list[dict[str, Any]]:
    """The hand-written grants, then the catalog's for what they do not cover."""
    written = [{"consumer_kind": "item", **DEFAULTS, **grant} for grant in AUTHORIZATIONS]
    covered = {_key(grant) for grant in written}
    generated = [
        {"consumer_kind": "item", **grant}
        for grant in catalog_authorizations()
        if _key({"consumer_kind": "item", **grant}) not in covered
    ]
    return written + generated


def _key(grant: dict[str, Any]) -> tuple[str, str, str, str]:
    return (grant["consumer_kind"], grant["consumer"], grant["service_code"], grant["purpose"])


def ensure_sources(directory: Path | None = None) -> Path:
    """The legacy sources' directory, generated on first use (deterministic for the seed) and
    again when a source is missing (one added since: the others come out the same)."""
    directory = directory or get_settings().exchange_sources_dir
    needed = ["manifest.json", *(spec["file"] for spec in PROVIDERS)]
    if not all((directory / name).exists() for name in needed):
        create_legacy_sources(directory)
    return directory


def load_exchange_demo(session: Session, directory: Path | None = None) -> int:
    """Register, approve and enable the demo providers that are missing; add the grants that
    are missing (a revoked one stays revoked). Returns how many providers were added."""
    added = load_demo_providers(session, directory)
    load_demo_grants(session)
    return added


def _demo_admin(session: Session) -> Actor:
    admin = access_service.actor_by_username(session, "admin")
    if admin is None:
        raise NotFound("demo_user_missing", "缺少演示管理员 admin", "Demo user admin is missing")
    return admin


def load_demo_providers(session: Session, directory: Path | None = None) -> int:
    """The demo providers that are missing, registered, approved (four eyes) and enabled.

    Run before the catalog is saved, so that the items' 免提交 references are checked
    against services that exist (an older demo database gains the new sources first)."""
    registered = {provider.code for provider in exchange_service.providers(session)}
    providers = [spec for spec in PROVIDERS if spec["code"] not in registered]
    if not providers:
        return 0
    admin = _demo_admin(session)
    directory = ensure_sources(directory).resolve()
    for spec in providers:
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
    return len(providers)


def load_demo_grants(session: Session) -> int:
    """The grants that are missing (a revoked one stays revoked); after the catalog."""
    granted = {
        (g.consumer_kind, g.consumer, g.service_code, g.purpose)
        for g in exchange_service.authorizations(session)
    }
    grants = [grant for grant in all_authorizations() if _key(grant) not in granted]
    if not grants:
        return 0
    admin = _demo_admin(session)
    for grant in grants:
        exchange_service.add_authorization(
            session, actor=admin, data=AuthorizationCreate.model_validate(grant)
        )
    return len(grants)
