"""Domain events: a lifecycle change or an import writes its events to the outbox in its own
transaction, and subscribers (webhooks) get them when the worker publishes them. The domain imports
nothing of the api and webhooks apps; a change rolled back publishes nothing; an event whose worker died before
publishing it, or whose publication failed half-way, is delivered later, once."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from sims.events import STRAGGLER_AGE, event_published, publish, publish_events, publish_stragglers
from sims.lifecycle import Action, Actor, apply_action
from sims.models import DomainEvent, Sim, State
from sims.periodic import run_periodic_work
from tests.conftest import ROOT, make_iccid, publish_queued_events
from webhooks.delivery import deliver_webhook
from webhooks.models import WebhookDelivery
from webhooks.receivers import add_webhook

DELIVER_TASK = "webhooks.delivery.deliver_webhook"


@pytest.fixture
def public_dns(monkeypatch):
    from webhooks import addresses

    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def two_webhooks(product, owner, public_dns):
    return [add_webhook(product=product, url=f"https://h{n}.example.com/sims", user=owner) for n in range(2)]


def deactivate_all(product, owner, count: int) -> None:
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(count)])
    apply_action(sims=Sim.objects.filter(product=product), action=Action.DEACTIVATE, actor=Actor.for_user(owner))


def event_counts_by_webhook() -> dict[int, list[int]]:
    counts: dict[int, list[int]] = {}
    for webhook_id, body in WebhookDelivery.objects.order_by("id").values_list("webhook_id", "body"):
        counts.setdefault(webhook_id, []).append(json.loads(body)["event_count"])
    return counts


def deliver_tasks() -> int:
    return DBTaskResult.objects.filter(task_path=DELIVER_TASK).count()


def test_the_domain_imports_nothing_of_the_api_or_webhooks_apps():
    """Every module of sims/, products/ and imports/ loads with the api and webhooks apps not even
    installed, and loads none of them."""
    code = """
import importlib, pkgutil, sys
import django
from django.conf import settings
SUBSCRIBERS = ("api", "webhooks")
settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app not in SUBSCRIBERS]
django.setup()
import imports, products, sims
for package in (sims, products, imports):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in SUBSCRIBERS)
assert not loaded, f"the domain loaded {loaded}"
assert "sims.lifecycle" in sys.modules and "imports.importing" in sys.modules and "products.access" in sys.modules
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "console.settings", "DEBUG": "1"}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]


def test_a_chunk_writes_one_event_per_product_and_nothing_is_delivered_until_it_is_published(product, owner, two_webhooks):
    deactivate_all(product, owner, 2500)
    assert list(DomainEvent.objects.values_list("kind", "product_id", "data__event_count")) == [
        ("sims.changed", product.pk, 1000), ("sims.changed", product.pk, 1000), ("sims.changed", product.pk, 500),
    ]  # fmt: skip
    assert not WebhookDelivery.objects.exists()

    publish_queued_events()

    assert event_counts_by_webhook() == {hook.pk: [1000, 1000, 500] for hook in two_webhooks}
    assert deliver_tasks() == 6
    assert not DomainEvent.objects.exists()  # out of the outbox once published


def test_a_change_rolled_back_after_its_chunks_leaves_no_event_and_delivers_nothing(product, owner, two_webhooks):
    with pytest.raises(RuntimeError), transaction.atomic():
        deactivate_all(product, owner, 1500)
        raise RuntimeError("the caller's transaction fails after the action")
    publish_queued_events()
    assert not DomainEvent.objects.exists() and not WebhookDelivery.objects.exists()
    assert not DBTaskResult.objects.filter(task_path=publish_events.module_path).exists()


def test_events_whose_worker_died_before_publishing_them_are_delivered_by_the_next_tick_once(product, owner, two_webhooks):
    deactivate_all(product, owner, 2500)
    # The worker took the tasks and was killed before publishing: django-tasks-db never runs them again.
    for result in DBTaskResult.objects.filter(task_path=publish_events.module_path):
        result.claim("killed")
    assert publish_stragglers(now=timezone.now()) == 0  # too young: their task may still be running

    later = timezone.now() + STRAGGLER_AGE + timedelta(seconds=1)
    assert publish_stragglers(now=later) == 3

    assert event_counts_by_webhook() == {hook.pk: [1000, 1000, 500] for hook in two_webhooks}
    assert deliver_tasks() == 6
    assert publish_stragglers(now=later) == 0
    assert WebhookDelivery.objects.count() == 6


def test_the_periodic_tick_publishes_the_stragglers(product, owner, two_webhooks):
    deactivate_all(product, owner, 3)
    summary = run_periodic_work(now=timezone.now() + STRAGGLER_AGE + timedelta(seconds=1))
    assert "1 events published late." in summary
    assert event_counts_by_webhook() == {hook.pk: [3] for hook in two_webhooks}


def test_a_publication_that_fails_half_way_delivers_nothing_and_the_event_waits_for_the_next_try(
    product, owner, two_webhooks
):
    def failing_subscriber(sender, *, event, **kwargs):
        assert WebhookDelivery.objects.count() == 2  # the webhooks wrote theirs before this one failed
        raise ConnectionError("a subscriber fails")

    deactivate_all(product, owner, 3)
    event_published.connect(failing_subscriber)
    try:
        with pytest.raises(ConnectionError):
            publish_queued_events()
    finally:
        event_published.disconnect(failing_subscriber)
    assert not WebhookDelivery.objects.exists() and deliver_tasks() == 0
    assert DomainEvent.objects.count() == 1

    assert publish_stragglers(now=timezone.now() + STRAGGLER_AGE + timedelta(seconds=1)) == 1
    assert event_counts_by_webhook() == {hook.pk: [3] for hook in two_webhooks}


def test_an_event_published_twice_is_delivered_once(product, owner, two_webhooks):
    deactivate_all(product, owner, 3)
    (event_id,) = DomainEvent.objects.values_list("pk", flat=True)
    assert publish(event_id) is True
    assert publish(event_id) is False  # its task after the tick, or the tick after its task
    publish_queued_events()
    assert WebhookDelivery.objects.count() == 2 and deliver_tasks() == 2

