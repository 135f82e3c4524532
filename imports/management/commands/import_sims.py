"""Import a file of ICCIDs into a product from the command line, exactly as the console does."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_countries import countries

from imports.importing import OUTCOMES, import_iccids
from imports.input import ImportInputError, decode_text
from products.models import Membership, Product


class Command(BaseCommand):
    help = "Import and activate the ICCIDs in FILE (one per line) into a product; prints one summary line."
    # The checks load every URL and so the webcam decoder (OpenCV): 60 MB an import does not need.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--product", required=True, help="The product's slug.")
        parser.add_argument("--country", required=True, help="Home country, ISO 3166-1 alpha-2 (US, DE, ...).")
        parser.add_argument("--user", help="Who imports (default: the product's first admin): owns the audit trail.")

    def handle(self, *args, file: Path, product: str, country: str, user: str | None, **options) -> None:
        target = Product.objects.filter(slug=product).first()
        if target is None:
            raise CommandError(f"No product with the slug {product!r}.")
        country = country.upper()
        if country not in countries:
            raise CommandError(f"{country!r} is not an ISO 3166-1 alpha-2 country code (such as US or DE).")
        try:
            data = file.read_bytes()
            decode_text(data)  # refuse a file that is not text before any job exists
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except ImportInputError as error:
            raise CommandError(f"{file}: {error}") from None
        job = import_iccids(product=target, user=self._importer(target, user), data=data, country=country, source_name=file.name)
        counts = [f"{getattr(job, OUTCOMES[code][0])} {OUTCOMES[code][0]}" for code in OUTCOMES]
        counts += [f"{job.invalid} invalid", f"{job.duplicates} duplicates", f"{job.ignored} ignored"]
        self.stdout.write(f"import #{job.pk} into {target.slug}: {job.lines} lines: " + ", ".join(counts))
        if job.activated + job.transferred == 0 and job.already_in_product == 0:
            raise CommandError("Nothing could be imported.")

    def _importer(self, product: Product, username: str | None):
        if username:
            found = get_user_model().objects.filter(username=username).first()
            if found is None:
                raise CommandError(f"No user {username!r}.")
            return found
        admin = Membership.objects.filter(product=product, role=Membership.Role.ADMIN).select_related("user").first()
        if admin is None:
            raise CommandError(f"{product.slug} has no admin to import as: pass --user.")
        return admin.user
