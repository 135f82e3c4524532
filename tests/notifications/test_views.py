"""The notifications page, its unread count in the top bar, marking as read, and each person's
choices per product: a person sees only their own notifications, of products they are in."""

import re

import pytest
from django.urls import reverse

from notifications.models import Kind, Notification
from notifications.preferences import choices_for
from products.models import Membership
from tests.conftest import text_of

HTMX = {"HTTP_HX_REQUEST": "true"}


def _notify(user, product, title: str, **fields) -> Notification:
    return Notification.objects.create(
        user=user, product=product, kind=fields.pop("kind", Kind.IMPORT_FINISHED), title=title, body=f"{title}: details",
        url=f"/products/{product.slug}/sims/", link_text="See the SIMs", in_console=fields.pop("in_console", True),
        email=False, **fields,
    )  # fmt: skip


def test_the_page_lists_my_notifications_newest_first(owner_client, owner, product):
    _notify(owner, product, "Import #1 done")
    _notify(owner, product, "Import #2 done")
    text = text_of(owner_client.get(reverse("notifications")))
    assert text.index("Import #2 done") < text.index("Import #1 done")
    assert "Acme Trackers" in text


def test_emails_only_are_not_listed(owner_client, owner, product):
    _notify(owner, product, "By email only", in_console=False)
    assert "By email only" not in text_of(owner_client.get(reverse("notifications")))


def test_nobody_sees_anothers_notifications(teammate_client, owner, product):
    _notify(owner, product, "The owner's own")
    assert "The owner's own" not in text_of(teammate_client.get(reverse("notifications")))


def test_notifications_of_a_product_i_left_are_not_shown(owner_client, owner, product):
    _notify(owner, product, "From before")
    Membership.objects.filter(user=owner).delete()
    assert "From before" not in text_of(owner_client.get(reverse("notifications")))
    assert text_of(owner_client.get(reverse("notifications_unread"))) == ""


def test_the_top_bar_asks_for_the_unread_count(owner_client, owner, product):
    page = owner_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("notifications")}"' in page
    assert reverse("notifications_unread") in page


def test_the_unread_count_counts_my_unread_in_console_notifications(owner_client, owner, teammate, product):
    _notify(owner, product, "one")
    _notify(owner, product, "two")
    _notify(owner, product, "read").mark_read()
    _notify(owner, product, "mail only", in_console=False)
    _notify(teammate, product, "not mine")
    assert text_of(owner_client.get(reverse("notifications_unread"))) == "2 unread"


def test_marking_one_as_read(owner_client, owner, product):
    notification = _notify(owner, product, "Import #1 done")
    response = owner_client.post(reverse("notification_read", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_one_as_read_with_htmx_answers_its_row(owner_client, owner, product):
    notification = _notify(owner, product, "Import #1 done")
    response = owner_client.post(reverse("notification_read", args=[notification.pk]), **HTMX)
    assert response.status_code == 200
    assert "Import #1 done" in text_of(response) and "Mark as read" not in text_of(response)


def test_marking_all_as_read_leaves_others_alone(owner_client, owner, teammate, product):
    mine = [_notify(owner, product, f"n{n}") for n in range(3)]
    theirs = _notify(teammate, product, "theirs")
    owner_client.post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_strangers_notification_is_404(outsider_client, owner, product):
    notification = _notify(owner, product, "Import #1 done")
    assert outsider_client.post(reverse("notification_read", args=[notification.pk])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_list_reads_a_bounded_number_of_queries(owner_client, owner, product, other_product, django_assert_max_num_queries):
    Membership.objects.create(user=owner, product=other_product)
    for n in range(60):
        _notify(owner, product if n % 2 else other_product, f"n{n}", kind=list(Kind)[n % 3])
    with django_assert_max_num_queries(5):  # session, user, notifications with products, my products
        response = owner_client.get(reverse("notifications"))
    assert response.status_code == 200
    assert "n59" in text_of(response)


def test_older_notifications_are_a_page_away(owner_client, owner, product, settings):
    settings.NOTIFICATIONS_PER_PAGE = 2
    first, second, third = (_notify(owner, product, f"note {n}") for n in range(3))
    page = owner_client.get(reverse("notifications"))
    assert "note 0" not in text_of(page)
    older = owner_client.get(reverse("notifications") + f"?before={second.pk}")
    assert "note 0" in text_of(older) and "note 2" not in text_of(older)


@pytest.mark.parametrize("before", ["yesterday", "%C2%B2", "9" * 40])
def test_a_bad_page_marker_says_what_is_wrong(owner_client, before):
    response = owner_client.get(reverse("notifications") + f"?before={before}")
    assert response.status_code == 400
    assert "before" in text_of(response)


# --- Choices ----------------------------------------------------------------------------------------


def _ticked(page: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="(\w+)"[^>]* checked', page))


def test_a_member_sees_the_defaults_ticked_everything_in_the_console_and_import_and_budget_emails(teammate_client, product):
    """Budget alerts go only to the people the budget names (its admins unless it says the team)."""
    page = teammate_client.get(reverse("notification_settings", args=[product.slug])).content.decode()
    assert _ticked(page) == {
        "import_finished_email", "import_finished_console", "sims_paused_console", "spikes_console", "imei_mismatch_console",
        "rule_fired_email", "rule_fired_console", "rule_approval_console",
        "budget_email", "budget_console",
    }  # fmt: skip


def test_an_admin_sees_the_digests_ticked_by_email_too(owner_client, product):
    page = owner_client.get(reverse("notification_settings", args=[product.slug])).content.decode()
    assert _ticked(page) == {f"{kind}_{how}" for kind in Kind for how in ("email", "console")}


def test_a_member_saves_their_choices(teammate_client, teammate, owner, product):
    url = reverse("notification_settings", args=[product.slug])
    response = teammate_client.post(url, {"spikes_email": "on", "sims_paused_console": "on"})
    assert response.status_code == 302 and response["Location"] == url
    chosen = choices_for(user=teammate, product=product)
    assert (chosen[Kind.SPIKES].email, chosen[Kind.SPIKES].in_console) == (True, False)
    assert (chosen[Kind.SIMS_PAUSED].email, chosen[Kind.SIMS_PAUSED].in_console) == (False, True)
    assert (chosen[Kind.IMPORT_FINISHED].email, chosen[Kind.IMPORT_FINISHED].in_console) == (False, False)
    # The owner's stay the defaults.
    assert choices_for(user=owner, product=product)[Kind.SPIKES].email is True


def test_an_outsider_cannot_see_or_change_a_products_choices(outsider_client, product):
    url = reverse("notification_settings", args=[product.slug])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {"spikes_email": "on"}).status_code == 404


@pytest.mark.parametrize("name", ["notifications", "notifications_unread"])
def test_signed_out_visitors_are_sent_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
