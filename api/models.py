import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .grants import forget_tokens

TOKEN_PREFIX = "tt_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored: the token itself is shown once,
    when it is issued. A token acts as its user, with that user's view permissions, on the accounts
    it names (`accounts`), or on every account when it names none."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64, blank=True, default="", help_text="What uses it, e.g. the grafana exporter.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=16, editable=False, help_text="The token's first characters, to recognise it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accounts = models.ManyToManyField(
        "exchanges.ExchangeAccount",
        blank=True,
        related_name="+",
        help_text="The accounts this token may read; none chosen: every account.",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user}{', ' + self.name if self.name else ''})"

    @classmethod
    def issue(cls, user, name: str = "") -> tuple["ApiToken", str]:
        """Create a token for `user`; returns it with the plain token, which is not kept anywhere."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        api_token = cls.objects.create(user=user, name=name, token_hash=hash_token(token), hint=token[:10])
        return api_token, token

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
        forget_tokens([self.token_hash])
