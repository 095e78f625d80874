from django.contrib import admin

from trades.admin import ReadOnlyAdmin

from .models import Position


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ["exchange", "bot_instance", "symbol", "side", "size", "avg_price", "p1", "p2", "p2_fee", "is_open", "realized_pnl", "entry_time", "last_update_time", "trade_count"]
    list_filter = ["is_open", "exchange", "symbol", "side"]
    list_select_related = ["exchange", "bot_instance"]
    date_hierarchy = "entry_time"
    ordering = ["-is_open", "-last_update_time"]
