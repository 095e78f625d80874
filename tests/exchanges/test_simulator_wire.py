"""What the simulator sends on the wire where ccxt does not look closely: heartbeats, headers, refusals."""

import hashlib
import hmac
import json
import time

import aiohttp

from exchanges.simulator.testing import BINANCE, BYBIT


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def test_bybit_private_socket_pongs_and_wants_auth_first(simulator):
    account = simulator.account(BYBIT)
    async with aiohttp.ClientSession() as session, session.ws_connect(simulator.base_url.replace("http", "ws") + "/v5/private") as ws:
        await ws.send_json({"req_id": "1", "op": "ping"})
        pong = await ws.receive_json(timeout=10)
        assert (pong["req_id"], pong["op"]) == ("1", "pong")

        await ws.send_json({"req_id": "2", "op": "subscribe", "args": ["execution"]})
        refused = await ws.receive_json(timeout=10)
        assert (refused["success"], refused["ret_msg"], refused["req_id"]) == (False, "Request not authorized", "2")

        expires = str(int(time.time() * 1000) + 10_000)
        await ws.send_json({"op": "auth", "args": [account.api_key, expires, sign(account.api_secret, "GET/realtime" + expires)]})
        assert (await ws.receive_json(timeout=10))["success"] is True

        await ws.send_json({"req_id": "3", "op": "subscribe", "args": ["execution"]})
        assert (await ws.receive_json(timeout=10))["success"] is True
        posted = await simulator.apost_trades({"account": BYBIT, "symbol": "ETH/USDT:USDT", "side": "buy", "amount": "0.01", "price": "3000"})
        pushed = await ws.receive_json(timeout=10)
        assert pushed["topic"] == "execution"
        assert [e["execId"] for e in pushed["data"]] == [posted[0]["id"]]


async def test_an_expired_bybit_auth_is_a_params_error(simulator):
    account = simulator.account(BYBIT)
    async with aiohttp.ClientSession() as session, session.ws_connect(simulator.base_url.replace("http", "ws") + "/v5/private") as ws:
        expires = str(int(time.time() * 1000) - 1)
        await ws.send_json({"op": "auth", "args": [account.api_key, expires, sign(account.api_secret, "GET/realtime" + expires)]})
        answer = await ws.receive_json(timeout=10)
        assert (answer["success"], answer["ret_msg"], answer["op"]) == (False, "Params Error", "auth")


async def test_binance_websocket_api_answers_ping_and_reports_weight(simulator):
    async with aiohttp.ClientSession() as session, session.ws_connect(simulator.base_url.replace("http", "ws") + "/ws-api/v3") as ws:
        await ws.send_json({"id": "p", "method": "ping", "params": {}})
        answer = await ws.receive_json(timeout=10)
        assert (answer["id"], answer["status"], answer["result"]) == ("p", 200, {})
        assert answer["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"

        await ws.send_json({"id": "u", "method": "userDataStream.subscribe.signature", "params": {"apiKey": "nobody", "timestamp": 1, "signature": "x"}})
        refused = await ws.receive_json(timeout=10)
        assert (refused["status"], refused["error"]["code"]) == (401, -2015)


async def test_every_binance_answer_carries_the_weight_used(simulator):
    async with aiohttp.ClientSession() as session:
        async with session.get(simulator.base_url + "/api/v3/exchangeInfo") as response:
            info = await response.json()
            assert response.headers["X-MBX-USED-WEIGHT-1M"] == "20"
        async with session.get(simulator.base_url + "/api/v3/myTrades?symbol=BTCUSDT") as response:
            assert response.status == 401
            assert await response.json() == {"code": -2014, "msg": "API-key format invalid."}
            assert response.headers["X-MBX-USED-WEIGHT-1M"] == "40"
    assert info["rateLimits"][0] == {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}


async def test_bybit_private_answers_carry_the_limit_headers(simulator):
    account = simulator.account(BYBIT)
    query = "category=linear&symbol=BTCUSDT"
    timestamp = str(int(time.time() * 1000))
    headers = {
        "X-BAPI-API-KEY": account.api_key,
        "X-BAPI-TIMESTAMP": timestamp,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign(account.api_secret, timestamp + account.api_key + "5000" + query),
    }
    async with aiohttp.ClientSession() as session:
        async with session.get(simulator.base_url + "/v5/execution/list?" + query, headers=headers) as response:
            body = json.loads(await response.text())
            assert (body["retCode"], body["result"]["list"], body["result"]["nextPageCursor"]) == (0, [], "")
            assert (response.headers["X-Bapi-Limit"], response.headers["X-Bapi-Limit-Status"]) == ("50", "49")


async def test_binance_refuses_a_signed_call_for_another_protocols_key(simulator):
    key = simulator.account(BYBIT).api_key
    async with aiohttp.ClientSession() as session:
        async with session.get(simulator.base_url + "/api/v3/myTrades?symbol=BTCUSDT&timestamp=1&signature=x", headers={"X-MBX-APIKEY": key}) as response:
            assert (response.status, (await response.json())["code"]) == (401, -2015)
    assert simulator.account(BINANCE).api_key != key
