from django import forms
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from .connectors import VenueUnreachable, venue_symbols
from .models import BotInstance, ExchangeAccount, Market
from .validation import symbols_on_venue_errors
from .venues import venue_choices

# A change to any of these makes the form load the venue's markets to check the symbols.
VENUE_FIELDS = ("venue", "base_url", "symbols")


class VenueField(forms.ChoiceField):
    """The registry's venues to choose from. A name not among them is left to the model's venue rule,
    which says so once and lists the known ones."""

    def __init__(self, **kwargs):
        super().__init__(choices=venue_choices, **kwargs)

    def validate(self, value):
        forms.Field.validate(self, value)


class ExchangeAccountForm(forms.ModelForm):
    """API key and secret are write-only: never rendered back; left empty, they stay as they were.

    The model's rules are checked as for any save; besides, a new account, or one whose venue, base
    URL or symbols changed, has its symbols checked against the markets the venue lists."""

    venue = VenueField(help_text="The exchange and market type.")
    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored key.")
    api_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored secret.")
    base_url = forms.URLField(required=False, assume_scheme="https", label="API base URL", help_text="Empty for the real exchange.")

    class Meta:
        model = ExchangeAccount
        fields = ["name", "venue", "api_key", "api_secret", "base_url", "enabled", "symbols", "backfill_since"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.venue_as_stored = {name: getattr(self.instance, name) for name in VENUE_FIELDS} if self.instance.pk else None

    def clean(self):
        cleaned = super().clean()
        for field in ("api_key", "api_secret"):
            if not cleaned.get(field) and self.instance.pk:
                cleaned[field] = getattr(self.instance, field)
        return cleaned

    def _post_clean(self):
        """After the model's own rules (`ExchangeAccount.clean`) passed: the symbols on the venue."""
        super()._post_clean()
        account = self.instance
        if self.errors or self.venue_as_stored == {name: getattr(account, name) for name in VENUE_FIELDS}:
            return
        try:
            listed = venue_symbols(account)
        except VenueUnreachable as error:
            self.add_error("base_url" if account.base_url else None, f"{error}; nothing was saved")
            return
        errors = symbols_on_venue_errors(account.symbols, venue=account.venue_object, venue_symbols=listed)
        for message in errors.get("symbols", []):
            self.add_error("symbols", message)


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(admin.ModelAdmin):
    form = ExchangeAccountForm
    list_display = ["name", "venue", "enabled", "base_url", "has_credentials", "created_at"]
    list_filter = ["enabled", "venue"]
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
