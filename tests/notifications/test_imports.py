"""An import that finishes tells the person who started it: one email, one notification in the console."""

from django.core import mail

from imports.importing import import_iccids
from notifications.models import Kind, Notification
from notifications.preferences import set_choice
from sims.models import State
from tests.conftest import make_iccid, publish_queued_events
from tests.notifications.conftest import deliver_queued_emails


def _import(product, user, make_sim, other_product):
    taken = make_sim(other_product)
    dead = make_sim(None, state=State.TERMINATED)
    lines = [make_iccid() for _ in range(4)] + [taken.iccid, dead.iccid, "12345"]
    job = import_iccids(product=product, user=user, data="\n".join(lines), country="US")
    publish_queued_events()
    deliver_queued_emails()
    return job


def test_a_finished_import_emails_its_starter_once_with_the_counts_and_a_link(
    product, owner, teammate, other_product, make_sim, prices, base_url
):
    job = _import(product, owner, make_sim, other_product)

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["owner@example.com"]
    assert sent.subject == f"[Acme Trackers] Import #{job.pk} done: 4 SIMs went in, 2 refused"
    assert "4 SIMs went in (4 activated)." in sent.body
    assert "2 refused: 1 is terminated, 1 is not held by this product's carrier accounts." in sent.body
    assert "1 invalid line." in sent.body
    assert f"{base_url}/products/acme/import/{job.pk}/" in sent.body
    # The teammate did not start it: neither an email nor a notification.
    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.in_console) == (owner, Kind.IMPORT_FINISHED, True)
    assert notification.url == f"/products/acme/import/{job.pk}/"


def test_the_email_is_sent_once_however_often_the_task_runs(product, owner, other_product, make_sim, prices):
    _import(product, owner, make_sim, other_product)
    from notifications.emails import send_emails

    send_emails.call(list(Notification.objects.values_list("pk", flat=True)))
    assert len(mail.outbox) == 1


def test_a_starter_who_turned_import_emails_off_gets_only_the_notification(product, owner, other_product, make_sim, prices):
    set_choice(user=owner, product=product, kind=Kind.IMPORT_FINISHED, email=False, in_console=True)
    _import(product, owner, make_sim, other_product)
    assert mail.outbox == []
    assert Notification.objects.filter(user=owner, in_console=True).count() == 1


def test_a_starter_who_turned_both_off_gets_nothing(product, owner, other_product, make_sim, prices):
    set_choice(user=owner, product=product, kind=Kind.IMPORT_FINISHED, email=False, in_console=False)
    _import(product, owner, make_sim, other_product)
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_starter_no_longer_in_the_product_is_not_told(product, owner, other_product, make_sim, prices):
    from products.models import Membership

    job = import_iccids(product=product, user=owner, data=make_iccid(), country="US")
    Membership.objects.filter(user=owner).delete()
    publish_queued_events()
    deliver_queued_emails()
    assert job.status == "done"
    assert mail.outbox == [] and not Notification.objects.exists()


def test_a_failed_import_says_it_stopped_and_what_was_committed(product, owner):
    from imports.models import ImportJob
    from notifications.messages import import_finished

    job = ImportJob.objects.create(
        product=product, created_by=owner, status=ImportJob.Status.FAILED, error="the carrier did not answer",
        valid=100, processed=40, activated=40,
    )  # fmt: skip
    message = import_finished(job)
    assert message.title == f"Import #{job.pk} failed: 40 SIMs went in, 0 refused"
    assert "The import stopped: the carrier did not answer. The 40 ICCIDs counted were committed" in message.body


def test_the_email_has_an_html_part_with_the_same_links_and_names_escaped(product, owner, other_product, make_sim, prices, base_url):
    product.name = "Acme <Trackers>"
    product.save()
    job = _import(product, owner, make_sim, other_product)
    (html, kind), = mail.outbox[0].alternatives
    assert kind == "text/html"
    assert f'href="{base_url}/products/acme/import/{job.pk}/"' in html
    assert "Acme &lt;Trackers&gt;" in html and "<Trackers>" not in html
    assert mail.outbox[0].subject.startswith("[Acme <Trackers>] Import")


def test_an_email_whose_task_never_ran_is_sent_by_a_later_tick_once(product, owner, other_product, make_sim, prices):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from notifications.digests import run_digests

    import_iccids(product=product, user=owner, data=make_iccid(), country="US")
    publish_queued_events()
    DBTaskResult.objects.filter(task_path="notifications.emails.send_emails").delete()  # its worker was killed

    assert run_digests(timezone.now()) == ""  # too young to be called lost
    summary = run_digests(timezone.now() + timedelta(minutes=6))
    run_digests(timezone.now() + timedelta(minutes=21))
    assert summary == "1 notification email sent late"
    assert len(mail.outbox) == 1
