"""The identity table of `test_identity_table.py` through the other paths that take a number:
the admin's driver form over HTTP, the roster import (upload and preview) and the platforms'
appeals API. Valid numbers are stored or found; invalid ones are refused with the kernel's
message or code, and nothing is written."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.appeals.models import Case
from redwheel.core import crypto
from redwheel.core.validators import IDENTITY_MESSAGES
from redwheel.drivers.imports.parsing import DRIVER_COLUMNS
from redwheel.drivers.models import Driver, ImportJob
from redwheel.tests.test_identity_table import IDS, TABLE

pytestmark = pytest.mark.django_db
ID_COLUMN = next(c.header for c in DRIVER_COLUMNS if c.key == "license_no")


def stored(number: str) -> bool:
    return Driver.objects.filter(license_index=crypto.blind_index(number)).exists()


@pytest.mark.parametrize(("case", "number", "code"), TABLE, ids=IDS)
def test_admin_driver_form(case, number, code, city, client):
    client.force_login(city.admin)
    response = client.post(
        reverse("admin:drivers_driver_add"),
        {
            "name": "新司机",
            "license_number": number,
            "mobile": "13912345678",
            "branch": city.branch_a.pk,
            "platforms": [city.platform_a.pk],
        },
    )
    if code is None:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert stored(number)
    else:
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors.as_data()["license_number"]
        assert [e.code for e in errors] == [code]
        assert not Driver.objects.filter(name="新司机").exists()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_roster_import_flags_exactly_the_invalid_rows(city, client):
    """One file with every case of the table: only the invalid rows carry an error, each on the
    ID column; the valid rows (retired codes, counties newer than the holder) pass."""
    staff = testing.staff(city.root, "staff")
    client.force_login(staff)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in DRIVER_COLUMNS])
    for seq, (_case, number, _code) in enumerate(TABLE, start=1):
        phone = testing.mobile(880000 + seq)
        writer.writerow([f"司机{seq}", number, phone, city.platform_a.company_id, "", "", ""])
    upload = SimpleUploadedFile("roster.csv", buffer.getvalue().encode("utf-8-sig"))
    response = client.post(
        reverse("imports:list"), {"kind": "drivers", "unit": city.root.pk, "file": upload}
    )
    assert response.status_code == 302
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportJob.Status.PREVIEWED
    rows = list(job.row_errors.values_list("row", "column"))
    first_data_row = 2  # row 1 is the header
    expected = [
        (first_data_row + i, ID_COLUMN)
        for i, (_case, _number, code) in enumerate(TABLE)
        if code is not None
    ]
    assert rows == expected
    messages = set(job.row_errors.values_list("message", flat=True))
    assert messages <= {str(message) for message in IDENTITY_MESSAGES.values()}


def appeal(client, number: str, secret: str):
    return client.post(
        "/api/v1/appeals",
        {"license_id": number, "category": "income", "title": "抽成", "description": "过高"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


@pytest.mark.parametrize(("case", "number", "code"), TABLE, ids=IDS)
def test_appeals_api(case, number, code, city, client):
    """A platform files for a driver by LicenseId: a valid number finds the stored driver in
    any spelling; an invalid one is refused with the kernel's code and files nothing."""
    from redwheel.drivers.services import driver_create

    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="t", scopes=["appeals:write"]
    )
    if code is None:
        driver_create(
            actor=city.admin,
            name="申诉司机",
            license_no=number,
            phone="13912345678",
            branch=city.branch_a,
            platforms=[city.platform_a],
        )
        response = appeal(client, number, secret)
        assert response.status_code == 201, response.content
        assert Case.objects.filter(driver__name="申诉司机").count() == 1
    else:
        response = appeal(client, number, secret)
        assert response.status_code == 400, response.content
        assert response.json()["code"] == code
        assert not Case.objects.exists()
