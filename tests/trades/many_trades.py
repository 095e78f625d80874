import random
from decimal import Decimal

from tests.factories import binance_trade

START_MS = 1_704_067_200_000


def many_trades(count: int, seed: int = 7, symbols=("BTC/USDT", "ETH/USDT"), step_ms: int = 250) -> list[dict]:
    """A reproducible run of buys and sells, `step_ms` apart, that crosses zero now and then."""
    rng = random.Random(seed)
    trades = []
    for i in range(1, count + 1):
        symbol = rng.choice(list(symbols))
        amount = Decimal(rng.randint(1, 5000)) / 1000
        price = Decimal(rng.randint(90_000, 110_000)) / 1000
        trades.append(
            binance_trade(
                i,
                side=rng.choice(["buy", "sell"]),
                amount=str(amount),
                price=str(price),
                fee=str((amount * price / 1000).quantize(Decimal("1e-8"))),
                symbol=symbol,
                timestamp=START_MS + i * step_ms,
            )
        )
    return trades
