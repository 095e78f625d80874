import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the local operator login if it is missing, and print it (for `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="operator")

    def handle(self, *args, username, **options):
        password_file = settings.VAR_DIR / f"{username}_password"
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=username, is_staff=True, is_superuser=True)
            user.set_password(password)
            user.save()
            password_file.write_text(password)
            password_file.chmod(0o600)
        self.stdout.write(f"operator login: {username} / {password_file.read_text().strip()}")
