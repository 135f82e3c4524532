"""Invitations by email: an admin invites, the link in the mail works once, until it expires or is
revoked or resent; a person without an account chooses a password through it, one with an account
signs in and accepts; each ends in the product. The link's token goes into the session on its first
GET, and the page, its form and the sign-in use /invitations/accept/: no live token in logs."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from products.invitations import InvitationError, accept, hash_token
from products.models import Invitation, Membership, Product
from tests.conftest import make_user, text_of

LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")
STRONG = "quiet-harbour-lantern-47"


def invite(client, product, email="dana@example.net", role="member", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("team_invite", args=[product.slug]), {"email": email, "role": role}, headers=headers)


def link_in(mail) -> str:
    return LINK.search(mail.body).group(1)


ACCEPT = "/invitations/accept/"


def open_link(client, link: str):
    """Follow the link from the mail as a browser does: on to the token-less page."""
    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == ACCEPT
    return client.get(ACCEPT)


@pytest.fixture
def invited(owner_client, product, mailoutbox):
    """An invitation sent to dana@example.net, who has no account: the path of its link."""
    invite(owner_client, product)
    owner_client.logout()
    return link_in(mailoutbox[-1])


def test_an_admin_invites_by_email_and_the_mail_carries_the_link(owner_client, product, mailoutbox):
    response = invite(owner_client, product, role="admin")
    assert response["Location"] == reverse("team", args=[product.slug])
    [mail] = mailoutbox
    assert mail.to == ["dana@example.net"]
    assert mail.subject == "owner invited you to Acme Trackers on SIM Console"
    assert "as admin" in mail.body and "The link works once" in mail.body
    assert LINK.search(mail.body)
    page = text_of(owner_client.get(response["Location"]))
    assert "Invitation sent to dana@example.net" in page
    assert "Pending invitations 1" in page and "dana@example.net Admin" in page


def test_only_the_tokens_hash_is_stored(owner_client, product, mailoutbox):
    invite(owner_client, product)
    token = link_in(mailoutbox[0]).split("/")[2]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hash_token(token) != token
    assert invitation.invited_by.username == "owner"


def test_links_start_with_console_base_url_when_set(owner_client, product, mailoutbox, settings):
    settings.CONSOLE_BASE_URL = "https://sims.example.com"
    invite(owner_client, product)
    assert "https://sims.example.com/invitations/" in mailoutbox[0].body


def test_inviting_someone_already_in_the_team_says_so(owner_client, product, teammate, mailoutbox):
    response = invite(owner_client, product, email="TEAMMATE@example.com", htmx=True)
    assert response.status_code == 400
    assert "TEAMMATE@example.com is already in the team of Acme Trackers (as teammate)" in text_of(response)
    assert not mailoutbox and not Invitation.objects.exists()


def test_a_bad_address_says_what_to_type(owner_client, product, mailoutbox):
    response = invite(owner_client, product, email="dana at example", htmx=True)
    assert response.status_code == 400
    assert "Enter an email address such as dana@example.com." in text_of(response)
    assert not mailoutbox


def test_a_mail_server_that_fails_says_the_invitation_waits_for_a_resend(owner_client, product, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("products.invitations.send_mail", refuse)
    response = invite(owner_client, product, htmx=True)
    page = text_of(response)
    assert "The invitation is saved, but its email could not be sent" in page and "Resend" in page
    assert Invitation.objects.filter(email="dana@example.net").exists()


def test_a_newcomer_chooses_a_password_and_lands_in_the_product_signed_in(client, product, invited):
    opened = open_link(client, invited)
    assert "owner invited dana@example.net to the team of Acme Trackers, as member" in text_of(opened)
    assert 'value="dana"' in opened.content.decode()  # a username suggested from the address
    response = client.post(ACCEPT, {"username": "dana", "password1": STRONG, "password2": STRONG})
    assert response["Location"] == reverse("sim_list", args=[product.slug])
    dana = get_user_model().objects.get(username="dana")
    assert dana.email == "dana@example.net" and dana.check_password(STRONG)
    assert Membership.objects.get(user=dana, product=product).role == "member"
    landed = client.get(response["Location"])
    assert landed.status_code == 200
    assert "Welcome to Acme Trackers: you are in its team as member." in text_of(landed)


def test_a_weak_password_is_refused_by_djangos_validators(client, product, invited):
    open_link(client, invited)
    response = client.post(ACCEPT, {"username": "dana", "password1": "password", "password2": "password"})
    assert response.status_code == 400
    assert "This password is too common." in text_of(response)
    response = client.post(ACCEPT, {"username": "dana", "password1": "dana.example", "password2": "dana.example"})
    assert "The password is too similar to the" in text_of(response)
    assert not get_user_model().objects.filter(username="dana").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_taken_username_is_refused_saying_so(client, product, invited, teammate):
    open_link(client, invited)
    response = client.post(ACCEPT, {"username": "Teammate", "password1": STRONG, "password2": STRONG})
    assert response.status_code == 400
    assert "A user with that username already exists." in text_of(response)


def test_the_link_works_once_even_when_the_form_is_sent_twice(client, product, invited):
    """Opened in two browsers, the form sent from both: the second is told the link was used."""
    other_browser = Client()
    open_link(client, invited)
    open_link(other_browser, invited)
    form = {"username": "dana", "password1": STRONG, "password2": STRONG}
    assert client.post(ACCEPT, form).status_code == 302
    again = other_browser.post(ACCEPT, {**form, "username": "dana2"})
    assert again.status_code == 410
    assert "This invitation was already used" in text_of(again)
    assert list(get_user_model().objects.filter(username__startswith="dana").values_list("username", flat=True)) == ["dana"]
    assert product.memberships.count() == 2
    client.logout()
    assert "This invitation was already used" in text_of(client.get(invited))


def test_a_link_read_before_it_was_used_elsewhere_is_still_used_once(owner, product, owner_client, mailoutbox):
    """The claim is one conditional UPDATE: two accepts that both read the invitation as pending join once."""
    invite(owner_client, product)
    token = link_in(mailoutbox[0]).split("/")[2]
    erin, fay = make_user("erin"), make_user("fay")
    accept(token=token, user=erin)
    with pytest.raises(InvitationError) as refused:
        accept(token=token, user=fay)
    assert refused.value.reason == "accepted"
    assert not product.memberships.filter(user=fay).exists()


def test_clicking_the_link_again_after_joining_leads_to_the_product(client, product, invited):
    open_link(client, invited)
    client.post(ACCEPT, {"username": "dana", "password1": STRONG, "password2": STRONG})
    assert client.get(invited)["Location"] == reverse("sim_list", args=[product.slug])


def test_someone_with_an_account_is_asked_to_sign_in_then_accepts(client, product, owner_client, mailoutbox):
    dana = make_user("dana")  # dana@example.com
    invite(owner_client, product, email="Dana@Example.com", role="admin")
    link = link_in(mailoutbox[0])
    owner_client.logout()
    page = open_link(client, link)
    assert "An account already has this address: sign in to accept." in text_of(page)
    assert f'href="{reverse("login")}?next={ACCEPT}"' in page.content.decode()
    client.post(f"{reverse('login')}?next={ACCEPT}", {"username": "dana", "password": "pw"})  # the session keeps the link
    page = text_of(client.get(ACCEPT))
    assert "Join as dana" in page and "This invitation was sent to" not in page  # the account's own address
    response = client.post(ACCEPT)
    assert response["Location"] == reverse("sim_list", args=[product.slug])
    assert Membership.objects.get(user=dana, product=product).role == "admin"


def test_a_signed_in_person_invited_at_another_address_confirms_joining_as_themselves(client, product, invited, outsider):
    client.force_login(outsider)
    page = text_of(open_link(client, invited))
    assert (
        "This invitation was sent to dana@example.net; you are signed in as outsider (outsider@example.com). "
        "Join as outsider?"
    ) in page
    refused = client.post(ACCEPT)  # the tick is checked by the server, not only by the browser
    assert refused.status_code == 400
    assert "Tick the box to join as yourself, or sign out and follow the link as the person it was sent to." in text_of(refused)
    assert not Membership.objects.filter(user=outsider, product=product).exists()
    assert Invitation.objects.get().accepted_at is None
    response = client.post(ACCEPT, {"confirm": "1"})
    assert response["Location"] == reverse("sim_list", args=[product.slug])
    assert Membership.objects.get(user=outsider, product=product).role == "member"
    assert Invitation.objects.get().accepted_by == outsider


def test_no_live_token_reaches_a_log_line_a_link_or_a_form(client, product, invited, caplog):
    """Django logs every 4xx with its path ("Bad Request: /invitations/<token>/"), and servers log each
    request's URL: after the first GET, the token is only in the session."""
    token = invited.split("/")[2]
    caplog.set_level(logging.DEBUG)
    page = open_link(client, invited)
    refused = client.post(ACCEPT, {"username": "dana", "password1": "password", "password2": "password"})
    assert refused.status_code == 400
    assert "Bad Request: /invitations/accept/" in caplog.text
    assert token not in caplog.text
    assert token not in page.content.decode() and token not in refused.content.decode()
    joined = client.post(ACCEPT, {"username": "dana", "password1": STRONG, "password2": STRONG})
    assert joined.status_code == 302 and token not in joined["Location"]
    assert "invitation_token" not in client.session  # used: gone from the session too


def test_the_accept_page_without_an_opened_link_says_to_open_it(client, db):
    response = client.get(ACCEPT)
    assert response.status_code == 404
    assert "Open the link from your invitation email" in text_of(response)
    assert client.post(ACCEPT, {"username": "dana", "password1": STRONG, "password2": STRONG}).status_code == 404
    assert not get_user_model().objects.exists()


def test_an_expired_link_says_so_and_who_can_resend_it(client, product, invited, settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 30  # the page opened before, its session still alive
    open_link(client, invited)
    with time_machine.travel(timezone.now() + timedelta(days=settings.INVITATION_DAYS, minutes=1)):
        response = client.get(invited)
        refused = client.post(ACCEPT, {"username": "dana", "password1": STRONG, "password2": STRONG})
    assert response.status_code == 410
    page = text_of(response)
    assert "This invitation has expired" in page
    assert "Ask owner (owner@example.com) to resend it" in page
    assert refused.status_code == 410 and not get_user_model().objects.filter(username="dana").exists()


def test_the_team_page_shows_an_expired_invitation_for_resending(owner_client, owner, product, mailoutbox, settings):
    invite(owner_client, product)
    with time_machine.travel(timezone.now() + timedelta(days=settings.INVITATION_DAYS + 1)):
        owner_client.force_login(owner)  # a sign-in lasts hours, not days
        page = text_of(owner_client.get(reverse("team", args=[product.slug])))
    assert "dana@example.net Member" in page and "Expired" in page and "Resend" in page


def test_a_revoked_link_says_it_was_withdrawn(client, owner_client, product, mailoutbox):
    invite(owner_client, product)
    link = link_in(mailoutbox[0])
    invitation = Invitation.objects.get()
    response = owner_client.post(reverse("invitation_revoke", args=[product.slug, invitation.pk]), headers={"HX-Request": "true"})
    page = text_of(response)
    assert "The invitation to dana@example.net was revoked" in page
    assert "Pending invitations" not in page
    refused = client.get(link)
    assert refused.status_code == 410
    assert "This invitation was withdrawn" in text_of(refused)


def test_resending_sends_a_new_link_and_the_old_one_stops_working(client, owner_client, product, mailoutbox):
    invite(owner_client, product)
    old = link_in(mailoutbox[0])
    first = Invitation.objects.get()
    owner_client.post(reverse("invitation_resend", args=[product.slug, first.pk]))
    new = link_in(mailoutbox[1])
    assert new != old and mailoutbox[1].to == ["dana@example.net"]
    assert "A newer invitation was sent" in text_of(client.get(old))
    assert "Join Acme Trackers" in text_of(open_link(client, new))
    assert Invitation.objects.filter(accepted_at=None, revoked_at=None).count() == 1


def test_inviting_the_same_address_again_replaces_the_first_link(client, owner_client, product, mailoutbox):
    invite(owner_client, product)
    invite(owner_client, product, role="admin")
    assert client.get(link_in(mailoutbox[0])).status_code == 410
    assert "as admin" in text_of(open_link(client, link_in(mailoutbox[1])))


def test_an_unknown_link_is_a_clear_404(client, db):
    response = client.get(reverse("invitation", args=["not-a-token"]))
    assert response.status_code == 404
    assert "This invitation link is not valid" in text_of(response)


def test_an_accepted_invitation_leaves_the_pending_list(owner_client, client, product, invited):
    open_link(client, invited)
    client.post(ACCEPT, {"username": "dana", "password1": STRONG, "password2": STRONG})
    page = text_of(owner_client.get(reverse("team", args=[product.slug])))
    assert "Pending invitations" not in page and "dana" in page


def test_members_neither_see_nor_manage_invitations(owner_client, teammate, product, mailoutbox):
    invite(owner_client, product)
    invitation = Invitation.objects.get()
    teammate_client = Client()
    teammate_client.force_login(teammate)
    assert "dana@example.net" not in text_of(teammate_client.get(reverse("team", args=[product.slug])))
    assert invite(teammate_client, product, email="erin@example.net").status_code == 403
    for name in ("invitation_revoke", "invitation_resend"):
        assert teammate_client.post(reverse(name, args=[product.slug, invitation.pk])).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and len(mailoutbox) == 1


def test_an_outsider_can_neither_revoke_nor_resend_another_products_invitation(owner_client, outsider, product, other_product, mailoutbox):
    invite(owner_client, product)
    invitation = Invitation.objects.get()
    outsider_client = Client()
    outsider_client.force_login(outsider)
    for name in ("invitation_revoke", "invitation_resend"):
        assert outsider_client.post(reverse(name, args=[product.slug, invitation.pk])).status_code == 404
        # Nor through their own product, where they are an admin.
        assert outsider_client.post(reverse(name, args=[other_product.slug, invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_sending_the_form_at_once_make_one_account(product, owner):
    """Both read the invitation as pending; the claim (a conditional UPDATE in the transaction that
    makes the account) lets one through, and the other's account is rolled back with it."""
    import threading

    from django.db import connection

    from products.invitations import _create, join_with_new_account

    _, token = _create(product=product, email="dana@example.net", role="member", invited_by=owner)
    barrier, outcomes = threading.Barrier(2), []

    def join(username: str) -> None:
        try:
            barrier.wait()
            join_with_new_account(token=token, username=username, password=STRONG)
            outcomes.append("joined")
        except InvitationError as error:
            outcomes.append(error.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(name,)) for name in ("dana", "dana2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "joined"]
    assert get_user_model().objects.filter(email="dana@example.net").count() == 1
    assert product.memberships.count() == 2


def test_a_product_named_over_two_lines_in_the_admin_still_gets_its_invitation_mailed(owner_client, product, mailoutbox):
    Product.objects.filter(pk=product.pk).update(name="Acme\nBcc: x@evil.example")
    assert invite(owner_client, product).status_code in (200, 302)
    (mail,) = mailoutbox
    assert "\n" not in mail.subject and "Acme Bcc: x@evil.example" in mail.subject
    assert mail.bcc == [] and mail.to == ["dana@example.net"]
