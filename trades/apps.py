from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "trades"
    verbose_name = "Trades"

    def ready(self):
        # Here, not at the top: stream_events imports models, which wait for the app registry.
        from . import stream_events
        from .signals import funding_inserted

        funding_inserted.connect(stream_events.emit_funding_inserted, dispatch_uid="trades.emit_funding_inserted")
