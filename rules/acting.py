"""What a rule does for its new firings, all SIMs of a pass at once: lifecycle actions through
sims.lifecycle.apply_action and the data limit through sims.limits.set_data_limit (each SIM's outcome
recorded), a tag on the SIMs' devices, an SMS to each SIM, and one `rule.fired` domain event that
notifications email and webhooks deliver."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any


from carriers.sms import SmsBodyError, render, send_to_sim
from devices.models import Device
from lib.units import human_bytes
from rules import actions as kinds
from rules.actions import actions_of
from rules.models import Rule, RuleFiring
from sims.events import iso, write_events
from sims.lifecycle import Action, ActionReport, Actor, apply_action
from sims.limits import set_data_limit
from sims.models import DomainEvent, Sim

# A rule.fired event lists this many firings at most (its count says how many there were).
LISTED_IN_EVENT = 500


def actor_for(rule: Rule) -> Actor:
    return Actor.system(f"rule “{rule.name}” v{rule.version}"[:150])


def act(rule: Rule, firings: list[tuple[int, int]], *, now: datetime, status: str = RuleFiring.Status.DONE) -> None:
    """Do the rule's actions for `firings` ((id, sim_id) each) and write what was done on each firing."""
    if not firings:
        return
    sim_ids = [sim_id for _, sim_id in firings]
    did: dict[int, list[str]] = defaultdict(list)
    announce: dict[str, Any] = {}
    for action in actions_of(rule.actions):
        if isinstance(action, kinds.Pause | kinds.Suspend):
            lifecycle = Action.PAUSE if isinstance(action, kinds.Pause) else Action.DEACTIVATE
            reasons = _reasons(rule, firings)
            report = apply_action(sims=sim_ids, action=lifecycle, actor=actor_for(rule), reasons=reasons, product_id=rule.product_id)
            _outcomes(report, did, done="Paused" if lifecycle == Action.PAUSE else "Suspended")
        elif isinstance(action, kinds.SetDataLimit):
            change = set_data_limit(sims=sim_ids, data_limit_mb=action.mb, actor=actor_for(rule), unpause=False, now=now, product_id=rule.product_id)
            _outcomes(change.report, did, done=f"Data limit set to {action.mb:,} MB")
        elif isinstance(action, kinds.Tag):
            _tag(sim_ids, action.tag, did)
        elif isinstance(action, kinds.Sms):
            _sms(sim_ids, action.body, did)
        elif isinstance(action, kinds.Email):
            announce["email"] = {"users": action.users, "roles": action.roles}
            for sim_id in sim_ids:
                did[sim_id].append("Email sent")
        elif isinstance(action, kinds.Webhook):
            announce["webhook"] = True
            for sim_id in sim_ids:
                did[sim_id].append("Webhooks called")
    if announce:
        announce_firings(rule, firings, email=announce.get("email"), webhook=announce.get("webhook", False), now=now)
    write_did(firings, did, status=status)


def _reasons(rule: Rule, firings: list[tuple[int, int]]) -> dict[int, str]:
    figures = dict(RuleFiring.objects.filter(pk__in=[pk for pk, _ in firings]).values_list("sim_id", "figures"))
    return {sim_id: f"Rule “{rule.name}” (v{rule.version}): {describe_figures(figures.get(sim_id) or {})}"[:300] for _, sim_id in firings}


def describe_figures(figures: dict[str, Any]) -> str:
    """What fired a rule, in words: "61.2 MB on 2026-12-07", "3 SMS", "attached in DE"..."""
    if "cost" in figures:
        return _describe_cost(figures)
    if "pushed" in figures:
        return (
            f"{figures['failed']:,} of the {figures['pushed']:,} changes pushed to {figures.get('account')} "
            f"in the last {figures.get('hours')} hours failed ({figures.get('failed_percent')}%)"
        )
    parts = []
    if "bytes" in figures:
        parts.append(human_bytes(int(figures["bytes"])) + " used")
    if "sms" in figures:
        parts.append(f"{figures['sms']} SMS")
    if "factor" in figures:
        parts.append(f"{float(figures['factor']):.1f}× the usual day")
    if "country" in figures:
        parts.append(f"attached in {figures['country']}")
    if "imei" in figures:
        parts.append(f"IMEI {figures['imei']}")
    if "state" in figures:
        parts.append(f"now {figures['state']}")
    if "silent_since" in figures:
        parts.append(f"no data session since {figures['silent_since'][:16].replace('T', ' ')}")
    for key in ("day", "period", "since"):
        if key in figures:
            parts.append(f"{'in the period from' if key == 'period' else 'since' if key == 'since' else 'on'} {figures[key]}")
            break
    return ", ".join(parts) or "condition met"


def _describe_cost(figures: dict[str, Any]) -> str:
    """ "the estimated cost of 2026-12 is $10.95, over $10.80 (90% of the $12.00 budget)" """
    what = "projected cost of the whole" if figures.get("projected") else "estimated cost so far of"
    over = f"${Decimal(figures['over']):,.2f}"
    if "budget" in figures:
        over += f" ({figures['budget_percent']}% of the ${Decimal(figures['budget']):,.2f} budget)"
    return f"the {what} billing period {figures.get('period')} is ${Decimal(figures['cost']):,.2f}, over {over}"


def _outcomes(report: ActionReport, did: dict[int, list[str]], *, done: str) -> None:
    for outcome in report.done:
        did[outcome.sim_id].append(done)
    for outcome in report.refused:
        did[outcome.sim_id].append(f"Not done: {outcome.refused_reason}")


def _tag(sim_ids: list[int], tag: str, did: dict[int, list[str]]) -> None:
    """The tag added to the devices the SIMs are in (SIMs have no tags of their own)."""
    device_of = dict(Sim.objects.filter(pk__in=sim_ids, device__isnull=False).values_list("pk", "device_id"))
    devices = [device for device in Device.objects.filter(pk__in=set(device_of.values())) if tag not in device.tags]
    for device in devices:
        device.tags = [*device.tags, tag]
    Device.objects.bulk_update(devices, ["tags"], batch_size=1000)
    for sim_id in sim_ids:
        did[sim_id].append(f"Device tagged “{tag}”" if sim_id in device_of else "Not tagged: the SIM is in no device")


def _sms(sim_ids: list[int], template: str, did: dict[int, list[str]]) -> None:
    for sim in Sim.objects.filter(pk__in=sim_ids).select_related("device", "carrier_account"):
        try:
            send_to_sim(sim=sim, body=render(template, iccid=sim.iccid, device_name=sim.device.name if sim.device else ""), user=None)
            did[sim.pk].append("SMS sent to the device")
        except SmsBodyError as error:
            did[sim.pk].append(f"SMS not sent: {error}")


def announce_firings(rule: Rule, firings: list[tuple[int, int]], *, email: dict | None, webhook: bool, now: datetime) -> None:
    """One rule.fired event for the pass, in its transaction: notifications email, webhooks deliver."""
    rows = (
        RuleFiring.objects.filter(pk__in=[pk for pk, _ in firings[:LISTED_IN_EVENT]])
        .order_by("sim__iccid")
        .values_list("sim__iccid", "figures", "window_key")
    )
    listed = [{"iccid": iccid, "figures": figures, "window": window, "why": describe_figures(figures)} for iccid, figures, window in rows]
    _announce(rule, listed, count=len(firings), email=email, webhook=webhook, now=now)


def _announce(rule: Rule, listed: list[dict[str, Any]], *, count: int, email: dict | None, webhook: bool, now: datetime, about: str = "sims") -> None:
    data = {
        "rule": {"id": rule.pk, "name": rule.name, "version": rule.version, "condition": rule.condition_kind},
        "actor": {"kind": "system", "name": actor_for(rule).name},
        "occurred_at": iso(now),
        "event_count": count,
        # "sims": each firing names its SIM (iccid); "product": a firing about the product names none.
        "about": about,
        "firings": listed,
        "email": email,
        "webhook": webhook,
    }
    write_events([DomainEvent(kind=DomainEvent.Kind.RULE_FIRED, product_id=rule.product_id, data=data, created_at=now)])


def act_on_product(rule: Rule, firings: list[RuleFiring], *, now: datetime) -> None:
    """A product-level rule's actions for its new firings (no SIM): it tells people, by email and
    webhooks (rules/validation.py allows no other action for these conditions)."""
    if not firings:
        return
    email: dict | None = None
    webhook = False
    did: list[str] = []
    for action in actions_of(rule.actions):
        if isinstance(action, kinds.Email):
            email, did = {"users": action.users, "roles": action.roles}, [*did, "Email sent"]
        elif isinstance(action, kinds.Webhook):
            webhook, did = True, [*did, "Webhooks called"]
    listed = [
        {"iccid": None, "subject": f.subject, "figures": f.figures, "window": f.window_key, "why": describe_figures(f.figures)} for f in firings
    ]
    _announce(rule, listed, count=len(firings), email=email, webhook=webhook, now=now, about="product")
    RuleFiring.objects.filter(pk__in=[f.pk for f in firings]).update(did=did, status=RuleFiring.Status.DONE)


def write_did(firings: list[tuple[int, int]], did: dict[int, list[str]], *, status: str = RuleFiring.Status.DONE) -> None:
    """What was done, on each firing: one UPDATE per distinct outcome, not one per SIM."""
    by_outcome: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for pk, sim_id in firings:
        by_outcome[tuple(did.get(sim_id, []))].append(pk)
    for outcome, pks in by_outcome.items():
        RuleFiring.objects.filter(pk__in=pks).update(did=list(outcome), status=status)


