"""MN-4: the Individual Number check digit (総務省令第85号 第5条), with the vectors of the reference."""

from __future__ import annotations

import pytest

from mamoru.law import mynumber


@pytest.mark.parametrize(
    "number", ["123456789018", "641717601551", "389419154673", "270722285678", "268290512983"]
)
def test_mn_4_when_check_digit_matches_then_valid(number: str) -> None:
    assert mynumber.is_valid(number)


@pytest.mark.parametrize(
    ("base", "digit"), [("00000000001", 9), ("10000000000", 5), ("00000000000", 0), ("12345678901", 8)]
)
def test_mn_4_check_digit_vectors(base: str, digit: int) -> None:
    assert mynumber.check_digit(base) == digit


@pytest.mark.parametrize(
    "value",
    [
        "123456789010",
        "12345678901",
        "1234567890181",
        "12345678901a",
        "",
        "abcdefghijkl",
        "１２３４５６７８９０１０",
    ],
)
def test_mn_4_when_length_digits_or_check_digit_wrong_then_invalid(value: str) -> None:
    assert not mynumber.is_valid(value)


@pytest.mark.parametrize("value", ["１２３４５６７８９０１８", "1234-5678-9018", "1234 5678 9018"])
def test_mn_4_full_width_and_separators_accepted_after_normalisation(value: str) -> None:
    assert mynumber.is_valid(value)


def test_mn_4_find_candidates_reports_only_valid_twelve_digit_runs() -> None:
    text = "ref 123456789018 and 123456789010 and 1234567890181 and x641717601551y"
    assert mynumber.find_candidates(text) == ["123456789018", "641717601551"]


def test_mn_1_statutory_affairs_are_a_closed_list() -> None:
    with pytest.raises(ValueError):
        mynumber.StatutoryAffair("customer_id")


def test_mn_4_twelve_digits_of_another_script_are_no_my_number_and_raise_nothing() -> None:
    # Arabic-Indic digits are digits to a regular expression's \d but not to the check digit: a log line
    # holding twelve of them must pass the redaction filter, not fail inside it.
    arabic = "".join(chr(0x0660 + int(d)) for d in "123456789018")
    assert mynumber.is_valid(arabic) is False
    assert mynumber.find_candidates(f"ticket {arabic}") == []
