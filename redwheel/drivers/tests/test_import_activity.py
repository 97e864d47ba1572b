"""A roster import's steps are transitions with activity rows; the audit log keeps the upload
and each commit that wrote rows."""

import pytest

from redwheel.core.errors import InvalidTransition
from redwheel.core.models import AuditEntry
from redwheel.drivers.imports import services
from redwheel.drivers.models import ImportJob
from redwheel.drivers.tests.test_imports import _media, driver_row, roster  # noqa: F401

pytestmark = pytest.mark.django_db


def _steps(job):
    return list(job.activities.values_list("action", "from_status", "to_status"))


def _audits(job):
    return list(
        AuditEntry.objects.filter(object_type="drivers.importjob", object_id=str(job.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def _checked(city, rows):
    job = services.import_upload(
        actor=city.admin, kind="drivers", unit=city.root, uploaded_file=roster(rows), enqueue=False
    )
    return services.import_validate(job_id=job.pk)


def test_a_clean_import_walks_upload_check_commit(city):
    job = _checked(city, [driver_row(city, 930001)])
    assert job.status == ImportJob.Status.PREVIEWED
    assert services.import_commit(job_id=job.pk).status == ImportJob.Status.PREVIEWED
    services.import_commit_request(actor=city.admin, job=job, enqueue=False)
    job = services.import_commit(job_id=job.pk, actor_id=city.admin.pk)

    assert job.status == ImportJob.Status.COMMITTED
    assert _steps(job) == [
        ("upload", "", "uploaded"),
        ("validate", "uploaded", "validating"),
        ("preview", "validating", "previewed"),
        ("request_commit", "previewed", "committing"),
        ("commit", "committing", "committed"),
    ]
    actors = [a.actor for a in job.activities.all()]
    assert actors == [city.admin, None, None, city.admin, city.admin]
    assert _audits(job) == ["import.upload", "import.drivers"]


def test_a_file_with_problems_cannot_be_requested(city):
    row = driver_row(city, 930002)
    job = _checked(city, [[*row[:2], "12345", *row[3:]]])
    assert job.error_count > 0
    with pytest.raises(InvalidTransition) as refused:
        services.import_commit_request(actor=city.admin, job=job, enqueue=False)
    assert refused.value.code == "not_clean"
    assert [step[0] for step in _steps(job)] == ["upload", "validate", "preview"]


def test_a_failed_commit_has_a_fail_row(city, monkeypatch):
    job = _checked(city, [driver_row(city, 930003)])
    services.import_commit_request(actor=city.admin, job=job, enqueue=False)

    def explode(rows, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_apply_drivers", explode)
    job = services.import_commit(job_id=job.pk, actor_id=city.admin.pk)
    assert job.status == ImportJob.Status.FAILED
    last = job.activities.last()
    assert (last.action, last.to_status, last.actor) == ("fail", "failed", city.admin)
    assert "disk full" in last.note
    assert _audits(job) == ["import.upload"]
