"""`migrate`, refusing a production database on the development secrets.

The secret checks are deployment checks (redwheel/core/checks.py), which Django's own
`migrate` does not run; with DEBUG off this one refuses before touching the database.
`call_command("migrate")` (the test runner's database set-up) skips checks, as Django's does.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate

from redwheel.core.checks import refuse_unsafe_settings


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        if not options["skip_checks"]:
            try:
                refuse_unsafe_settings()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
        return super().handle(*args, **options)
