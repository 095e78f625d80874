"""The control API under /_sim/: execute trades, read the ground truth, inject faults, read stats."""

from __future__ import annotations

import heapq
import json
from decimal import Decimal, InvalidOperation

from aiohttp import web

from .faults import FaultError
from .generator import FeeRule
from .keys import SIMULATOR
from .ledger import CLOSING_KINDS, KINDS, LEG_NAMES, LONG, NET, Book
from .money import FEE_QUANTUM, Rejected, plain, to_units

_LEGS = {name: leg for leg, name in LEG_NAMES.items() if name}


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def _decimal(item: dict, name: str, *, required: bool = True) -> Decimal | None:
    value = item.get(name)
    if value is None:
        if required:
            raise Rejected(f"{name} is required")
        return None
    if isinstance(value, float):
        raise Rejected(f"{name} must be a decimal string, not a float")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise Rejected(f"{name} {value!r} is not a number") from None
    if not result.is_finite():
        raise Rejected(f"{name} {value!r} is not finite")
    return result


def _kind_and_leg(book: Book, item: dict, buy: bool, qty: int, pending: dict) -> tuple[int, int]:
    """A fill's kind and leg as the control API names them (`kind`: trade, liquidation, adl,
    settlement, delivery; `leg`: long or short, hedge mode only), checked against the position it
    changes: a liquidation, ADL, settlement or delivery only reduces one, and so does a hedge-mode
    fill on the other side of its leg. `pending`: what the request's earlier fills did to each leg."""
    kind_name = item.get("kind", "trade")
    if kind_name not in KINDS or kind_name == "funding":
        raise Rejected(f"kind must be one of {', '.join(k for k in KINDS if k != 'funding')} (funding: POST /_sim/funding)")
    kind = KINDS.index(kind_name)
    if kind != 0 and not book.market.settle:
        raise Rejected(f"a {kind_name} is a perpetual's; {book.market.symbol} is spot")
    leg_name = item.get("leg")
    if leg_name in (None, ""):
        # a closing kind closes the leg on the fill's other side; anything else opens the side's own
        leg = book.opening_leg(not buy) if kind in CLOSING_KINDS else book.opening_leg(buy)
    elif not book.hedge:
        raise Rejected(f"{book.account.name} is a one-way account: its fills have no leg")
    elif leg_name not in _LEGS:
        raise Rejected("leg must be long or short")
    else:
        leg = _LEGS[leg_name]
    if book.market.settle:
        size = book.open_positions().get(leg, 0) + pending.get((id(book), leg), 0)
        delta = qty if buy else -qty
        reduces = size != 0 and (size > 0) != (delta > 0)
        if (kind in CLOSING_KINDS or leg != NET and (leg == LONG) != buy) and not (reduces and abs(delta) <= abs(size)):
            what = kind_name if kind in CLOSING_KINDS else f"a {'buy' if buy else 'sell'} on the {LEG_NAMES[leg]} leg"
            raise Rejected(f"{what} only reduces a position: {book.account.name} {book.market.symbol} {LEG_NAMES[leg] or 'net'} is {plain(size * book.market.amount_step)}")
        pending[(id(book), leg)] = pending.get((id(book), leg), 0) + delta
    return kind, leg


def _parse_trade(sim, item, pending: dict) -> tuple[Book, dict]:
    if not isinstance(item, dict):
        raise Rejected("each trade is a JSON object")
    name = item.get("account")
    accounts = {a.name: a for a in sim.config.accounts}
    if name not in accounts:
        raise Rejected(f"unknown account {name!r}")
    account = accounts[name]
    symbol = item.get("symbol")
    if account.market(symbol) is None:
        raise Rejected(f"{name} has no market {symbol!r}")
    book = sim.ledger.book(name, symbol)
    market = book.market
    side = item.get("side")
    if side not in ("buy", "sell"):
        raise Rejected("side must be buy or sell")
    amount, price = _decimal(item, "amount"), _decimal(item, "price")
    if amount <= 0 or price <= 0:
        raise Rejected("amount and price must be positive")
    maker = item.get("maker")
    if maker is None:
        maker = item.get("taker_or_maker", "taker") == "maker"
    qty = to_units(amount, market.amount_step, "amount")
    price_units = to_units(price, market.price_step, "price")
    fee = _decimal(item, "fee", required=False)
    coin = item.get("fee_coin")
    if fee is None:
        fee_units, coin_index = FeeRule(account, market, book.coins).fee(buy=side == "buy", maker=bool(maker), qty=qty, price=price_units, third=coin == account.fees.third_coin and bool(coin))
        if coin and book.coins[coin_index] != coin:
            raise Rejected(f"give the fee when it is paid in {coin}")
    else:
        if not coin:
            coin = market.settle or (market.base if side == "buy" else market.quote)
        refusal = account.venue.fee_coin_refusal(market, coin)
        if refusal:
            raise Rejected(refusal)
        fee_units, coin_index = to_units(fee, FEE_QUANTUM, "fee"), book.coin_index(coin)
    order_qty = _decimal(item, "order_qty", required=False)
    kind, leg = _kind_and_leg(book, item, side == "buy", qty, pending)
    return book, {
        "buy": side == "buy",
        "maker": bool(maker),
        "fill": (qty, price_units, fee_units, coin_index, bool(maker), kind, leg),
        "label": item.get("order"),
        "order_qty": to_units(order_qty, market.amount_step, "order_qty") if order_qty is not None else None,
    }


async def post_trades(request: web.Request) -> web.Response:
    """Execute trades now. Trades sharing an `order` label (per account and symbol) are fills of one order."""
    sim = request.app[SIMULATOR]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _bad("the body is JSON: {\"trades\": [...]}")
    items = body.get("trades") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        return _bad("trades: a non-empty list is required")
    groups: dict[tuple, tuple[Book, list[dict]]] = {}
    pending: dict = {}
    try:
        for n, item in enumerate(items):
            book, parsed = _parse_trade(sim, item, pending)
            label = parsed["label"]
            key = (book.account.name, book.market.symbol, label if label is not None else f"#{n}")
            groups.setdefault(key, (book, []))[1].append(parsed)
        for book, fills in groups.values():
            if len({f["buy"] for f in fills}) > 1:
                raise Rejected("the fills of one order have one side")
            label = fills[0]["label"]
            if label is not None and label in book.labels and book.order_side_is_buy(book.labels[label]) != fills[0]["buy"]:
                raise Rejected(f"order {label!r} is on the other side")
    except Rejected as rejected:
        return _bad(str(rejected))
    executed = []
    for book, fills in groups.values():
        label = fills[0]["label"]
        order = book.labels.get(label) if label is not None else None
        if order is None:
            buy = fills[0]["buy"]
            prices = [f["fill"][1] for f in fills]
            declared = next((f["order_qty"] for f in fills if f["order_qty"] is not None), None)
            order = book.open_order(
                buy=buy,
                qty=declared or sum(f["fill"][0] for f in fills),
                price=max(prices) if buy else min(prices),
                market_order=not any(f["maker"] for f in fills),
                created=sim.now_ms(),
                label=label,
            )
        executed += sim.execute(book, order, [f["fill"] for f in fills])
    return web.json_response({"trades": [fill.truth() for fill in executed]})


async def get_trades(request: web.Request) -> web.StreamResponse:
    """The ground truth: every fill so far, oldest first, streamed (a million fills are fine)."""
    sim = request.app[SIMULATOR]
    query = request.query
    try:
        since = int(query["since"]) if query.get("since") else None
        until = int(query["until"]) if query.get("until") else None
        limit = int(query["limit"]) if query.get("limit") else None
    except ValueError:
        return _bad("since, until and limit are integers")
    streams = [
        sim.ledger.fills(account=account, symbol=symbol, since=since, until=until)
        for (account, symbol) in sim.ledger.books
        if query.get("account") in (None, "", account) and query.get("symbol") in (None, "", symbol)
    ]
    fills = heapq.merge(*streams, key=lambda fill: fill.timestamp)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(b'{"trades":[')
    chunk, count = [], 0
    for fill in fills:
        if limit is not None and count >= limit:
            break
        chunk.append(json.dumps(fill.truth(), separators=(",", ":")))
        count += 1
        if len(chunk) >= 5000:
            await response.write(((b"," if count > len(chunk) else b"") + ",".join(chunk).encode()))
            chunk = []
    if chunk:
        await response.write(((b"," if count > len(chunk) else b"") + ",".join(chunk).encode()))
    await response.write(f'],"count":{count}}}'.encode())
    await response.write_eof()
    return response


def _perpetual_books(sim, query) -> list[Book]:
    account, symbol = query.get("account") or None, query.get("symbol") or None
    if account is not None and account not in {a.name for a in sim.config.accounts}:
        raise Rejected(f"unknown account {account!r}")
    books = [
        book for (name, market_symbol), book in sim.ledger.books.items()
        if book.market.settle and account in (None, name) and symbol in (None, market_symbol)
    ]
    if not books:
        raise Rejected("no perpetual market matches")
    return books


async def post_funding(request: web.Request) -> web.Response:
    """Settle funding now on every open position of the perpetual markets matched (`account`,
    `symbol`: all when left out), at `rate` (default: each account's configured rate) and
    `mark_price` (default: each market's last price)."""
    sim = request.app[SIMULATOR]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _bad('the body is JSON: {"account": ..., "symbol": ..., "rate": "0.0001"}')
    if not isinstance(body, dict):
        return _bad("the body is a JSON object")
    try:
        rate = _decimal(body, "rate", required=False)
        mark_price = _decimal(body, "mark_price", required=False)
        settled = []
        for book in _perpetual_books(sim, body):
            book_rate = rate if rate is not None else book.account.funding.for_market(book.market.symbol)[1]
            settled += sim.settle_funding(book, book_rate, mark_price)
    except Rejected as rejected:
        return _bad(str(rejected))
    return web.json_response({"funding": [fill.truth() for fill in settled]})


async def get_funding(request: web.Request) -> web.Response:
    """The ground truth of funding: every payment so far, oldest first (amount + received, - paid)."""
    sim = request.app[SIMULATOR]
    query = request.query
    try:
        since = int(query["since"]) if query.get("since") else None
        until = int(query["until"]) if query.get("until") else None
    except ValueError:
        return _bad("since and until are integers")
    payments = [
        fill.truth()
        for fill in sim.ledger.fills(account=query.get("account") or None, symbol=query.get("symbol") or None, since=since, until=until, funding=True)
    ]
    payments.sort(key=lambda p: p["timestamp"])
    return web.json_response({"funding": payments, "count": len(payments)})


async def get_positions(request: web.Request) -> web.Response:
    """Each perpetual book's open position per leg (size in the base coin, + long, - short)."""
    sim = request.app[SIMULATOR]
    try:
        books = _perpetual_books(sim, request.query)
    except Rejected as rejected:
        return _bad(str(rejected))
    rows = []
    for book in books:
        for leg, size in book.open_positions().items():
            rows.append({
                "account": book.account.name, "symbol": book.market.symbol, "leg": LEG_NAMES[leg],
                "mode": "hedge" if book.hedge else "one_way", "size": plain(size * book.market.amount_step),
            })
    return web.json_response({"positions": rows})


async def post_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _bad("the body is a fault object or a list of them")
    specs = body if isinstance(body, list) else [body]
    applied, disconnected = [], 0
    try:
        for spec in specs:
            action = sim.faults.add(spec)
            if action == "disconnect":
                disconnected += sim.feed.drop_all()
            if action == "ban":
                for exchange in sim.exchanges.values():
                    if exchange.ban(float(spec.get("seconds", 60))):
                        sim.faults.injected[f"{exchange.name}.ban"] += 1
            applied.append(action)
    except FaultError as error:
        return _bad(str(error))
    return web.json_response({"applied": applied, "disconnected": disconnected, **sim.faults.state()})


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIMULATOR].faults.state())


async def delete_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    sim.faults.add({"action": "clear"})
    return web.json_response(sim.faults.state())


async def get_stats(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    stats = sim.stats
    return web.json_response(
        {
            "requests": {k: v for k, v in sorted(stats.items()) if k.split(" ")[0] in ("GET", "POST", "PUT", "DELETE")},
            "rate_limited": {k.removeprefix("rate_limited."): v for k, v in sorted(stats.items()) if k.startswith("rate_limited.")},
            "websocket": {k.removeprefix("ws."): v for k, v in sorted(stats.items()) if k.startswith("ws.")},
            "open_websockets": len(sim.feed.connections),
            **{exchange.stats_key: exchange.limiter.state() for exchange in sim.exchanges.values()},
            "faults": sim.faults.state(),
            "trades": {f"{account} {symbol}": len(book) for (account, symbol), book in sim.ledger.books.items()},
        }
    )


def account_json(sim, account) -> dict:
    return {
        "name": account.name,
        "protocol": account.protocol,
        "ccxt_id": account.ccxt_id,
        "market_type": account.market_type,
        "position_mode": "hedge" if account.hedge else "one_way",
        "api_key": account.api_key,
        "api_secret": account.api_secret,
        "base_url": sim.base_url,
        "markets": [
            {
                "symbol": m.symbol,
                "market_id": m.market_id,
                "base": m.base,
                "quote": m.quote,
                "settle": m.settle,
                "amount_step": plain(m.amount_step),
                "price_step": plain(m.price_step),
                "contract_size": plain(m.contract_size),
            }
            for m in account.markets
        ],
    }


async def get_accounts(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    return web.json_response({"accounts": [account_json(sim, a) for a in sim.config.accounts]})


def add_routes(app: web.Application, sim) -> None:
    app.router.add_post("/_sim/trades", post_trades)
    app.router.add_get("/_sim/trades", get_trades)
    app.router.add_post("/_sim/funding", post_funding)
    app.router.add_get("/_sim/funding", get_funding)
    app.router.add_get("/_sim/positions", get_positions)
    app.router.add_post("/_sim/faults", post_faults)
    app.router.add_get("/_sim/faults", get_faults)
    app.router.add_delete("/_sim/faults", delete_faults)
    app.router.add_get("/_sim/stats", get_stats)
    app.router.add_get("/_sim/accounts", get_accounts)
