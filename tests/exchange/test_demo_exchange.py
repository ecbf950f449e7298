"""The demo exchange: sources generated once, providers approved by a second pair of eyes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from exchange_support import entries
from tongban.db import session_factory, transaction
from tongban.demo.exchange import AUTHORIZATIONS, ensure_sources, load_exchange_demo
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
    assert grants == len(AUTHORIZATIONS)
    assert logged.count(("exchange.provider.register", "system")) == 4
    assert logged.count(("exchange.provider.approve", "admin")) == 4
    assert logged.count(("exchange.authorization.grant", "admin")) == len(AUTHORIZATIONS)


def test_the_sources_are_written_where_the_settings_say_only_when_missing(tmp_path: Path) -> None:
    directory = ensure_sources(tmp_path / "sources")
    manifest = directory / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert {p.name for p in directory.iterdir()} >= {
        "population.db",
        "realestate.db",
        "social_insurance.db",
        "subsistence.csv",
        "manifest.json",
    }
    ensure_sources(directory)
    assert manifest.stat().st_mtime_ns == stamp
