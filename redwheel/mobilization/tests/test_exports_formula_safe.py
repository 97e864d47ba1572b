"""The mobilization workbook neutralises formula-like titles, hub and driver names."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from redwheel import testing
from redwheel.mobilization import services
from redwheel.mobilization.tests import factories

pytestmark = pytest.mark.django_db

ATTACK = "=cmd|' /C calc'!A0"


def test_mobilization_export_writes_malicious_text_as_text(city, client):
    driver = city.driver(ATTACK)
    now = timezone.now()
    m = services.mobilization_open(
        actor=city.admin,
        unit=city.root,
        hub=factories.hub(city, name="+1+1"),
        title='=HYPERLINK("http://x","y")',
        reason="-2",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
        expected_passengers=500,
        drivers_needed=10,
    )
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [driver])]
    )
    client.force_login(testing.staff(city.root))

    response = client.get(reverse("mobilization:mobilization_export", args=[m.pk]))

    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    summary = {row[0].value: row[1] for row in book.worksheets[0].iter_rows(min_row=2)}
    assert summary["Title"].value == '\'=HYPERLINK("http://x","y")'
    assert summary["Hub"].value == "'+1+1"
    assert summary["Drivers called"].value == 1 and summary["Drivers called"].data_type == "n"
    driver_cell = book["Drivers"]["A2"]
    assert driver_cell.value == f"'{driver.name}" and driver_cell.data_type == "s"
    assert not [c for ws in book for r in ws.iter_rows() for c in r if c.data_type == "f"]
