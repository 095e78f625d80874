"""An exchange simulator that speaks Binance spot and Bybit v5 linear well enough for the real ccxt
client, on 127.0.0.1: one module per protocol in protocols/, on shared plumbing. See README.md in
this package; run it with `manage.py simulate_exchange`."""
