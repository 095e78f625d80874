from django.core.management.base import BaseCommand

from trades.schedule import ensure_beat_schedule


class Command(BaseCommand):
    help = "Create the Celery beat tasks that are missing (periodic sync per account, daily re-check, sweeper)."

    def handle(self, *args, **options):
        added = ensure_beat_schedule()
        self.stdout.write("added: " + (", ".join(added) if added else "nothing, all there"))
