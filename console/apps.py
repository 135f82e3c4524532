from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"

    def ready(self) -> None:
        # Registers the deploy checks (Django's way: importing the module registers them).
        from console import checks  # noqa: F401
