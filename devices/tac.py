"""A device's model from its IMEI: the first 8 digits are the Type Allocation Code (TAC), which the
GSMA allocates per device model. The GSMA's TAC database is licensed, so the table below is a small,
illustrative one of common cellular IoT modules: TACs as published in public device lists and module
certificates (some modules have several TACs; one each is listed). Anything else is named
"Unknown model (TAC nnnnnnnn)", which the team can overwrite on the device page."""

# TAC -> model. Illustrative: collected from public sources, not from the GSMA database.
MODELS_BY_TAC: dict[str, str] = {
    "35283410": "Quectel BG96",
    "86695004": "Quectel BG95-M3",
    "86737104": "Quectel BG95-M1",
    "86182503": "Quectel EG91",
    "86425604": "Quectel EC21",
    "86716005": "Quectel BG77",
    "35271311": "u-blox SARA-R410M",
    "35450690": "u-blox SARA-R412M",
    "35347711": "u-blox SARA-R510S",
    "35193512": "u-blox SARA-R500S",
    "35416806": "Telit ME910C1",
    "35173911": "Telit LE910C1",
    "35267211": "Telit ME310G1",
    "35228707": "Nordic nRF9160",
    "35140452": "Nordic nRF9161",
    "35246211": "Particle Boron LTE (BRN404X)",
    "35320710": "Particle B-series B404X",
    "35284410": "Particle Boron 2G/3G (BRN314)",
    "35907206": "Sierra Wireless HL7800",
    "35916808": "Sierra Wireless WP7702",
    "35337110": "SIMCom SIM7080G",
    "86845004": "SIMCom SIM7000G",
}


class InvalidImei(ValueError):
    """A value that is not an IMEI, with what is wrong with it and what to do."""


# Each digit as its share of the Luhn sum when doubled (doubled, less 9 when that makes two digits).
_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_digit(body: str) -> str:
    """The Luhn check digit of an IMEI's first 14 digits."""
    # From the right, every other digit, starting with the last one, is doubled. Summed as the digits' bytes,
    # not in a loop over them: every attach of a delivery is checked (a third of the loop's time).
    doubled, kept = body[::-2].translate(_DOUBLED), body[-2::-2]
    total = sum(doubled.encode()) + sum(kept.encode()) - 48 * (len(doubled) + len(kept))
    return str((10 - total % 10) % 10)


def validate_imei(value: str) -> str:
    """The IMEI, its spaces and dashes removed; InvalidImei saying what is wrong otherwise."""
    imei = "".join(value.split()).replace("-", "")
    if not imei:
        raise InvalidImei("Enter the IMEI: 15 digits, as printed on the module or shown by AT+CGSN.")
    if not (imei.isascii() and imei.isdigit()):
        raise InvalidImei(f"An IMEI has only digits; {value.strip()[:40]!r} has other characters.")
    if len(imei) != 15:
        raise InvalidImei(f"An IMEI has 15 digits; this one has {len(imei)} digits. Check it on the module's label or with AT+CGSN.")
    if luhn_digit(imei[:14]) != imei[14]:
        raise InvalidImei(f"The IMEI {imei} fails its check digit (Luhn): a digit is mistyped. Check it on the module's label.")
    return imei


def model_for_imei(imei: str) -> str:
    """The device model the IMEI's TAC names, or "Unknown model (TAC nnnnnnnn)"."""
    tac = imei[:8]
    return MODELS_BY_TAC.get(tac, f"Unknown model (TAC {tac})")
