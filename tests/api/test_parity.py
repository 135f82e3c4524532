"""An API change is the console's change: the same lifecycle events, limits and charges."""

import json

from django.urls import reverse

from api.models import Scope
from api.tokens import create_token
from billing.models import Charge
from imports.importing import import_iccids, run_import
from imports.models import ImportJob
from sims.models import SimEvent
from tests.conftest import make_iccid


def _events(sim) -> list[tuple]:
    return list(SimEvent.objects.filter(sim=sim).order_by("id").values_list("action", "from_state", "to_state", "reason"))


def test_deactivating_by_api_writes_the_event_the_button_writes(client, teammate_client, product, teammate, make_sim):
    by_button, by_api = make_sim(product), make_sim(product)
    teammate_client.post(reverse("sim_action", args=[product.slug, by_button.iccid, "deactivate"]))
    _, secret = create_token(user=teammate, name="line", product=product, scopes=[Scope.SIMS_UPDATE])
    client.put(f"/v1/products/{product.slug}/sims/{by_api.iccid}", json.dumps({"action": "deactivate"}),
               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert _events(by_api) == _events(by_button) == [("deactivate", "active", "suspended", "")]
    assert SimEvent.objects.get(sim=by_api).actor_kind == "token"
    assert SimEvent.objects.get(sim=by_button).actor_kind == "user"


def test_importing_by_api_charges_what_importing_in_the_console_charges(client, product, teammate, owner):
    console_job = import_iccids(product=product, user=owner, data="\n".join(make_iccid() for _ in range(3)), country="DE")
    _, secret = create_token(user=teammate, name="line", product=product, scopes=[Scope.SIMS_IMPORT])
    response = client.post(f"/v1/products/{product.slug}/sims", json.dumps({"sims": [make_iccid() for _ in range(3)], "country": "DE"}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    api_job = run_import(job_id=ImportJob.objects.exclude(pk=console_job.pk).get().pk)
    assert (api_job.status, api_job.activated) == (console_job.status, console_job.activated) == ("done", 3)
    charges = Charge.objects.order_by("id")
    assert [(c.kind, c.quantity, c.unit_price, c.amount) for c in charges][0] == [
        (c.kind, c.quantity, c.unit_price, c.amount) for c in charges
    ][1]
    api_events = SimEvent.objects.filter(sim__import_batch__job=api_job).values_list("action", "from_state", "to_state")
    assert set(api_events) == {("import", "issued", "active")} and len(api_events) == 3
