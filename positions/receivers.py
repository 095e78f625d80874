from .services import fold_funding, fold_trades


def fold_inserted_trades(sender, trades, **kwargs):
    """The one receiver of `trades_inserted`: folds the new trades in the sender's transaction. If it
    raises, the sender undoes the batch and stores it unprocessed, for the sweeper."""
    fold_trades(trades)


def fold_inserted_funding(sender, payments, **kwargs):
    """The one receiver of `funding_inserted`: folds the new payments into positions in the sender's
    transaction, as `fold_inserted_trades` does for trades; the sweeper folds what it leaves."""
    fold_funding(payments)
