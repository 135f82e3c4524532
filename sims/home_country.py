"""A product SIM's home country: the country its per-SIM plan is priced in, and the zone its
included data covers. Changed through the lifecycle, so each change is an audit event (and a
webhook) like any other; the home-country advisor (billing/advisor.py) comes here."""

from collections.abc import Iterable

from django.db.models import QuerySet
from django_countries import countries

from sims.developer import NoSuchCountry
from sims.lifecycle import Action, ActionReport, Actor, apply_action
from sims.models import Sim


def set_home_country(
    *, sims: Iterable[int], country: str, actor: Actor, reason: str, only: QuerySet[Sim] | None = None
) -> ActionReport:
    """Raises NoSuchCountry. `only`: the SIMs that may change (checked under their row locks)."""
    if country not in countries:
        raise NoSuchCountry(
            f"{country!r} is not a country: give the home country as an ISO 3166-1 alpha-2 code, such as US or DE."
        )
    return apply_action(
        sims=sims, action=Action.SET_HOME_COUNTRY, actor=actor, reason=reason, changes={"home_country": country}, scope=only
    )
