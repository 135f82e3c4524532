"""Re-encrypt every carrier account's credentials under the newest key of CARRIER_CREDENTIALS_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carriers.credentials import CredentialsUnreadable, decrypt, encrypt
from carriers.models import CarrierAccount


class Command(BaseCommand):
    help = (
        "Re-encrypt carrier credentials under the first key of CARRIER_CREDENTIALS_KEYS (older keys, listed after it, "
        "still decrypt). Run it after putting a new key first; then the old key can be dropped."
    )

    def handle(self, *args, **options) -> None:
        rotated = 0
        unreadable = []
        with transaction.atomic():
            for account in CarrierAccount.objects.select_for_update().exclude(credentials="").order_by("pk"):
                try:
                    account.credentials = encrypt(decrypt(account.credentials))
                except CredentialsUnreadable:
                    unreadable.append(f"{account.name} (#{account.pk}, product {account.product_id})")
                    continue
                account.save(update_fields=["credentials"])
                rotated += 1
            if unreadable:
                raise CommandError(
                    "Nothing was rotated: these accounts' credentials decrypt with none of CARRIER_CREDENTIALS_KEYS: "
                    + ", ".join(unreadable)
                    + ". Put back the key they were saved under (after the new one) and run this again."
                )
        self.stdout.write(f"{rotated} carrier accounts' credentials re-encrypted under the newest key.")
