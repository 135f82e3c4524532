"""The words of each notification: a title, a body, the items listed under it and the link to follow,
the same in the console's list and in the email."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import ordinal
from django.urls import reverse

from billing.budgets import BudgetStatus
from imports.models import ImportJob
from lib.units import human_bytes
from products.models import Product
from sims.models import UsageSpike

# The ICCIDs a digest lists by name; the rest are "and N more", linking to the SIM list.
ITEMS_LISTED = 20


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    url: str
    link_text: str
    items: list[list[str]] = field(default_factory=list)  # [label, path]

    def fields(self) -> dict:
        return {"title": self.title, "body": self.body, "url": self.url, "link_text": self.link_text, "items": self.items}


def import_finished(job: ImportJob) -> Message:
    went_in = job.activated + job.transferred
    refusals = [
        # Jobs from before claims were checked counted another's SIMs apart; now they are not held.
        (job.other_owner, "belongs to another product or person", "belong to another product or person"),
        (job.terminated, "is terminated", "are terminated"),
        (job.carrier_refused, "is not held by this product's carrier accounts", "are not held by this product's carrier accounts"),
    ]
    refused_total = sum(count for count, _, _ in refusals)
    lines = [f"{_count(went_in, 'SIM')} went in{_went_in_detail(job)}."]
    if refused_total:
        reasons = ", ".join(f"{count:,} {one if count == 1 else many}" for count, one, many in refusals if count)
        lines.append(f"{refused_total:,} refused: {reasons}.")
    if job.already_in_product:
        lines.append(f"{job.already_in_product:,} already in this product: skipped.")
    if job.invalid:
        lines.append(f"{_count(job.invalid, 'invalid line')}.")
    if job.duplicates + job.ignored:
        lines.append(f"{job.duplicates + job.ignored:,} repeated or without an ICCID.")
    if job.status == ImportJob.Status.FAILED:
        lines.append(
            f"The import stopped: {job.error}. The {job.processed:,} ICCIDs counted were committed, the rest were not "
            "touched; an admin can run it again with manage.py resume_imports."
        )
    outcome = "done" if job.status == ImportJob.Status.DONE else "failed"
    return Message(
        title=f"Import #{job.pk} {outcome}: {_count(went_in, 'SIM')} went in, {refused_total:,} refused",
        body=" ".join(lines),
        url=reverse("import_job", args=[job.product.slug, job.pk]),
        link_text="Open the import",
    )


def _went_in_detail(job: ImportJob) -> str:
    parts = [f"{job.activated:,} activated"] if job.activated or not job.transferred else []
    if job.transferred:
        parts.append(f"{job.transferred:,} transferred from a developer account")
    return f" ({', '.join(parts)})" if job.activated + job.transferred else ""


def sims_paused(*, slug: str, count: int, iccids: list[str], window_start: datetime) -> Message:
    listed = iccids[:ITEMS_LISTED]
    was = "SIM was" if count == 1 else "SIMs were"
    end = window_start + timedelta(hours=1)
    return Message(
        title=f"{count:,} {was} paused at their data limit",
        body=(
            f"{count:,} {was} paused at their data limit in the last hour ({window_start:%H:%M} to {end:%H:%M} UTC). "
            "A paused SIM stays off the network until its limit is raised or a new billing period begins."
        ),
        url=reverse("sim_list", args=[slug]) + "?" + urlencode({"state": "paused"}),
        link_text=f"and {count - len(listed):,} more" if count > len(listed) else "See the paused SIMs",
        items=[[iccid, reverse("sim_detail", args=[slug, iccid])] for iccid in listed],
    )


def spikes(*, slug: str, day: date, count: int, largest: list[UsageSpike]) -> Message:
    listed = largest[:ITEMS_LISTED]
    return Message(
        title=f"{_count(count, 'SIM')} spiked on {day.day} {day:%b}",
        body=(
            f"On {day:%A} {day.day} {day:%B}, {_count(count, 'SIM')} used far more data than on their usual day "
            "(the median of the 14 days before): worth a look for a firmware bug or a stuck modem. The largest first:"
        ),
        url=reverse("sim_list", args=[slug]) + "?" + urlencode({"spikes": 1}),
        link_text=f"and {count - len(listed):,} more" if count > len(listed) else "See them in the SIM table",
        items=[
            [f"{s.sim.iccid}: {human_bytes(s.bytes)}, {_factor(s.factor)} its usual day", reverse("sim_detail", args=[slug, s.sim.iccid])]
            for s in listed
        ],
    )


def rule_fired(product: Any, data: dict[str, Any]) -> Message:
    """A rule that emails fired (rules/acting.py): its SIMs listed, each with what fired it."""
    rule, firings, count = data["rule"], data["firings"], data["event_count"]
    if data.get("about") == "product":
        return _product_rule_fired(product, data)
    first = firings[0]["iccid"] if firings else ""
    title = f"Rule “{rule['name']}” fired for " + (f"SIM {first}" if count == 1 else _count(count, "SIM"))
    return Message(
        title=title,
        body=f"Version {rule['version']} of the rule. " + (f"{firings[0]['why'].capitalize()}." if count == 1 and firings else ""),
        url=reverse("sim_detail", args=[product.slug, first]) if count == 1 and first else reverse("sim_list", args=[product.slug]),
        link_text="Open the SIM" if count == 1 else "Open the SIMs",
        items=[[f"{f['iccid']}: {f['why']}", reverse("sim_detail", args=[product.slug, f["iccid"]])] for f in firings[:ITEMS_LISTED]],
    )


def _product_rule_fired(product: Any, data: dict[str, Any]) -> Message:
    """A rule about the product (its cost, a carrier account's failures): what fired it, and its page."""
    rule, firings = data["rule"], data["firings"]
    whys = [f["why"] for f in firings]
    return Message(
        title=f"Rule “{rule['name']}” fired for {product.name}",
        body=f"Version {rule['version']} of the rule. " + " ".join(f"{why[:1].upper()}{why[1:]}." for why in whys),
        url=reverse("rule_detail", args=[product.slug, rule["id"]]),
        link_text="Open the rule",
    )


def rule_waits(product: Any, data: dict[str, Any]) -> Message:
    """A rule held its actions: more SIMs at once than its approval threshold (rules/approval.py)."""
    rule, approval = data["rule"], data["approval"]
    return Message(
        title=f"Rule “{rule['name']}” waits for approval to act on {_count(approval['pending'], 'SIM')}",
        body=(
            f"It would act on more SIMs at once than its threshold of {approval['threshold']:,}, so nothing was done. "
            "Approve or refuse it in the admin's rule approvals."
        ),
        url=reverse("admin:rules_ruleapproval_change", args=[approval["id"]]),
        link_text="Decide",
    )


def _factor(value: float) -> str:
    """As the fleet page shows it: ×3.4 under ten, ×67 or ×1,200 above."""
    return f"×{value:.1f}" if value < 10 else f"×{value:,.0f}"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def imei_mismatch(product: Any, mismatches: list[dict[str, Any]]) -> Message:
    """SIMs seen in devices their IMEI lock refuses (devices/imei_lock.py): each SIM listed with the IMEI seen."""
    first = mismatches[0]
    iccids = list(dict.fromkeys(m["iccid"] for m in mismatches))
    suspended = len({m["iccid"] for m in mismatches if m["action"] == "suspended"})
    if len(iccids) == 1:
        title = f"IMEI mismatch: SIM {first['iccid']} seen in IMEI {first['seen']}"
    else:
        title = f"IMEI mismatch on {len(iccids):,} SIMs"
    lines = [f"The IMEI lock expected {first['expected']} and saw {first['seen']}."] if len(iccids) == 1 else []
    if suspended:
        lines.append(f"{_count(suspended, 'SIM')} suspended by the lock; reactivate from the SIM's page once the device is right.")
    else:
        lines.append("Nothing was suspended. If the device was swapped on purpose, open a swap window in the product's settings.")
    seen = {m["iccid"]: m["seen"] for m in mismatches}
    return Message(
        title=title,
        body=" ".join(lines),
        url=reverse("sim_detail", args=[product.slug, first["iccid"]]),
        link_text="Open the SIM",
        items=[[f"{iccid} in {seen[iccid]}", reverse("sim_detail", args=[product.slug, iccid])] for iccid in iccids[:ITEMS_LISTED]],
    )


def budget_reached(*, product: Product, status: BudgetStatus, percentage: int) -> Message:
    """A product's cost this billing period reaching `percentage` of its budget (billing.budgets.BudgetStatus)."""
    month = f"{status.period.start:%B %Y}"
    lines = [
        f"The estimated cost of {product.name} for {month} is {_usd(status.spent)} so far: {status.percent}% of its "
        f"monthly budget of {_usd(status.amount)}, past the {percentage}% alert."
    ]
    if status.exceeded:
        lines.append(f"At the pace so far, {month} is projected to cost {_usd(status.projected_total)}.")
    elif status.projected_exceed_on:
        lines.append(
            f"At the pace so far, {month} is projected to cost {_usd(status.projected_total)} and to exceed the budget "
            f"on the {ordinal(status.projected_exceed_on.day)}."
        )
    else:
        lines.append(f"At the pace so far, {month} is projected to cost {_usd(status.projected_total)}, within the budget.")
    return Message(
        title=f"{percentage}% of the budget reached: {_usd(status.spent)} of {_usd(status.amount)}",
        body=" ".join(lines),
        url=reverse("sim_list", args=[product.slug]),
        link_text=f"Open {product.name}",
    )


def _usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"
