from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices"

    def ready(self) -> None:
        from devices.imei_lock import check_network_events
        from sims.network_events import network_events_ingested

        # The IMEI lock checks every chunk of network events once it commits (devices/imei_lock.py).
        network_events_ingested.connect(check_network_events, dispatch_uid="devices.imei_lock.check_network_events")
