"""Webhook and WebhookDelivery moved from api to the webhooks app on their own tables: a database at
the schema from before the move migrates forward with every row in place, readable through the new
models, and its admin log and permissions still pointing at them."""

import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from webhooks.models import Webhook, WebhookDelivery

BEFORE_THE_MOVE = [("webhooks", None), ("api", "0002_webhooks")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    state = executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return state.apps


@pytest.mark.django_db(transaction=True)
def test_webhooks_and_their_deliveries_survive_the_move_to_their_own_app():
    old = migrate(BEFORE_THE_MOVE)
    user = old.get_model("auth", "User").objects.create(username="ada", email="ada@example.com")
    product = old.get_model("products", "Product").objects.create(name="Acme Trackers", slug="acme")
    OldWebhook, OldDelivery = old.get_model("api", "Webhook"), old.get_model("api", "WebhookDelivery")
    hooks = [
        OldWebhook.objects.create(product=product, url=f"https://h{n}.example.com/sims", secret=f"whsec_{n}", created_by=user)
        for n in range(2)
    ]
    OldWebhook.objects.filter(pk=hooks[1].pk).update(is_active=False)
    sent = {
        OldDelivery.objects.create(
            webhook=hooks[n % 2], uuid=uuid.uuid4(), kind="sim.events", summary=f"deactivate: {n} SIMs",
            body=f'{{"n":{n}}}', status="delivered" if n else "pending", attempts=n,
        ).pk: n
        for n in range(5)
    }  # fmt: skip
    old_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(app_label="api", model="webhook")[0]
    permission = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=old_type, codename="change_webhook", defaults={"name": "Can change webhook"}
    )[0]
    old.get_model("admin", "LogEntry").objects.create(
        user_id=user.pk, content_type_id=old_type.pk, object_id=str(hooks[0].pk), object_repr=hooks[0].url, action_flag=2
    )

    migrate(None)

    assert list(Webhook.objects.order_by("pk").values_list("pk", "url", "is_active", "product__slug", "created_by__username")) == [
        (hooks[0].pk, "https://h0.example.com/sims", True, "acme", "ada"),
        (hooks[1].pk, "https://h1.example.com/sims", False, "acme", "ada"),
    ]
    deliveries = WebhookDelivery.objects.select_related("webhook")
    assert {d.pk: int(d.body[5:-1]) for d in deliveries} == sent
    assert all(d.webhook_id == hooks[n % 2].pk and d.attempts == n for d in deliveries for n in [sent[d.pk]])
    assert [d.pk for d in Webhook.objects.get(pk=hooks[0].pk).deliveries.order_by("pk")] == sorted(
        pk for pk, n in sent.items() if n % 2 == 0
    )
    assert ContentType.objects.get_for_model(Webhook).pk == old_type.pk
    assert Permission.objects.get(pk=permission.pk).content_type.model_class() is Webhook
    assert LogEntry.objects.get().get_edited_object() == Webhook.objects.get(pk=hooks[0].pk)
