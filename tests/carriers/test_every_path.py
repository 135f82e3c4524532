"""Every path that changes a SIM reaches the carrier: the console's buttons, bulk actions and bulk jobs,
the Django admin, both API dialects, the test-state triggers, the data limit, a new period's unpause,
developer accounts and imports. Each path runs as a person or a script would run it; then the queued
tasks run as a worker runs them (the change's domain event published, the push it queues), and:

- the carrier was asked exactly once, for exactly the SIM's new state on the network (ICCID, target,
  data limit, the change's idempotency key), and the SIM shows it is on the network as in the console;
- with the carrier down, the SIM has its new console state and shows it pending on the network, a retry
  queued; with the carrier refusing, it shows the carrier's reason. Never changed silently.
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from api.models import Scope
from api.tokens import create_token
from carriers import adapters
from carriers.adapters.base import NetworkChange
from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import SimulatedSim
from carriers.push import push_network_changes
from imports.importing import import_iccids
from lib.calendar import billing_period_start
from lib.units import MB
from products.limits import DEFAULT_DATA_LIMIT_MB
from products.models import Membership
from sims.limits import unpause_for_new_period
from sims.models import NetworkStatus, Sim, SimPeriodUsage, State
from sims.network import TARGET_OF_STATE
from sims.triggers import activate_long_provisioned
from sims.usage import ingest_usage
from tests.conftest import make_user
from tests.sims.test_usage import record

DEFAULT = DEFAULT_DATA_LIMIT_MB  # a SIM with no limit of its own, in a product with no default
ALL_SCOPES = list(Scope.values)


# --- The carrier and the worker -----------------------------------------------------------------------


@pytest.fixture
def carrier_calls(monkeypatch) -> list[list[NetworkChange]]:
    """Every call of the simulator adapter's `apply`, with the changes it was given (then applied)."""
    calls: list[list[NetworkChange]] = []
    real_apply = SimulatorAdapter.apply

    def recording_apply(self, changes):
        calls.append(list(changes))
        return real_apply(self, changes)

    monkeypatch.setattr(SimulatorAdapter, "apply", recording_apply)
    return calls


def carrier_is(monkeypatch, **settings) -> None:
    """The built-in simulator (SIMs with no carrier account) with these settings."""
    monkeypatch.setattr(adapters, "built_in_simulator_settings", lambda: {"account_id": None, **settings})


def run_queued_tasks() -> None:
    """What a worker does: every task ready to run, oldest first, until none is left (a task may queue
    more: an import's events, a published event's push). Tasks queued for later (retries) stay."""
    while result := DBTaskResult.objects.ready().order_by("enqueued_at", "pk").first():
        result.claim("test")
        args = result.task_result.args
        result.set_successful(result.task.call(*args, **result.task_result.kwargs))


# --- The paths ----------------------------------------------------------------------------------------


@dataclass
class World:
    product: object
    make_sim: Callable[..., Sim]
    client: object  # signed in as the product's admin, also staff for the Django admin
    user: object

    def particle(self, method: str, path: str, body: dict | None = None, *, own: bool = False):
        secret = create_token(user=self.user, name="script", product=None if own else self.product, scopes=ALL_SCOPES)[1]
        return self.client.generic(method, path, data=_json(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")

    def emnify(self, method: str, path: str, body: dict | None = None):
        secret = create_token(user=self.user, name="script", product=self.product, scopes=ALL_SCOPES)[1]
        auth = self.client.post("/api/v1/authenticate", {"application_token": secret}, content_type="application/json").json()
        return self.client.generic(method, path, data=_json(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {auth['auth_token']}")


def _json(body: dict | None) -> str:
    return json.dumps(body) if body is not None else ""


def ok(response) -> None:
    assert response.status_code < 400, response.content[:500]


def console_button(action: str, **post) -> Callable[[World, Sim], None]:
    def run(world: World, sim: Sim) -> None:
        ok(world.client.post(reverse("sim_action", args=[world.product.slug, sim.iccid, action]), post))
        assert not [m for m in world.client.get(reverse("sim_list", args=[world.product.slug])).context["messages"] if m.level_tag == "error"]

    return run


def console_bulk(action: str, **post) -> Callable[[World, Sim], None]:
    def run(world: World, sim: Sim) -> None:
        url = reverse("sims_bulk", args=[world.product.slug])
        ok(world.client.post(url, {"action": action, "scope": "selected", "ids": [sim.pk], **post}, headers={"HX-Request": "true"}))

    return run


def bulk_job(action: str, **post) -> Callable[[World, Sim], None]:
    """The same form on more than BULK_JOB_ABOVE_SIMS SIMs (none, here): a job, whose task the worker runs."""

    def run(world: World, sim: Sim) -> None:
        url = reverse("sims_bulk", args=[world.product.slug])
        with override_settings(BULK_JOB_ABOVE_SIMS=0):
            response = world.client.post(url, {"action": action, "scope": "selected", "ids": [sim.pk], **post}, headers={"HX-Request": "true"})
        assert "HX-Redirect" in response, response.content[:500]

    return run


def admin_action(action: str) -> Callable[[World, Sim], None]:
    def run(world: World, sim: Sim) -> None:
        chosen = {"action": f"lifecycle_{action}", "_selected_action": [sim.pk]}
        response = world.client.post(reverse("admin:sims_sim_changelist"), chosen, follow=True)
        assert "1 done" in response.content.decode()

    return run


def admin_form_data_limit(world: World, sim: Sim) -> None:
    """The admin's change form: the data limit override is editable there."""
    url = reverse("admin:sims_sim_change", args=[sim.pk])
    form = world.client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"data_limit_mb": "25", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})
    response = world.client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response


def particle_update(body: dict) -> Callable[[World, Sim], None]:
    def run(world: World, sim: Sim) -> None:
        ok(world.particle("PUT", f"/v1/products/{world.product.slug}/sims/{sim.iccid}", body))

    return run


def particle_remove(world: World, sim: Sim) -> None:
    ok(world.particle("DELETE", f"/v1/products/{world.product.slug}/sims/{sim.iccid}"))


def particle_own_activate(world: World, sim: Sim) -> None:
    ok(world.particle("PUT", f"/v1/sims/{sim.iccid}", {"action": "activate", "country": "DE"}, own=True))


def particle_own_activate_new(world: World, sim: Sim) -> None:
    """An ICCID the console has never seen, claimed and activated by a developer (the SIM given is a stand-in, deleted)."""
    iccid = sim.iccid
    sim.delete()
    ok(world.particle("PUT", f"/v1/sims/{iccid}", {"action": "activate", "country": "DE"}, own=True))


def particle_own_release(world: World, sim: Sim) -> None:
    ok(world.particle("DELETE", f"/v1/sims/{sim.iccid}", own=True))


def particle_import(world: World, sim: Sim) -> None:
    ok(world.particle("POST", f"/v1/products/{world.product.slug}/sims", {"sims": [sim.iccid], "country": "US"}))


def emnify_status(status: int) -> Callable[[World, Sim], None]:
    def run(world: World, sim: Sim) -> None:
        ok(world.emnify("PATCH", f"/api/v1/sim/{sim.pk}", {"status": {"id": status}}))

    return run


def emnify_delete(world: World, sim: Sim) -> None:
    ok(world.emnify("DELETE", f"/api/v1/sim/{sim.pk}"))


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # tests.sims.test_usage's clock for ingestion


def trigger_by_usage(world: World, sim: Sim) -> None:
    """A provisioned SIM's test traffic reaches its product's data rule (5 KB by default)."""
    assert ingest_usage([record(sim, megabytes=0.01)], now=NOW).activated == 1


def trigger_over_limit(world: World, sim: Sim) -> None:
    """Test traffic over the SIM's limit: activated by the trigger and paused in the same pass."""
    report = ingest_usage([record(sim, megabytes=8)], now=NOW)
    assert (report.activated, report.paused) == (1, 1)


def trigger_by_time(world: World, sim: Sim) -> None:
    world.product.trigger_months = 1
    world.product.save()
    assert activate_long_provisioned(now=timezone.now()) == 1


def pause_by_usage(world: World, sim: Sim) -> None:
    """Ingested usage reaches the SIM's data limit (its own 7 MB)."""
    assert ingest_usage([record(sim, megabytes=8)], now=NOW).paused == 1


def _usage_now(sim: Sim) -> dict:
    """8 MB used ten minutes ago (in this billing period whenever the test runs), as the usage fields' strings."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=11)
    end = start + timedelta(minutes=1)
    return {"record_id": f"r-{sim.iccid}", "iccid": sim.iccid, "start": start.isoformat(), "end": end.isoformat(),
            "bytes_up": 0, "bytes_down": 8 * MB, "sms": 0, "country": "DE"}  # fmt: skip


def pause_by_usage_push(world: World, sim: Sim) -> None:
    """The carrier pushes usage to /carrier/usage/: over the SIM's limit."""
    token = "t0ken-for-the-every-path-tests-0123456789"
    with override_settings(CARRIER_PUSH_TOKEN=token):
        body = {"records": [_usage_now(sim)]}
        ok(world.client.post("/carrier/usage/", _json(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"))


def pause_by_usage_file(world: World, sim: Sim) -> None:
    """A usage CSV ingested by the command line (manage.py ingest_usage)."""
    import tempfile

    row = _usage_now(sim)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete_on_close=False) as file:
        file.write(",".join(row) + "\n" + ",".join(str(value) for value in row.values()) + "\n")
        file.close()
        call_command("ingest_usage", file.name, stdout=io.StringIO(), stderr=io.StringIO())


def pause_by_periodic_fetch(world: World, sim: Sim) -> None:
    """The periodic tick fetches usage from the carrier: over the SIM's limit."""
    from sims import periodic

    class Carrier:
        def usage_records(self, *, sims, since, until):
            list(sims)
            yield record(sim, megabytes=8, at=until - timedelta(minutes=40))

    real = periodic.get_carrier
    periodic.get_carrier = Carrier  # type: ignore[assignment]
    try:
        periodic.run_periodic_work(now=timezone.now())
    finally:
        periodic.get_carrier = real


def new_period(world: World, sim: Sim) -> None:
    assert unpause_for_new_period() == 1


def my_sims_button(action: str, **post) -> Callable[[World, Sim], None]:
    def run(world: World, sim: Sim) -> None:
        ok(world.client.post(reverse("my_sim_action", args=[sim.iccid, action]), post))
        sim.refresh_from_db()
        assert sim.state != State.ISSUED

    return run


def import_file(world: World, sim: Sim) -> None:
    assert import_iccids(product=world.product, user=world.user, data=sim.iccid, country="US").activated == 1


def import_command(world: World, sim: Sim) -> None:
    """manage.py import_sims."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete_on_close=False) as file:
        file.write(sim.iccid + "\n")
        file.close()
        call_command("import_sims", file.name, product=world.product.slug, country="US", user=world.user.username, stdout=io.StringIO())


def import_new_iccid(world: World, sim: Sim) -> None:
    """An ICCID the console has never seen (the SIM given is a stand-in, deleted first: the import inserts it)."""
    iccid = sim.iccid
    sim.delete()
    assert import_iccids(product=world.product, user=world.user, data=iccid, country="US").activated == 1


def my_sim_to_product(world: World, sim: Sim) -> None:
    """My SIMs' "to product", then the import's review confirmed: a transfer."""
    response = world.client.post(reverse("my_sim_to_product", args=[sim.iccid]), {"product": world.product.slug})
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    ok(world.client.post(reverse("import_confirm", args=[world.product.slug, job_id]), {"country": "US"}))


@dataclass(frozen=True)
class Path:
    run: Callable[[World, Sim], None]
    start: State  # the SIM before the path runs
    target: str  # the state it must reach on the network
    limit: int = DEFAULT  # the data limit the network must enforce
    sim: str = "product"  # whose SIM: the product's, in inventory (nobody's) or the developer's own
    fields: tuple = ()  # the SIM's other fields, as (name, value) pairs
    # False: the network is in the target state already (a provisioned SIM is on the network for its test
    # traffic: its activation changes nothing there), and the carrier must not be asked at all.
    sends: bool = True


PATHS: dict[str, Path] = {
    # The console's SIM page (and a row's menu: the same view)
    "console: deactivate": Path(console_button("deactivate"), State.ACTIVE, "suspended"),
    "console: reactivate": Path(console_button("reactivate"), State.SUSPENDED, "active"),
    "console: unpause": Path(console_button("unpause"), State.PAUSED, "active"),
    "console: remove from product": Path(console_button("remove"), State.ACTIVE, "suspended"),
    "console: terminate": Path(console_button("terminate"), State.ACTIVE, "terminated"),
    "console: set data limit": Path(console_button("set_data_limit", data_limit_mb="25"), State.ACTIVE, "active", 25),
    "console: set data limit under usage": Path(
        console_button("set_data_limit", data_limit_mb="1"), State.ACTIVE, "paused", 1, fields=(("used_mb", 3),)
    ),
    "console: set data limit above usage, unpause": Path(
        console_button("set_data_limit", data_limit_mb="25", unpause="on"), State.PAUSED, "active", 25, fields=(("used_mb", 3),)
    ),
    # Bulk actions in the request
    "bulk: deactivate": Path(console_bulk("deactivate"), State.ACTIVE, "suspended"),
    "bulk: reactivate": Path(console_bulk("reactivate"), State.SUSPENDED, "active"),
    "bulk: unpause": Path(console_bulk("unpause"), State.PAUSED, "active"),
    "bulk: remove": Path(console_bulk("remove"), State.ACTIVE, "suspended"),
    "bulk: terminate": Path(console_bulk("terminate", confirm_terminate="on"), State.ACTIVE, "terminated"),
    "bulk: set data limit": Path(console_bulk("set_data_limit", data_limit_mb="25"), State.ACTIVE, "active", 25),
    # Bulk jobs
    "bulk job: deactivate": Path(bulk_job("deactivate"), State.ACTIVE, "suspended"),
    "bulk job: reactivate": Path(bulk_job("reactivate"), State.SUSPENDED, "active"),
    "bulk job: unpause": Path(bulk_job("unpause"), State.PAUSED, "active"),
    "bulk job: remove": Path(bulk_job("remove"), State.ACTIVE, "suspended"),
    "bulk job: terminate": Path(bulk_job("terminate", confirm_terminate="on"), State.ACTIVE, "terminated"),
    "bulk job: set data limit": Path(bulk_job("set_data_limit", data_limit_mb="25"), State.ACTIVE, "active", 25),
    # Django admin
    "admin: provision": Path(admin_action("provision"), State.ISSUED, "active"),
    "admin: activate": Path(admin_action("activate"), State.ISSUED, "active"),
    "admin: deactivate": Path(admin_action("deactivate"), State.ACTIVE, "suspended"),
    "admin: reactivate": Path(admin_action("reactivate"), State.SUSPENDED, "active"),
    "admin: unpause": Path(admin_action("unpause"), State.PAUSED, "active"),
    "admin: remove": Path(admin_action("remove"), State.ACTIVE, "suspended"),
    "admin: terminate": Path(admin_action("terminate"), State.ACTIVE, "terminated"),
    "admin: data limit in the change form": Path(admin_form_data_limit, State.ACTIVE, "active", 25),
    # Particle's API
    "particle: deactivate": Path(particle_update({"action": "deactivate"}), State.ACTIVE, "suspended"),
    "particle: reactivate": Path(particle_update({"action": "reactivate"}), State.SUSPENDED, "active"),
    "particle: reactivate with a limit": Path(particle_update({"action": "reactivate", "mb_limit": 30}), State.SUSPENDED, "active", 30),
    "particle: set data limit": Path(particle_update({"mb_limit": 30}), State.ACTIVE, "active", 30),
    "particle: remove": Path(particle_remove, State.ACTIVE, "suspended"),
    "particle: activate own SIM": Path(particle_own_activate, State.ISSUED, "active", sim="inventory"),
    "particle: activate a new own ICCID": Path(particle_own_activate_new, State.ISSUED, "active", sim="inventory"),
    "particle: release own SIM": Path(particle_own_release, State.ACTIVE, "suspended", sim="own"),
    "particle: import": Path(particle_import, State.ISSUED, "active", sim="inventory"),
    # emnify's API
    "emnify: activate": Path(emnify_status(1), State.ISSUED, "active"),
    "emnify: reactivate": Path(emnify_status(1), State.SUSPENDED, "active"),
    "emnify: unpause": Path(emnify_status(1), State.PAUSED, "active"),
    "emnify: suspend": Path(emnify_status(2), State.ACTIVE, "suspended"),
    "emnify: test state": Path(emnify_status(4), State.ISSUED, "active"),
    "emnify: delete by patch": Path(emnify_status(3), State.ACTIVE, "terminated"),
    "emnify: delete": Path(emnify_delete, State.ACTIVE, "terminated"),
    # The rules
    "trigger: test traffic": Path(trigger_by_usage, State.PROVISIONED, "active", fields=(("provisioned_days_ago", 3),), sends=False),
    "trigger: time in test state": Path(trigger_by_time, State.PROVISIONED, "active", fields=(("provisioned_days_ago", 40),), sends=False),
    "trigger, then over the limit at once": Path(
        trigger_over_limit, State.PROVISIONED, "paused", 7, fields=(("provisioned_days_ago", 3), ("data_limit_mb", 7))
    ),
    "data limit reached by usage": Path(pause_by_usage, State.ACTIVE, "paused", 7, fields=(("data_limit_mb", 7),)),
    "data limit reached: the carrier's usage push": Path(pause_by_usage_push, State.ACTIVE, "paused", 7, fields=(("data_limit_mb", 7),)),
    "data limit reached: a usage file": Path(pause_by_usage_file, State.ACTIVE, "paused", 7, fields=(("data_limit_mb", 7),)),
    "data limit reached: the periodic usage fetch": Path(pause_by_periodic_fetch, State.ACTIVE, "paused", 7, fields=(("data_limit_mb", 7),)),
    "new billing period": Path(new_period, State.PAUSED, "active", fields=(("paused_days_ago", 40),)),
    # Developer accounts (My SIMs)
    "my SIMs: activate": Path(my_sims_button("activate", country="DE"), State.ISSUED, "active", sim="own"),
    "my SIMs: deactivate": Path(my_sims_button("deactivate"), State.ACTIVE, "suspended", sim="own"),
    "my SIMs: reactivate": Path(my_sims_button("reactivate"), State.SUSPENDED, "active", sim="own"),
    # Imports
    "import: from inventory": Path(import_file, State.ISSUED, "active", sim="inventory"),
    "import: the import_sims command": Path(import_command, State.ISSUED, "active", sim="inventory"),
    "import: a new ICCID": Path(import_new_iccid, State.ISSUED, "active", sim="inventory"),
    "import: suspended SIM from inventory": Path(import_file, State.SUSPENDED, "active", sim="inventory"),
    "import: my SIM to a product": Path(my_sim_to_product, State.ACTIVE, "active", sim="own"),
}


@pytest.fixture
def world(client, product, make_sim) -> World:
    user = make_user("lead")
    user.is_staff = user.is_superuser = True
    user.save()
    Membership.objects.create(user=user, product=product, role=Membership.Role.ADMIN)
    client.force_login(user)
    return World(product=product, make_sim=make_sim, client=client, user=user)


def sim_for(world: World, path: Path) -> Sim:
    extra = dict(path.fields)
    now = timezone.now()
    fields: dict = {"home_country": "US", "data_limit_mb": extra.pop("data_limit_mb", None)}
    if "provisioned_days_ago" in extra:
        ingested_at = NOW if path.run in (trigger_by_usage, trigger_over_limit) else now
        fields["state_changed_at"] = ingested_at - timedelta(days=extra.pop("provisioned_days_ago"))
    if "paused_days_ago" in extra:
        fields["state_changed_at"] = now - timedelta(days=extra.pop("paused_days_ago"))
    if path.sim == "own":
        fields["owner_user"] = world.user
    sim = world.make_sim(world.product if path.sim == "product" else None, state=path.start, **fields)
    if "used_mb" in extra:
        SimPeriodUsage.objects.create(sim=sim, period=billing_period_start(now), bytes=extra.pop("used_mb") * MB)
    assert not extra, extra
    if not path.sends:  # put on the network when it was provisioned
        SimulatedSim.objects.create(iccid=sim.iccid, status=path.target, data_limit_mb=path.limit, changes=1)
    return sim


def run_path(world: World, name: str, django_capture_on_commit_callbacks) -> Sim:
    """Run the path on a SIM made for it, then the worker's tasks; the SIM as it is then."""
    path = PATHS[name]
    sim = sim_for(world, path)
    iccid = sim.iccid
    with django_capture_on_commit_callbacks(execute=True):  # tasks queued on commit (an import, a bulk job)
        path.run(world, sim)
    run_queued_tasks()
    return Sim.objects.select_related("product").get(iccid=iccid)


@pytest.mark.parametrize("name", PATHS)
def test_the_change_reaches_the_carrier_exactly_as_decided(world, name, carrier_calls, django_capture_on_commit_callbacks):
    path = PATHS[name]

    sim = run_path(world, name, django_capture_on_commit_callbacks)

    sent = [[NetworkChange(sim.iccid, path.target, path.limit, key=f"{sim.iccid}:{sim.network_version}")]]
    assert carrier_calls == (sent if path.sends else [])
    assert (sim.network_status, sim.network_error) == (NetworkStatus.SYNCED, "")
    assert TARGET_OF_STATE[sim.state] == path.target  # the console's state, as on the network
    network = SimulatedSim.objects.get(iccid=sim.iccid)
    assert (network.status, network.data_limit_mb, network.changes, network.repeats) == (path.target, path.limit, 1, 0)


SENDING = [name for name, path in PATHS.items() if path.sends]
# A SIM claimed from inventory is first asked of the carrier (does the account hold it?): with the carrier
# down or refusing, the claim itself fails and nothing changes here. tests/imports/test_claims.py and
# tests/api/test_claims.py prove that; the two tests below are for changes the console has made.
CHANGES_MADE = [name for name in SENDING if PATHS[name].sim != "inventory"]


@pytest.mark.parametrize("name", CHANGES_MADE)
def test_with_the_carrier_down_the_change_shows_pending_on_the_network(world, name, carrier_calls, monkeypatch, django_capture_on_commit_callbacks):
    carrier_is(monkeypatch, failure_rate=1)

    sim = run_path(world, name, django_capture_on_commit_callbacks)

    assert len(carrier_calls) == 1  # asked, no answer
    assert TARGET_OF_STATE[sim.state] == PATHS[name].target  # the console's new state...
    assert sim.network_status == NetworkStatus.PENDING  # ...shown as not on the network yet
    assert "Carrier unavailable" in sim.network_error and sim.network_retry_at is not None
    assert DBTaskResult.objects.filter(task_path=push_network_changes.module_path, status="READY", run_after__gt=timezone.now()).exists()
    assert not SimulatedSim.objects.filter(iccid=sim.iccid).exists()


@pytest.mark.parametrize("name", CHANGES_MADE)
def test_with_the_carrier_refusing_the_sim_shows_the_carriers_reason(world, name, carrier_calls, monkeypatch, django_capture_on_commit_callbacks):
    carrier_is(monkeypatch, refuse_suffixes=list("0123456789"))

    sim = run_path(world, name, django_capture_on_commit_callbacks)

    assert len(carrier_calls) == 1
    assert TARGET_OF_STATE[sim.state] == PATHS[name].target
    assert sim.network_status == NetworkStatus.FAILED
    assert sim.network_error == "SIM not in this account's inventory (simulated carrier)."
    assert not SimulatedSim.objects.filter(iccid=sim.iccid).exists()
