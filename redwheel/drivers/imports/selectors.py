"""Reads for roster imports. A job is visible to whoever may import for its unit."""

from django.db.models import QuerySet

from redwheel.core.errors import NotFound
from redwheel.core.permissions import scope
from redwheel.drivers.models import ImportJob, ImportRowError
from redwheel.orgs.models import OrgUnit


def import_units(viewer) -> QuerySet:
    """Units the viewer may import for (each includes its subtree)."""
    return scope(viewer, "import", OrgUnit.objects.filter(is_active=True)).order_by("path")


def import_jobs(viewer) -> QuerySet:
    return ImportJob.objects.filter(
        unit__in=scope(viewer, "import", OrgUnit.objects.all())
    ).select_related("unit", "uploaded_by")


def import_job(viewer, pk: int) -> ImportJob:
    job = import_jobs(viewer).filter(pk=pk).first()
    if job is None:
        raise NotFound()
    return job


def import_errors(job: ImportJob) -> QuerySet:
    return ImportRowError.objects.filter(job=job).order_by("row", "id")


def import_progress(job: ImportJob) -> int:
    """While committing, progress lives in the cache (the job row is inside the transaction)."""
    from redwheel.drivers.imports.services import progress_read

    if job.status == ImportJob.Status.COMMITTING:
        return progress_read(job.pk, job.progress)
    return job.progress
