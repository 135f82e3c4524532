import pytest
from hypothesis import given
from hypothesis import strategies as st

from sims.iccid import InvalidIccid, is_valid_iccid, luhn_check_digit, normalise_iccid, validate_iccid

VALID = "89012600000000000017"[:-1]
VALID = VALID + luhn_check_digit(VALID)


def test_spaces_and_dashes_printed_on_cards_are_ignored():
    spaced = " ".join(VALID[i : i + 4] for i in range(0, len(VALID), 4))
    assert validate_iccid(spaced) == VALID
    assert validate_iccid(VALID[:4] + "-" + VALID[4:]) == VALID
    assert normalise_iccid(" 89 01-26 ") == "890126"


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        ("", "empty", "Enter an ICCID"),
        ("8901260000000000001O", "not_digits", "contains 'O'"),
        ("890126000000000001", "length", "has 18 digits"),
        ("890126000000000000123", "length", "has 21 digits"),
        ("1901260000000000001" , "prefix", "starts with 19"),
    ],
)
def test_each_broken_rule_is_named(raw, code, says):
    with pytest.raises(InvalidIccid) as error:
        validate_iccid(raw)
    assert error.value.code == code
    assert says in error.value.messages[0]


def test_a_mistyped_digit_fails_the_luhn_check():
    wrong_last = VALID[:-1] + str((int(VALID[-1]) + 1) % 10)
    with pytest.raises(InvalidIccid) as error:
        validate_iccid(wrong_last)
    assert error.value.code == "luhn"
    assert "Luhn" in error.value.messages[0]


@given(st.integers(min_value=10**15, max_value=10**17 - 1))
def test_every_luhn_completed_89_number_of_19_or_20_digits_is_valid(serial):
    for body in (f"89{serial:016d}", f"89{serial:017d}"):
        assert is_valid_iccid(body + luhn_check_digit(body))


@given(st.text(max_size=30))
def test_anything_typed_either_validates_or_says_why(raw):
    try:
        iccid = validate_iccid(raw)
    except InvalidIccid as error:
        assert error.messages[0]
    else:
        assert iccid.isdigit() and len(iccid) in (19, 20) and iccid.startswith("89")


def test_digits_of_other_scripts_are_not_an_iccid():
    arabic_indic = "٨٩" + "٠" * 17
    with pytest.raises(InvalidIccid) as error:
        validate_iccid(arabic_indic)
    assert error.value.code == "not_digits"
