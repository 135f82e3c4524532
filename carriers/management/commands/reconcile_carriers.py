"""Reconcile now: every carrier account that can list its SIMs (or one, --account ID), a summary line each."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carriers.models import CarrierAccount
from carriers.reconciliation import adapter_class_capabilities, reconcile
from carriers.adapters.base import Capability


class Command(BaseCommand):
    help = "Compare each carrier account's SIMs with the console's and store the differences (the Reconciliation page)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="Only this carrier account (its id, as on the Reconciliation page).")

    def handle(self, *args, account: int | None, **options) -> None:
        accounts = CarrierAccount.objects.order_by("pk")
        if account is not None:
            accounts = accounts.filter(pk=account)
            if not accounts.exists():
                raise CommandError(f"No carrier account has the id {account}: the ids are on each product's Reconciliation page.")
        for each in accounts:
            if Capability.INVENTORY not in adapter_class_capabilities(each.adapter):
                self.stdout.write(f"{each.name}: its carrier ({each.adapter}) cannot list an account's SIMs; skipped.")
                continue
            self.stdout.write(reconcile(each.pk).summary())
