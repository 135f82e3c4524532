"""Print the ICCID read from each image: `path<TAB>ICCID`, or `path<TAB>-` when none is found."""

import cv2
from django.core.management.base import BaseCommand, CommandParser

from imports.scanning import read_iccid


class Command(BaseCommand):
    help = "Read the ICCID barcode in each image (as the scanner does) and print path, a tab, and the ICCID or -."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("images", nargs="+", metavar="IMAGE")

    def handle(self, *args, images: list[str], **options) -> None:
        for path in images:
            image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)  # None for a missing or unreadable file
            iccid = read_iccid(image) if image is not None else None
            self.stdout.write(f"{path}\t{iccid or '-'}")
