"""Mobile numbers as people type them, and delegation scope — pure rules."""

from __future__ import annotations

import pytest

from tongban.access.rules import delegation_covers, normalize_phone


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("13995400123", "13995400123"),
        ("139 9540 0123", "13995400123"),
        ("139-9540-0123", "13995400123"),
        ("+86 139 9540 0123", "13995400123"),
        ("0086 13995400123", "13995400123"),
        ("１３９９５４００１２３", "13995400123"),  # full-width digits from a Chinese keyboard
        ("12345", None),
        ("1399540012", None),  # ten digits
        ("139954001234", None),  # twelve
        ("11995400123", None),  # no mobile range starts 11
        ("1399540012a", None),
        ("139\u00a09540 0123", None),  # a no-break space is not a separator we accept
        ("13995400١٢٣", None),  # Arabic-Indic digits
        ("", None),
    ],
)
def test_normalize_phone(typed: str, number: str | None) -> None:
    assert normalize_phone(typed) == number


def test_a_delegation_without_items_covers_every_item() -> None:
    assert delegation_covers([], ["A", "B"])
    assert delegation_covers(["A", "B"], ["A"])
    assert not delegation_covers(["A"], ["A", "B"])  # a bundle needs every one of its items
