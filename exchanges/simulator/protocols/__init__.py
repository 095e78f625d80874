"""The registry: protocol name (a config's "protocol") -> the venue's `Protocol`.

Adding a protocol is its module and one line here (see README.md in the simulator package).
"""

from __future__ import annotations

from .base import Exchange, Protocol
from .binance_spot import BinanceSpot
from .bybit_linear import BybitLinear
from .bybit_spot import BybitSpot

PROTOCOLS: dict[str, Protocol] = {protocol.name: protocol for protocol in (BinanceSpot(), BybitLinear(), BybitSpot())}


def exchange_classes() -> list[type[Exchange]]:
    """The exchange APIs the registered protocols are served on, each once, in registry order."""
    return list(dict.fromkeys(protocol.exchange for protocol in PROTOCOLS.values()))
