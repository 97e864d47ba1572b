"""The accountability workbook neutralises a formula-like unit name."""

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.appeals import services
from redwheel.appeals.models import Case
from redwheel.orgs.services import unit_create

pytestmark = pytest.mark.django_db

ATTACK = "=cmd|' /C calc'!A0"


def test_accountability_export_writes_a_malicious_unit_name_as_text(city, client):
    branch = unit_create(
        actor=city.admin,
        name=ATTACK,
        kind="branch",
        parent=city.committee_a,
        region_code="510107",
    )
    driver = city.driver(branch=branch)
    services.case_file(
        actor=driver.user,
        driver=driver,
        category="dispatch",
        title="@SUM(A1)",
        description="-2",
        channel=Case.Channel.APP,
        now=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    client.force_login(testing.staff(city.root))

    response = client.get(reverse("appeals:accountability_xlsx"), {"month": "2026-03"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="appeals-2026-03.xlsx"'
    sheet = load_workbook(BytesIO(response.content)).active
    names = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    row = names["'" + ATTACK]
    assert row[1].data_type == "s"
    assert row[2].value == 1 and row[2].data_type == "n"  # one case received
    assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"]
