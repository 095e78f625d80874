"""Accounts name their venue (`binance_spot`, `bybit_linear`) instead of a ccxt exchange id and a
market type: the venue knows both, so they are no longer stored.

The names are frozen here as they were when this ran: binance + spot -> binance_spot, bybit + swap
-> bybit_linear. An account on any other pair (one the tracker could not sync) keeps it in its name,
`kraken_spot`, which validation refuses with the list of venues until there is one of that name.

It runs after trades 0004, whose SQL finds Binance accounts by their ccxt id.
"""

from django.db import migrations, models

import exchanges.venues

VENUE_OF_PAIR = {("binance", "spot"): "binance_spot", ("bybit", "swap"): "bybit_linear"}
PAIR_OF_VENUE = {venue: pair for pair, venue in VENUE_OF_PAIR.items()}


def venue_name(ccxt_id: str, market_type: str) -> str:
    return VENUE_OF_PAIR.get((ccxt_id, market_type)) or f"{ccxt_id}_{market_type}"


def pair_of(venue: str) -> tuple[str, str]:
    ccxt_id, _, market_type = venue.rpartition("_")
    return PAIR_OF_VENUE.get(venue) or (ccxt_id, market_type)


def fill_venue(apps, schema_editor):
    ExchangeAccount = apps.get_model("exchanges", "ExchangeAccount")
    for account in ExchangeAccount.objects.only("ccxt_id", "market_type"):
        account.venue = venue_name(account.ccxt_id, account.market_type)
        account.save(update_fields=["venue"])


def fill_pair(apps, schema_editor):
    ExchangeAccount = apps.get_model("exchanges", "ExchangeAccount")
    for account in ExchangeAccount.objects.only("venue"):
        account.ccxt_id, account.market_type = pair_of(account.venue)
        account.save(update_fields=["ccxt_id", "market_type"])


class Migration(migrations.Migration):
    dependencies = [
        ("exchanges", "0001_initial"),
        ("trades", "0004_binance_trade_ids_by_market"),
    ]

    operations = [
        migrations.AddField(
            model_name="exchangeaccount",
            name="venue",
            field=models.CharField(default="", max_length=32, help_text="The exchange and market type."),
            preserve_default=False,
        ),
        migrations.RunPython(fill_venue, fill_pair),
        # A default, so that going back re-adds the column on existing rows before `fill_pair` fills it.
        migrations.AlterField(
            model_name="exchangeaccount",
            name="ccxt_id",
            field=models.CharField(default="", max_length=32, verbose_name="ccxt exchange id"),
        ),
        migrations.RemoveField(model_name="exchangeaccount", name="ccxt_id"),
        migrations.RemoveField(model_name="exchangeaccount", name="market_type"),
        migrations.AlterField(
            model_name="exchangeaccount",
            name="venue",
            field=models.CharField(choices=exchanges.venues.venue_choices, help_text="The exchange and market type.", max_length=32),
        ),
    ]
