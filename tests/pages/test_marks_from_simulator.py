"""Mark prices read from the simulator's tickers through the real ccxt client."""

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT
from positions.marks import refresh_marks
from positions.models import MarkPrice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("name", "symbol", "market_symbol"), [(BINANCE, "BTC/USDT", "BTC/USDT"), (BYBIT, "ETH/USDT:USDT", "ETH/USDT:USDT")])
def test_marks_are_the_last_traded_price_exactly(simulator, simulated_accounts, name, symbol, market_symbol):
    simulator.post_trades({"account": name, "symbol": symbol, "side": "buy", "amount": "0.01", "price": "1234.5"})
    account = simulated_accounts[name]

    async def refresh():
        connector = ExchangeConnector(account)
        try:
            return await refresh_marks(account, connector.rest_client())
        finally:
            await connector.close()

    async_to_sync(refresh)()

    mark = MarkPrice.objects.get(account=account, market_symbol=market_symbol)
    assert mark.price == Decimal("1234.5")
    assert MarkPrice.objects.filter(account=account).count() == 2
