from django.contrib import admin

from exchanges.admin import ExchangeAccountAdmin
from exchanges.models import ExchangeAccount

from .models import FundingPayment, RejectedTrade, StreamHealth, SyncCursor, Trade


class ReadOnlyAdmin(admin.ModelAdmin):
    """Trades and what the exchange sent are facts: shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "exchange", "market_symbol", "side", "kind", "leg", "amount", "price", "cost", "fee_cost", "fee_currency", "exchange_trade_id", "processed"]
    list_filter = ["exchange", "symbol", "side", "kind", "leg", "processed", "timestamp"]
    search_fields = ["=exchange_trade_id", "=order_id"]
    date_hierarchy = "timestamp"
    list_select_related = ["exchange"]
    show_full_result_count = False
    ordering = ["-timestamp", "-id"]


class FundingDirectionFilter(admin.SimpleListFilter):
    title = "direction"
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [("paid", "paid"), ("received", "received")]

    def queryset(self, request, queryset):
        if self.value() == "paid":
            return queryset.filter(amount__lt=0)
        if self.value() == "received":
            return queryset.filter(amount__gt=0)
        return queryset


@admin.register(FundingPayment)
class FundingPaymentAdmin(ReadOnlyAdmin):
    """The funding ledger: one row per payment as the venue reported it."""

    list_display = ["timestamp", "exchange", "market_symbol", "leg", "amount", "currency", "rate", "position_size", "exchange_funding_id", "processed"]
    list_filter = ["exchange", "symbol", "leg", FundingDirectionFilter, "currency", "processed", "timestamp"]
    search_fields = ["=exchange_funding_id"]
    date_hierarchy = "timestamp"
    list_select_related = ["exchange"]
    show_full_result_count = False
    ordering = ["-timestamp", "-id"]


@admin.register(RejectedTrade)
class RejectedTradeAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "exchange", "feed", "exchange_trade_id", "reason"]
    list_filter = ["exchange", "feed"]
    search_fields = ["=exchange_trade_id", "reason"]


@admin.register(SyncCursor)
class SyncCursorAdmin(ReadOnlyAdmin):
    list_display = ["account", "symbol", "last_trade_id", "last_trade_time", "last_sync_at", "last_pass_fetched", "last_pass_new", "last_error_at", "last_error"]
    list_filter = ["account"]


@admin.register(StreamHealth)
class StreamHealthAdmin(admin.ModelAdmin):
    list_display = ["account", "down_reason", "down_since", "ws_connected_since", "ws_last_message_at", "ws_reconnects", "stopped_reason", "last_audit_at", "last_audit_missing", "last_error_at", "last_error"]
    readonly_fields = ["account", "down_reason", "down_since", "ws_connected_since", "ws_last_message_at", "ws_reconnects", "last_audit_at", "last_audit_checked", "last_audit_missing", "last_error", "last_error_at"]
    fields = ["account", "stopped_reason", *readonly_fields[1:]]

    def has_add_permission(self, request):
        return False


class TrackedAccountAdmin(ExchangeAccountAdmin):
    """The exchange app's account admin with each account's sync state beside it (this app keeps
    sync health; the exchange app below it does not know of it)."""

    list_display = [*ExchangeAccountAdmin.list_display[:4], "sync", *ExchangeAccountAdmin.list_display[4:]]
    list_select_related = ["health"]

    @admin.display(description="sync")
    def sync(self, account):
        health = getattr(account, "health", None)
        reason = (health.stopped_reason or health.down_reason) if health else ""
        return f"down: {reason}" if reason else "ok"


admin.site.unregister(ExchangeAccount)
admin.site.register(ExchangeAccount, TrackedAccountAdmin)
