"""A real task worker publishes a change's events and delivers them: the first attempt gets a 500,
the retry (queued with run_after) succeeds a second later."""

import time

import pytest

from products.models import Product
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Sim, State
from tests.conftest import make_iccid, make_user
from tests.webhooks.test_webhooks import Receiver
from webhooks.models import WebhookDelivery
from webhooks.receivers import add_webhook

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_retries_after_a_500_and_delivers(start_worker, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    receiver = Receiver([500, 200])
    try:
        product = Product.objects.create(name="Fleet", slug="fleet")
        user = make_user("admin")
        add_webhook(product=product, url=receiver.url, user=user)
        Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(3)])
        apply_action(sims=Sim.objects.filter(product=product), action=Action.DEACTIVATE, actor=Actor.for_user(user))

        start_worker(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="1", WEBHOOKS_RETRY_SECONDS="1")
        deadline = time.monotonic() + 60
        # The worker publishes the change's events (its deliveries are written then), and delivers them.
        while not WebhookDelivery.objects.filter(status="delivered").exists():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)

        delivery = WebhookDelivery.objects.get()
        assert (delivery.attempts, delivery.last_status_code) == (2, 200)
        assert len(receiver.requests) == 2
        first, second = receiver.requests
        assert first[1] == second[1] == delivery.body.encode()
        assert first[0]["X-SimConsole-Delivery"] == second[0]["X-SimConsole-Delivery"] == str(delivery.uuid)
        # The retry waited for its run_after: WEBHOOKS_RETRY_SECONDS after the first attempt.
        assert receiver.times[1] - receiver.times[0] >= 0.9
    finally:
        receiver.close()
