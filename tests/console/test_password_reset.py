"""Password reset by email: a link from the sign-in page, the same answer for every address, a link
in the mail that sets a new password once."""

import re

import pytest
from django.urls import reverse

from console.password_reset import RESETS_PER_HOUR
from tests.conftest import make_user, text_of

LINK = re.compile(r"http://testserver(/accounts/reset/[^\s]+/)")
NEW = "quiet-harbour-lantern-47"


@pytest.fixture
def dana(db):
    return make_user("dana")  # dana@example.com, password "pw"


def ask_reset(client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def test_the_sign_in_page_offers_a_password_reset(client, db):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page
    assert "Forgot your password?" in page


def test_the_mail_holds_a_link_that_sets_a_new_password(client, dana, mailoutbox):
    response = ask_reset(client, "DANA@example.com")
    assert response["Location"] == reverse("password_reset_done")
    assert "Check your email" in text_of(client.get(response["Location"]))
    [mail] = mailoutbox
    assert mail.to == ["dana@example.com"] and mail.subject == "Reset your SIM Console password"
    assert "Your username is dana." in mail.body
    form = client.get(LINK.search(mail.body).group(1), follow=True)
    assert "Choose a new password" in text_of(form)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == reverse("password_reset_complete")
    dana.refresh_from_db()
    assert dana.check_password(NEW)
    assert client.post(reverse("login"), {"username": "dana", "password": NEW})["Location"] == reverse("home")


def test_an_address_without_an_account_gets_the_same_answer_and_no_mail(client, dana, mailoutbox):
    known = ask_reset(client, "dana@example.com")
    unknown = ask_reset(client, "nobody@example.com")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert text_of(client.get(known["Location"])) == text_of(client.get(unknown["Location"]))
    assert [mail.to for mail in mailoutbox] == [["dana@example.com"]]


def test_a_weak_new_password_is_refused_by_djangos_validators(client, dana, mailoutbox):
    ask_reset(client, "dana@example.com")
    form = client.get(LINK.search(mailoutbox[0].body).group(1), follow=True)
    refused = client.post(form.redirect_chain[-1][0], {"new_password1": "password", "new_password2": "password"})
    assert "This password is too common." in text_of(refused)
    dana.refresh_from_db()
    assert dana.check_password("pw")


def test_a_used_link_no_longer_works_and_says_how_to_get_another(client, dana, mailoutbox):
    ask_reset(client, "dana@example.com")
    link = LINK.search(mailoutbox[0].body).group(1)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    again = client.get(link, follow=True)
    assert "This link no longer works" in text_of(again)
    assert f'href="{reverse("password_reset")}"' in again.content.decode()


def test_an_address_gets_a_few_emails_an_hour_and_the_same_answer_after(client, dana, mailoutbox):
    answers = {ask_reset(client, "dana@example.com")["Location"] for _ in range(RESETS_PER_HOUR + 2)}
    assert answers == {reverse("password_reset_done")}
    assert len(mailoutbox) == RESETS_PER_HOUR


def test_links_start_with_console_base_url_when_set(client, dana, mailoutbox, settings):
    settings.CONSOLE_BASE_URL = "https://sims.example.com"
    ask_reset(client, "dana@example.com")
    assert "https://sims.example.com/accounts/reset/" in mailoutbox[0].body
