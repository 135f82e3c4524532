from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices"

    def ready(self) -> None:
        # Network attach events put SIMs in the devices whose IMEI they report, without sims knowing of devices.
        from devices.assignment import on_network_events
        from sims.network_events import network_events_ingested

        network_events_ingested.connect(on_network_events, dispatch_uid="devices.assignment.on_network_events")
