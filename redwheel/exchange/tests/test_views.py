"""Exchange pages: render with data and empty, 404 outside scope, the .xlsx export."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.exchange import metrics
from redwheel.exchange.models import (
    IngestBatch,
    Rating,
    Rejection,
    Trip,
    UnknownDriver,
)

TZ = ZoneInfo("Asia/Shanghai")
OCT = date(2026, 10, 1)
PAGES = [
    "exchange:status",
    "exchange:rejections",
    "exchange:unknown_drivers",
    "exchange:comparison",
    "exchange:metrics",
]


@pytest.fixture
def committee(city):
    return testing.staff(city.root, name="行业党委工作人员")


@pytest.fixture
def data(city):
    """Two drivers with trips on platform A (one a verified member), a batch with a rejection,
    an unknown driver; snapshots computed for October 2026."""
    member, driver = city.member("党员"), city.driver("司机")
    for n, d in enumerate([member, member, driver]):
        trip = Trip.objects.create(
            platform=city.platform_a,
            order_id=f"O{n}",
            license_index=d.license_index,
            driver=d,
            arrived_at=datetime(2026, 10, 5 + n, 10, tzinfo=TZ),
            fare_yuan=Decimal("31.20"),
        )
        Rating.objects.create(
            platform=city.platform_a,
            order_id=trip.order_id,
            evaluated_at=datetime(2026, 10, 5 + n, 11, tzinfo=TZ),
            service_score=5,
        )
    batch = IngestBatch.objects.create(
        platform=city.platform_a,
        record_type="orderCreate",
        source="api",
        received=10,
        accepted=9,
        rejected=1,
    )
    Rejection.objects.create(
        batch=batch,
        index=3,
        field="OrderTime",
        code="bad_time",
        message="The time is not a valid YYYYMMDDhhmmss value.",
        excerpt={"OrderId": "O9", "OrderTime": "20261345"},
    )
    UnknownDriver.objects.create(
        platform=city.platform_a,
        license_index="abc",
        license_masked="5101**********1234",
        first_seen_type="operateLogin",
        records=4,
    )
    metrics.recompute_month(OCT)
    return {"member": member, "driver": driver}


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_empty(client, committee, name):
    client.force_login(committee)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b'class="empty"' in response.content


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_with_data(client, committee, data, name):
    client.force_login(committee)
    response = client.get(reverse(name), {"month": "2026-10"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="empty"' not in body or name == "exchange:unknown_drivers"
    # no raw licence or phone anywhere
    for d in data.values():
        assert d.license_no not in body and d.phone not in body


def test_each_page_shows_its_data(client, committee, data, city):
    client.force_login(committee)
    body = client.get(reverse("exchange:status")).content.decode()
    assert "orderCreate" in body and "bad_time" in body and "10.00%" in body
    assert "vendor/echarts.min.js" in body and "cdn" not in body.lower()
    body = client.get(reverse("exchange:rejections"), {"code": "bad_time"}).content.decode()
    assert "OrderTime" in body and "20261345" in body
    body = client.get(reverse("exchange:unknown_drivers")).content.decode()
    assert "5101**********1234" in body
    body = client.get(reverse("exchange:metrics"), {"month": "2026-10"}).content.decode()
    assert data["member"].name in body and data["member"].license_masked in body
    assert "62.40" in body
    body = client.get(reverse("exchange:comparison"), {"month": "2026-10"}).content.decode()
    assert "Too few to compare" in body or "too few" in body.lower() or "太少" in body
    assert "chart-orders" in body


def test_driver_sees_own_metrics_only(client, data):
    member, driver = data["member"], data["driver"]
    client.force_login(member.user)
    body = client.get(reverse("exchange:my_metrics")).content.decode()
    assert "62.40" in body and "31.20" not in body
    for name in PAGES:  # staff pages are not there for drivers
        assert client.get(reverse(name)).status_code == 404
    client.force_login(driver.user)
    body = client.get(reverse("exchange:my_metrics")).content.decode()
    assert "31.20" in body and "62.40" not in body


def test_my_metrics_empty_and_not_for_staff(client, city, committee):
    driver = city.driver("新司机")
    client.force_login(driver.user)
    response = client.get(reverse("exchange:my_metrics"))
    assert response.status_code == 200 and b'class="empty"' in response.content
    client.force_login(committee)
    assert client.get(reverse("exchange:my_metrics")).status_code == 404


def test_out_of_scope_filters_are_404(client, city, data):
    staff_b = testing.staff(city.committee_b)
    client.force_login(staff_b)
    a = city.platform_a.pk
    for name in PAGES[1:]:  # the status page has no filters
        assert client.get(reverse(name), {"platform": a}).status_code == 404
    for name in ("exchange:comparison", "exchange:metrics", "exchange:comparison_export"):
        assert client.get(reverse(name), {"branch": city.branch_a.pk}).status_code == 404
    # and in scope, platform B staff see none of platform A's data
    body = client.get(reverse("exchange:metrics"), {"month": "2026-10"}).content.decode()
    assert data["member"].name not in body
    body = client.get(reverse("exchange:rejections")).content.decode()
    assert "bad_time" not in body
    assert client.get(reverse("exchange:status")).status_code == 200


def test_xlsx_export_has_masked_identifiers_only(client, committee, data):
    client.force_login(committee)
    response = client.get(reverse("exchange:comparison_export"), {"month": "2026-10"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    cells = [
        str(c)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    text = "\n".join(cells)
    assert data["member"].license_masked in text and data["member"].name in text
    for d in data.values():
        assert d.license_no not in text and d.phone not in text
        assert d.license_index not in text
    drivers_sheet = book.worksheets[-1]
    assert drivers_sheet.max_row == 3  # header + two drivers


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("exchange:status"))
    assert response.status_code == 302


def test_comparison_defaults_to_newest_month_with_enough_members(
    client, committee, data, city, monkeypatch
):
    """A month that has just begun has too few member orders: without a month asked for, the
    comparison shows the newest month whose sample is large enough, and the new one on request."""
    monkeypatch.setattr(metrics, "MIN_MEMBER_DRIVERS", 1)
    monkeypatch.setattr(metrics, "MIN_MEMBER_ORDERS", 2)
    Trip.objects.create(
        platform=city.platform_a,
        order_id="N1",
        license_index=data["driver"].license_index,
        driver=data["driver"],
        arrived_at=datetime(2026, 11, 2, 10, tzinfo=TZ),
        fare_yuan=Decimal("20.00"),
    )
    metrics.recompute_month(date(2026, 11, 1))
    client.force_login(committee)

    body = client.get(reverse("exchange:comparison")).content.decode()
    assert "<h2>2026-10</h2>" in body
    body = client.get(reverse("exchange:comparison"), {"month": "2026-11"}).content.decode()
    assert "<h2>2026-11</h2>" in body


def test_comparison_defaults_to_newest_month_when_none_has_enough(client, committee, data, city):
    Trip.objects.create(
        platform=city.platform_a,
        order_id="N1",
        license_index=data["driver"].license_index,
        driver=data["driver"],
        arrived_at=datetime(2026, 11, 2, 10, tzinfo=TZ),
        fare_yuan=Decimal("20.00"),
    )
    metrics.recompute_month(date(2026, 11, 1))
    client.force_login(committee)
    body = client.get(reverse("exchange:comparison")).content.decode()
    assert "<h2>2026-11</h2>" in body
