"""Bybit v5 spot (category=spot) on a unified account, on the Bybit family's API (bybit.py).

What differs from linear, as Bybit documents it: the instruments row has `lotSizeFilter.basePrecision`
(the amount step) and `quotePrecision`, and no `qtyStep`; execution ids and order ids are long
numbers, not UUIDs; an execution has no `createType` ("Spot, Option do not have this key"), which is
also what ccxt 4.5.90's `parse_trade` reads a REST row without a market by; the fee is in the coin
received (base on a buy, quote on a sell), except that a maker's rebate (a negative maker rate) is
paid in the coin given ("Spot Fee Currency Instruction" in Bybit's enums). REST rows name the fee
coin in `feeCurrency`, pushed ones in `feeCoin`, as for linear.
"""

from __future__ import annotations

from ..money import plain, strip
from .bybit import BybitProtocol

# Spot execution and order ids are 19-digit numbers (2210000000101610464, 1549452573428424448); each
# book has its own range of 10**12 (its number is part of the id), so no two ever meet.
EXEC_ID_BASE = 2_210_000_000_000_000_000
ORDER_ID_BASE = 1_540_000_000_000_000_000
BOOK_RANGE = 10**12


class BybitSpot(BybitProtocol):
    name = "bybit_spot"
    title = "bybit spot"
    market_type = "spot"
    category = "spot"
    symbol_form = "BTC/USDT"
    private_topics = ("execution.spot", "execution.fast.spot", "order.spot")
    api_permissions = {"Spot": ["SpotTrade"]}
    # basePrecision and tickSize as Bybit lists BTCUSDT, ETHUSDT and SOLUSDT
    known_markets = {
        "BTC": {"price": "60000", "amount_step": "0.000001", "price_step": "0.1", "min_amount": "0.0001", "max_amount": "0.5"},
        "ETH": {"price": "3000", "amount_step": "0.00001", "price_step": "0.01", "min_amount": "0.001", "max_amount": "10"},
        "SOL": {"price": "150", "amount_step": "0.001", "price_step": "0.01", "min_amount": "0.01", "max_amount": "200"},
    }
    # A market-maker tier: makers earn a rebate (paid in the coin they give), takers pay 0.1%.
    default_fees = {"maker": "-0.00005", "taker": "0.001", "third_coin": "", "third_coin_price": "0", "third_coin_rate": "0", "third_coin_share": 0.0}
    fee_in = "received"
    rebate_in_given = True

    def symbol_is_valid(self, symbol: str) -> bool:
        return ":" not in symbol and symbol.count("/") == 1 and all(symbol.split("/"))

    def fee_coin_refusal(self, market, coin: str) -> str | None:
        if coin not in (market.base, market.quote):
            return f"{self.title} fees are paid in {market.base} or {market.quote}"
        return None

    def trade_id(self, book, index: int) -> str:
        return str(EXEC_ID_BASE + (book.number + 1) * BOOK_RANGE + index)

    def order_id(self, book, order: int) -> str:
        return str(ORDER_ID_BASE + (book.number + 1) * BOOK_RANGE + order)

    def instrument(self, book) -> dict:
        market = book.market
        max_qty = market.max_amount * 100
        return {
            "symbolId": book.number + 1,
            "symbol": market.market_id,
            "baseCoin": market.base,
            "quoteCoin": market.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": format(market.amount_step, "f"),
                "quotePrecision": format(market.amount_step * market.price_step, "f"),
                "minOrderQty": format(market.amount_step, "f"),
                "maxOrderQty": plain(max_qty),
                "minOrderAmt": "5",
                "maxOrderAmt": "8000000",
                "maxLimitOrderQty": plain(max_qty),
                "maxMarketOrderQty": plain(max_qty / 2),
                "postOnlyMaxLimitOrderSize": plain(max_qty * 5),
            },
            "priceFilter": {"tickSize": format(market.price_step, "f")},
            "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
            "symbolType": "",
        }

    def ticker(self, book, price: str) -> dict:
        """Spot tickers have no mark or index price."""
        return {
            "symbol": book.market.market_id, "bid1Price": price, "bid1Size": "0", "ask1Price": price, "ask1Size": "0",
            "lastPrice": price, "prevPrice24h": price, "price24hPcnt": "0", "highPrice24h": price, "lowPrice24h": price,
            "turnover24h": "0", "volume24h": "0", "usdIndexPrice": "",
        }

    def execution(self, fill, *, websocket: bool) -> dict:
        """Bybit's spot execution: the family's row with numbers without trailing zeros, empty strings
        for what concerns derivatives (mark price, closed size, stop order type), no `createType`, and
        `marketUnit` and `execPnl` only on the stream."""
        item = super().execution(fill, websocket=websocket)
        del item["createType"]
        if not websocket:
            del item["marketUnit"], item["execPnl"]
        item.update(
            {
                "stopOrderType": "",
                "markPrice": "",
                "closedSize": "",
                "execPrice": strip(fill.price),
                "orderQty": strip(fill.order_qty),
                "orderPrice": strip(fill.order_price),
                "leavesQty": strip(fill.leaves_qty),
                "execQty": strip(fill.amount),
            }
        )
        return item

    def fast_execution(self, fill) -> dict:
        fast = super().fast_execution(fill)
        fast.update({"execPrice": strip(fill.price), "execQty": strip(fill.amount)})
        return fast
