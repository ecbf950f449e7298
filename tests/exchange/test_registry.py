"""The provider registry: four-eyes approval, statuses, validation, audit, encrypted location."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from exchange_support import LOAN, demo_actor, entries, provider_data
from support import make_user
from tongban.demo.legacy import LegacySources
from tongban.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.exchange import registry
from tongban.exchange.schemas import AuthorizationCreate


def test_a_provider_waits_for_another_admin_then_is_enabled_and_disabled(
    demo_session: Session, legacy: LegacySources
) -> None:
    first = demo_actor(demo_session, "admin")
    second = make_user(demo_session, "admin", region_code="640425")
    data = provider_data("rk", f"sqlite:///{legacy.population}")
    read = registry.register_provider(demo_session, actor=first, data=data)
    assert (read.status, read.registered_by, read.services[0].code) == (
        "pending",
        "admin",
        "rk.person",
    )
    with pytest.raises(Forbidden) as own:
        registry.decide_provider(demo_session, actor=first, code="rk", approve=True)
    assert own.value.code == "exchange_self_approval"
    with pytest.raises(Conflict) as early:
        registry.set_provider_status(demo_session, actor=first, code="rk", enabled=True)
    assert early.value.code == "exchange_provider_status"
    read = registry.decide_provider(demo_session, actor=second, code="rk", approve=True, note="ok")
    assert (read.status, read.decided_by) == ("approved", second.username)
    read = registry.set_provider_status(demo_session, actor=first, code="rk", enabled=True)
    assert read.status == "enabled" and read.status_label == "已启用"
    read = registry.set_provider_status(demo_session, actor=first, code="rk", enabled=False)
    assert read.status == "disabled"
    with pytest.raises(Conflict):
        registry.decide_provider(demo_session, actor=second, code="rk", approve=False)

    logged = [
        (e.action, e.actor_username, e.subject_ref)
        for e in entries(demo_session)
        if e.action.startswith("exchange.")
    ]
    assert logged == [
        ("exchange.provider.register", "admin", "rk"),
        ("exchange.provider.approve", second.username, "rk"),
        ("exchange.provider.enable", "admin", "rk"),
        ("exchange.provider.disable", "admin", "rk"),
    ]


def test_a_rejected_provider_can_never_be_enabled(
    demo_session: Session, legacy: LegacySources
) -> None:
    admin = demo_actor(demo_session, "admin")
    registry.register_provider(
        demo_session, actor=None, data=provider_data("rk", f"sqlite:///{legacy.population}")
    )
    read = registry.decide_provider(demo_session, actor=admin, code="rk", approve=False, note="否")
    assert read.status == "rejected" and read.registered_by == "system"
    with pytest.raises(Conflict):
        registry.set_provider_status(demo_session, actor=admin, code="rk", enabled=True)


def test_only_admins_keep_the_registry(demo_session: Session, legacy: LegacySources) -> None:
    data = provider_data("rk", f"sqlite:///{legacy.population}")
    for username in ("clerk", "auditor", "applicant_ma"):
        with pytest.raises(Forbidden):
            registry.register_provider(
                demo_session, actor=demo_actor(demo_session, username), data=data
            )


def test_registration_checks_the_mapping_and_the_elements(
    demo_session: Session, legacy: LegacySources
) -> None:
    url = f"sqlite:///{legacy.population}"
    service = {"code": "rk.person", "name": "x", "elements": ["DE0002"]}
    cases = [
        (provider_data("rk", url, mapping="nonesuch"), "exchange_unknown_mapping"),
        (provider_data("rk", url, kind="file"), "exchange_mapping_kind"),
        (  # 不动产权证号 is not in the population register
            provider_data("rk", url, services=[{**service, "elements": ["DE0010"]}]),
            "exchange_service_elements",
        ),
        (
            provider_data("rk", url, services=[{**service, "elements": ["DE9999"]}]),
            "exchange_service_elements",
        ),
        (
            provider_data("rk", url, services=[{**service, "elements": []}]),
            "exchange_service_elements",
        ),
        (  # a claim holds "until" a date element, not a name
            provider_data(
                "rk",
                url,
                services=[{**service, "claims": {"x": {"label": "x", "until": ["DE0002"]}}}],
            ),
            "exchange_claim_until",
        ),
    ]
    for data, code in cases:
        with pytest.raises(Invalid) as error:
            registry.register_provider(demo_session, actor=None, data=data)
        assert error.value.code == code
    registry.register_provider(demo_session, actor=None, data=provider_data("rk", url))
    with pytest.raises(Conflict):
        registry.register_provider(demo_session, actor=None, data=provider_data("rk", url))


def test_the_location_is_encrypted_at_rest_and_shown_without_password(
    demo_session: Session,
) -> None:
    url = "postgresql+psycopg://reader:s3cret-pw@db.gaj.example/rk"
    read = registry.register_provider(demo_session, actor=None, data=provider_data("rk", url))
    assert "s3cret-pw" not in read.location and read.location.startswith(
        "postgresql+psycopg://reader:"
    )
    stored = demo_session.execute(text("SELECT location FROM exchange_providers")).scalar_one()
    assert stored.startswith("enc:") and "s3cret" not in stored and "gaj" not in stored
    assert "s3cret-pw" not in str(registry.providers(demo_session))


def grant_data(**changes: object) -> AuthorizationCreate:
    data: dict[str, object] = {
        "consumer_kind": "item",
        "consumer": LOAN,
        "service_code": "rk.person",
        "claims": ["name_matches"],
        "purpose": "housing_fund_loan",
        "legal_basis": "law",
        "legal_reference": "《住房公积金管理条例》第二十六条",
    }
    return AuthorizationCreate.model_validate({**data, **changes})


def test_authorizations_name_what_the_service_offers_and_a_legal_basis(
    demo_session: Session, legacy: LegacySources
) -> None:
    admin = demo_actor(demo_session, "admin")
    registry.register_provider(
        demo_session, actor=None, data=provider_data("rk", f"sqlite:///{legacy.population}")
    )
    bad = [
        (grant_data(elements=["DE0005"]), Invalid, "exchange_authorization_scope"),
        (grant_data(claims=["owns_property"]), Invalid, "exchange_authorization_scope"),
        (grant_data(claims=[]), Invalid, "exchange_authorization_scope"),
        (grant_data(legal_reference=""), Invalid, "exchange_legal_reference"),
        (grant_data(consumer="11640425MB00009TBM209999999999999"), NotFound, "item_not_found"),
        (grant_data(consumer_kind="role", consumer="applicant"), Invalid, "exchange_bad_consumer"),
        (grant_data(consumer_node="county-x"), Invalid, "exchange_unknown_node"),
        (grant_data(service_code="rk.nothing"), NotFound, "exchange_service_not_found"),
    ]
    for data, kind, code in bad:
        with pytest.raises(kind) as error:
            registry.add_authorization(demo_session, actor=admin, data=data)
        assert error.value.code == code, data
    made = registry.add_authorization(demo_session, actor=admin, data=grant_data())
    assert made.status == "active" and made.created_by == "admin"
    revoked = registry.revoke_authorization(
        demo_session, actor=admin, authorization_id=made.id, note="事项调整"
    )
    assert revoked.status == "revoked" and revoked.revoked_by == "admin"
    actions = [e.action for e in entries(demo_session) if e.subject_kind == "authorization"]
    assert actions == ["exchange.authorization.grant", "exchange.authorization.revoke"]
