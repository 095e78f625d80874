"""`python manage.py check --deploy` passes, without a single warning, with the production settings."""

import secrets
import subprocess
import sys

from ..processes import PROJECT_DIR

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "tracker_project.settings_production",
    "DATABASE_URL": "postgresql://tracker@db.internal:5432/tracker",
    "ALLOWED_HOSTS": "tracker.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://tracker.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TRACKER_VAR_DIR": "/nonexistent/var"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_the_deploy_check_passes_with_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = manage("check", **PRODUCTION)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_development_settings_would_not_pass_it():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DATABASE_URL=PRODUCTION["DATABASE_URL"], SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode != 0
    assert "security.W008" in result.stderr  # no HTTPS redirect: what settings_production adds
