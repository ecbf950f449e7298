"""The demo legacy sources, generated once per test session (no tongban database needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tongban.demo.legacy import LegacySources, create_legacy_sources
from tongban.exchange.adapters import Adapter, open_adapter


@pytest.fixture(scope="session")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> LegacySources:
    return create_legacy_sources(tmp_path_factory.mktemp("legacy"), people=3000)


def _opened(name: str, location: str | Path) -> Iterator[Adapter]:
    adapter = open_adapter(name, location)
    yield adapter
    adapter.close()


@pytest.fixture(scope="session")
def population(legacy: LegacySources) -> Iterator[Adapter]:
    yield from _opened("population", f"sqlite:///{legacy.population}")


@pytest.fixture(scope="session")
def realestate(legacy: LegacySources) -> Iterator[Adapter]:
    yield from _opened("realestate", f"sqlite:///{legacy.realestate}")


@pytest.fixture(scope="session")
def social_insurance(legacy: LegacySources) -> Iterator[Adapter]:
    yield from _opened("social_insurance", f"sqlite:///{legacy.social_insurance}")


# --- The exchange service (registry, requests): a tongban database with the demo providers ---


@pytest.fixture(scope="session", autouse=True)
def _node_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This test run's node signing key, outside the work tree."""
    import os

    from tongban.config import get_settings
    from tongban.exchange.keys import reset_node_keys

    directory = tmp_path_factory.mktemp("node")
    os.environ["TONGBAN_EXCHANGE_NODE_KEY_FILE"] = str(directory / "node.key")
    os.environ["TONGBAN_EXCHANGE_SOURCES_DIR"] = str(directory / "sources")
    get_settings.cache_clear()
    reset_node_keys()
    yield


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    """Circuit breakers live in the process: every test starts with closed ones."""
    from tongban.exchange.resilience import breakers

    breakers.reset()
    yield
    breakers.reset()


@pytest.fixture
def exchange_db(demo_db: str, legacy: LegacySources) -> str:
    """The demo county with the demo providers registered, approved, enabled and granted."""
    from tongban.db import transaction
    from tongban.demo.exchange import PROVIDERS, load_exchange_demo

    with transaction(demo_db) as session:
        assert load_exchange_demo(session, legacy.directory) == len(PROVIDERS)
    return demo_db


@pytest.fixture
def exchange_session(exchange_db: str) -> Iterator[Session]:
    from tongban.db import session_factory

    session = session_factory(exchange_db)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
