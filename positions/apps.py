from django.apps import AppConfig


class PositionsConfig(AppConfig):
    name = "positions"
    verbose_name = "Positions"

    def ready(self):
        # Here, not at the top: the receivers import models, which wait for the app registry.
        from trades.signals import funding_inserted, trades_inserted

        from . import receivers

        trades_inserted.connect(receivers.fold_inserted_trades, dispatch_uid="positions.fold_inserted_trades")
        funding_inserted.connect(receivers.fold_inserted_funding, dispatch_uid="positions.fold_inserted_funding")
