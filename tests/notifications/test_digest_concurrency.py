"""Several workers at once: publishers counting paused SIMs into the same hour's digest, and ticks
sending it. Every pause is counted once, and the digest goes out once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.digests import send_pause_digests
from notifications.models import Digest, Kind, Notification
from sims.events import publish
from sims.limits import LIMIT_RULE
from sims.lifecycle import Action, Actor, apply_action
from sims.models import DomainEvent, Sim, State
from tests.conftest import make_iccid

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(work, arguments) -> None:
    errors: list[Exception] = []

    def run(argument) -> None:
        try:
            work(argument)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_publishers_and_ticks_at_once_count_every_pause_once_and_send_one_digest(product, owner, teammate):
    sims = Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(240))
    ids = [sim.pk for sim in sims]
    for part in range(8):
        apply_action(sims=ids[part::8], action=Action.PAUSE, actor=Actor.system(LIMIT_RULE))
    events = list(DomainEvent.objects.values_list("pk", flat=True))
    assert len(events) == 8

    _in_threads(publish, events)
    later = timezone.now() + timedelta(hours=1)
    _in_threads(lambda _: send_pause_digests(now=later), range(3))

    digest = Digest.objects.get(kind=Kind.SIMS_PAUSED)
    assert digest.count == 240 and digest.sent_at is not None
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["owner", "teammate"]
