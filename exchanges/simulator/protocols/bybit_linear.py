"""Bybit v5 linear perpetuals (category=linear), on the Bybit family's API (bybit.py)."""

from __future__ import annotations

from decimal import Decimal

from ..money import decimals
from .bybit import BybitProtocol


class BybitLinear(BybitProtocol):
    name = "bybit"
    title = "bybit linear perpetual"
    market_type = "swap"
    category = "linear"
    symbol_form = "BTC/USDT:USDT"
    private_topics = ("execution.linear", "execution.fast.linear", "order.linear", "position.linear")
    api_permissions = {"ContractTrade": ["Order", "Position"]}
    known_markets = {
        "BTC": {"price": "60000", "amount_step": "0.001", "price_step": "0.10", "min_amount": "0.001", "max_amount": "0.500"},
        "ETH": {"price": "3000", "amount_step": "0.01", "price_step": "0.01", "min_amount": "0.01", "max_amount": "10.00"},
        "SOL": {"price": "150", "amount_step": "0.1", "price_step": "0.010", "min_amount": "0.1", "max_amount": "200.0"},
    }
    # A market-maker tier: makers earn a rebate (a negative fee), takers pay 0.055%.
    default_fees = {"maker": "-0.00005", "taker": "0.00055", "third_coin": "", "third_coin_price": "0", "third_coin_rate": "0", "third_coin_share": 0.0}
    fee_in = "settle"  # exactly execValue x rate

    def symbol_is_valid(self, symbol: str) -> bool:
        pair, _, settle = symbol.partition(":")
        return pair.count("/") == 1 and settle == pair.split("/")[1]

    def instrument(self, book) -> dict:
        market = book.market

        def qty(value: int) -> str:
            return format(Decimal(value).quantize(market.amount_step), "f")

        return {
            "symbol": market.market_id,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": market.base,
            "quoteCoin": market.quote,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(decimals(market.price_step)),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": format(market.price_step, "f"),
                "maxPrice": format(Decimal(1999999).quantize(market.price_step), "f"),
                "tickSize": format(market.price_step, "f"),
            },
            "lotSizeFilter": {
                "maxOrderQty": qty(1190),
                "minOrderQty": format(market.amount_step, "f"),
                "qtyStep": format(market.amount_step, "f"),
                "postOnlyMaxOrderQty": qty(1190),
                "maxMktOrderQty": qty(119),
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": market.settle,
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "displayName": "",
        }
