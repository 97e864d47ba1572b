"""Import a drivers or party-members roster from the command line.

    manage.py import_roster roster.xlsx --kind drivers --as 13900000000 [--unit ID] [--commit]

Checks the file (printing the first 50 problems) and, with --commit and no problems, imports it
in one transaction. Uses the same services as the web pages; the --as user's scope applies.
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from redwheel.accounts.models import User
from redwheel.core import crypto
from redwheel.core.commands import command_errors
from redwheel.drivers.imports import selectors, services
from redwheel.drivers.models import ImportJob


class Command(BaseCommand):
    help = "Check and optionally import a drivers or party-members roster (.xlsx or .csv)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", choices=ImportJob.Kind.values, required=True)
        parser.add_argument(
            "--as", dest="phone", required=True, help="mobile number of the importing staff user"
        )
        parser.add_argument(
            "--unit",
            type=int,
            help="id of the unit to import for "
            "(default: the user's highest unit with import rights)",
        )
        parser.add_argument(
            "--commit",
            action="store_true",
            help="import when there are no problems (otherwise only check)",
        )

    def handle(self, *args, file, kind, phone, unit, commit, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = User.objects.filter(phone_index=crypto.blind_index(phone.strip())).first()
        if actor is None:
            raise CommandError("no user with this mobile number")
        units = selectors.import_units(actor)
        target = units.filter(pk=unit).first() if unit else units.order_by("depth", "path").first()
        if target is None:
            raise CommandError("this user may not import for that unit")
        with command_errors(), open(path, "rb") as handle:
            job = services.import_upload(
                actor=actor,
                kind=kind,
                unit=target,
                uploaded_file=File(handle, name=path.name),
                enqueue=False,
            )
        job = self._run(services.import_validate, job, "checking")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message)
        self.stdout.write(
            f"job {job.pk}: {job.total_rows} rows, {job.valid_rows} without "
            f"problems, {job.error_count} problems"
        )
        if job.error_count:
            for error in selectors.import_errors(job)[:50]:
                self.stdout.write(f"  row {error.row} · {error.column or '-'} · {error.message}")
            if job.error_count > 50:
                self.stdout.write(f"  … and {job.error_count - 50} more")
            raise CommandError("the file has problems; nothing was imported")
        if not commit:
            self.stdout.write("checked only; run again with --commit to import")
            return
        with command_errors():
            job = services.import_commit_request(actor=actor, job=job, enqueue=False)
        job = self._run(services.import_commit, job, "importing", actor_id=actor.pk)
        if job.status != ImportJob.Status.COMMITTED:
            raise CommandError(f"import failed, nothing was written: {job.message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"imported: {job.created_count} created, {job.updated_count} updated, "
                f"{job.unchanged_count} unchanged"
            )
        )

    def _run(self, step, job, label, **kwargs):
        total = job.total_rows or None
        with tqdm(total=total, unit="rows", desc=label, disable=None) as bar:
            return step(job_id=job.pk, progress=bar.update, **kwargs)
