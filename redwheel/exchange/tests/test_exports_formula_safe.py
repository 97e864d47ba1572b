"""The member-comparison workbook neutralises formula-like names from feeds and rosters."""

from datetime import date
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.core.permissions import SystemActor
from redwheel.exchange import metrics, services
from redwheel.exchange.tests.examples import example
from redwheel.orgs.services import unit_create

pytestmark = pytest.mark.django_db

ATTACK = "=cmd|' /C calc'!A0"


def test_comparison_export_writes_malicious_names_as_text(city, client):
    branch = unit_create(
        actor=city.admin,
        name='=HYPERLINK("http://x","y")',
        kind="branch",
        parent=city.committee_a,
        region_code="510107",
    )
    driver = city.driver(ATTACK, branch=branch)
    record = example("operatePay", city.platform_a.company_id, license_no=driver.license_no)
    services.ingest(
        actor=SystemActor.for_platform(city.platform_a.pk, "test feed"),
        platform=city.platform_a,
        record_type="operatePay",
        records=[record],
        source="api",
    )
    metrics.recompute_month(date(2024, 3, 1))
    client.force_login(testing.staff(city.root))

    response = client.get(reverse("exchange:comparison_export"), {"month": "2024-03"})

    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    drivers = book.worksheets[-1]
    name_cell, unit_cell = drivers["A2"], drivers["D2"]
    assert name_cell.value == f"'{driver.name}" and name_cell.data_type == "s"
    assert unit_cell.value == '\'=HYPERLINK("http://x","y")' and unit_cell.data_type == "s"
    assert drivers["F2"].value == 1 and drivers["F2"].data_type == "n"  # one completed order
    formulas = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in formulas if c.data_type == "f"]
