"""Identity numbers and credit codes as people type them: full-width forms, other scripts'
digits, impossible birth dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tongban.kit.clock import frozen
from tongban.kit.ids import (
    id_number_check_char,
    is_valid_id_number,
    is_valid_uscc,
    make_id_number,
    make_uscc,
    normalize_id_number,
    normalize_uscc,
)

VALID = make_id_number("640425", date(1990, 3, 15), 123)
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)} | {"X": "Ｘ"}


def _with_digits(number: str, zero: int, start: int = 6) -> str:
    """``number`` with its digits from ``start`` on written in another script."""
    return number[:start] + "".join(
        chr(zero + int(c)) if c.isdigit() else c for c in number[start:]
    )


def test_full_width_digits_after_an_ascii_prefix_are_normalised() -> None:
    typed = VALID[:6] + "".join(FULL_WIDTH[c] for c in VALID[6:])
    assert normalize_id_number(typed) == VALID
    assert is_valid_id_number(typed)
    with_x = make_id_number("110105", date(1949, 12, 31), 2)  # 11010519491231002X
    assert with_x.endswith("X")
    assert normalize_id_number(with_x[:-1] + "ｘ") == with_x
    assert is_valid_id_number(with_x[:-1] + "ｘ")


@pytest.mark.parametrize(
    ("script", "zero"),
    [
        ("Arabic-Indic", 0x0660),
        ("Extended Arabic-Indic", 0x06F0),
        ("Devanagari", 0x0966),
        ("Bengali", 0x09E6),
        ("Thai", 0x0E50),
        ("Mathematical bold", 0x1D7CE),
    ],
)
def test_other_unicode_digits_are_refused(script: str, zero: int) -> None:
    """``str.isdigit`` and ``int`` take these digits; an identity number does not."""
    number = _with_digits(VALID, zero)
    assert number[6:].isdigit() or number[-1] == "X"
    assert int(number[6:10]) == 1990  # what the old check relied on
    assert not is_valid_id_number(number), script
    assert not is_valid_id_number(_with_digits(VALID, zero, start=0))


def test_birth_dates_in_the_future_or_before_1900_are_refused() -> None:
    with frozen(datetime(2026, 12, 3, 4, 0, tzinfo=UTC)):
        assert is_valid_id_number(make_id_number("640425", date(2026, 12, 3), 1))  # today
        assert not is_valid_id_number(make_id_number("640425", date(2026, 12, 4), 1))
        assert not is_valid_id_number(make_id_number("640425", date(2099, 1, 1), 1))
        assert not is_valid_id_number(make_id_number("640425", date(1899, 12, 31), 1))
        assert is_valid_id_number(make_id_number("640425", date(1900, 1, 1), 1))


def test_impossible_dates_and_unknown_provinces_are_refused() -> None:
    first17 = "64042519900230123"  # 30 February
    assert not is_valid_id_number(first17 + id_number_check_char(first17))
    unknown = "99" + VALID[2:17]
    assert not is_valid_id_number(unknown + id_number_check_char(unknown))


@pytest.mark.parametrize("bad", [VALID + " 1", VALID[:17] + "Y", VALID[:17] + "٩", "", "X" * 18])
def test_malformed_numbers_are_refused(bad: str) -> None:
    assert not is_valid_id_number(bad)


def test_credit_codes_are_ascii_after_normalising_full_width() -> None:
    code = make_uscc("91640425MA76XY010")
    assert is_valid_uscc(code)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert normalize_uscc(full_width) == code
    assert is_valid_uscc(full_width)
    assert is_valid_uscc(code.lower())
    arabic = _with_digits(code, 0x0660, start=0)
    assert not is_valid_uscc(arabic)
    assert not is_valid_uscc(code[:-1] + "İ")  # upper-cases to two characters
