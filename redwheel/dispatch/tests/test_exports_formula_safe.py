"""The sandbox run workbook neutralises a formula-like run title and description."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.dispatch import services
from redwheel.dispatch.tests.test_sandbox import tiny_run

pytestmark = pytest.mark.django_db

ATTACK = "=cmd|' /C calc'!A0"


def test_run_export_writes_a_malicious_title_as_text(city, client):
    rule_sets = [
        services.ruleset_publish(
            actor=city.admin,
            rule_set=services.ruleset_create(
                actor=city.admin, name=name, version="1", parameters={"max_pickup_m": 2500}
            ),
        )
        for name in ("@SUM(A1)", "baseline")
    ]
    run = tiny_run(
        city.admin,
        rule_sets,
        title=ATTACK,
        description="-2",
    )
    client.force_login(testing.staff(city.root, "regulator"))

    response = client.get(reverse("dispatch:run_export_xlsx", args=[run.pk]))

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    summary = book["Summary"]
    assert summary["B1"].value == "'" + ATTACK and summary["B1"].data_type == "s"
    rows = {row[0].value: row[1] for row in summary.iter_rows(min_row=2)}
    assert rows["Description"].value == "'-2"
    assert rows["Seed"].value == 7 and rows["Seed"].data_type == "n"
    assert book["Metrics"]["B1"].value == "'@SUM(A1) v1"
    assert not [c for ws in book for r in ws.iter_rows() for c in r if c.data_type == "f"]
