from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from exchanges.models import DECIMAL, BotInstance, ExchangeAccount

from .fold_order import fold_order_by


class Leg(models.TextChoices):
    """Which position of a hedge-mode account an execution or payment belongs to; empty for a
    one-way account's one net position."""

    NET = "", "net"
    LONG = "long"
    SHORT = "short"


class Trade(models.Model):
    """One execution reported by an exchange: a fact, never edited after it is stored."""

    class Side(models.TextChoices):
        BUY = "buy"
        SELL = "sell"

    class Kind(models.TextChoices):
        """What made the execution: every kind changes the position."""

        FILL = "fill"
        LIQUIDATION = "liquidation"
        ADL = "adl", "auto-deleveraging"
        SETTLEMENT = "settlement"
        DELIVERY = "delivery"

    # No index of its own: the unique key and trade_account_symbol_time both start with it.
    exchange = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="trades", db_index=False)
    bot_instance = models.ForeignKey(BotInstance, null=True, blank=True, on_delete=models.SET_NULL)
    exchange_trade_id = models.CharField(max_length=64)
    order_id = models.CharField(max_length=64, blank=True, default="")
    symbol = models.CharField(max_length=32, help_text="Canonical BASE/QUOTE.")
    market_symbol = models.CharField(max_length=64, help_text="ccxt's full symbol.")
    side = models.CharField(max_length=4, choices=Side.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FILL)
    leg = models.CharField(max_length=5, choices=Leg.choices, default=Leg.NET, blank=True)
    taker_or_maker = models.CharField(max_length=5, blank=True, default="")
    amount = models.DecimalField(**DECIMAL, help_text="As the exchange reports it: contracts for derivatives.")
    contract_size = models.DecimalField(**DECIMAL, default=1)
    price = models.DecimalField(**DECIMAL)
    cost = models.DecimalField(**DECIMAL, help_text="In the quote coin.")
    fee_cost = models.DecimalField(**DECIMAL, default=0, help_text="Positive for a charge, negative for a rebate.")
    fee_currency = models.CharField(max_length=16, blank=True, default="")
    timestamp = models.DateTimeField()
    p1_delta = models.DecimalField(**DECIMAL, help_text="Change of the base balance, fee included.")
    p2_delta = models.DecimalField(**DECIMAL, help_text="Change of the quote balance, fee included.")
    processed = models.BooleanField(default=False, help_text="Folded into positions.")
    raw = models.JSONField(help_text="The payload as received from ccxt.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange", "exchange_trade_id"], name="trade_unique_per_account"),
        ]
        indexes = [
            models.Index(fields=["exchange", "symbol", "timestamp"], name="trade_account_symbol_time"),
            models.Index(fields=["symbol", "timestamp"], name="trade_symbol_time"),
            # Pages of all trades, newest (or oldest) first: the API's trades list without filters.
            models.Index(fields=["timestamp", "id"], name="trade_time"),
            models.Index(fields=["order_id"], name="trade_order"),
            models.Index(
                fields=["id"], name="trade_unprocessed", condition=models.Q(processed=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exchange_id}:{self.exchange_trade_id} {self.side} {self.amount} {self.market_symbol} @ {self.price}"


# Trades in fold order (see `fold_order`).
FOLD_ORDER = fold_order_by("timestamp", "exchange_trade_id")


class FundingPayment(models.Model):
    """One funding payment on a perpetual position, as the venue reports it: a fact, never edited.

    Not a trade: it changes no position's size. Folded into the position of its book open at its time.
    """

    exchange = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="funding_payments", db_index=False)
    bot_instance = models.ForeignKey(BotInstance, null=True, blank=True, on_delete=models.SET_NULL)
    exchange_funding_id = models.CharField(max_length=64, help_text="The venue's own id of the payment.")
    symbol = models.CharField(max_length=32, help_text="Canonical BASE/QUOTE.")
    market_symbol = models.CharField(max_length=64, help_text="ccxt's full symbol.")
    leg = models.CharField(max_length=5, choices=Leg.choices, default=Leg.NET, blank=True)
    timestamp = models.DateTimeField()
    amount = models.DecimalField(**DECIMAL, help_text="In the settle coin: positive when received, negative when paid.")
    currency = models.CharField(max_length=16, help_text="The settle coin.")
    rate = models.DecimalField(**DECIMAL, null=True, blank=True)
    position_size = models.DecimalField(**DECIMAL, null=True, blank=True, help_text="As the venue reports it: contracts.")
    processed = models.BooleanField(default=False, help_text="Folded into positions.")
    raw = models.JSONField(help_text="The payload as received from ccxt.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange", "exchange_funding_id"], name="funding_unique_per_account"),
        ]
        indexes = [
            models.Index(fields=["exchange", "symbol", "timestamp"], name="funding_account_symbol_time"),
            models.Index(fields=["timestamp", "id"], name="funding_time"),
            models.Index(fields=["id"], name="funding_unprocessed", condition=models.Q(processed=False)),
        ]

    def __str__(self) -> str:
        return f"{self.exchange_id}:{self.exchange_funding_id} {self.amount} {self.currency} {self.market_symbol}"


class FundingCursor(models.Model):
    """How far REST sync has read the funding history of one market of one account; saved with the
    payments it covers."""

    account = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="funding_cursors")
    symbol = models.CharField(max_length=64, help_text="ccxt's full market symbol.")
    last_funding_id = models.CharField(max_length=64, blank=True, default="")
    last_funding_time = models.DateTimeField(null=True, blank=True)
    resume = models.JSONField(default=dict, blank=True, help_text="Where the exchange's pager goes on from.")
    last_sync_at = models.DateTimeField(null=True, blank=True, help_text="Last successful REST pass.")
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "symbol"], name="funding_cursor_unique")]

    def __str__(self) -> str:
        return f"{self.account} {self.symbol} funding"


class RejectedTrade(models.Model):
    """A payload from an exchange that could not be stored (as a trade, or as a funding payment),
    kept aside with the reason."""

    class Feed(models.TextChoices):
        TRADES = "trades"
        FUNDING = "funding"

    exchange = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="rejected_trades")
    feed = models.CharField(max_length=8, choices=Feed.choices, default=Feed.TRADES)
    exchange_trade_id = models.CharField(max_length=64, blank=True, default="")
    reason = models.TextField()
    raw = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.exchange_id}:{self.exchange_trade_id or '?'}: {self.reason}"


class SyncCursor(models.Model):
    """How far REST sync has read one symbol of one account; saved with the trades it covers."""

    account = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="cursors")
    symbol = models.CharField(max_length=64, help_text="ccxt's full market symbol.")
    last_trade_id = models.CharField(max_length=64, blank=True, default="")
    last_trade_time = models.DateTimeField(null=True, blank=True)
    resume = models.JSONField(default=dict, blank=True, help_text="Where the exchange's pager goes on from.")
    last_sync_at = models.DateTimeField(null=True, blank=True, help_text="Last successful REST pass.")
    last_pass_fetched = models.PositiveIntegerField(default=0, help_text="Trades the last REST pass read.")
    last_pass_new = models.PositiveIntegerField(
        default=0, help_text="Trades the last REST pass stored that no stream had delivered."
    )
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    # The progress of the current (or last) pass, saved with each page: a first backfill (no
    # `last_sync_at` yet) is shown on the board with its share and ETA (`trades.progress`).
    pass_from = models.DateTimeField(null=True, blank=True, help_text="Start of the pass's time range.")
    pass_until = models.DateTimeField(null=True, blank=True, help_text="End of the pass's time range (when it began).")
    pass_reached = models.DateTimeField(null=True, blank=True, help_text="How far in time the pass has read.")
    pass_trades = models.PositiveIntegerField(default=0, help_text="Trades the pass has read so far.")
    pass_eta = models.DateTimeField(null=True, blank=True, help_text="When the pass should end, at the venue's limit.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "symbol"], name="cursor_unique")]

    def __str__(self) -> str:
        return f"{self.account} {self.symbol}"


class StreamHealth(models.Model):
    """The state of one account's WebSocket stream and of its sync as a whole."""

    account = models.OneToOneField(ExchangeAccount, on_delete=models.CASCADE, related_name="health")
    ws_connected_since = models.DateTimeField(null=True, blank=True, help_text="Empty while disconnected.")
    ws_last_message_at = models.DateTimeField(null=True, blank=True)
    ws_reconnects = models.PositiveIntegerField(default=0)
    stopped_reason = models.TextField(
        blank=True, default="", help_text="Why sync stopped for this account (e.g. rejected keys); clear to resume."
    )
    down_reason = models.TextField(
        blank=True, default="", help_text="Why the account's sync cannot run now (the venue unreachable, say); empty while it runs."
    )
    down_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_audit_at = models.DateTimeField(null=True, blank=True)
    last_audit_checked = models.PositiveIntegerField(default=0, help_text="Trades the last audit read back.")
    last_audit_missing = models.PositiveIntegerField(default=0, help_text="Of those, how many were not stored.")
    last_audit_differing = models.PositiveIntegerField(default=0, help_text="Of those, how many are stored with other content.")
    rest_interval_seconds = models.FloatField(null=True, blank=True, help_text="Seconds between the starts of the last two REST passes.")
    rest_planned_interval_seconds = models.FloatField(
        null=True, blank=True, help_text="The interval the request budgets allow: SYNC_INTERVAL_SECONDS, or longer where the accounts on a budget do not fit."
    )

    class Meta:
        verbose_name_plural = "stream health"

    def __str__(self) -> str:
        return f"{self.account} stream"


class StreamEvent(models.Model):
    """One event of the live stream for programs (trades/stream_events.py): written by the
    transaction that made the change, numbered in commit order. Kept for `STREAM_HISTORY_HOURS`."""

    class Kind(models.TextChoices):
        TRADE = "trade"
        POSITION = "position"
        FUNDING = "funding"
        MARK = "mark"
        ALARM = "alarm"

    sequence = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    account_id = models.BigIntegerField()  # no foreign key: inserting an event locks no account row
    bot_instance_id = models.BigIntegerField(null=True, blank=True)
    symbol = models.CharField(max_length=32, blank=True, default="", help_text="Canonical BASE/QUOTE; empty for the account as a whole.")
    market_symbol = models.CharField(max_length=64, blank=True, default="", help_text="ccxt's full symbol, where the event has one market.")
    data = models.JSONField(null=True, blank=True, help_text="Empty for a trade event: its data is the trade's.")
    trade_id = models.BigIntegerField(null=True, blank=True, help_text="A trade event's trade (no foreign key: nothing to lock).")
    committed_at = models.DateTimeField()

    class Meta:
        indexes = [BrinIndex(fields=["committed_at"], name="streamevent_committed_brin")]

    def __str__(self) -> str:
        return f"{self.sequence} {self.kind}"


class StreamSequence(models.Model):
    """The one row that numbers stream events: `last` given, and `pruned_through`, the highest
    sequence no longer kept. Its row lock, taken by the statement that writes a transaction's
    events and held to the commit, makes the numbers commit in order."""

    last = models.BigIntegerField(default=0)
    pruned_through = models.BigIntegerField(default=0)
