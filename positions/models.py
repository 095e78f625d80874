from django.db import models
from django.db.models import Q

from exchanges.models import DECIMAL, BotInstance, ExchangeAccount
from trades.models import Leg


class PositionQuerySet(models.QuerySet):
    def with_account(self):
        """Each position's account loaded in the same query, without its encrypted credentials: what
        shows a position needs the account's name, and every credential loaded is decrypted."""
        return self.select_related("exchange").defer(*(f"exchange__{name}" for name in ExchangeAccount.CREDENTIAL_FIELDS))


class Position(models.Model):
    """What positions.fold computed for one book (account, bot instance, symbol, leg), stored as it
    returned it.

    Open while `p1` is away from zero; closed positions stay as history. Its trades are those of the
    same book from `first_trade_id` to `last_trade_id` in fold order; its funding, the book's payments
    folded into it (see `positions.fold`).
    """

    objects = PositionQuerySet.as_manager()

    class Side(models.TextChoices):
        LONG = "long"
        SHORT = "short"
        NONE = "none"

    exchange = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="positions")
    bot_instance = models.ForeignKey(BotInstance, null=True, blank=True, on_delete=models.SET_NULL)
    symbol = models.CharField(max_length=32, help_text="Canonical BASE/QUOTE.")
    leg = models.CharField(max_length=5, choices=Leg.choices, default=Leg.NET, blank=True)
    p1 = models.DecimalField(**DECIMAL, default=0, help_text="Base held: the sum of p1_delta.")
    p2 = models.DecimalField(**DECIMAL, default=0, help_text="Quote spent or received: the sum of p2_delta.")
    p1_fee = models.DecimalField(**DECIMAL, default=0)
    p2_fee = models.DecimalField(**DECIMAL, default=0)
    other_fees = models.JSONField(default=dict, blank=True, help_text="Fees in other coins: {coin: decimal string}.")
    avg_price = models.DecimalField(**DECIMAL, null=True, blank=True)
    size = models.DecimalField(**DECIMAL, default=0)
    side = models.CharField(max_length=5, choices=Side.choices, default=Side.NONE)
    is_open = models.BooleanField(default=True)
    entry_time = models.DateTimeField()
    last_update_time = models.DateTimeField()
    closed_time = models.DateTimeField(null=True, blank=True)
    funding = models.DecimalField(**DECIMAL, default=0, help_text="Funding folded in: received minus paid.")
    funding_paid = models.DecimalField(**DECIMAL, default=0, help_text="Funding paid, as a positive amount.")
    funding_received = models.DecimalField(**DECIMAL, default=0)
    funding_count = models.PositiveIntegerField(default=0)
    realized_pnl = models.DecimalField(**DECIMAL, null=True, blank=True, help_text="On close: p2 + funding.")
    first_trade_id = models.CharField(max_length=64)
    last_trade_id = models.CharField(max_length=64)
    trade_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "bot_instance", "symbol", "leg"],
                condition=Q(is_open=True),
                nulls_distinct=False,
                name="one_open_position",
            ),
        ]
        indexes = [
            models.Index(fields=["exchange", "bot_instance", "symbol", "leg", "last_update_time"], name="position_book"),
            models.Index(fields=["symbol"], condition=Q(is_open=True), name="open_position_symbol"),
        ]

    def __str__(self) -> str:
        state = self.side if self.is_open else "closed"
        return f"{self.exchange_id} {self.symbol} {state} {self.size}"


class MarkPrice(models.Model):
    """The latest price of one market of an account, from the exchange's ticker: what open positions
    are valued at (`pnl = p2 + p1 * price`)."""

    account = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="mark_prices")
    market_symbol = models.CharField(max_length=64, help_text="ccxt's full symbol.")
    symbol = models.CharField(max_length=32, help_text="Canonical BASE/QUOTE.")
    price = models.DecimalField(**DECIMAL)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "market_symbol"], name="mark_price_unique_per_market"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.market_symbol} {self.price}"
