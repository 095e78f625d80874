from django.dispatch import Signal

# Sent inside ingest's transaction with `trades`: the Trade rows that were new, in fold order.
# Its one receiver is positions.receivers.fold_inserted_trades.
trades_inserted = Signal()

# Sent inside the funding ingest's transaction with `payments`: the FundingPayment rows that were new,
# in time order. Its receivers: positions.receivers.fold_inserted_funding (the fold) and
# trades.stream_events.emit_funding_inserted (the live stream's funding events).
funding_inserted = Signal()
