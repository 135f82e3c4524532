"""The built-in carrier: accepts the ICCIDs it is given (the console has validated them), refuses
the ones it is told to, keeps no state, and invents realistic usage that is a pure function of
ICCID and hour (or day)."""

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from hashlib import blake2b

from django.conf import settings

from sims.carriers.base import DAY, HOUR
from sims.usage import UsageRow

KB, MB = 1_000, 1_000_000
# Shares of the fleet (decided per ICCID): no traffic at all, and a few heavy users.
SILENT_SHARE = 0.06
HEAVY_SHARE = 0.03
# A SIM-day with 10-50x the SIM's usual traffic (a firmware download, a stuck retry loop).
SPIKE_DAY_SHARE = 1 / 150
ROAMER_SHARE = 0.15
ROAMING_DAY_SHARE = 0.2
TEXTER_SHARE = 0.3
# Relative traffic per local hour: quiet at night, busy in the working day. Mean 1.
_RHYTHM = [0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.7, 1.2, 1.6, 1.7, 1.7, 1.6, 1.5, 1.6, 1.7, 1.7, 1.6, 1.5, 1.3, 1.1, 0.9, 0.6, 0.4, 0.25]
RHYTHM = [weight * 24 / sum(_RHYTHM) for weight in _RHYTHM]
# Hours from UTC to local time for the simulated daily rhythm; other countries follow UTC.
UTC_OFFSET = {"US": -6, "CA": -5, "MX": -6, "BR": -3, "GB": 0, "DE": 1, "FR": 1, "NL": 1, "ES": 1, "JP": 9, "AU": 10}
NEIGHBOURS = {"US": "CA", "CA": "US", "MX": "US", "DE": "AT", "FR": "BE", "NL": "BE", "GB": "IE", "ES": "PT", "JP": "KR", "AU": "NZ", "BR": "AR"}


class SimulatorCarrier:
    name = "Simulator"

    def activate(self, iccids: list[str]) -> dict[str, str]:
        time.sleep(settings.CARRIER_SIMULATOR_DELAY_MS / 1000)
        refused_suffixes = tuple(settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES)
        if not refused_suffixes:
            return {}
        reason = "The carrier refused activation: SIM not in its inventory (simulated)."
        return {iccid: reason for iccid in iccids if iccid.endswith(refused_suffixes)}

    def usage_records(
        self, *, sims: Iterable[tuple[str, str]], since: datetime, until: datetime, step: timedelta = HOUR
    ) -> Iterator[UsageRow]:
        if step not in (HOUR, DAY):
            raise ValueError("The simulator makes records of an hour or of a day.")
        slots = [Slot(start, step, until) for start in _record_starts(since, until, step)]
        if not slots:
            return
        for iccid, home in sims:
            profile = Profile.of(iccid, home)
            if profile.daily_bytes:
                yield from profile.records(slots)


class Slot:
    """One record's time span, with what every SIM's record for it shares (worked out once per call)."""

    __slots__ = ("day_key", "ended_at", "hour", "hours_to_arrive", "is_day", "key", "stamp", "started_at")

    def __init__(self, started_at: datetime, step: timedelta, until: datetime) -> None:
        self.started_at, self.ended_at, self.is_day = started_at, started_at + step, step == DAY
        self.hour = started_at.hour
        # Records reach the carrier up to an hour after they end (the seed warns so): how long this one had.
        self.hours_to_arrive = (until - self.ended_at) / HOUR
        self.stamp = f"{started_at:%Y%m%d}" if self.is_day else f"{started_at:%Y%m%d%H}"
        self.key = f"|{started_at:%Y%m%d%H}".encode()
        self.day_key = f"|{started_at:%Y%m%d}".encode()


def _record_starts(since: datetime, until: datetime, step: timedelta) -> Iterator[datetime]:
    """Starts of the records (aligned to the step, in UTC) that end in (since, until]."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    first_end = datetime.combine(since.date(), datetime.min.time(), tzinfo=UTC)
    if step == HOUR:
        first_end += timedelta(hours=since.hour)
    while first_end <= since:
        first_end += step
    end = first_end
    while end <= until:
        yield end - step
        end += step


def _fractions(key: bytes, count: int = 4) -> list[float]:
    """Independent numbers in [0, 1) (4 or 8), a pure function of the key."""
    value = int.from_bytes(blake2b(key, digest_size=2 * count).digest())
    return [(value >> shift & 0xFFFF) / 65536 for shift in range(16 * count - 16, -1, -16)]


class Profile:
    """How one SIM behaves, read off its ICCID: no state is kept between calls."""

    __slots__ = ("daily_bytes", "home", "iccid", "key", "offset", "roamer", "texter", "up_share")

    def __init__(self, iccid: str, home: str, daily_bytes: int, up_share: float, roamer: bool, texter: bool) -> None:
        self.iccid, self.home, self.daily_bytes = iccid, home, daily_bytes
        self.up_share, self.roamer, self.texter = up_share, roamer, texter
        self.offset = UTC_OFFSET.get(home, 0)
        self.key = iccid.encode()

    @classmethod
    def of(cls, iccid: str, home: str) -> "Profile":
        kind, size, up, habits = _fractions(iccid.encode())
        if kind < SILENT_SHARE:
            daily = 0
        elif kind < SILENT_SHARE + HEAVY_SHARE:
            daily = int(2 * MB * 10**size)  # 2-20 MB a day
        else:
            daily = int(20 * KB * 20**size)  # 20-400 KB a day
        return cls(iccid, home, daily, 0.3 + 0.4 * up, habits < ROAMER_SHARE, habits > 1 - TEXTER_SHARE)

    def day(self, day_key: bytes) -> tuple[float, str, list[float]]:
        """This day's traffic over the SIM's norm, the country it is in, and numbers for a day record."""
        spike, level, roam, _, *for_record = _fractions(self.key + day_key, 8)
        if spike < SPIKE_DAY_SHARE:
            factor = 10 + 40 * level
        elif spike > 0.93:
            factor = 0.1 * level  # an off day: parked, out of coverage
        else:
            factor = 0.5 + level
        roaming = self.roamer and roam < ROAMING_DAY_SHARE
        return factor, (NEIGHBOURS.get(self.home, "") if roaming else "") or self.home, for_record

    def records(self, slots: list[Slot]) -> Iterator[UsageRow]:
        for_day_record: list[float]
        day_key, factor, country, for_day_record = b"", 0.0, "", []
        for slot in slots:
            if slot.day_key != day_key:
                day_key = slot.day_key
                factor, country, for_day_record = self.day(day_key)
            # A day record takes its numbers from the day's hash: one hash per record, the costly part.
            happens, amount, sms_roll, late = for_day_record if slot.is_day else _fractions(self.key + slot.key)
            if late > slot.hours_to_arrive:
                continue
            if slot.is_day:
                total = self.daily_bytes * factor * (0.9 + 0.2 * amount)
                sms = int(sms_roll * 10) if self.texter and sms_roll < 0.4 else 0
            else:
                # Traffic in bursts: a busy hour almost always has some, a night hour seldom.
                weight = RHYTHM[(slot.hour + self.offset) % 24]
                chance = min(1.0, 0.45 * weight)
                if happens >= chance:
                    continue
                total = self.daily_bytes * factor * weight / 24 / chance * (0.5 + amount)
                sms = 1 + int(sms_roll * 200) % 2 if self.texter and sms_roll < 0.02 else 0
            total = int(total)
            if total or sms:
                up = int(total * self.up_share)
                yield UsageRow(
                    f"sim-{self.iccid}-{slot.stamp}", self.iccid, slot.started_at, slot.ended_at, up, total - up, sms, country
                )
