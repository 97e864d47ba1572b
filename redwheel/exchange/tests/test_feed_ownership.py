"""Feed ownership (issue 12): a platform's feed changes only the drivers it created.

Platform B posting baseInfoDriver with the LicenseId of a platform-A driver used to rename
the driver and give them B's phone. Now B gets its own affiliation (so its trips resolve),
what it reported is kept as B's report and listed to the city committee as a conflict, and
nothing A sent is overwritten. Everything goes through the HTTP batch API with platform
tokens, and the staff pages with the test client.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.core import crypto
from redwheel.core.errors import NotFound
from redwheel.core.models import AuditEntry
from redwheel.core.permissions import SystemActor
from redwheel.drivers.models import Affiliation, Driver
from redwheel.exchange import services
from redwheel.exchange.models import DriverFeedRecord, Trip, UnknownDriver
from redwheel.exchange.tests.examples import LICENSE, PHONE, example

pytestmark = pytest.mark.django_db

B_NAME, B_PHONE = "李师傅", "13712345678"


def token(city, platform) -> dict:
    _token, secret = token_create(
        actor=city.admin, platform=platform, name="feed", scopes=["exchange:write"]
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client, auth, record_type, records) -> dict:
    response = client.post(
        f"/api/v1/exchange/{record_type}",
        data=json.dumps(records),
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def feeds(client, city):
    """Platform A's feed has created the driver with LICENSE; B's feed is ready to post."""
    a, b = token(city, city.platform_a), token(city, city.platform_b)
    body = post(
        client, a, "baseInfoDriver", [example("baseInfoDriver", city.platform_a.company_id)]
    )
    assert body["accepted"] == 1
    return a, b


def driver() -> Driver:
    return Driver.objects.get(license_index=crypto.blind_index(LICENSE))


def b_record(city, **changes) -> dict:
    record = example("baseInfoDriver", city.platform_b.company_id)
    return record | {"DriverName": B_NAME, "DriverPhone": B_PHONE} | changes


def conflicts_page(client, user):
    client.force_login(user)
    return client.get(reverse("exchange:conflicts"))


def test_another_platform_cannot_rename_a_driver_but_gets_its_own_affiliation(client, city, feeds):
    _a, b = feeds
    # B's operating data about the licence arrives first: it is not linked to A's driver.
    post(client, b, "operatePay", [example("operatePay", city.platform_b.company_id)])
    b_trip = Trip.objects.get(platform=city.platform_b)
    assert b_trip.driver_id is None
    assert UnknownDriver.objects.filter(platform=city.platform_b, resolved_at=None).exists()

    body = post(client, b, "baseInfoDriver", [b_record(city)])

    assert (body["accepted"], body["rejected"]) == (1, 0)
    d = driver()
    assert d.name == "王师傅" and d.phone == PHONE
    assert set(d.affiliations.values_list("platform", flat=True)) == {
        city.platform_a.pk,
        city.platform_b.pk,
    }
    report = DriverFeedRecord.objects.get(driver=d, platform=city.platform_b)
    assert (report.name, report.phone_masked) == (B_NAME, "137****5678")
    assert report.phone == B_PHONE and report.phone_index == crypto.blind_index(B_PHONE)
    assert not report.created_driver
    assert DriverFeedRecord.objects.get(driver=d, platform=city.platform_a).created_driver
    # B's trips for that licence now resolve, earlier ones and new ones alike.
    b_trip.refresh_from_db()
    assert b_trip.driver_id == d.pk
    post(
        client,
        b,
        "operatePay",
        [example("operatePay", city.platform_b.company_id, order_id="B-2")],
    )
    assert Trip.objects.get(platform=city.platform_b, order_id="B-2").driver_id == d.pk
    assert UnknownDriver.objects.get(platform=city.platform_b).resolved_at is not None


def test_the_conflict_is_listed_to_that_citys_committee_only(client, city, feeds):
    _a, b = feeds
    post(client, b, "baseInfoDriver", [b_record(city)])
    d = driver()
    detail = reverse("exchange:conflict_detail", args=[d.pk])

    committee = testing.staff(city.root)
    page = conflicts_page(client, committee)
    assert page.status_code == 200 and "王师傅" in page.content.decode()
    shown = client.get(detail).content.decode()
    assert B_NAME in shown and "137****5678" in shown and B_PHONE not in shown

    other_city = testing.city()
    for outsider in (
        testing.staff(other_city.root),  # another city's committee
        testing.staff(city.branch_b),  # B's branch staff
        testing.staff(city.committee_b),  # B's own committee: sees the driver, not the conflict
    ):
        page = conflicts_page(client, outsider)
        assert page.status_code == 200 and "王师傅" not in page.content.decode()
        assert client.get(detail).status_code == 404


def test_a_platform_changes_the_drivers_it_created(client, city, feeds):
    _a, b = feeds
    own = testing.id_number(4242)
    first = example("baseInfoDriver", city.platform_b.company_id, license_no=own) | {
        "DriverPhone": "13800001111"
    }
    assert post(client, b, "baseInfoDriver", [first])["accepted"] == 1
    renamed = first | {"DriverName": "赵师傅", "DriverPhone": "13811112222"}
    assert post(client, b, "baseInfoDriver", [renamed])["accepted"] == 1
    mine = Driver.objects.get(license_index=crypto.blind_index(own))
    assert (mine.name, mine.phone) == ("赵师傅", "13811112222")
    assert not conflicts_page(client, testing.staff(city.root)).context["page"].object_list


def test_resending_the_same_report_is_idempotent(client, city, feeds):
    _a, b = feeds
    post(client, b, "baseInfoDriver", [b_record(city)])
    reported_at = DriverFeedRecord.objects.get(platform=city.platform_b).reported_at
    again = post(client, b, "baseInfoDriver", [b_record(city)])
    assert (again["accepted"], again["unchanged"]) == (0, 1)
    assert DriverFeedRecord.objects.filter(platform=city.platform_b).count() == 1
    assert DriverFeedRecord.objects.get(platform=city.platform_b).reported_at == reported_at
    assert Affiliation.objects.filter(driver=driver(), platform=city.platform_b).count() == 1
    assert driver().name == "王师傅"


def test_committee_resolves_by_accepting_one_platforms_report(client, city, feeds):
    a, b = feeds
    post(client, b, "baseInfoDriver", [b_record(city)])
    d = driver()
    committee = testing.staff(city.root)
    client.force_login(committee)
    response = client.post(
        reverse("exchange:conflict_detail", args=[d.pk]),
        {"accept": str(city.platform_b.pk), "note": "电话核实"},
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert (d.name, d.phone) == (B_NAME, B_PHONE)
    entry = AuditEntry.objects.get(action="exchange.feed_conflict_resolve")
    assert entry.actor == committee and entry.object_id == str(d.pk)
    assert entry.data["accepted_platform"] == city.platform_b.company_id
    assert entry.reason == "电话核实"
    assert AuditEntry.objects.filter(action="driver.update", actor=committee).exists()
    assert "王师傅" not in conflicts_page(client, committee).content.decode()
    # A re-sending what it sent before does not undo the committee's decision.
    resent = post(
        client, a, "baseInfoDriver", [example("baseInfoDriver", city.platform_a.company_id)]
    )
    assert resent["unchanged"] == 1
    d.refresh_from_db()
    assert d.name == B_NAME


def test_committee_can_keep_the_drivers_values(client, city, feeds):
    _a, b = feeds
    post(client, b, "baseInfoDriver", [b_record(city)])
    d = driver()
    client.force_login(testing.staff(city.root))
    response = client.post(reverse("exchange:conflict_detail", args=[d.pk]), {"accept": ""})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.name == "王师傅"
    assert DriverFeedRecord.objects.get(platform=city.platform_b).settled_at is not None
    assert not conflicts_page(client, testing.staff(city.root)).context["page"].object_list
    # A new report from B is a new conflict.
    post(client, b, "baseInfoDriver", [b_record(city, DriverName="钱师傅")])
    page = conflicts_page(client, testing.staff(city.root))
    assert [x.pk for x in page.context["page"].object_list] == [d.pk]


def test_platform_b_staff_cannot_resolve_a_drivers_conflict(client, city, feeds):
    _a, b = feeds
    post(client, b, "baseInfoDriver", [b_record(city)])
    d = driver()
    for outsider in (testing.staff(city.committee_b), testing.staff(testing.city().root)):
        client.force_login(outsider)
        response = client.post(
            reverse("exchange:conflict_detail", args=[d.pk]),
            {"accept": str(city.platform_b.pk)},
        )
        assert response.status_code == 404
    d.refresh_from_db()
    assert d.name == "王师傅"
    assert not AuditEntry.objects.filter(action="exchange.feed_conflict_resolve").exists()


def test_a_platform_of_another_city_cannot_attach_to_this_citys_driver(client, city, feeds):
    other = testing.city()
    other_feed = token(other, other.platform_b)
    record = b_record(other) | {"CompanyId": other.platform_b.company_id}
    body = post(client, other_feed, "baseInfoDriver", [record])
    assert (body["accepted"], body["rejected"]) == (0, 1)
    assert body["rejections"][0]["code"] == "driver_other_city"
    assert not Affiliation.objects.filter(driver=driver(), platform=other.platform_b).exists()
    assert not DriverFeedRecord.objects.filter(platform=other.platform_b).exists()


def test_another_platform_cannot_change_the_drivers_vehicle(client, city, feeds):
    a, b = feeds
    company_a, company_b = city.platform_a.company_id, city.platform_b.company_id
    post(client, a, "operateLogin", [example("operateLogin", company_a)])
    assert (
        post(client, a, "baseInfoVehicle", [example("baseInfoVehicle", company_a)])["accepted"] == 1
    )
    post(client, b, "baseInfoDriver", [b_record(city)])
    post(client, b, "operateLogin", [example("operateLogin", company_b)])
    changed = example("baseInfoVehicle", company_b) | {"Seats": 7, "Flag": 2}
    body = post(client, b, "baseInfoVehicle", [changed])
    assert body["rejections"][0]["code"] == "foreign_vehicle"
    assert driver().vehicles.get().seats == 5


def test_ingest_checks_that_the_caller_acts_for_the_platform(city):
    record = example("orderCreate", city.platform_a.company_id)

    def ingest(actor):
        return services.ingest(
            actor=actor,
            platform=city.platform_a,
            record_type="orderCreate",
            records=[record],
            source="api",
        )

    for outsider in (
        SystemActor.for_platform(city.platform_b.pk, "B's feed"),
        testing.user(),  # no grants
        testing.staff(city.branch_b),
        testing.staff(testing.city().root),
        None,
    ):
        with pytest.raises(NotFound):
            ingest(outsider)
    assert not Trip.objects.exists()
    assert ingest(SystemActor.for_platform(city.platform_a.pk, "A's feed")).accepted == 1
    assert ingest(testing.staff(city.root)).unchanged == 1


def test_ownership_is_resolved_per_batch_not_per_record(city):
    """Re-sending base records (the common case) costs the same queries for 5 or 50 (the
    per-record savepoints aside, which only isolate a failing record)."""
    feed = SystemActor.for_platform(city.platform_b.pk, "B's feed")
    company = city.platform_b.company_id

    def batch(n):
        return [
            example("baseInfoDriver", company, license_no=testing.id_number(5000 + i))
            | {"DriverPhone": testing.mobile(5000 + i)}
            for i in range(n)
        ]

    def statements(records):
        with CaptureQueriesContext(connection) as queries:
            result = services.ingest(
                actor=feed,
                platform=city.platform_b,
                record_type="baseInfoDriver",
                records=records,
                source="api",
            )
        assert result.unchanged == len(records)
        return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]

    small, large = batch(5), batch(50)
    services.ingest(
        actor=feed,
        platform=city.platform_b,
        record_type="baseInfoDriver",
        records=large,
        source="api",
    )
    assert len(statements(small)) == len(statements(large)) < 25
