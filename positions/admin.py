from django.contrib import admin
from django.utils.html import format_html_join

from trades.admin import ReadOnlyAdmin

from .models import Position
from .selectors import position_funding


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = [
        "exchange", "bot_instance", "symbol", "leg", "side", "size", "avg_price", "p1", "p2", "p2_fee", "funding", "is_open",
        "realized_pnl", "entry_time", "last_update_time", "trade_count", "funding_count",
    ]
    list_filter = ["is_open", "exchange", "symbol", "leg", "side"]
    list_select_related = ["exchange", "bot_instance"]
    date_hierarchy = "entry_time"
    ordering = ["-is_open", "-last_update_time"]
    readonly_fields = ["funding_payments"]

    @admin.display(description="funding payments folded in")
    def funding_payments(self, position):
        payments = position_funding(position)
        if not payments:
            return "none"
        return format_html_join(
            "\n", "<div>{} {} {} ({})</div>", ((p.timestamp.isoformat(), p.amount, p.currency, p.exchange_funding_id) for p in payments)
        )
