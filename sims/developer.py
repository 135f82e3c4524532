"""A developer's own SIMs: activating one starts its promotion (Particle: a free 1 MB plan for
three months). The console's My SIMs page and the API's `PUT /v1/sims/{iccid}` both come here."""

from django.utils import timezone
from django_countries import countries

from lib.calendar import months_later
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Sim

PROMOTION_MONTHS = 3


class NoSuchCountry(ValueError):
    pass


def activate_own_sim(*, sim: Sim, country: str, actor: Actor) -> None:
    """Raises NoSuchCountry, or IllegalTransition from the lifecycle."""
    if country not in countries:
        raise NoSuchCountry(
            f"{country!r} is not a country: give the home country as an ISO 3166-1 alpha-2 code, such as US or DE."
        )
    changes: dict[str, object] = {"home_country": country}
    if sim.first_activated_at is None:
        changes["promotion_ends_on"] = months_later(timezone.localdate(), PROMOTION_MONTHS)
    apply_action(sims=sim, action=Action.ACTIVATE, actor=actor, changes=changes)
