"""The simulator: a carrier network kept in the console's database (SimulatedSim), for demos and tests.

It holds an inventory (ICCIDs starting with one of `inventory_prefixes`; all, without any; never the
ones ending in one of `refuse_suffixes`), keeps each SIM's state on its network, refuses what a real
network refuses (anything but termination for a terminated SIM, a SIM not in its inventory), and has
the latency (`latency_ms` before it acts, `answer_latency_ms` after it acted and before its answer
arrives: the window in which a worker can die with the change made on the network and not recorded
in the console) and the outages (`failure_rate`, 0 to 1: the share of calls that fail as a
timeout would) of a real carrier's API, to test retries. Its SMS centre (SimulatedSms) delivers a
message `sms_delivery_s` seconds after taking it (CARRIER_SIMULATOR_SMS_DELIVERY_S for the built-in
one), and the device answers a share of them (`sms_answer_rate`, 0 to 1, default 0.3) with an SMS
"ACK <body>" a second after delivery. Usage comes from sims.carriers.simulator, a pure function of
ICCID and hour, and network events from sims.carriers.simulator_events, matching it.

Settings come from the carrier account (CarrierAccount.settings); the built-in simulator of products
without an account takes CARRIER_SIMULATOR_DELAY_MS and CARRIER_SIMULATOR_REFUSE_SUFFIXES.
"""

import random
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from carriers.adapters.base import Capability, CarrierSim, CarrierUnavailable, IncomingSms, NetworkChange, Result, SmsReport, Target
from carriers.models import SimulatedSim, SimulatedSms
from lib.bulk_insert import listed
from sims.carriers.base import HOUR
from sims.carriers.simulator import SimulatorCarrier
from sims.carriers.simulator_events import network_events
from sims.models import Sim
from sims.network_events import NetworkEventRow
from sims.usage import UsageRow

NOT_HELD = "SIM not in this account's inventory (simulated carrier)."
TERMINATED = "The SIM is terminated on the network: it can never be used again (simulated carrier)."
OFF_NETWORK = "The SIM is off the network (suspended): reactivate it before resetting its connectivity (simulated carrier)."


class SimulatorAdapter:
    code: ClassVar[str] = "simulator"
    label: ClassVar[str] = "Simulator"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.ACTIVATE,
            Capability.SUSPEND,
            Capability.RESUME,
            Capability.PAUSE_DATA,
            Capability.TERMINATE,
            Capability.DATA_LIMIT,
            Capability.USAGE,
            Capability.INVENTORY,
            Capability.CONNECTIVITY,
            Capability.SMS,
        }
    )
    credential_fields: ClassVar[dict[str, str]] = {}
    batch_size: ClassVar[int] = 1000

    def __init__(self, *, settings: dict[str, Any], credentials: dict[str, str]) -> None:
        self.account_id: int | None = settings.get("account_id")
        self.latency = float(settings.get("latency_ms") or 0) / 1000
        self.answer_latency = float(settings.get("answer_latency_ms") or 0) / 1000
        self.failure_rate = float(settings.get("failure_rate") or 0)
        self.prefixes = tuple(settings.get("inventory_prefixes") or ())
        self.refused = tuple(settings.get("refuse_suffixes") or ())
        self.sms_delivery = timedelta(seconds=float(settings.get("sms_delivery_s") or 0))
        self.sms_answer_rate = float(settings.get("sms_answer_rate", 0.3) or 0)

    def _call(self) -> None:
        """What every call to a real API has: time on the wire, and now and then no answer."""
        if self.latency:
            time.sleep(self.latency)
        if self.failure_rate and random.random() < self.failure_rate:
            raise CarrierUnavailable("The simulated carrier did not answer (a timeout): it is tried again shortly.")

    def _in_inventory(self, iccid: str) -> bool:
        return (not self.prefixes or iccid.startswith(self.prefixes)) and not (self.refused and iccid.endswith(self.refused))

    def check(self) -> str:
        self._call()
        held = SimulatedSim.objects.filter(account_id=self.account_id).count()
        return f"The simulator answered: {held:,} SIMs of this account on its network."

    def holds(self, iccids: list[str]) -> set[str]:
        self._call()
        return {iccid for iccid in iccids if self._in_inventory(iccid)}

    def register(self, iccid: str, proof: str) -> Result:
        """The simulator asks for no proof: any code is taken for a SIM of its inventory, as `holds` says."""
        self._call()
        return Result(iccid, True) if self._in_inventory(iccid) else Result(iccid, False, NOT_HELD)

    def apply(self, changes: list[NetworkChange]) -> list[Result]:
        self._call()
        now = timezone.now()
        results: list[Result] = []
        with transaction.atomic():
            known = {sim.iccid: sim for sim in SimulatedSim.objects.select_for_update().filter(iccid__in=[c.iccid for c in changes])}
            new, changed = [], []
            for change in changes:
                sim = known.get(change.iccid)
                if sim is None and not self._in_inventory(change.iccid):
                    results.append(Result(change.iccid, False, NOT_HELD))
                    continue
                if sim is not None and sim.status == SimulatedSim.Status.TERMINATED and change.target != Target.TERMINATED:
                    results.append(Result(change.iccid, False, TERMINATED))
                    continue
                if sim is None:
                    sim = SimulatedSim(account_id=self.account_id, iccid=change.iccid, status=change.target, changes=1)
                    sim.data_limit_mb, sim.updated_at = change.data_limit_mb, now
                    new.append(sim)
                elif (sim.status, sim.data_limit_mb) == (change.target, change.data_limit_mb):
                    sim.repeats += 1  # the same state asked again: nothing changes on the network
                    changed.append(sim)
                else:
                    sim.status, sim.data_limit_mb, sim.updated_at = change.target, change.data_limit_mb, now
                    sim.account_id = self.account_id
                    sim.changes += 1
                    changed.append(sim)
                results.append(Result(change.iccid, True))
            SimulatedSim.objects.bulk_create(new)
            SimulatedSim.objects.bulk_update(changed, ["status", "data_limit_mb", "account_id", "changes", "repeats", "updated_at"])
        if self.answer_latency:
            time.sleep(self.answer_latency)  # done on the network; the answer still on its way
        return results

    def sims(self) -> Iterator[CarrierSim]:
        self._call()
        for sim in SimulatedSim.objects.filter(account_id=self.account_id).order_by("iccid").iterator(chunk_size=5000):
            yield CarrierSim(sim.iccid, Target(sim.status), sim.get_status_display(), sim.updated_at)

    def usage_records(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator[UsageRow]:
        self._call()
        homes = dict(Sim.objects.filter(iccid__in=iccids).values_list("iccid", "home_country"))
        yield from SimulatorCarrier().usage_records(
            sims=((iccid, homes.get(iccid, "")) for iccid in iccids), since=since, until=until, step=HOUR
        )

    def network_events(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator[NetworkEventRow]:
        self._call()
        homes = dict(Sim.objects.filter(iccid__in=iccids).values_list("iccid", "home_country"))
        yield from network_events(((iccid, homes.get(iccid, "")) for iccid in iccids), since=since, until=until)

    def reset_connectivity(self, iccid: str) -> Result:
        """Records the reset on the simulated network (its time, and a count); the next simulated attach of
        the SIM clears it (clear_resets_on_attach)."""
        self._call()
        now = timezone.now()
        with transaction.atomic():
            sim = SimulatedSim.objects.select_for_update().filter(iccid=iccid).first()
            if sim is None:
                if not self._in_inventory(iccid):
                    return Result(iccid, False, NOT_HELD)
                # On the network without a change made through the simulator yet (seeded SIMs): active there.
                sim = SimulatedSim(account_id=self.account_id, iccid=iccid, status=SimulatedSim.Status.ACTIVE, updated_at=now)
            if sim.status == SimulatedSim.Status.TERMINATED:
                return Result(iccid, False, TERMINATED)
            if sim.status == SimulatedSim.Status.SUSPENDED:
                return Result(iccid, False, OFF_NETWORK)
            sim.reset_requested_at = now
            sim.resets += 1
            sim.save()
        return Result(iccid, True)


    def send_sms(self, iccid: str, body: str) -> Result:
        self._call()
        if not self._in_inventory(iccid):
            return Result(iccid, False, NOT_HELD)
        status = SimulatedSim.objects.filter(iccid=iccid).values_list("status", flat=True).first()
        if status == SimulatedSim.Status.TERMINATED:
            return Result(iccid, False, TERMINATED)
        message_id = f"simsms-{uuid.uuid4().hex}"
        delivered = timezone.now() + self.sms_delivery
        rows = [SimulatedSms(account_id=self.account_id, message_id=message_id, iccid=iccid, direction="mt", body=body, at=delivered)]
        # The device answers some: the same message always answers or never does (a seed of its id).
        if self.sms_answer_rate and random.Random(message_id).random() < self.sms_answer_rate:
            answer = f"ACK {body}"[:160]
            rows.append(
                SimulatedSms(
                    account_id=self.account_id, message_id=f"{message_id}-mo", iccid=iccid, direction="mo", body=answer,
                    at=delivered + timedelta(seconds=1),
                )
            )
        SimulatedSms.objects.bulk_create(rows)
        return Result(iccid, True, message_id=message_id)

    def sms_reports(self, message_ids: list[str]) -> list[SmsReport]:
        self._call()
        now = timezone.now()
        sent = SimulatedSms.objects.filter(message_id__in=message_ids, direction="mt").values_list("message_id", "at")
        return [SmsReport(message_id, "delivered" if at <= now else "sent") for message_id, at in sent]

    def received_sms(self, *, since: datetime, until: datetime) -> Iterator[IncomingSms]:
        self._call()
        rows = SimulatedSms.objects.filter(account_id=self.account_id, direction="mo", at__gt=since, at__lte=until).order_by("at", "id")
        for row in rows.iterator(chunk_size=2000):
            yield IncomingSms(row.message_id, row.iccid, row.body, row.at)


def clear_resets_on_attach(sender: object, events: list, **kwargs: object) -> None:
    """network_events_ingested's receiver: an attach after a reset ends it on the simulated network."""
    attached: dict[int, datetime] = {}
    for sim_id, _product_id, row in events:
        if row.kind == "attach":
            attached[sim_id] = max(row.at, attached.get(sim_id, row.at))
    if not attached:
        return
    # Resets are rare: read the attached SIMs that have one (their ids sent as one list), then clear those the
    # attach came after (at most three queries a chunk).
    iccids = Sim.objects.filter(pk__in=listed(Sim._meta.get_field("id"), list(attached))).values("iccid")
    waiting = list(
        SimulatedSim.objects.filter(iccid__in=iccids, reset_requested_at__isnull=False).values_list("pk", "iccid", "reset_requested_at")
    )
    if not waiting:
        return
    sim_of = dict(Sim.objects.filter(iccid__in=[iccid for _, iccid, _ in waiting]).values_list("iccid", "pk"))
    cleared = [pk for pk, iccid, requested in waiting if requested and requested <= attached[sim_of[iccid]]]
    if cleared:
        SimulatedSim.objects.filter(pk__in=cleared).update(reset_requested_at=None)
    # --- SMS ---------------------------------------------------------------------------------------
