"""Check digits of the national identifiers (GB 11643, GB 32100)."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.kit.ids import (
    id_number_check_char,
    is_valid_id_number,
    is_valid_uscc,
    make_id_number,
    make_uscc,
    uscc_check_char,
)


def test_standard_sample_identity_number() -> None:
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")  # lower-case x is normalised
    assert id_number_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",  # wrong check digit
        "11010519491231002",  # 17 characters
        "1101051949123100200",  # 19 characters
        "110105194913310028",  # month 13
        "110105194902300025",  # 30 February
        "990105194912310025",  # no such province
        "11010519491231002Y",
        "",
    ],
)
def test_invalid_identity_numbers(value: str) -> None:
    assert not is_valid_id_number(value)


def test_every_single_digit_error_is_caught() -> None:
    """GB 11643's MOD 11-2 check catches any one wrong digit (outside the date, which
    may also turn invalid by itself)."""
    number = make_id_number("640425", date(1990, 3, 15), 123)
    assert is_valid_id_number(number)
    for position in (*range(0, 6), *range(14, 17)):
        for digit in "0123456789":
            if digit != number[position]:
                mutated = number[:position] + digit + number[position + 1 :]
                if mutated[:2] in ("64", "11", "65"):
                    assert not is_valid_id_number(mutated), mutated


def test_generated_numbers_for_the_demo_county_are_valid() -> None:
    for sequence in range(0, 1000, 37):
        assert is_valid_id_number(make_id_number("640425", date(1970, 1, 1), sequence))


def test_unified_social_credit_code() -> None:
    code = make_uscc("91640425MA7XK2QJ3")
    assert len(code) == 18 and is_valid_uscc(code)
    assert uscc_check_char("91640425MA7XK2QJ3") == code[-1]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert not is_valid_uscc(wrong)
    assert not is_valid_uscc("91640425MA7XK2QJ3I")  # I is not in the alphabet
    assert not is_valid_uscc("")
