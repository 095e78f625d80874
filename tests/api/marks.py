from datetime import UTC, datetime
from decimal import Decimal

from positions.models import MarkPrice


def set_mark(account, market_symbol: str, price: str, at: datetime = datetime(2024, 1, 2, tzinfo=UTC)) -> MarkPrice:
    return MarkPrice.objects.update_or_create(
        account=account,
        market_symbol=market_symbol,
        defaults={"symbol": market_symbol.split(":")[0], "price": Decimal(price), "fetched_at": at},
    )[0]
