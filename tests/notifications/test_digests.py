"""The hourly digest of SIMs paused at their data limit and the daily digest of yesterday's spikes:
one per product and window, to each person who wants it, however many ticks run them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from lib.units import MB
from notifications.digests import send_pause_digests, send_spikes_digests
from notifications.models import Digest, Kind, Notification
from notifications.preferences import set_choice
from products.models import Membership
from sims.limits import LIMIT_RULE
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Sim, State, UsageSpike
from tests.conftest import make_iccid, make_user, publish_queued_events
from tests.notifications.conftest import deliver_queued_emails


def _fleet(product, count: int) -> list[Sim]:
    Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(count))
    return list(Sim.objects.filter(product=product).order_by("iccid"))


def _pause(sims: list[Sim], *, parts: int = 1) -> None:
    """Pause at the data limit, as ingestion does, in `parts` separate changes (each its own domain event)."""
    ids = [sim.pk for sim in sims]
    for part in range(parts):
        apply_action(sims=ids[part::parts], action=Action.PAUSE, actor=Actor.system(LIMIT_RULE))
    publish_queued_events()


def _digests(now) -> str:
    summary = send_pause_digests(now=now)
    deliver_queued_emails()
    return summary


def test_500_sims_paused_in_an_hour_make_one_email_per_recipient(product, owner, teammate, base_url):
    set_choice(user=teammate, product=product, kind=Kind.SIMS_PAUSED, email=True, in_console=True)
    sims = _fleet(product, 500)
    _pause(sims, parts=5)

    _digests(timezone.now() + timedelta(hours=1))

    assert sorted(m.to[0] for m in mail.outbox) == ["owner@example.com", "teammate@example.com"]
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "[Acme Trackers] 500 SIMs were paused at their data limit"
    assert "500 SIMs were paused at their data limit in the last hour (" in body
    listed = [sim.iccid for sim in sims if f"{base_url}/products/acme/sims/{sim.iccid}/" in body]
    assert len(listed) == 20
    assert f"and 480 more: {base_url}/products/acme/sims/?state=paused" in body
    assert Notification.objects.filter(kind=Kind.SIMS_PAUSED, in_console=True).count() == 2


def test_a_digest_is_not_sent_before_its_hour_is_over(product, owner):
    _pause(_fleet(product, 3))
    _digests(timezone.now())
    assert mail.outbox == [] and not Notification.objects.exists()


def test_two_runs_for_the_same_hour_send_one_digest(product, owner):
    _pause(_fleet(product, 12))
    later = timezone.now() + timedelta(hours=1)
    _digests(later)
    _digests(later)
    _digests(later + timedelta(minutes=15))
    assert len(mail.outbox) == 1
    assert "12 SIMs were paused" in mail.outbox[0].body
    assert "more" not in mail.outbox[0].body
    assert Notification.objects.filter(user=owner).count() == 1


def test_pauses_published_after_their_hours_digest_go_in_the_next_one(product, owner):
    first, second = _fleet(product, 5)[:3], Sim.objects.filter(product=product).order_by("iccid")[3:]
    _pause(first)
    _digests(timezone.now() + timedelta(hours=1))
    _pause(list(second))  # published in the same hour, after its digest went: counted in the next hour's
    _digests(timezone.now() + timedelta(hours=1))
    assert len(mail.outbox) == 1
    _digests(timezone.now() + timedelta(hours=2))
    assert ["3 SIMs were paused" in m.body for m in mail.outbox] == [True, False]
    assert "2 SIMs were paused" in mail.outbox[1].body


def test_each_product_gets_its_own_digest(product, other_product, owner, outsider):
    _pause(_fleet(product, 2) + _fleet(other_product, 3))
    _digests(timezone.now() + timedelta(hours=1))
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("outsider@example.com", "[Other Fleet] 3 SIMs were paused at their data limit"),
        ("owner@example.com", "[Acme Trackers] 2 SIMs were paused at their data limit"),
    ]


def test_a_pause_by_a_person_is_no_data_limit_pause(product, owner):
    sims = _fleet(product, 2)
    apply_action(sims=[s.pk for s in sims], action=Action.PAUSE, actor=Actor.for_user(owner))
    publish_queued_events()
    _digests(timezone.now() + timedelta(hours=1))
    assert mail.outbox == []


def test_preferences_off_send_nothing(product, owner, teammate):
    for person in (owner, teammate):
        set_choice(user=person, product=product, kind=Kind.SIMS_PAUSED, email=False, in_console=False)
    _pause(_fleet(product, 4))
    _digests(timezone.now() + timedelta(hours=1))
    assert mail.outbox == [] and not Notification.objects.exists()


def test_members_get_the_digest_in_the_console_and_admins_by_email_too(product, owner, teammate):
    _pause(_fleet(product, 4))
    _digests(timezone.now() + timedelta(hours=1))
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert set(Notification.objects.values_list("user__username", "in_console")) == {("owner", True), ("teammate", True)}


def test_a_person_without_an_email_address_still_sees_it_in_the_console(product):
    nobody = make_user("nomail")
    nobody.email = ""
    nobody.save()
    Membership.objects.create(user=nobody, product=product, role=Membership.Role.ADMIN)
    _pause(_fleet(product, 2))
    _digests(timezone.now() + timedelta(hours=1))
    assert mail.outbox == []
    assert Notification.objects.get().user == nobody


# --- Spikes ---------------------------------------------------------------------------------------


def _spikes(product, count: int, day) -> list[Sim]:
    sims = _fleet(product, count)
    UsageSpike.objects.bulk_create(
        UsageSpike(product=product, sim=sim, day=day, bytes=(n + 2) * MB, baseline_bytes=100_000, spread_bytes=10_000, factor=n + 2.0)
        for n, sim in enumerate(sims)
    )
    return sims


def test_yesterdays_spikes_make_one_daily_digest_per_product(mid_month, product, owner, teammate, base_url):
    yesterday = timezone.now().date() - timedelta(days=1)
    sims = _spikes(product, 3, yesterday)
    send_spikes_digests(now=timezone.now())
    send_spikes_digests(now=timezone.now() + timedelta(minutes=15))
    deliver_queued_emails()

    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    sent = mail.outbox[0]
    assert sent.subject == f"[Acme Trackers] 3 SIMs spiked on {yesterday:%-d %b}"
    # The largest factor first, each with its usage against its usual day.
    assert sent.body.index(sims[2].iccid) < sent.body.index(sims[0].iccid)
    assert "4.0 MB, ×4.0 its usual day" in sent.body
    assert f"{base_url}/products/acme/sims/?spikes=1" in sent.body
    assert Notification.objects.filter(kind=Kind.SPIKES).count() == 2  # the teammate's in the console


def test_no_spikes_no_digest(mid_month, product, owner):
    send_spikes_digests(now=timezone.now())
    deliver_queued_emails()
    assert mail.outbox == [] and not Notification.objects.exists()


@pytest.mark.parametrize("hour", [0, 1])
def test_the_spikes_digest_waits_until_yesterdays_late_usage_is_in(mid_month, product, owner, hour):
    now = timezone.now().replace(hour=hour, minute=30)
    _spikes(product, 2, now.date() - timedelta(days=1))
    send_spikes_digests(now=now)
    assert not Notification.objects.exists()
    send_spikes_digests(now=now.replace(hour=2, minute=0))
    assert Notification.objects.count() == 1


def test_the_periodic_tick_runs_the_digests(product, owner):
    from sims.periodic import run_periodic_work

    _pause(_fleet(product, 2))
    summary = run_periodic_work(now=timezone.now() + timedelta(hours=1))
    deliver_queued_emails()
    assert "1 digest sent" in summary
    assert len(mail.outbox) == 1


def test_sending_a_digest_reads_a_fixed_number_of_queries_whatever_the_team(product, owner, django_assert_max_num_queries):
    for n in range(30):
        Membership.objects.create(user=make_user(f"member{n}"), product=product, role=Membership.Role.ADMIN)
    _pause(_fleet(product, 50))
    # Due digests; claim; the digest with its product; members; choices; notifications; their email task.
    with django_assert_max_num_queries(10):
        assert send_pause_digests(now=timezone.now() + timedelta(hours=1)) == 1
    assert Notification.objects.count() == 31


def test_counting_a_pause_event_in_costs_a_few_queries_whatever_its_size(product, owner, django_assert_max_num_queries):
    from sims.events import publish
    from sims.models import DomainEvent

    sims = _fleet(product, 1000)
    apply_action(sims=[s.pk for s in sims], action=Action.PAUSE, actor=Actor.system(LIMIT_RULE))
    (event_id,) = DomainEvent.objects.values_list("pk", flat=True)
    # The event locked and deleted, the webhooks asked; the digest inserted if missing, locked, counted;
    # the carriers' push queued (the accounts with SIMs pending, a push already waiting?, the task).
    with django_assert_max_num_queries(11):
        publish(event_id)
    assert Digest.objects.get().count == 1000
