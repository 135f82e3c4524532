"""Which SIM is in which device: put a SIM in a device, take it out, and the network's attach events
doing the same (`on_network_events`, connected in devices/apps.py).

A SIM sits in at most one device and a device holds at most one SIM: putting a SIM in a device ends
the SIM's previous assignment and the one of the SIM the device held. Every assignment stays, with its
end, as the history; Sim.device is the current one, kept in step in the same transaction."""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from devices.models import Device, DeviceAssignment
from devices.tac import MODELS_BY_TAC, InvalidImei, model_for_imei, validate_imei
from lib.bulk_insert import bulk_insert, db_datetime, insert_rows, listed
from sims.models import NetworkEvent, Sim
from sims.network_events import NetworkEventRow


# What the network's attaches read of each SIM.
SIM_FIELDS = ["id", "iccid", "product_id", "device_id"]


class AssignmentRefused(ValueError):
    """A SIM that cannot go in this device, saying why."""


def assign_sim(*, sim: Sim, device: Device, source: str, by_user: Any = None, at: datetime | None = None) -> DeviceAssignment:
    """Puts the SIM in the device (nothing changes when it is there already, nor when the SIM or the device
    was assigned after `at`) and answers the assignment that stands."""
    if sim.product_id is None or sim.product_id != device.product_id:
        raise AssignmentRefused(f"The SIM {sim.iccid} is not in this product: only the product's own SIMs go in its devices.")
    at = at or timezone.now()
    with transaction.atomic():
        # The device's row, then the SIM's, locked: two assignments of one SIM, or into one device, at once
        # happen one after the other (each ends what the other began).
        Device.objects.select_for_update().filter(pk=device.pk).values_list("pk", flat=True).first()
        locked = Sim.objects.select_for_update().only("pk", "device_id").get(pk=sim.pk)
        if locked.device_id == device.pk:
            current = DeviceAssignment.objects.filter(sim_id=sim.pk, device=device, ended_at=None).first()
            if current is not None:
                sim.device = device
                return current
        standing = DeviceAssignment.objects.filter(Q(sim_id=sim.pk) | Q(device=device), ended_at=None, started_at__gt=at)
        newer = standing.order_by("-started_at").first()
        if newer is not None:
            # Word older than what stands (a carrier's late attach): the SIM and the device stay where they
            # were put since; the history keeps no assignment that ended before it began.
            return newer
        DeviceAssignment.objects.filter(sim_id=sim.pk, ended_at=None).update(ended_at=at)
        # The SIM the device held leaves it.
        DeviceAssignment.objects.filter(device=device, ended_at=None).update(ended_at=at)
        Sim.objects.filter(device=device).exclude(pk=sim.pk).update(device=None)
        Sim.objects.filter(pk=sim.pk).update(device=device)
        assignment = DeviceAssignment.objects.create(sim_id=sim.pk, device=device, started_at=at, source=source, by_user=by_user)
    sim.device = device
    return assignment


def release_sim(*, sim: Sim, at: datetime | None = None) -> DeviceAssignment | None:
    """Takes the SIM out of its device; answers the assignment it ended (None: it was in none)."""
    at = at or timezone.now()
    with transaction.atomic():
        Sim.objects.select_for_update().only("pk").get(pk=sim.pk)
        current = DeviceAssignment.objects.filter(sim_id=sim.pk, ended_at=None).first()
        DeviceAssignment.objects.filter(sim_id=sim.pk, ended_at=None).update(ended_at=at)
        Sim.objects.filter(pk=sim.pk).update(device=None)
    sim.device = None
    if current is not None:
        current.ended_at = at
    return current


def device_for_imei(product_id: int, imei: str, *, looked_up: bool = False) -> Device:
    """The product's device with this IMEI, created (named from its model, its IMEI as its id) when none has
    it (`looked_up`: the caller has just found none)."""
    device = None if looked_up else Device.objects.filter(product_id=product_id, imei=imei).order_by("pk").first()
    if device is not None:
        return device
    try:
        with transaction.atomic():
            device = _new_device(product_id, imei)
            device.save(force_insert=True)
            return device
    except IntegrityError:  # another chunk created it at the same moment (same device id)
        return Device.objects.get(product_id=product_id, device_id=imei)


def _new_device(product_id: int, imei: str) -> Device:
    """The device an attach with this IMEI creates (not saved): its IMEI as its id, named from its model."""
    model = model_for_imei(imei)
    # "Quectel BG96 100200": the model and the serial digits; a model the TAC table does not know, "Device 100200".
    name = f"{model if imei[:8] in MODELS_BY_TAC else 'Device'} {imei[8:14]}"
    return Device(product_id=product_id, device_id=imei, imei=imei, model=model, name=name)


def on_network_events(sender: Any, events: Iterable[tuple[int, int | None, NetworkEventRow]], **kwargs: Any) -> None:
    """An attach reporting an IMEI puts the SIM in the product's device with that IMEI (source: network)."""
    latest: dict[int, tuple[int, NetworkEventRow]] = {}
    for sim_id, product_id, row in events:
        if row.kind != NetworkEvent.Kind.ATTACH or not row.imei or product_id is None:
            continue
        try:
            validate_imei(row.imei)
        except InvalidImei:
            continue  # the network's word, but not an IMEI a device could be found or named by
        seen = latest.get(sim_id)
        if seen is None or seen[1].at <= row.at:
            latest[sim_id] = (product_id, row)
    if not latest:
        return
    # Where each SIM is, and the oldest device of each (product, IMEI), as plain values: in a fleet's usual
    # chunk every SIM attaches from the device it is in: nothing more is read, no model built.
    sim_values = Sim.objects.filter(pk__in=listed(Sim._meta.get_field("id"), list(latest))).values_list(*SIM_FIELDS)
    current = {values[0]: values for values in sim_values}
    imeis = sorted({row.imei for _, row in latest.values()})
    oldest: dict[tuple[int, str], int] = {}
    devices = Device.objects.filter(product_id__in={p for p, _ in latest.values()}, imei__in=listed(Device._meta.get_field("imei"), imeis))
    for pk, product_id, imei in devices.order_by("-pk").values_list("pk", "product_id", "imei"):
        oldest[(product_id, imei)] = pk  # the oldest wins
    moving = [
        sim_id
        for sim_id, (product_id, row) in latest.items()
        if sim_id in current
        and current[sim_id][2] == product_id
        and (oldest.get((product_id, row.imei)) is None or current[sim_id][3] != oldest[(product_id, row.imei)])
    ]
    if not moving:
        return
    put = _put_in_new_devices(
        {sim_id: latest[sim_id] for sim_id in moving if current[sim_id][3] is None and (latest[sim_id][0], latest[sim_id][1].imei) not in oldest}
    )
    moving = [sim_id for sim_id in moving if sim_id not in put]
    if not moving:
        return
    # As .only(*SIM_FIELDS) builds them, from the values read.
    sims = {sim_id: Sim.from_db(Sim.objects.db, SIM_FIELDS, current[sim_id]) for sim_id in moving}
    wanted = [pk for pk in (oldest.get((latest[sim_id][0], latest[sim_id][1].imei)) for sim_id in moving) if pk is not None]
    known: dict[tuple[int, str], Device] = {}
    for device in Device.objects.filter(pk__in=listed(Device._meta.get_field("id"), sorted(set(wanted)))) if wanted else []:
        known[(device.product_id, device.imei)] = device
    for sim_id in moving:
        product_id, row = latest[sim_id]
        sim = sims[sim_id]
        device = known.get((product_id, row.imei)) or device_for_imei(product_id, row.imei, looked_up=True)
        known[(product_id, row.imei)] = device
        if sim.device_id == device.pk:
            continue
        assign_sim(sim=sim, device=device, source=DeviceAssignment.Source.NETWORK, at=row.at)


# A fleet's first attaches, in one temporary table: each SIM and the device it goes in.
PAIRS = "devices_new_assignments"


def _put_in_new_devices(first_attaches: dict[int, tuple[int, NetworkEventRow]]) -> set[int]:
    """SIMs in no device whose attach names an IMEI no device of their product has (a fleet's first delivery):
    the devices created and each SIM put in its own set-wise, as `assign_sim` would one by one. Only IMEIs
    that one SIM of the chunk names (two SIMs in one device: one by one, in order). Returns the SIMs put; the
    rest (a device another chunk filled meanwhile) go one by one."""
    claims = Counter((product_id, row.imei) for product_id, row in first_attaches.values())
    first_attaches = {sim_id: (p, row) for sim_id, (p, row) in first_attaches.items() if claims[(p, row.imei)] == 1}
    if not first_attaches:
        return set()
    Device.objects.bulk_create([_new_device(p, row.imei) for p, row in first_attaches.values()], ignore_conflicts=True)
    imeis = sorted({row.imei for _, row in first_attaches.values()})
    created = Device.objects.filter(
        product_id__in={p for p, _ in first_attaches.values()}, device_id__in=listed(Device._meta.get_field("device_id"), imeis)
    )
    device_of = {(p, device_id): pk for pk, p, device_id in created.values_list("pk", "product_id", "device_id")}
    pairs = [(sim_id, device_of[(p, row.imei)], db_datetime(row.at)) for sim_id, (p, row) in first_attaches.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        # The devices' rows locked, as assign_sim does: an assignment into one of them at once waits for this.
        locked = Device.objects.select_for_update().filter(pk__in=listed(Device._meta.get_field("id"), sorted(pk for _, pk, _ in pairs)))
        list(locked.order_by("pk").values_list("pk", flat=True))
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {PAIRS} (sim_id bigint, device_id bigint, started_at timestamp with time zone)")
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {PAIRS}")
        insert_rows(PAIRS, ["sim_id", "device_id", "started_at"], pairs, pg_types=["int8", "int8", "timestamptz"])
        # Still in no device, into a device no SIM is in (a SIM in it since would make this attach a late one).
        sims = Sim._meta.db_table
        cursor.execute(
            f"UPDATE {sims} SET device_id = p.device_id FROM {PAIRS} p WHERE {sims}.id = p.sim_id AND {sims}.device_id IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {sims} o WHERE o.device_id = p.device_id) RETURNING {sims}.id"
        )
        put = {sim_id for (sim_id,) in cursor.fetchall()}
        bulk_insert(
            DeviceAssignment,
            ["sim", "device", "started_at", "source"],
            ((sim_id, device_id, at, DeviceAssignment.Source.NETWORK.value) for sim_id, device_id, at in pairs if sim_id in put),
        )
    return put
