from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sims.usage import UsageRow

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Carrier(Protocol):
    """What SIM Console needs from a mobile network operator."""

    name: str

    def activate(self, iccids: list[str]) -> dict[str, str]:
        """Open these SIMs (valid ICCIDs: the console checks them first) for network access;
        return the refused ones with the carrier's reason."""
        ...

    def usage_records(
        self, *, sims: Iterable[tuple[str, str]], since: datetime, until: datetime, step: timedelta = HOUR
    ) -> Iterator["UsageRow"]:
        """The usage records that ended in (since, until] and that the carrier had received by `until`.

        `sims` are (ICCID, home country) of the SIMs on the network: a real carrier answers by
        time window alone and may ignore them; the simulator invents traffic for exactly these.
        `step` is the length of one record (an hour; a day for long histories) where the carrier
        lets us choose. The same window asked twice gives the same record ids.
        """
        ...
