from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from .crypto import EncryptedTextField
from .validation import account_errors
from .venues import Venue, venue_choices, venue_named

DECIMAL = {"max_digits": 38, "decimal_places": 18}


def canonical_symbol(market_symbol: str) -> str:
    """`BTC/USDT:USDT` -> `BTC/USDT`, so spot and linear perpetual positions net together."""
    return market_symbol.split(":", 1)[0]


class UnknownAccount(LookupError):
    """No account has the name asked for; the message names the ones there are."""


class ExchangeAccountQuerySet(models.QuerySet):
    def named(self, name: str) -> "ExchangeAccount":
        account = self.filter(name=name).first()
        if account is None:
            names = list(ExchangeAccount.objects.order_by("name").values_list("name", flat=True))
            known = f"the accounts are: {', '.join(names)}" if names else "there are none yet: add one with `accounts add`"
            raise UnknownAccount(f"no account named {name!r}; {known}")
        return account

    def without_credentials(self):
        """Accounts as shown (names, settings, health), without loading the API key and secret, each
        of which would be decrypted for nothing."""
        return self.defer(*ExchangeAccount.CREDENTIAL_FIELDS)


class PositionMode(models.TextChoices):
    ONE_WAY = "one_way", "one-way"
    HEDGE = "hedge", "hedge"


class ExchangeAccount(models.Model):
    """One set of API credentials on one venue (an exchange and market type)."""

    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_.-]+$", "letters, digits, _ . - only")],
    )
    venue = models.CharField(max_length=32, choices=venue_choices, help_text="The exchange and market type.")
    api_key = EncryptedTextField(blank=True, default="")
    api_secret = EncryptedTextField(blank=True, default="")
    base_url = models.URLField(
        "API base URL", blank=True, default="", help_text="Empty for the real exchange; set to point ccxt elsewhere."
    )
    enabled = models.BooleanField(default=True)
    symbols = models.JSONField(default=list, blank=True, help_text="Symbols to track, e.g. [\"BTC/USDT\"].")
    backfill_since = models.DateTimeField(null=True, blank=True, help_text="Where a first sync starts.")
    position_mode = models.CharField(
        max_length=8,
        choices=PositionMode.choices,
        default=PositionMode.ONE_WAY,
        help_text="Perpetuals: one net position per symbol, or a long and a short leg. Read from the venue where it can be.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    CREDENTIAL_FIELDS = ("api_key", "api_secret")

    objects = ExchangeAccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<ExchangeAccount {self.name} ({self.venue})>"

    @property
    def venue_object(self) -> Venue:
        """Everything the tracker knows of the account's venue; `UnknownVenue` for a name not in the
        registry (an account that `clean` would refuse)."""
        return venue_named(self.venue)

    @property
    def ccxt_id(self) -> str:
        return self.venue_object.ccxt_id

    @property
    def market_type(self) -> str:
        """ccxt's type of the account's markets: spot, swap."""
        return self.venue_object.market_type

    def clean_fields(self, exclude=None) -> None:
        # The venue rule in `clean` refuses an unknown venue and lists the known ones; the choice
        # check would only say that it is not one of them.
        super().clean_fields(exclude={*(exclude or ()), "venue"})

    def clean(self) -> None:
        """A venue the tracker supports, well-formed symbols, the credentials the venue needs, an
        http(s) base URL. Whether the symbols exist on the venue needs its markets: the admin form
        and the `accounts` command check that too."""
        errors = account_errors(
            venue=self.venue,
            symbols=self.symbols,
            api_key=self.api_key,
            api_secret=self.api_secret,
            base_url=self.base_url,
        )
        if errors:
            raise ValidationError(errors)

    def market_symbol(self, symbol: str) -> str:
        """The ccxt market symbol of one of the account's symbols (`BTC/USDT` on a linear perpetual
        account: `BTC/USDT:USDT`)."""
        return self.venue_object.market_symbol(symbol)


class Market(models.Model):
    """A market's facts the arithmetic needs, as the exchange describes it (kept from `load_markets`)."""

    account = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="markets")
    symbol = models.CharField(max_length=32, help_text="Canonical BASE/QUOTE.")
    market_symbol = models.CharField(max_length=64, help_text="ccxt's full symbol, e.g. BTC/USDT:USDT.")
    base = models.CharField(max_length=16)
    quote = models.CharField(max_length=16)
    contract_size = models.DecimalField(**DECIMAL, default=Decimal(1))
    amount_step = models.DecimalField(**DECIMAL, default=Decimal(0), help_text="Dust threshold.")
    price_step = models.DecimalField(**DECIMAL, default=Decimal(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "market_symbol"], name="market_unique_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account.name} {self.market_symbol}"


class BotInstance(models.Model):
    name = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(ExchangeAccount, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
