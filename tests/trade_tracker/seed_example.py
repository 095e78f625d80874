"""The seed's usage example, as a bot would run it in its own process (only the `...` filled in), with
what it read printed as one JSON line for the test to check."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from trade_tracker import PositionRepository, TradeRepository, TradeSynchronizer, account_ids, connect_accounts, get_session, init_db


async def main():
    await init_db()
    async for session in get_session():
        trade_repo = TradeRepository(session)
        position_repo = PositionRepository(session)
        trade_sync = TradeSynchronizer(
            exchange_connectors=await connect_accounts(["binance_spot", "bybit_perp"]),
            trade_repository=trade_repo,
            position_repository=position_repo,
            exchange_id_map=await account_ids(["binance_spot", "bybit_perp"]),
        )
        await trade_sync.start({"binance_spot": ["BTC/USDT", "ETH/USDT"], "bybit_perp": ["BTC/USDT"]})
        position = await position_repo.get_position(exchange_id=1, symbol="BTC/USDT")
        open_positions = await position_repo.get_open_positions()
        net = await position_repo.calculate_net_position("BTC/USDT")
        trades = await trade_repo.get_trades_by_symbol(symbol="BTC/USDT", exchange_id=1, limit=10)
        stats = await trade_repo.get_trade_statistics(symbol="BTC/USDT", start_time=datetime.now(UTC) - timedelta(days=1))
        print(
            json.dumps(
                {
                    "position": {"account": position.exchange_id, "side": position.side, "p1": str(position.p1)} if position else None,
                    "open_positions": sorted(f"{p.exchange.name} {p.symbol} {p.p1}" for p in open_positions),
                    "net": str(net.net),
                    "shares": {name: str(share) for name, share in net.shares.items()},
                    "trades": [t.exchange_trade_id for t in trades],
                    "stats": {"count": stats.count, "buy_volume": str(stats.buy_volume), "sell_volume": str(stats.sell_volume)},
                }
            )
        )


asyncio.run(main())
