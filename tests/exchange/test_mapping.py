"""Mapping files: the shipped ones load; inconsistent ones are refused with a reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tongban.exchange.elements import load_registry
from tongban.exchange.mapping import MAPPINGS_DIR, Mapping, load_mapping

SHIPPED = sorted(path.stem for path in MAPPINGS_DIR.glob("*.toml"))


def test_the_demo_sources_have_mappings() -> None:
    assert {
        "population",
        "realestate",
        "social_insurance",
        "subsistence",
        "subsistence_api",
    } <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_mapping_loads(name: str) -> None:
    mapping = load_mapping(name)
    assert mapping.source == name
    assert mapping.key in mapping.source_elements


def raw(name: str) -> dict[str, Any]:
    with (MAPPINGS_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("population", lambda m: m["elements"]["DE0002"].update(path="xm"), "exactly one"),
        ("population", lambda m: m["elements"]["DE0002"].pop("column"), "exactly one"),
        ("population", lambda m: m.update(key="DE0006"), "mapped from the source"),
        ("population", lambda m: m.update(unique=["DE0010"]), "mapped from the source"),
        ("population", lambda m: m.pop("sql"), r"needs a \[sql\]"),
        (
            "population",
            lambda m: m["elements"].update(DE0006={"derived_from": "DE0099"}),
            "unmapped",
        ),
        (
            "subsistence_api",
            lambda m: (
                m["elements"]["DE0002"].update(path=None, column="XM")
                or m["elements"]["DE0002"].pop("path")
            ),
            "not columns",
        ),
        ("population", lambda m: m["elements"]["DE0002"].update(dates="julian"), "dates"),
        ("population", lambda m: m["sql"].update(table="RK; DROP TABLE RK"), "table"),
    ],
)
def test_inconsistent_mappings_are_refused(name: str, change: Any, message: str) -> None:
    mapping = raw(name)
    change(mapping)
    with pytest.raises(ValidationError, match=message):
        Mapping.model_validate(mapping)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["elements"].update(DE0999={"column": "X"}), "unknown data element"),
        (lambda m: m["elements"].update(DE0006={"column": "SHENG"}), "address part"),
        (lambda m: m["elements"].update(DE0006={"derived_from": "DE0002"}), "address part|derive"),
        (lambda m: m["elements"]["DE0009"].update(codes={"2": "2"}), "unknown codes"),
        (lambda m: m["elements"]["DE0002"].update(codes={"a": "b"}), "is no code"),
    ],
)
def test_mappings_must_fit_the_registry(change: Any, message: str, tmp_path: Path) -> None:
    mapping = raw("population")
    change(mapping)
    with pytest.raises(ValueError, match=message):
        Mapping.model_validate(mapping).check_against(load_registry())
