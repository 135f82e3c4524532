"""A SIM's rule firings in its timeline (sims/timeline.py): the rule's name and version, the figures that
fired it and what it did. Registered by rules' AppConfig.ready, since sims imports nothing of rules."""

from rules.acting import describe_figures
from rules.models import RuleFiring
from sims.models import Sim
from sims.timeline import CONSOLE, Cursor, Entry, Source, window


def firing_entries(sim: Sim, after: Cursor | None, limit: int, newer_than: Cursor | None = None) -> list[Entry]:
    """The SIM's firings strictly older than `after` (and newer than `newer_than`), newest first, in one query
    (the rulefiring_sim_fired index)."""
    rows = (
        RuleFiring.objects.filter(sim_id=sim.pk)
        .filter(window(after, newer_than, "rule", "fired_at"))
        .select_related("rule")
        .order_by("-fired_at", "-id")[:limit]
    )
    return [
        Entry(
            firing.fired_at,
            "rule",
            firing.pk,
            f"Rule “{firing.rule.name}” fired (version {firing.rule_version})",
            CONSOLE,
            f"{describe_figures(firing.figures or {})}. {'; '.join(firing.did) or firing.get_status_display()}.",
            kind="rule",
        )
        for firing in rows
    ]


FIRINGS = Source("rule", firing_entries)
