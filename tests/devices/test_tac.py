"""An IMEI is checked (15 digits, Luhn) and names its device model by its TAC (the first 8 digits)."""

import pytest

from devices.tac import InvalidImei, luhn_digit, model_for_imei, validate_imei


def _imei(tac: str, serial: str = "123456") -> str:
    body = tac + serial
    return body + luhn_digit(body)


def test_a_known_tac_names_its_module():
    assert model_for_imei(_imei("35283410")) == "Quectel BG96"
    assert model_for_imei(_imei("35228707")) == "Nordic nRF9160"


def test_an_unknown_tac_says_so_with_the_tac():
    assert model_for_imei(_imei("35999999")) == "Unknown model (TAC 35999999)"


def test_a_valid_imei_passes_with_spaces_and_dashes_removed():
    imei = _imei("35283410")
    assert validate_imei(f" {imei[:8]}-{imei[8:14]} {imei[14]} ") == imei


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "15 digits"),
        ("3528341012345", "13 digits"),
        ("35283410123456x", "only digits"),
        ("352834101234567", "check digit"),
    ],
)
def test_a_bad_imei_is_refused_saying_what_is_wrong(value, words):
    if words == "check digit":
        good = _imei("35283410")
        value = good[:14] + str((int(good[14]) + 1) % 10)
    with pytest.raises(InvalidImei) as error:
        validate_imei(value)
    assert words in str(error.value)
