import logging

from django.db import transaction

from trades.models import Trade

from .services import fold_trades

logger = logging.getLogger(__name__)


def fold_inserted_trades(sender, trades, **kwargs):
    """The one receiver of `trades_inserted`. Folds in a savepoint: if folding fails, the trades are
    marked unprocessed (ingest stored them as processed) for the sweeper, and the ingest still commits."""
    try:
        with transaction.atomic():
            fold_trades(trades)
    except Exception:
        logger.exception("folding %d new trades failed; they stay unprocessed for the sweeper", len(trades))
        Trade.objects.filter(id__in=[t.id for t in trades]).update(processed=False)
        for trade in trades:
            trade.processed = False
