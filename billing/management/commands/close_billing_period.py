from django.core.management.base import BaseCommand, CommandError

from billing.billing import Period
from billing.invoicing import PeriodNotClosable, close_billing_period


class Command(BaseCommand):
    help = "Issue one invoice per billing account for a billing period that is over. Running it twice issues nothing new."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", required=True, help="The month to close, as YYYY-MM.")

    def handle(self, *args, period: str, **options) -> None:
        try:
            report = close_billing_period(period=Period.parse(period))
        except (ValueError, PeriodNotClosable) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(report.summary())
