from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices"

    def ready(self) -> None:
        # Each chunk of network events, once committed, without sims knowing of devices: the IMEI lock checks
        # it (devices/imei_lock.py), and attach events put SIMs in the devices whose IMEI they report.
        from devices.assignment import on_network_events
        from devices.imei_lock import check_network_events
        from sims.network_events import network_events_ingested

        network_events_ingested.connect(check_network_events, dispatch_uid="devices.imei_lock.check_network_events")
        network_events_ingested.connect(on_network_events, dispatch_uid="devices.assignment.on_network_events")
