"""Carrier credentials at rest: encrypted, rotatable to a new key, and a lost key said plainly."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from carriers.credentials import CredentialsUnreadable, decrypt, encrypt
from carriers.models import CarrierAccount

SECRET = {"account_sid": "AC" + "1" * 32, "auth_token": "tok-do-not-leak-8431"}


def test_the_stored_credentials_never_hold_the_secret_and_read_back_whole(product):
    account = CarrierAccount.objects.create(product=product, name="US", adapter="twilio", credentials=encrypt(SECRET))
    stored = CarrierAccount.objects.values_list("credentials", flat=True).get(pk=account.pk)
    assert "tok-do-not-leak-8431" not in stored and "AC111" not in stored
    assert decrypt(stored) == SECRET


def test_rotation_re_encrypts_under_the_new_key_so_the_old_one_can_go(product, settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CARRIER_CREDENTIALS_KEYS = [old]
    account = CarrierAccount.objects.create(product=product, name="US", adapter="twilio", credentials=encrypt(SECRET))

    settings.CARRIER_CREDENTIALS_KEYS = [new, old]
    call_command("rotate_carrier_credentials")
    assert "1 carrier accounts' credentials re-encrypted" in capsys.readouterr().out

    settings.CARRIER_CREDENTIALS_KEYS = [new]
    account.refresh_from_db()
    assert decrypt(account.credentials) == SECRET


def test_credentials_under_a_key_no_longer_given_are_refused_by_name_and_nothing_is_rotated(product, settings):
    settings.CARRIER_CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    lost = CarrierAccount.objects.create(product=product, name="Lost key", adapter="twilio", credentials=encrypt(SECRET))
    settings.CARRIER_CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    kept = CarrierAccount.objects.create(product=product, name="Kept", adapter="twilio", credentials=encrypt(SECRET))
    before = kept.credentials

    with pytest.raises(CredentialsUnreadable, match="CARRIER_CREDENTIALS_KEYS"):
        decrypt(lost.credentials)
    with pytest.raises(CommandError, match=r"Lost key \(#\d+"):
        call_command("rotate_carrier_credentials")
    kept.refresh_from_db()
    assert kept.credentials == before
