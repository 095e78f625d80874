import logging

from django.db import transaction

from .services import fold_trades

logger = logging.getLogger(__name__)


def fold_inserted_trades(sender, trades, **kwargs):
    """The one receiver of `trades_inserted`. Folds in a savepoint: if folding fails, the trades stay
    stored and unprocessed (the sweeper folds them later) and the ingest still commits."""
    try:
        with transaction.atomic():
            fold_trades(trades)
    except Exception:
        logger.exception("folding %d new trades failed; they stay unprocessed for the sweeper", len(trades))
