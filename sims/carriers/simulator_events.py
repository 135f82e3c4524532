"""The simulator's network events: a pure function of ICCID and hour, like its usage
(sims/carriers/simulator.py), and matching it.

A SIM that has usage in an hour has a data session in that hour (start and end, the end with the
hour's bytes); it attaches once a day, in its first minutes (UTC), with a location update naming its
operator, country, radio and cell, and detaches in the day's last minutes. On a roaming day it attaches
to the visited country's operator. Now and then an attach is first rejected (with a real 3GPP cause)
and retried minutes later. Silent SIMs (no usage) mostly never attach at all; some of them are
rejected every day (a SIM barred by the network). Each SIM has one IMEI, from a plausible TAC.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from sims.carriers.base import DAY, HOUR
from sims.carriers.simulator import Profile, Slot, _fractions
from sims.iccid import luhn_check_digit
from sims.network_events import NetworkEventRow

# Among silent SIMs (no usage), the share rejected by the network every day instead of never attaching.
BARRED_SHARE_OF_SILENT = 0.25
# A day's attach first rejected, then retried.
REJECTED_ATTACH_SHARE = 0.03
# 3GPP TS 24.301 / 24.008 causes as networks report them.
CAUSES = [
    "#13 Roaming not allowed in this tracking area",
    "#11 PLMN not allowed",
    "#15 No suitable cells in tracking area",
    "#7 EPS services not allowed",
    "#2 IMSI unknown in HSS",
]
BARRED_CAUSES = ["#3 Illegal UE", "#6 Illegal ME", "#8 EPS services and non-EPS services not allowed"]
# Type allocation codes of common IoT modules (Quectel, u-blox, Sierra Wireless, Telit, SIMCom).
TACS = ["86425104", "86676503", "35283410", "35473609", "35907206", "86140104", "35174309"]
RATS = [("LTE-M", 0.4), ("4G", 0.7), ("NB-IoT", 0.85), ("2G", 0.95), ("3G", 1.0)]
# Operator (name and MCC-MNC) per country; a country not listed gets a generic one.
OPERATORS = {
    "DE": "Telekom.de 262-01", "AT": "A1 Austria 232-01", "FR": "Orange F 208-01", "BE": "Proximus 206-01",
    "NL": "KPN 204-08", "GB": "EE 234-30", "IE": "Vodafone IE 272-01", "ES": "Movistar 214-07",
    "PT": "MEO 268-06", "US": "AT&T 310-410", "CA": "Rogers 302-720", "MX": "Telcel 334-020",
    "JP": "NTT docomo 440-10", "KR": "SK Telecom 450-05", "AU": "Telstra 505-01", "NZ": "One NZ 530-01",
    "BR": "Vivo 724-06", "AR": "Personal 722-34",
}  # fmt: skip
DEFAULT_OPERATOR = "Roaming partner 901-40"


def imei_of(iccid: str) -> str:
    """The SIM's device IMEI: a TAC, a serial and the Luhn check digit, the same on every call."""
    tac, serial, *_ = _fractions(b"imei|" + iccid.encode())
    body = TACS[int(tac * len(TACS))] + f"{int(serial * 1_000_000):06d}"
    return body + luhn_check_digit(body)


def rat_of(iccid: str) -> str:
    roll = _fractions(b"rat|" + iccid.encode())[0]
    return next(rat for rat, upto in RATS if roll < upto)


def network_events(sims: Iterable[tuple[str, str]], *, since: datetime, until: datetime) -> Iterator[NetworkEventRow]:
    """The events of these (ICCID, home country) SIMs that happened in (since, until]."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    first = since.replace(minute=0, second=0, microsecond=0)
    hours = []
    start = first
    while start < until:
        hours.append(start)
        start += HOUR
    if not hours:
        return
    # Usage slots that have all arrived: the sessions are the hours' usage, whenever it is asked for.
    slots = [Slot(start, HOUR, start + 2 * DAY) for start in hours]
    for iccid, home in sims:
        for row in _sim_events(Profile.of(iccid, home), slots):
            if since < row.at <= until:
                yield row


def _sim_events(profile: Profile, slots: list[Slot]) -> Iterator[NetworkEventRow]:
    iccid = profile.iccid
    imei, rat = imei_of(iccid), rat_of(iccid)
    if not profile.daily_bytes:
        if _fractions(b"barred|" + profile.key)[0] < BARRED_SHARE_OF_SILENT:
            yield from _barred(profile, slots, imei, rat)
        return
    sessions = {row.started_at: row for row in profile.records(slots)}
    for slot in slots:
        start, stamp = slot.started_at, f"{slot.started_at:%Y%m%d%H}"
        minute, reject, cause, cell = _fractions(profile.key + b"|net" + slot.key)
        if start.hour == 0:
            _, country, _ = profile.day(slot.day_key)
            operator = OPERATORS.get(country, DEFAULT_OPERATOR)
            attach_at = start + timedelta(minutes=1 + int(minute * 8))
            if reject < REJECTED_ATTACH_SHARE:
                yield NetworkEventRow(
                    f"ne-{iccid}-{stamp}-r", iccid, "auth_reject", start + timedelta(seconds=20), imei=imei,
                    operator=operator, country=country, rat=rat, cause=CAUSES[int(cause * len(CAUSES))],
                )  # fmt: skip
            yield NetworkEventRow(f"ne-{iccid}-{stamp}-a", iccid, "attach", attach_at, imei, operator, country, rat)
            yield NetworkEventRow(
                f"ne-{iccid}-{stamp}-l", iccid, "location", attach_at + timedelta(seconds=5), imei, operator, country, rat,
                _cell(operator, cell),
            )  # fmt: skip
        record = sessions.get(start)
        if record is not None:
            began = start + timedelta(minutes=10 + int(minute * 30))
            lasted = timedelta(minutes=1 + int(cell * 15))
            operator = OPERATORS.get(record.country, DEFAULT_OPERATOR)
            yield NetworkEventRow(f"ne-{iccid}-{stamp}-s", iccid, "session_start", began, imei, operator, record.country, rat)
            yield NetworkEventRow(
                f"ne-{iccid}-{stamp}-e", iccid, "session_end", began + lasted, imei, operator, record.country, rat,
                bytes=record.bytes_up + record.bytes_down,
            )  # fmt: skip
        if start.hour == 23:
            yield NetworkEventRow(f"ne-{iccid}-{stamp}-d", iccid, "detach", start + timedelta(minutes=58), imei)


def _barred(profile: Profile, slots: list[Slot], imei: str, rat: str) -> Iterator[NetworkEventRow]:
    """A SIM the network refuses: one reject a day, always with the same cause."""
    cause = BARRED_CAUSES[int(_fractions(b"cause|" + profile.key)[0] * len(BARRED_CAUSES))]
    operator = OPERATORS.get(profile.home, DEFAULT_OPERATOR)
    for slot in slots:
        if slot.started_at.hour == 6:
            minute = _fractions(profile.key + b"|net" + slot.key)[0]
            yield NetworkEventRow(
                f"ne-{profile.iccid}-{slot.started_at:%Y%m%d%H}-r", profile.iccid, "auth_reject",
                slot.started_at + timedelta(minutes=int(minute * 60)), imei, operator, profile.home, rat, cause=cause,
            )  # fmt: skip


def _cell(operator: str, roll: float) -> str:
    plmn = operator.rsplit(" ", 1)[-1]
    return f"{plmn}-{1000 + int(roll * 9000)}-{int(roll * 1_000_000) % 65536}"
