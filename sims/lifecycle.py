"""The SIM lifecycle: the state machine as data, and the one way to change a SIM.

Every path that changes a SIM (console buttons, bulk actions, admin actions,
management commands, tasks, the API) calls `apply_action`, so the rules,
the audit trail and (later) billing follow every change.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from lib.bulk_insert import bulk_insert, db_datetime
from sims.connectivity_counts import follow_product
from sims.events import record_sim_changes
from sims.models import Sim, SimEvent, State
from sims.network import changes_network, pending_updates

CHUNK_SIZE = 1000
EVENT_FIELDS = ["sim", "product", "action", "from_state", "to_state", "actor_kind", "actor_user", "actor_name", "reason", "created_at"]


class Action(StrEnum):
    PROVISION = "provision"
    ACTIVATE = "activate"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    REMOVE = "remove"
    TERMINATE = "terminate"
    SET_DATA_LIMIT = "set_data_limit"
    SET_HOME_COUNTRY = "set_home_country"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.PROVISION: "Provision",
    Action.ACTIVATE: "Activate",
    Action.PAUSE: "Pause",
    Action.UNPAUSE: "Unpause",
    Action.DEACTIVATE: "Deactivate",
    Action.REACTIVATE: "Reactivate",
    Action.REMOVE: "Remove from product",
    Action.TERMINATE: "Terminate",
    Action.SET_DATA_LIMIT: "Set data limit",
    Action.SET_HOME_COUNTRY: "Set home country",
    Action.IMPORT: "Import into product",
}

_LIVE_STATES = [state for state in State if state != State.TERMINATED]

# action -> {state it applies to: state it leads to}. A state missing from an
# action's row means the action is refused in that state.
TRANSITIONS: dict[Action, dict[State, State]] = {
    Action.PROVISION: {State.ISSUED: State.PROVISIONED},
    Action.ACTIVATE: {State.ISSUED: State.ACTIVE, State.PROVISIONED: State.ACTIVE},
    Action.PAUSE: {State.ACTIVE: State.PAUSED},
    Action.UNPAUSE: {State.PAUSED: State.ACTIVE},
    Action.DEACTIVATE: {
        State.ACTIVE: State.SUSPENDED,
        State.PAUSED: State.SUSPENDED,
        State.PROVISIONED: State.SUSPENDED,
    },
    Action.REACTIVATE: {State.SUSPENDED: State.ACTIVE, State.PAUSED: State.ACTIVE},
    # Removing a SIM from its product suspends it (if it was on the network) and releases it.
    Action.REMOVE: {
        State.ISSUED: State.ISSUED,
        State.PROVISIONED: State.SUSPENDED,
        State.ACTIVE: State.SUSPENDED,
        State.PAUSED: State.SUSPENDED,
        State.SUSPENDED: State.SUSPENDED,
    },
    Action.TERMINATE: {state: State.TERMINATED for state in _LIVE_STATES},
    Action.SET_DATA_LIMIT: {state: state for state in _LIVE_STATES},
    Action.SET_HOME_COUNTRY: {state: state for state in _LIVE_STATES},
    # Importing a SIM into a product (from inventory, or a developer's own) activates it there.
    Action.IMPORT: {state: State.ACTIVE for state in _LIVE_STATES},
}

# Every change of state the lifecycle allows (DESIGN.md); the table above must stay inside it.
ALLOWED_STATE_CHANGES: frozenset[tuple[State, State]] = frozenset(
    {
        (State.ISSUED, State.PROVISIONED),
        (State.ISSUED, State.ACTIVE),
        (State.PROVISIONED, State.ACTIVE),
        (State.ACTIVE, State.PAUSED),
        (State.PAUSED, State.ACTIVE),
        (State.ACTIVE, State.SUSPENDED),
        (State.PAUSED, State.SUSPENDED),
        (State.PROVISIONED, State.SUSPENDED),
        (State.SUSPENDED, State.ACTIVE),
    }
    | {(state, State.TERMINATED) for state in _LIVE_STATES}
)

_ON_NETWORK_BEFORE_SUSPEND = {State.ACTIVE, State.PAUSED, State.PROVISIONED}
_ACTIVATED_FROM = {State.ISSUED, State.PROVISIONED, State.SUSPENDED}


class IllegalTransition(Exception):
    def __init__(self, *, iccid: str, state: str, action: Action) -> None:
        self.iccid, self.state, self.action = iccid, state, action
        super().__init__(refusal_reason(state=state, action=action))


def refusal_reason(*, state: str, action: Action) -> str:
    allowed = [str(s) for s in TRANSITIONS[action]]
    if state == State.TERMINATED:
        return f"Cannot {action.label.lower()}: the SIM is terminated, and a terminated SIM never changes again."
    return (
        f"Cannot {action.label.lower()}: the SIM is {state}, "
        f"and {action.label.lower()} applies only to {_join_or(allowed)} SIMs."
    )


def _join_or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str
    user: Any = None

    @classmethod
    def for_user(cls, user: Any) -> "Actor":
        return cls(kind=SimEvent.ActorKind.USER, name=user.get_username(), user=user)

    @classmethod
    def for_token(cls, token_name: str, user: Any = None) -> "Actor":
        return cls(kind=SimEvent.ActorKind.TOKEN, name=token_name, user=user)

    @classmethod
    def for_import(cls, job: Any) -> "Actor":
        """The API token an import came through, or the member who started it in the console."""
        return cls(kind=job.actor_kind, name=job.actor_name, user=job.created_by)

    @classmethod
    def system(cls, rule: str) -> "Actor":
        return cls(kind=SimEvent.ActorKind.SYSTEM, name=rule)


@dataclass(frozen=True)
class Outcome:
    sim_id: int
    iccid: str
    from_state: str
    to_state: str | None = None
    refused_reason: str = ""


@dataclass
class ActionReport:
    action: Action
    done: list[Outcome] = field(default_factory=list)
    refused: list[Outcome] = field(default_factory=list)

    @property
    def refused_by_reason(self) -> Counter:
        return Counter(outcome.refused_reason for outcome in self.refused)

    def summary(self) -> str:
        text = f"{self.action.label}: {len(self.done)} done"
        if self.refused:
            text += f", {len(self.refused)} refused"
        return text + "."


def apply_action(
    *,
    sims: Sim | QuerySet[Sim] | Iterable[int],
    action: Action,
    actor: Actor,
    reason: str = "",
    reasons: dict[int, str] | None = None,
    data_limit_mb: int | None = None,
    changes: dict[str, Any] | None = None,
    product_id: int | None = None,
    scope: QuerySet[Sim] | None = None,
) -> ActionReport:
    """Apply an action to one SIM (raises IllegalTransition) or to many (reports each).

    `changes` are more fields to set on every changed SIM (an import sets the product
    and home country); the event is filed under the product the SIM ends up in.
    `reasons` gives some SIMs (by id) a reason of their own, such as the usage that paused each.
    `product_id`, with ids (`sims.listing.ticked_sims`): a SIM no longer in this product when its
    row is locked is refused as moved. The rows are locked by key and their product compared here:
    a condition on the product could make PostgreSQL read all the product's SIMs for each chunk.
    `scope` (with ids): only the SIMs in it change, read under their row locks; the others are
    refused as moved meanwhile (the home-country advisor's SIMs still homed where it found them).
    """
    action = Action(action)
    step = _Step(action, actor, reason, reasons or {}, data_limit_mb, changes or {}, product_id)
    if isinstance(sims, Sim):
        report = _apply_in_chunks(Sim.objects.all(), [sims.pk], step)
        if report.refused:
            raise IllegalTransition(iccid=sims.iccid, state=report.refused[0].from_state, action=action)
        sims.refresh_from_db()
        return report
    if isinstance(sims, QuerySet):
        scope = sims.order_by()
        ids = list(scope.values_list("pk", flat=True))
    else:
        scope = scope if scope is not None else Sim.objects.all()
        ids = list(dict.fromkeys(sims))
    return _apply_in_chunks(scope, ids, step)


@dataclass(frozen=True)
class _Step:
    action: Action
    actor: Actor
    reason: str
    reasons: dict[int, str]
    data_limit_mb: int | None
    changes: dict[str, Any]
    product_id: int | None = None


def _apply_in_chunks(scope: QuerySet[Sim], ids: list[int], step: _Step) -> ActionReport:
    if step.action == Action.SET_DATA_LIMIT and (step.data_limit_mb is None or step.data_limit_mb < 0):
        raise ValueError("set_data_limit needs data_limit_mb, a whole number of MB, 0 or more")
    report = ActionReport(action=step.action)
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        with transaction.atomic():
            _apply_to_chunk(scope, chunk, step, report)
    return report


def _apply_to_chunk(scope: QuerySet[Sim], chunk: list[int], step: _Step, report: ActionReport) -> None:
    action, actor = step.action, step.actor
    # Lock the rows (PostgreSQL; SQLite transactions are IMMEDIATE and so serial),
    # then read their current state: a concurrent writer waits and sees ours.
    rows = list(
        scope.filter(pk__in=chunk)
        .select_for_update(of=("self",))
        .values_list("pk", "iccid", "state", "product_id", "data_limit_mb")
    )
    if step.product_id is not None:
        rows = [row for row in rows if row[3] == step.product_id]
    found = {row[0] for row in rows}
    for missing in sorted(set(chunk) - found):
        report.refused.append(
            Outcome(sim_id=missing, iccid="", from_state="", refused_reason="The SIM was removed or moved meanwhile.")
        )
    now = timezone.now()
    stored_now = db_datetime(now)
    table = TRANSITIONS[action]
    events: list[tuple] = []
    changed: list[int] = []
    by_from_state: dict[str, list[tuple]] = {}
    for row in rows:
        by_from_state.setdefault(row[2], []).append(row)
    for from_state, group in by_from_state.items():
        to_state = table.get(State(from_state))
        if to_state is None:
            why = refusal_reason(state=from_state, action=action)
            report.refused.extend(Outcome(r[0], r[1], from_state, refused_reason=why) for r in group)
            continue
        group_ids = [r[0] for r in group]
        # By key alone: the rows are locked, so their state is the one read (a condition on the
        # state too could have PostgreSQL without statistics read the state's index instead).
        updated = Sim.objects.filter(pk__in=group_ids).update(
            **{**_field_updates(action, State(from_state), to_state, now, step.data_limit_mb), **step.changes}
        )
        if updated != len(group_ids):
            raise RuntimeError(f"{action}: {len(group_ids) - updated} SIMs vanished while locked")
        changed += group_ids
        for sim_id, iccid, _, product_id, old_limit in group:
            events.append(
                (
                    sim_id,
                    step.changes.get("product_id", product_id),
                    action.value,
                    from_state,
                    to_state.value,
                    actor.kind,
                    actor.user.pk if actor.user else None,
                    actor.name,
                    step.reasons.get(sim_id) or step.reason or _default_reason(action, old_limit, step.data_limit_mb),
                    stored_now,
                )
            )
            report.done.append(Outcome(sim_id, iccid, from_state, to_state))
    if action == Action.REMOVE or "product_id" in step.changes:
        # Their connectivity counts in the product they are in now (removed: in none).
        follow_product(sim_ids=changed, product_id=step.changes.get("product_id"))
    # Plain rows, not model objects: building those was two thirds of a bulk action's time.
    bulk_insert(SimEvent, EVENT_FIELDS, events)
    # The chunk's domain events, in its transaction: one outbox row (per product) and its task.
    record_sim_changes(events=events, fields=EVENT_FIELDS, sims=rows, at=now)


def _field_updates(
    action: Action, from_state: State, to_state: State, now: datetime, data_limit_mb: int | None
) -> dict[str, Any]:
    updates: dict[str, Any] = {"state": to_state}
    if from_state != to_state:
        updates.update(state_changed_at=now)
    if to_state == State.ACTIVE and from_state in _ACTIVATED_FROM:
        updates.update(
            activations_count=F("activations_count") + 1,
            first_activated_at=Coalesce(F("first_activated_at"), now),
            last_activated_at=now,
        )
    if to_state == State.SUSPENDED and from_state in _ON_NETWORK_BEFORE_SUSPEND:
        updates.update(deactivations_count=F("deactivations_count") + 1)
    if action == Action.REMOVE:
        updates.update(product=None, owner_user=None)
    if action == Action.SET_DATA_LIMIT:
        updates.update(data_limit_mb=data_limit_mb)
    if changes_network(from_state=from_state, to_state=to_state, action=action):
        updates.update(pending_updates(now))
    return updates


def _default_reason(action: Action, old_limit: int | None, new_limit: int | None) -> str:
    if action == Action.SET_DATA_LIMIT:
        before = "product default" if old_limit is None else f"{old_limit} MB"
        return f"Data limit {before} -> {new_limit} MB"
    return ""
