"""Acceptance, through HTTP: open a mobilization, call 200 drivers, 150 answer, queue
passengers with mixed priorities, record rides, close; the summary matches the rows and
priority passengers are always served first."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from redwheel.drivers.models import Membership
from redwheel.mobilization.models import (
    Call,
    Mobilization,
    QueueEntry,
    Response,
    Ride,
    ServiceRecord,
)
from redwheel.mobilization.tests import factories
from redwheel.testing import staff

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%dT%H:%M"


def _post(client, name, pk=None, data=None, status=302):
    url = reverse(f"mobilization:{name}", args=[pk] if pk else [])
    response = client.post(url, data or {})
    assert response.status_code == status, response.content.decode()[:2000]
    return response


def test_mobilization_end_to_end_over_http(city, client):
    rng = random.Random(7)
    organiser = staff(city.root, name="调度员")
    fleet_drivers = [city.member() if i < 20 else city.driver() for i in range(100)]
    fleet_drivers += [city.member(verified=False) for _ in range(3)]  # declared: not counted
    nearby = [city.driver() for _ in range(97)]
    for d in nearby:
        factories.position(
            d, 104.1414 + rng.uniform(-0.02, 0.02), 30.6308 + rng.uniform(-0.02, 0.02)
        )
    factories.position(city.driver(), 104.5, 30.9)  # far away: not called
    fleet = factories.fleet(city, fleet_drivers)

    client.force_login(organiser)
    _post(
        client,
        "hub_list",
        data={
            "unit": city.root.pk,
            "name": "成都东站",
            "kind": "railway",
            "lng": "104.1414",
            "lat": "30.6308",
        },
    )
    hub = city.root.hubs.get(name="成都东站")
    now = timezone.localtime()
    _post(
        client,
        "mobilization_list",
        data={
            "unit": city.root.pk,
            "hub": hub.pk,
            "title": "夜间滞留旅客疏导",
            "reason": "列车晚点，东站需要车",
            "expected_passengers": 500,
            "drivers_needed": 150,
            "starts_at": (now - timedelta(hours=2)).strftime(FMT),
            "ends_at": (now + timedelta(hours=4)).strftime(FMT),
        },
    )
    m = Mobilization.objects.get(hub=hub)
    _post(client, "mobilization_call", m.pk, {"fleets": [fleet.pk], "radius_km": "5"})
    called = list(Call.objects.filter(mobilization=m).values_list("driver_id", flat=True))
    assert len(called) == 200

    # 150 drivers answer from their phones; some tap "received" twice.
    by_id = {d.pk: d for d in fleet_drivers + nearby}
    answering = [by_id[i] for i in sorted(called)[:150]]
    plan = ["arrived"] * 100 + ["on_my_way"] * 25 + ["received"] * 15 + ["cant_come"] * 10
    for driver, final in zip(answering, plan, strict=True):
        client.force_login(driver.user)
        if driver.pk % 10 == 0:  # some tap "received" twice first: it counts once
            _post(client, "my_respond", m.pk, {"status": "received"})
            _post(client, "my_respond", m.pk, {"status": "received"})
        _post(client, "my_respond", m.pk, {"status": final})
    assert Response.objects.filter(mobilization=m).count() == 150

    # Passengers with mixed priorities arrive while rides leave.
    client.force_login(organiser)
    arrived = list(
        Response.objects.filter(mobilization=m, status="arrived").values_list(
            "driver_id", flat=True
        )
    )
    needs = ["none", "elderly", "none", "child", "pregnant", "none", "disabled", "none"]
    served_order = []
    for round_ in range(8):
        for i in range(4):
            need = needs[(round_ * 4 + i) % len(needs)]
            _post(
                client,
                "queue_add",
                m.pk,
                {
                    "party_size": 1 + (round_ + i) % 3,
                    "need": need,
                    "destination_district": "锦江区",
                },
            )
        for i in range(3):
            waiting = list(
                QueueEntry.objects.filter(mobilization=m, status="waiting").values_list(
                    "priority", "id"
                )
            )
            _post(client, "ride_add", m.pk, {"driver": arrived[(round_ * 3 + i) % len(arrived)]})
            ride = Ride.objects.filter(mobilization=m).latest("id")
            entry = QueueEntry.objects.get(ride=ride)
            assert (entry.priority, entry.id) == min(waiting)  # always the head of the queue
            served_order.append(entry)
    assert any(e.priority == 1 for e in served_order)

    board = client.get(reverse("mobilization:mobilization_board", args=[m.pk]))
    assert board.status_code == 200 and "passengers waiting" in board.content.decode()
    page = client.get(reverse("mobilization:mobilization_detail", args=[m.pk]))
    assert 'hx-trigger="every 5s"' in page.content.decode()

    _post(client, "mobilization_close", m.pk, {"note": "全部滞留旅客已疏导"})
    m.refresh_from_db()
    s = m.summary
    members = set(
        Membership.objects.filter(
            driver_id__in=called, state="verified", category__in=["full", "probationary"]
        ).values_list("driver_id", flat=True)
    )
    responses = Response.objects.filter(mobilization=m)
    arrived_ids = set(
        responses.filter(arrived_at__isnull=False).values_list("driver_id", flat=True)
    )
    assert s["drivers_called"] == Call.objects.filter(mobilization=m).count() == 200
    assert s["drivers_responded"] == responses.count() == 150
    assert s["drivers_arrived"] == len(arrived_ids) == 100
    assert s["drivers_cant_come"] == 10
    assert s["members_called"] == len(members) == 20
    assert s["members_arrived"] == len(members & arrived_ids)
    rides = Ride.objects.filter(mobilization=m)
    assert s["rides"] == rides.count() == 24
    assert s["passengers"] == rides.aggregate(p=Sum("passengers"))["p"]
    assert (
        s["passengers_left_waiting"]
        == QueueEntry.objects.filter(mobilization=m, status="waiting").aggregate(
            p=Sum("party_size")
        )["p"]
    )
    records = ServiceRecord.objects.filter(mobilization=m)
    assert records.count() == 100
    assert Decimal(s["driver_hours"]) == sum(r.hours for r in records)

    # A late answer is refused with a clear message and changes nothing.
    late = by_id[sorted(called)[199]]
    client.force_login(late.user)
    response = _post(client, "my_respond", m.pk, {"status": "received"}, status=409)
    assert "answers are no longer accepted" in response.content.decode()
    assert Response.objects.filter(mobilization=m).count() == 150

    # Export works for the organiser.
    client.force_login(organiser)
    export = client.get(reverse("mobilization:mobilization_export", args=[m.pk]))
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_pages_out_of_scope_answer_404(city, client):
    m = factories.mobilization(city, unit=city.committee_a)
    client.force_login(staff(city.committee_b))
    for name in ("mobilization_detail", "mobilization_board", "mobilization_export"):
        assert client.get(reverse(f"mobilization:{name}", args=[m.pk])).status_code == 404
    assert client.post(reverse("mobilization:mobilization_close", args=[m.pk])).status_code == 404
    driver = city.driver()
    client.force_login(driver.user)
    assert client.get(reverse("mobilization:my_call", args=[m.pk])).status_code == 404
    assert client.get(reverse("mobilization:mobilization_detail", args=[m.pk])).status_code == 404


def test_api_answer_is_idempotent(city, client):
    driver = city.driver()
    m = factories.mobilization(city)
    from redwheel.mobilization import services

    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [driver])]
    )
    client.force_login(driver.user)
    url = f"/api/v1/mobilizations/{m.pk}/answer"
    first = client.post(url, {"status": "received"}, content_type="application/json")
    second = client.post(url, {"status": "received"}, content_type="application/json")
    assert first.json()["changed"] is True and second.json()["changed"] is False
    calls = client.get("/api/v1/mobilizations/my-calls").json()
    assert calls[0]["my_answer"] == "received"
    services.mobilization_close(actor=city.admin, mobilization=m)
    late = client.post(url, {"status": "arrived"}, content_type="application/json")
    assert late.status_code == 409 and late.json()["code"] == "mobilisation_closed"


def test_staff_and_driver_pages_render(city, client):
    driver = city.member()
    fleet = factories.fleet(city, [driver])
    m = factories.mobilization(city)
    from redwheel.mobilization import services

    services.mobilization_call(actor=city.admin, mobilization=m, fleets=[fleet])
    client.force_login(city.admin)
    for name, args in [
        ("index", []),
        ("fleet_list", []),
        ("fleet_detail", [fleet.pk]),
        ("hub_list", []),
        ("hub_detail", [m.hub_id]),
        ("mobilization_list", []),
        ("opportunity_list", []),
        ("alert_list", []),
        ("statistics", []),
        ("driver_history", [driver.pk]),
    ]:
        assert client.get(reverse(f"mobilization:{name}", args=args)).status_code == 200, name
    stats = client.get(reverse("mobilization:statistics") + "?format=xlsx")
    assert stats.content[:2] == b"PK"
    client.force_login(driver.user)
    for name, args in [
        ("my_home", []),
        ("my_call", [m.pk]),
        ("my_fleets", []),
        ("my_opportunities", []),
        ("my_history", []),
    ]:
        assert client.get(reverse(f"mobilization:{name}", args=args)).status_code == 200, name
    member = fleet.members.get(driver=driver)
    client.post(reverse("mobilization:my_pledge_sign", args=[member.pk]))
    member.refresh_from_db()
    assert member.pledge_signed_at is not None
