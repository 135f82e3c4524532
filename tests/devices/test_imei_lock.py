"""The IMEI lock (devices/imei_lock.py): network events with an IMEI, as ingestion sends them
(sims.network_events.network_events_ingested), checked against each SIM's lock."""

import itertools
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.imei_lock import LOCK_ACTOR, SWAP_WINDOW, check_network_events
from devices.models import ImeiLock, ImeiMismatch, LockMode, SimImeiLock
from notifications.models import Notification
from products.models import Membership
from sims.models import DomainEvent, NetworkEvent, NetworkStatus, SimEvent, State
from sims.network_events import NetworkEventRow, network_events_ingested
from tests.conftest import make_user, publish_queued_events, text_of
from webhooks.models import Webhook, WebhookDelivery

IMEI_A = "356938035643809"  # TAC 35693803
IMEI_B = "356938035643817"  # the same model, another device
IMEI_C = "867530012345678"  # TAC 86753001: another model
_ids = itertools.count(1)


def _row(sim, imei: str, *, at=None, event_id: str | None = None, kind=NetworkEvent.Kind.ATTACH) -> NetworkEventRow:
    return NetworkEventRow(event_id=event_id or f"ev-{next(_ids)}", iccid=sim.iccid, kind=kind, at=at or timezone.now(), imei=imei)


def _ingest(sim, *rows: NetworkEventRow) -> None:
    """As ingestion does after a chunk commits."""
    network_events_ingested.send(sender=NetworkEvent, events=[(sim.pk, sim.product_id, row) for row in rows])


def _lock(product, mode: str, **fields) -> ImeiLock:
    return ImeiLock.objects.create(product=product, mode=mode, **fields)


def _mismatches(sim) -> list[tuple[str, str, str]]:
    return [(m.seen, m.expected, m.action) for m in ImeiMismatch.objects.filter(sim=sim).order_by("at", "id")]


@pytest.fixture
def suspend_events():
    return DomainEvent.objects.filter(kind=DomainEvent.Kind.IMEI_MISMATCH)


def test_off_accepts_any_imei(product, sim):
    _lock(product, LockMode.OFF)
    _ingest(sim, _row(sim, IMEI_A), _row(sim, IMEI_C))
    assert _mismatches(sim) == []
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE


def test_without_a_lock_a_chunk_of_events_costs_two_queries(product, sim, django_assert_max_num_queries):
    rows = [(sim.pk, sim.product_id, _row(sim, IMEI_A)) for _ in range(50)]
    with django_assert_max_num_queries(2):  # the lock's own receiver (devices put the SIM in its device apart)
        check_network_events(sender=NetworkEvent, events=rows)


def test_events_without_an_imei_are_not_checked(product, sim, django_assert_max_num_queries):
    _lock(product, LockMode.FIXED, imei=IMEI_A)
    with django_assert_max_num_queries(0):
        _ingest(sim, _row(sim, "", kind=NetworkEvent.Kind.SESSION_START))


def test_lock_to_the_first_imei_seen(product, sim):
    _lock(product, LockMode.FIRST)
    now = timezone.now()
    _ingest(sim, _row(sim, IMEI_A, at=now - timedelta(hours=2)))
    assert SimImeiLock.objects.get(sim=sim).locked_imei == IMEI_A
    _ingest(sim, _row(sim, IMEI_A, at=now - timedelta(hours=1)), _row(sim, IMEI_B, at=now))
    assert _mismatches(sim) == [(IMEI_B, IMEI_A, ImeiMismatch.Action.NOTIFIED)]
    assert SimImeiLock.objects.get(sim=sim).locked_imei == IMEI_A  # still the first


def test_the_first_imei_of_one_chunk_locks_and_the_next_in_it_is_a_mismatch(product, sim):
    _lock(product, LockMode.FIRST)
    now = timezone.now()
    # Out of order in the chunk: the earlier one is the first seen.
    _ingest(sim, _row(sim, IMEI_C, at=now), _row(sim, IMEI_A, at=now - timedelta(minutes=5)))
    assert SimImeiLock.objects.get(sim=sim).locked_imei == IMEI_A
    assert _mismatches(sim) == [(IMEI_C, IMEI_A, ImeiMismatch.Action.NOTIFIED)]


def test_allowed_tacs_accept_the_model_and_refuse_another(product, sim):
    _lock(product, LockMode.TACS, tacs=["35693803", "01234567"])
    _ingest(sim, _row(sim, IMEI_A), _row(sim, IMEI_B))
    assert _mismatches(sim) == []
    _ingest(sim, _row(sim, IMEI_C))
    assert _mismatches(sim) == [(IMEI_C, "TAC 35693803, 01234567", ImeiMismatch.Action.NOTIFIED)]


def test_a_fixed_imei(product, sim):
    _lock(product, LockMode.FIXED, imei=IMEI_A)
    _ingest(sim, _row(sim, IMEI_A))
    assert _mismatches(sim) == []
    _ingest(sim, _row(sim, IMEI_B))
    assert _mismatches(sim) == [(IMEI_B, IMEI_A, ImeiMismatch.Action.NOTIFIED)]


def test_a_sims_own_mode_overrides_the_products(product, sim, make_sim):
    _lock(product, LockMode.FIXED, imei=IMEI_A)
    SimImeiLock.objects.create(sim=sim, mode=LockMode.OFF)
    other = make_sim(product)
    SimImeiLock.objects.create(sim=other, mode=LockMode.TACS, tacs=["86753001"])
    _ingest(sim, _row(sim, IMEI_C))
    _ingest(other, _row(other, IMEI_C))
    assert _mismatches(sim) == [] and _mismatches(other) == []
    # A SIM of a product without a lock, with its own.
    _ingest(other, _row(other, IMEI_A))
    assert _mismatches(other) == [(IMEI_A, "TAC 86753001", ImeiMismatch.Action.NOTIFIED)]


def test_a_swap_window_accepts_a_new_imei_which_becomes_the_lock_and_closes_by_itself(product, sim):
    now = timezone.now()
    lock = _lock(product, LockMode.FIRST)
    _ingest(sim, _row(sim, IMEI_A, at=now - timedelta(days=3)))
    lock.swap_until = now + timedelta(hours=1)  # opened 23 h ago
    lock.save()
    _ingest(sim, _row(sim, IMEI_B, at=now))  # the repaired device
    assert _mismatches(sim) == []
    assert SimImeiLock.objects.get(sim=sim).locked_imei == IMEI_B
    # After the window, the old device is a mismatch, and so is a third one.
    later = now + timedelta(hours=2)
    _ingest(sim, _row(sim, IMEI_A, at=later), _row(sim, IMEI_C, at=later + timedelta(minutes=1)))
    assert _mismatches(sim) == [(IMEI_A, IMEI_B, ImeiMismatch.Action.NOTIFIED), (IMEI_C, IMEI_B, ImeiMismatch.Action.NOTIFIED)]


def test_a_swap_window_of_one_sim_moves_its_fixed_imei(product, sim):
    now = timezone.now()
    _lock(product, LockMode.FIXED, imei=IMEI_A)
    SimImeiLock.objects.create(sim=sim, swap_until=now + SWAP_WINDOW)
    _ingest(sim, _row(sim, IMEI_C, at=now + timedelta(minutes=1)))
    own = SimImeiLock.objects.get(sim=sim)
    assert (own.mode, own.imei) == (LockMode.FIXED, IMEI_C)
    _ingest(sim, _row(sim, IMEI_A, at=now + SWAP_WINDOW + timedelta(minutes=1)))
    assert _mismatches(sim) == [(IMEI_A, IMEI_C, ImeiMismatch.Action.NOTIFIED)]


def test_a_mismatch_that_suspends_the_sim(product, sim, suspend_events):
    _lock(product, LockMode.FIXED, imei=IMEI_A, suspend=True)
    _ingest(sim, _row(sim, IMEI_C), _row(sim, IMEI_C))
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    assert sim.network_status == NetworkStatus.PENDING  # the carrier is told
    event = SimEvent.objects.get(sim_id=sim.pk)
    assert (event.actor_kind, event.actor_name) == (SimEvent.ActorKind.SYSTEM, LOCK_ACTOR)
    assert event.reason == f"IMEI {IMEI_C} seen, locked to {IMEI_A}"
    # The second mismatch of the chunk is recorded, and says the SIM was suspended already.
    assert [m[2] for m in _mismatches(sim)] == [ImeiMismatch.Action.SUSPENDED, ImeiMismatch.Action.NOT_SUSPENDED]
    # The lifecycle's own event (which pushes to the carrier) and the lock's.
    assert DomainEvent.objects.filter(kind=DomainEvent.Kind.SIMS_CHANGED).count() == 1
    assert suspend_events.count() == 1
    # Seen again while suspended: recorded, not suspended twice.
    _ingest(sim, _row(sim, IMEI_C))
    assert SimEvent.objects.filter(sim_id=sim.pk).count() == 1
    assert ImeiMismatch.objects.filter(sim=sim).first().detail.startswith("Cannot deactivate: the SIM is suspended")


@pytest.mark.parametrize(
    ("mode", "fields", "expected"),
    [
        (LockMode.FIRST, {}, IMEI_A),
        (LockMode.TACS, {"tacs": ["35693803"]}, "TAC 35693803"),
        (LockMode.FIXED, {"imei": IMEI_A}, IMEI_A),
    ],
    ids=["first-imei", "tacs", "fixed-imei"],
)
def test_a_mismatch_suspends_the_sim_in_every_mode_that_locks(product, sim, mode, fields, expected):
    _lock(product, mode, suspend=True, **fields)
    now = timezone.now()
    _ingest(sim, _row(sim, IMEI_A, at=now - timedelta(minutes=5)))  # the right device (the first, in that mode)
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE
    _ingest(sim, _row(sim, IMEI_C, at=now))
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    assert SimEvent.objects.get(sim_id=sim.pk).reason == f"IMEI {IMEI_C} seen, locked to {expected}"
    assert _mismatches(sim) == [(IMEI_C, expected, ImeiMismatch.Action.SUSPENDED)]


def test_off_never_suspends_even_when_the_lock_would(product, sim):
    _lock(product, LockMode.OFF, suspend=True, swap_until=timezone.now() + timedelta(hours=1))
    _ingest(sim, _row(sim, IMEI_A), _row(sim, IMEI_C))
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and _mismatches(sim) == []


def test_a_swap_window_under_allowed_tacs_lets_another_model_in_while_open_and_keeps_the_list(product, sim):
    now = timezone.now()
    lock = _lock(product, LockMode.TACS, tacs=["35693803"], suspend=True, swap_until=now + timedelta(hours=1))
    _ingest(sim, _row(sim, IMEI_C, at=now))  # a repair with another model, in the window
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and _mismatches(sim) == []
    lock.refresh_from_db()
    assert lock.tacs == ["35693803"]
    _ingest(sim, _row(sim, IMEI_C, at=now + timedelta(hours=2)))  # after it: the list holds again
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    assert _mismatches(sim) == [(IMEI_C, "TAC 35693803", ImeiMismatch.Action.SUSPENDED)]


def test_a_mismatch_without_suspend_is_recorded_and_written_as_a_domain_event(product, sim, suspend_events):
    _lock(product, LockMode.FIXED, imei=IMEI_A, notify=False)
    seen_at = timezone.now()
    _ingest(sim, _row(sim, IMEI_B, at=seen_at))
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE
    assert _mismatches(sim) == [(IMEI_B, IMEI_A, ImeiMismatch.Action.RECORDED)]
    event = suspend_events.get()
    assert event.product_id == product.pk
    assert event.data["notify"] is False
    assert event.data["mismatches"] == [
        {"iccid": sim.iccid, "expected": IMEI_A, "seen": IMEI_B, "at": seen_at.isoformat().replace("+00:00", "Z"), "action": "recorded"}
    ]


def test_the_same_event_twice_is_counted_once(product, sim, suspend_events):
    _lock(product, LockMode.FIXED, imei=IMEI_A, suspend=True)
    row = _row(sim, IMEI_B, event_id="carrier-ev-42")
    _ingest(sim, row, row)
    _ingest(sim, row)
    assert len(_mismatches(sim)) == 1
    assert suspend_events.count() == 1
    assert SimEvent.objects.filter(sim_id=sim.pk).count() == 1


def test_many_sims_in_one_chunk_suspend_in_one_lifecycle_chunk(product, make_sim, django_assert_max_num_queries):
    _lock(product, LockMode.FIRST, suspend=True)
    sims = [make_sim(product) for _ in range(30)]
    for sim in sims:
        SimImeiLock.objects.create(sim=sim, locked_imei=IMEI_A)
    rows = [(sim.pk, product.pk, _row(sim, IMEI_C)) for sim in sims]
    with django_assert_max_num_queries(30):  # the lock's own receiver
        check_network_events(sender=NetworkEvent, events=rows)
    assert ImeiMismatch.objects.filter(action=ImeiMismatch.Action.SUSPENDED).count() == 30
    assert DomainEvent.objects.get(kind=DomainEvent.Kind.IMEI_MISMATCH).data["event_count"] == 30


def test_the_team_is_notified_and_webhooks_receive_the_mismatch(product, sim, owner, teammate):
    _lock(product, LockMode.FIXED, imei=IMEI_A)
    Webhook.objects.create(product=product, url="https://hooks.example.com/x", secret="s")
    _ingest(sim, _row(sim, IMEI_B))
    publish_queued_events()
    told = Notification.objects.filter(kind="imei_mismatch")
    assert {n.user_id for n in told} == {owner.pk, teammate.pk}
    assert told.first().title == f"IMEI mismatch: SIM {sim.iccid} seen in IMEI {IMEI_B}"
    delivery = WebhookDelivery.objects.get()
    body = json.loads(delivery.body)
    assert body["type"] == "imei.mismatch"
    assert body["mismatches"][0]["seen"] == IMEI_B and body["mismatches"][0]["iccid"] == sim.iccid


def test_a_lock_that_does_not_notify_tells_nobody(product, sim, owner):
    _lock(product, LockMode.FIXED, imei=IMEI_A, notify=False)
    _ingest(sim, _row(sim, IMEI_B))
    publish_queued_events()
    assert not Notification.objects.exists()


def test_calling_the_receiver_directly_returns_the_mismatches(product, sim):
    _lock(product, LockMode.FIXED, imei=IMEI_A)
    assert check_network_events(events=[(sim.pk, product.pk, _row(sim, IMEI_B))]) == 1
