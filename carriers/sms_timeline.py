"""A SIM's SMS in its timeline (sims/timeline.py): registered as a source by carriers' AppConfig.ready,
since sims imports nothing of carriers."""

from carriers.models import SmsMessage
from sims.models import Sim
from sims.timeline import CONSOLE, NETWORK, Cursor, Entry, Source, window

TITLES: dict[str, str] = {SmsMessage.Direction.MT: "SMS to the device", SmsMessage.Direction.MO: "SMS from the device"}


def sms_entries(sim: Sim, after: Cursor | None, limit: int, newer_than: Cursor | None = None) -> list[Entry]:
    """The SIM's messages strictly older than `after` (and newer than `newer_than`), newest first, in one query
    (the sms_sim_newest index)."""
    rows = SmsMessage.objects.filter(sim_id=sim.pk).filter(window(after, newer_than, "sms", "created_at")).order_by("-created_at", "-id")
    return [
        Entry(
            message.created_at,
            "sms",
            message.pk,
            TITLES.get(message.direction, "SMS"),
            NETWORK if message.direction == SmsMessage.Direction.MO else CONSOLE,
            f"“{message.body}”: {message.get_status_display().lower()}" + (f" ({message.reason})" if message.reason else ""),
            kind="sms",
        )
        for message in rows[:limit]
    ]


SMS_SOURCE = Source("sms", sms_entries)
