"""Exchange API secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _fernet() -> Fernet:
    digest = hashlib.sha256(("tracker-secrets:" + settings.TRACKER_SECRETS_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt an exchange secret: TRACKER_SECRETS_KEY changed?") from None


class Secret(str):
    """A decrypted secret whose repr never shows it, so it cannot leak into logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('****')" if self else "Secret('')"


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; Python code sees the plaintext as a `Secret`."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return Secret("")
        return Secret(decrypt(value))

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value):
        if value is None or value == "":
            return ""
        return encrypt(str(value))
