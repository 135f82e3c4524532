from django import template

from sims.lifecycle import TRANSITIONS, Action
from sims.models import State

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
