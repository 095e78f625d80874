from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        from . import markets  # noqa: F401  (connects its receivers; it imports models, so not before ready)
