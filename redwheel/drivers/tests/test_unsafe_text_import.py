"""Roster cells with NUL, control characters or lone surrogates are refused cell by cell."""

import pytest

from redwheel import testing
from redwheel.drivers.models import Driver, ImportJob
from redwheel.drivers.tests.test_imports import driver_row, errors_of, roster, upload

pytestmark = pytest.mark.django_db
UNSAFE_MESSAGE = "The text contains a control character or an invalid character (such as NUL)."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# .xlsx is left out: a workbook cannot hold these characters (openpyxl refuses to write them).
@pytest.mark.parametrize("fmt", ["csv", "csv-plain", "csv-tab"])
def test_unsafe_cells_are_listed_and_the_file_is_not_imported(client, city, fmt):
    client.force_login(testing.staff(city.root, "staff"))
    before = Driver.objects.count()
    rows = [
        driver_row(city, 910001),  # row 2: fine
        driver_row(city, 910002, name="张\x01三"),  # row 3: a control character in the name
        [*driver_row(city, 910003)[:5], "甲出行\x1b第一支部", ""],  # row 4: in the unit
        driver_row(city, 910004, name="李\t四"),  # row 5: a tab is ordinary text
        driver_row(city, 910005, name="王\x00五"),  # row 6: NUL
    ]
    job = upload(client, city.root, roster(rows, fmt=fmt))

    assert job.status == ImportJob.Status.PREVIEWED
    assert errors_of(job) == [(3, "姓名"), (4, "所属党组织"), (6, "姓名")]
    assert set(job.row_errors.values_list("message", flat=True)) == {UNSAFE_MESSAGE}
    assert (job.total_rows, job.valid_rows) == (5, 2)
    assert Driver.objects.count() == before
