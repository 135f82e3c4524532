import re
from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from sims import network
from sims.lifecycle import TRANSITIONS, Action
from sims.models import Sim, State

register = template.Library()


@register.filter
def allows(state: str, action: str) -> bool:
    """Whether the lifecycle lets `action` apply to a SIM in `state`: menus show only what would work."""
    return State(state) in TRANSITIONS[Action(action)]


@register.filter
def duration(seconds: float) -> str:
    """'about 3 min' for a time left; precise enough for a progress bar."""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


@register.filter
def carrier_can(sim: Sim, action: str) -> bool:
    """Whether the SIM's carrier can carry out `action` (sims/network.py): menus hide what it cannot."""
    return network.carrier_can(sim, action)


@register.filter
def clock(moment: datetime | None) -> str:
    """'14:02' today (UTC, as the console shows times), '3 Dec 14:02' on another day."""
    if moment is None:
        return ""
    return _clock(timezone.localtime(moment), timezone.localdate())


def _clock(moment: datetime, today: date) -> str:
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment.day} {moment:%b %H:%M}"


@register.simple_tag(takes_context=True)
def entry_time(context: template.Context, moment: datetime) -> str:
    """A timeline entry's <time>: its clock, the moment for machines and the whole date on hover. Formatted here
    with the zone and today looked up once per page: three filters an entry were 80% of a page's rendering."""
    known = context.render_context
    if "entry_time_today" not in known:
        known["entry_time_zone"], known["entry_time_today"] = timezone.get_current_timezone(), timezone.localdate()
    moment = moment.astimezone(known["entry_time_zone"])
    whole = f"{moment.day} {str(MONTHS_3[moment.month]).title()} {moment:%Y, %H:%M:%S}"  # the date filter's 'j M Y, H:i:s'
    return format_html('<time datetime="{}" title="{} UTC">{}</time>', moment.isoformat(), whole, _clock(moment, known["entry_time_today"]))


# A network's code ("262-01", a cell "262-01-4021-77312"): digits joined by hyphens, where a browser would
# break the line and leave "262-" at the end of one.
_CODE = re.compile(r"\d+(?:-\d+)+")


@register.filter(needs_autoescape=True)
def wrap_well(text: str, autoescape: bool = True) -> SafeString:
    """The text, escaped, for a narrow column: no line breaks inside a code, nor before a " · " (which
    stays at the end of the line, after what it follows)."""
    escape = conditional_escape if autoescape else str
    pieces, start = [], 0
    for code in _CODE.finditer(text):
        pieces += [escape(text[start : code.start()]), format_html('<span class="nowrap">{}</span>', code.group())]
        start = code.end()
    return mark_safe("".join([*pieces, escape(text[start:])]).replace(" · ", "\u00a0· "))


@register.simple_tag
def carrier_lacks(sim: Sim, actions: list[Action]) -> str:
    """The actions the SIM's state allows and its carrier cannot do, in words ('Terminate'), for the note
    that says why they are not offered."""
    return ", ".join(
        action.label for action in actions if State(sim.state) in TRANSITIONS[action] and not network.carrier_can(sim, action)
    )


@register.filter
def offline_for(since: datetime | None) -> str:
    """'3 days', '5 hours', '12 minutes': how long a SIM has been offline, to the largest unit."""
    if since is None:
        return ""
    return timesince(since, timezone.now(), depth=1)
