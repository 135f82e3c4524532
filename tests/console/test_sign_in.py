"""Sign-in limits (console/sign_in.py): lockouts per username and per client address, told plainly."""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from console import sign_in
from tests.conftest import make_user, text_of


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SIGN_IN_FAILURES_PER_USERNAME = 3
    settings.SIGN_IN_FAILURES_PER_ADDRESS = 6
    settings.SIGN_IN_WINDOW_MINUTES = 15
    settings.TRUSTED_PROXY_COUNT = 0


def attempt(client, username: str, password: str, address: str = "203.0.113.7", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def test_the_failure_that_reaches_the_limit_says_when_to_try_again(client, owner):
    for _ in range(2):
        assert "Please enter a correct username and password" in text_of(attempt(client, "owner", "wrong"))
    response = attempt(client, "owner", "wrong")
    assert response.status_code == 429
    page = text_of(response)
    assert "Too many failed sign-ins" in page
    assert re.search(r"Try again in 15 minutes \(at \d\d:\d\d UTC\)", page)
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60


def test_a_locked_username_is_refused_even_with_the_right_password(client, owner):
    for _ in range(3):
        attempt(client, "owner", "wrong")
    response = attempt(client, "owner", "pw", address="198.51.100.9")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in text_of(response)
    assert client.get(reverse("home")).status_code == 302


def test_a_username_that_does_not_exist_locks_alike_and_says_the_same(client, owner):
    answers = {}
    for username in ("owner", "nobody-by-this-name"):
        for _ in range(3):
            response = attempt(client, username, "wrong", address=f"198.51.100.{len(username)}")
        answers[username] = (response.status_code, text_of(response).replace(username, "NAME"))
    assert answers["owner"] == answers["nobody-by-this-name"]


def test_other_users_still_sign_in_while_one_is_locked(client, owner, teammate):
    for _ in range(3):
        attempt(client, "owner", "wrong")
    response = attempt(client, "teammate", "pw")
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_one_address_is_locked_after_its_limit_whatever_the_usernames(client, owner):
    for number in range(6):
        attempt(client, f"guess-{number}", "wrong")
    assert attempt(client, "owner", "pw").status_code == 429
    assert attempt(client, "owner", "pw", address="198.51.100.1").status_code == 302


def test_a_success_clears_the_username_failures(client, owner):
    for _ in range(2):
        attempt(client, "owner", "wrong")
    assert attempt(client, "owner", "pw").status_code == 302
    client.post(reverse("logout"))
    for _ in range(2):
        assert attempt(client, "owner", "wrong").status_code == 200


def test_the_lock_ends_with_its_window(client, owner, monkeypatch):
    for _ in range(3):
        attempt(client, "owner", "wrong")
    assert attempt(client, "owner", "pw").status_code == 429
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert sign_in.refused_until(request=None, username="owner") is None
    assert attempt(client, "owner", "pw").status_code == 302


def test_usernames_differing_in_case_or_spaces_share_a_limit(client, owner):
    for username in ("Owner", " OWNER ", "owner"):
        attempt(client, username, "wrong")
    assert attempt(client, "owner", "pw").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, owner, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(6):
        attempt(client, f"guess-{number}", "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.50")
    # Same proxy, another client: not locked.
    assert attempt(client, "owner", "pw", address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.51").status_code == 302


def test_an_ipv6_client_counts_as_its_64(rf):
    one = rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    other = rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert sign_in.client_address(one) == sign_in.client_address(other) == "2001:db8:1:2::/64"


def test_the_admin_sign_in_counts_against_the_same_limits(client, db):
    make_user("boss").__class__.objects.filter(username="boss").update(is_staff=True, is_superuser=True)
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": "boss", "password": "wrong"}, REMOTE_ADDR="203.0.113.8")
    response = client.post(reverse("admin:login"), {"username": "boss", "password": "pw"}, REMOTE_ADDR="203.0.113.9")
    assert "Too many failed sign-ins" in text_of(response)
    assert attempt(client, "boss", "pw", address="203.0.113.10").status_code == 429


# Parallel guesses: the attempt is counted before its password is checked.


class SlowHasher(MD5PasswordHasher):
    """MD5 that takes as long as a production hash, and counts the passwords it checks."""

    checked: list[str] = []

    def verify(self, password, encoded):
        self.checked.append(password)
        time.sleep(0.3)
        return super().verify(password, encoded)


def in_parallel(attempts: list[tuple[str, str]]) -> list[int]:
    """Each (username, password) posted at the same moment from its own thread; the status codes."""
    start = threading.Barrier(len(attempts))

    def post(username: str, password: str) -> int:
        try:
            client = Client()
            start.wait()
            return attempt(client, username, password).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(lambda pair: post(*pair), attempts))


def test_parallel_guesses_get_no_more_passwords_checked_than_the_limit(transactional_db, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowHasher"]
    make_user("victim")
    SlowHasher.checked = []
    statuses = in_parallel([("victim", f"guess-{number}") for number in range(8)])
    assert len(SlowHasher.checked) == 3  # SIGN_IN_FAILURES_PER_USERNAME
    assert sorted(statuses) == [200, 200] + [429] * 6  # the third wrong guess already says when to try again
    assert attempt(Client(), "victim", "pw", address="198.51.100.20").status_code == 429


def test_parallel_guesses_from_one_address_get_no_more_passwords_checked_than_its_limit(transactional_db, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowHasher"]
    for number in range(10):
        make_user(f"victim-{number}")
    SlowHasher.checked = []
    in_parallel([(f"victim-{number}", "guess") for number in range(10)])
    assert len(SlowHasher.checked) == 6  # SIGN_IN_FAILURES_PER_ADDRESS
    assert attempt(Client(), "victim-0", "pw").status_code == 429


def test_a_refused_attempt_uses_up_no_other_limit(client, owner):
    for number in range(6):
        attempt(client, f"guess-{number}", "wrong")
    assert attempt(client, "owner", "wrong").status_code == 429  # the address is locked...
    for _ in range(2):
        attempt(client, "owner", "wrong", address="198.51.100.30")
    # ...so that refusal counted nothing against the username: two failures elsewhere leave one to go.
    assert attempt(client, "owner", "pw", address="198.51.100.30").status_code == 302


def test_the_limits_are_kept_in_the_database_not_in_a_process_cache(client, owner):
    for _ in range(3):
        attempt(client, "owner", "wrong")
    cache.clear()  # as another gunicorn worker's local cache would be
    assert attempt(client, "owner", "pw").status_code == 429


# The password change form


def change_password(client, old: str, address: str = "203.0.113.7"):
    new = "a-much-longer-pass-22"
    return client.post(reverse("password_change"), {"old_password": old, "new_password1": new, "new_password2": new}, REMOTE_ADDR=address)


def test_the_password_change_form_refuses_guesses_of_the_current_password_after_the_limit(owner_client, owner):
    for _ in range(2):
        assert "Your old password was entered incorrectly" in text_of(change_password(owner_client, "wrong"))
    response = change_password(owner_client, "wrong")
    assert response.status_code == 429
    assert re.search(r"Too many wrong passwords for this account or from your network\. Try again in 15 minutes", text_of(response))
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    response = change_password(owner_client, "pw", address="198.51.100.9")
    assert response.status_code == 429
    owner.refresh_from_db()
    assert owner.check_password("pw")


def test_password_change_guesses_count_against_the_sign_in_limits_and_the_address(client, owner, teammate, settings):
    settings.SIGN_IN_FAILURES_PER_ADDRESS = 4
    client.force_login(owner)
    for _ in range(3):
        change_password(client, "wrong")
    assert attempt(Client(), "owner", "pw", address="198.51.100.9").status_code == 429
    client.force_login(teammate)
    change_password(client, "wrong")
    assert change_password(client, "pw").status_code == 429  # the address's 4th
    assert change_password(client, "pw", address="198.51.100.10").status_code == 302


def test_changing_the_password_clears_the_accounts_failures(owner_client, owner):
    for _ in range(2):
        change_password(owner_client, "wrong")
    assert change_password(owner_client, "pw").status_code == 302
    for _ in range(2):
        assert attempt(Client(), "owner", "wrong").status_code == 200
