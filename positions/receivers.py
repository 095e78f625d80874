from .services import fold_trades


def fold_inserted_trades(sender, trades, **kwargs):
    """The one receiver of `trades_inserted`: folds the new trades in the sender's transaction. If it
    raises, the sender undoes the batch and stores it unprocessed, for the sweeper."""
    fold_trades(trades)
