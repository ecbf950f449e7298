"""The demo legacy sources, generated once per test session (no tongban database needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
