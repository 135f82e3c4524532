"""A pass that would act on more SIMs than its rule's threshold: nothing is done, the firings wait on a
RuleApproval, and the product's admins are told; a person approves (the actions run then, for those
firings) or refuses (nothing is done, ever, for them)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from rules.acting import act
from rules.models import Rule, RuleApproval, RuleFiring
from sims.events import iso, write_events
from sims.models import DomainEvent


class AlreadyDecided(Exception):
    pass


def hold_for_approval(rule: Rule, firings: list[tuple[int, int]], *, now: datetime) -> RuleApproval:
    approval = RuleApproval.objects.create(rule=rule, pending=len(firings), created_at=now)
    RuleFiring.objects.filter(pk__in=[pk for pk, _ in firings]).update(
        status=RuleFiring.Status.AWAITING, approval=approval, did=[f"Waiting for approval: {len(firings):,} SIMs at once, over the rule's threshold of {rule.approval_threshold:,}"]
    )
    write_events(
        [
            DomainEvent(
                kind=DomainEvent.Kind.RULE_FIRED,
                product_id=rule.product_id,
                created_at=now,
                data={
                    "rule": {"id": rule.pk, "name": rule.name, "version": rule.version, "condition": rule.condition_kind},
                    "actor": {"kind": "system", "name": rule.name},
                    "occurred_at": iso(now),
                    "event_count": len(firings),
                    "approval": {"id": approval.pk, "pending": len(firings), "threshold": rule.approval_threshold},
                    "firings": [],
                    "email": None,
                    "webhook": False,
                },
            )
        ]
    )
    return approval


def decide(approval: RuleApproval, *, approve: bool, user, now: datetime | None = None) -> RuleApproval:
    """Approve (the rule's actions run for the waiting firings) or refuse (they are marked refused). Once only."""
    now = now or timezone.now()
    with transaction.atomic():
        approval = RuleApproval.objects.select_for_update().select_related("rule", "rule__product").get(pk=approval.pk)
        if approval.decision != RuleApproval.Decision.PENDING:
            raise AlreadyDecided(f"This approval was {approval.get_decision_display().lower()} already.")
        waiting = list(
            RuleFiring.objects.filter(approval=approval, status=RuleFiring.Status.AWAITING).order_by("sim_id").values_list("pk", "sim_id")
        )
        if approve:
            act(approval.rule, waiting, now=now, status=RuleFiring.Status.APPROVED)
        else:
            RuleFiring.objects.filter(pk__in=[pk for pk, _ in waiting]).update(status=RuleFiring.Status.REFUSED, did=["Refused: nothing done"])
        approval.decision = RuleApproval.Decision.APPROVED if approve else RuleApproval.Decision.REFUSED
        approval.decided_by, approval.decided_at = user, now
        approval.save(update_fields=["decision", "decided_by", "decided_at"])
    return approval
