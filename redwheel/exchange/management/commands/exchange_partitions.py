"""`manage.py exchange_partitions`: create the coming months' partitions and drop expired ones."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.exchange import partitions


class Command(BaseCommand):
    help = (
        "PostgreSQL: create the monthly partitions of the exchange fact tables for this month "
        "and the next ones, and drop those older than EXCHANGE_RETENTION_MONTHS; on both "
        "databases, delete the trips older than that."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=2, help="months ahead (default 2)")
        parser.add_argument(
            "--retention",
            type=int,
            default=None,
            help="months kept (default EXCHANGE_RETENTION_MONTHS; 0 keeps everything)",
        )
        parser.add_argument("--dry-run", action="store_true", help="show, change nothing")

    def handle(self, *args, ahead, retention, dry_run, **options):
        if ahead < 0 or (retention is not None and retention < 0):
            raise CommandError(_("--ahead and --retention must not be negative."))
        if not partitions.enabled():
            self.stdout.write(_("Not PostgreSQL: the exchange tables are not partitioned."))
        retention = settings.EXCHANGE_RETENTION_MONTHS if retention is None else retention
        changes = partitions.ensure_partitions(ahead, dry_run=dry_run)
        changes += partitions.drop_expired_partitions(retention, dry_run=dry_run)
        changes += partitions.purge_expired_trips(retention, dry_run=dry_run)
        prefix = _("would ") if dry_run else ""
        for change in changes:
            self.stdout.write(f"{prefix}{change}")
        if not changes:
            self.stdout.write(_("Nothing to do: every partition is in place."))
