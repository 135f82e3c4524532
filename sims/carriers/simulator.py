"""The built-in carrier: accepts valid ICCIDs, refuses the ones it is told to, keeps no state."""

import time

from django.conf import settings

from sims.iccid import is_valid_iccid


class SimulatorCarrier:
    name = "Simulator"

    def activate(self, iccids: list[str]) -> dict[str, str]:
        time.sleep(settings.CARRIER_SIMULATOR_DELAY_MS / 1000)
        refused_suffixes = tuple(settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES)
        refused: dict[str, str] = {}
        for iccid in iccids:
            if not is_valid_iccid(iccid):
                refused[iccid] = "The carrier does not know this ICCID."
            elif refused_suffixes and iccid.endswith(refused_suffixes):
                refused[iccid] = "The carrier refused activation: SIM not in its inventory (simulated)."
        return refused
