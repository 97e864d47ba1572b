"""`manage.py backup DIR`: the database, the media files and a manifest, never the keys.

`manage.py backup --keys-only FILE` exports the personal-data keys on their own, to be kept
apart from the backups (docs/operations.md, "Backups and restore").
"""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.core import backups


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup or pg_dump) and MEDIA_ROOT with a manifest "
        "of checksums, row counts and migrations. The personal-data keys are not included: "
        "export them apart with --keys-only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "destination",
            nargs="?",
            help="Directory the backup is written into (default: var/backups).",
        )
        parser.add_argument(
            "--name", help="Name of the backup (default: redwheel-<UTC date and time>)."
        )
        parser.add_argument(
            "--archive", action="store_true", help="Write one <name>.tar instead of a directory."
        )
        parser.add_argument(
            "--keys-only",
            metavar="FILE",
            help="Only export PII_ENCRYPTION_KEYS and PII_BLIND_INDEX_KEY to FILE (mode 0600).",
        )

    def handle(self, *args, destination, name, archive, keys_only, **options):
        reporter = backups.Reporter(self.stdout.write, quiet=options["verbosity"] == 0)
        try:
            if keys_only:
                self._export_keys(Path(keys_only))
                return
            destination = Path(destination or Path(settings.BASE_DIR) / "var" / "backups")
            name = name or f"redwheel-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            path = backups.create_backup(destination, name, archive=archive, reporter=reporter)
        except backups.BackupError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc
        reporter.step(
            _(
                "Backup written. It does not contain the personal-data keys: without them the "
                "ID numbers and phones in it cannot be read. Export them with --keys-only."
            )
        )
        self.stdout.write(str(path))  # last line: the path, for scripts

    def _export_keys(self, path: Path) -> None:
        backups.write_keys_file(path)
        warning = _(
            "WARNING: %(path)s now holds the keys that decrypt every ID number and phone. "
            "Store it apart from the database backups (offline, or in the secret store) and "
            "delete this copy: whoever holds both can read all personal data."
        ) % {"path": path}
        self.stderr.write(self.style.WARNING("!" * 78))
        self.stderr.write(self.style.WARNING(warning))
        self.stderr.write(self.style.WARNING("!" * 78))
        self.stdout.write(
            _("Key fingerprints: %(fingerprints)s") % {"fingerprints": backups.key_fingerprints()}
        )
