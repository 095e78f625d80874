"""`python -m tests.trades.ingest_worker ACCOUNT COUNT BATCH`: ingest a fixed set of trades; prints how many were new."""

import sys

import django

django.setup()

from exchanges.models import ExchangeAccount  # noqa: E402
from tests.trades.many_trades import many_trades  # noqa: E402
from trades.ingest import ingest_trades  # noqa: E402


def main(account_name: str, count: int, batch: int) -> None:
    account = ExchangeAccount.objects.get(name=account_name)
    trades = many_trades(count)
    new = 0
    for start in range(0, count, batch):
        new += len(ingest_trades(account, trades[start : start + batch]))
    print(new)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
