"""`manage.py restore BACKUP`: into an empty database, checked against the backup's manifest.

Stop the app servers and workers first; DATABASE_URL and MEDIA_ROOT name the target, and the
personal-data keys of the backup must be configured (docs/operations.md, "Backups and restore").
"""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.core import backups


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the (empty) configured database and "
        "MEDIA_ROOT, verify checksums, row counts and that personal data decrypts, and migrate "
        "when the code is newer than the backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="Backup directory or .tar archive.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the contents of a non-empty database and MEDIA_ROOT.",
        )
        parser.add_argument(
            "--sample",
            type=int,
            default=50,
            help="Rows from each end of each table whose personal data is test-decrypted.",
        )
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Write nothing: check the backup and keys, and sample the configured database.",
        )

    def handle(self, *args, backup, force, sample, check_only, **options):
        verbosity = options["verbosity"]
        reporter = backups.Reporter(self.stdout.write, quiet=verbosity == 0)

        def migrate(pending):
            call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))

        try:
            result = backups.restore_backup(
                Path(backup),
                force=force,
                sample=sample,
                reporter=reporter,
                migrate=migrate,
                check_only=check_only,
            )
        except backups.BackupError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc
        manifest = result["manifest"]
        values = sum(result["checked"].values())
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup of %(created)s checked: %(tables)s tables, %(values)s sampled "
                    "personal values decrypted, %(migrated)s migrations applied."
                )
                % {
                    "created": manifest["created_at"],
                    "tables": len(manifest["row_counts"]),
                    "values": values,
                    "migrated": len(result["migrated"]),
                }
            )
        )
