"""Settings for production: `DJANGO_SETTINGS_MODULE=tracker_project.settings_production`.

Everything `settings` reads from the environment, made strict: the secret key and the database must be
given (no random key under var/, no embedded PostgreSQL), debug is off, and the site is served over
HTTPS only, behind a proxy that terminates TLS and sets X-Forwarded-Proto. With these,
`python manage.py check --deploy` reports nothing.
"""

import os

from django.core.exceptions import ImproperlyConfigured

for _name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in the environment for production")

from .settings import *  # noqa: E402,F401,F403
from .settings import env_bool, env_int, env_list  # noqa: E402

DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
