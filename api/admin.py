from django.contrib import admin, messages
from django.utils import timezone

from .grants import forget_tokens
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued here (the token is shown once, in the message after saving) and revoked
    here; they are never edited or shown again."""

    list_display = ["hint", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "hint"]
    actions = ["revoke"]

    filter_horizontal = ["accounts"]

    def get_fields(self, request, obj=None):
        return ["user", "name", "accounts"] if obj is None else ["user", "name", "accounts", "hint", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "hint", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        api_token, token = ApiToken.issue(obj.user, obj.name)
        obj.pk = api_token.pk
        obj.token_hash, obj.hint, obj.created_at = api_token.token_hash, api_token.hint, api_token.created_at
        obj._state.adding = False
        messages.warning(request, f"The new API token, shown only this once: {token}")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        forget_tokens([form.instance.token_hash])  # its accounts may have changed

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        active = queryset.filter(revoked_at__isnull=True)
        token_hashes = list(active.values_list("token_hash", flat=True))
        count = active.update(revoked_at=timezone.now())
        forget_tokens(token_hashes)
        self.message_user(request, f"{count} token(s) revoked.")
