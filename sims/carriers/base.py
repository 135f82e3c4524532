from typing import Protocol


class Carrier(Protocol):
    """What SIM Console needs from a mobile network operator."""

    name: str

    def activate(self, iccids: list[str]) -> dict[str, str]:
        """Open these SIMs for network access; return the refused ones with the carrier's reason."""
        ...
