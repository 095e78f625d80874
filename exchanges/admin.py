from django import forms
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from .models import BotInstance, ExchangeAccount, Market


class ExchangeAccountForm(forms.ModelForm):
    """API key and secret are write-only: never rendered back; left empty, they stay as they were."""

    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored key.")
    api_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored secret.")
    base_url = forms.URLField(required=False, assume_scheme="https", label="API base URL", help_text="Empty for the real exchange.")

    class Meta:
        model = ExchangeAccount
        fields = ["name", "ccxt_id", "market_type", "api_key", "api_secret", "base_url", "enabled", "symbols", "backfill_since"]

    def clean(self):
        cleaned = super().clean()
        for field in ("api_key", "api_secret"):
            if not cleaned.get(field) and self.instance.pk:
                cleaned[field] = getattr(self.instance, field)
        return cleaned


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(admin.ModelAdmin):
    form = ExchangeAccountForm
    list_display = ["name", "ccxt_id", "market_type", "enabled", "base_url", "has_credentials", "created_at"]
    list_filter = ["enabled", "ccxt_id", "market_type"]
    search_fields = ["name"]

    @method_decorator(sensitive_post_parameters("api_key", "api_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Credentials typed in stay out of error reports (the debug page, error mails)."""
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(boolean=True, description="credentials")
    def has_credentials(self, account):
        return bool(account.api_key and account.api_secret)


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ["account", "market_symbol", "symbol", "contract_size", "amount_step", "price_step"]
    list_filter = ["account"]


@admin.register(BotInstance)
class BotInstanceAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "created_at"]
