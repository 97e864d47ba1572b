from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from redwheel.core.errors import Conflict, InvalidTransition, NotFound
from redwheel.core.models import Notification
from redwheel.mobilization import selectors, services
from redwheel.mobilization.models import (
    Call,
    MobilizationActivity,
    QueueEntry,
    Response,
    ResponseEvent,
    ServiceRecord,
)
from redwheel.mobilization.tests import factories
from redwheel.testing import staff

pytestmark = pytest.mark.django_db


def test_call_by_fleet_and_radius_skips_duplicates_and_far_drivers(city):
    members = [city.driver() for _ in range(3)]
    near, far, stale = city.driver(), city.driver(), city.driver()
    factories.position(near, 104.145, 30.632)  # ~400 m
    factories.position(far, 104.30, 30.70)  # ~17 km
    factories.position(stale, 104.142, 30.631, minutes_ago=600)
    fleet = factories.fleet(city, members)
    m = factories.mobilization(city)
    called = services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[fleet], radius_km=3, position_max_age_minutes=60
    )
    assert called == 4
    assert set(Call.objects.filter(mobilization=m).values_list("driver_id", flat=True)) == {
        *(d.pk for d in members),
        near.pk,
    }
    assert Call.objects.get(mobilization=m, driver=near).via == "radius"
    # Calling again adds nobody and sends nothing new.
    before = Notification.objects.count()
    assert services.mobilization_call(actor=city.admin, mobilization=m, fleets=[fleet]) == 0
    assert Notification.objects.count() == before
    inbox = Notification.objects.filter(event="mobilisation.call", channel="inbox")
    assert inbox.count() == 4
    assert m.activities.filter(action=MobilizationActivity.Action.CALL).count() == 2


def test_call_fans_out_webhooks_with_one_task_per_chunk(city, settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "ENQUEUE_ON_COMMIT": False,
        }
    }
    from django_tasks import default_task_backend

    city.platform_a.webhook_url = "http://127.0.0.1:9/hook"
    city.platform_a.webhook_secret = "s"
    city.platform_a.save()
    drivers = [city.driver() for _ in range(7)]
    fleet = factories.fleet(city, drivers)
    m = factories.mobilization(city)
    services.mobilization_call(actor=city.admin, mobilization=m, fleets=[fleet])
    hooks = Notification.objects.filter(channel="webhook", event="mobilisation.call")
    assert hooks.count() == 7
    assert all(h.payload["license_masked"] and "license_no" not in h.payload for h in hooks)
    results = default_task_backend.results
    chunks = [r for r in results if r.task.name == "deliver_notifications"]
    assert len(chunks) == 1 and sorted(chunks[0].args[0]) == sorted(h.pk for h in hooks)

    # 7 pending rows with chunks of 3 make 3 delivery tasks, not 7.
    from redwheel.core.notifications import enqueue_many

    before = len(default_task_backend.results)
    rows = [
        Notification(channel="webhook", platform_ref=city.platform_a.pk, event="t", payload={})
        for _ in range(7)
    ]
    assert enqueue_many(rows, chunk_size=3) == 7
    sizes = [len(r.args[0]) for r in default_task_backend.results[before:]]
    assert sizes == [3, 3, 1]


def test_response_is_idempotent_and_moves_forward_only(city):
    driver = city.driver()
    fleet = factories.fleet(city, [driver])
    m = factories.mobilization(city)
    services.mobilization_call(actor=city.admin, mobilization=m, fleets=[fleet])
    _r1, changed1 = services.response_record(actor=driver.user, mobilization=m, status="received")
    _r2, changed2 = services.response_record(actor=driver.user, mobilization=m, status="received")
    assert (changed1, changed2) == (True, False)
    assert Response.objects.filter(mobilization=m).count() == 1
    services.response_record(actor=driver.user, mobilization=m, status="arrived")
    _r, changed = services.response_record(actor=driver.user, mobilization=m, status="on_my_way")
    assert changed is False
    r = Response.objects.get(mobilization=m)
    assert r.status == "arrived" and r.arrived_at is not None
    assert list(ResponseEvent.objects.filter(response=r).values_list("to_status", flat=True)) == [
        "received",
        "arrived",
    ]


def test_response_after_closing_is_refused_and_uncalled_driver_gets_404(city):
    driver, stranger = city.driver(), city.driver()
    m = factories.mobilization(city)
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [driver])]
    )
    with pytest.raises(NotFound):
        services.response_record(actor=stranger.user, mobilization=m, status="received")
    services.mobilization_close(actor=city.admin, mobilization=m)
    with pytest.raises(InvalidTransition) as exc:
        services.response_record(actor=driver.user, mobilization=m, status="received")
    assert exc.value.code == "mobilisation_closed"
    assert "no longer accepted" in str(exc.value.message)
    with pytest.raises(InvalidTransition):
        services.mobilization_close(actor=city.admin, mobilization=m)


def test_queue_serves_priority_first_then_fifo(city):
    driver = city.driver()
    m = factories.mobilization(city)
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [driver])]
    )
    services.response_record(actor=driver.user, mobilization=m, status="arrived")
    needs = ["none", "none", "elderly", "none", "pregnant", "child", "none", "disabled"]
    entries = [
        services.passenger_enqueue(
            actor=city.admin, mobilization=m, need=n, destination_district="锦江区"
        )
        for n in needs
    ]
    served = []
    for _ in needs:
        ride = services.ride_record(actor=city.admin, mobilization=m, driver=driver)
        served.append(QueueEntry.objects.get(ride=ride).pk)
    priority = [e.pk for e in entries if e.need != "none"]
    normal = [e.pk for e in entries if e.need == "none"]
    assert served == priority + normal


def test_ride_needs_an_arrived_driver_and_walk_up_count(city):
    driver = city.driver()
    m = factories.mobilization(city)
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [driver])]
    )
    with pytest.raises(InvalidTransition):
        services.ride_record(
            actor=city.admin,
            mobilization=m,
            driver=driver,
            destination_district="武侯区",
            passengers=2,
        )
    services.response_record(actor=driver.user, mobilization=m, status="arrived")
    ride = services.ride_record(
        actor=city.admin, mobilization=m, driver=driver, destination_district="武侯区", passengers=2
    )
    assert ride.passengers == 2


def test_scope_platform_staff_cannot_see_other_units_mobilizations(city):
    other = staff(city.committee_b)
    m = factories.mobilization(city, unit=city.committee_a)
    assert not selectors.mobilizations(other).filter(pk=m.pk).exists()
    with pytest.raises(NotFound):
        services.mobilization_close(actor=other, mobilization=m)
    # Hubs of the city committee are visible to staff below it.
    assert selectors.hubs(other).filter(pk=m.hub_id).exists()


def test_volunteer_sign_up_check_in_out_and_confirm(city):
    driver = city.driver()
    now = timezone.now()
    o = services.opportunity_create(
        actor=city.admin,
        unit=city.committee_a,
        title="爱心送考",
        kind="exam",
        role="送考司机",
        place="成都七中",
        starts_at=now,
        ends_at=now + timedelta(hours=4),
        places=1,
    )
    signup = services.signup_create(actor=driver.user, opportunity=o)
    with pytest.raises(Conflict):
        services.signup_create(actor=driver.user, opportunity=o)
    with pytest.raises(Conflict):  # full
        services.signup_create(actor=city.driver().user, opportunity=o)
    outsider = city.driver(platform=city.platform_b)
    with pytest.raises(NotFound):  # not in the organising unit's tree
        services.signup_create(actor=outsider.user, opportunity=o)
    with pytest.raises(InvalidTransition):
        services.signup_confirm(actor=city.admin, signup=signup)
    services.signup_check_in(actor=driver.user, signup=signup)
    services.signup_check_out(actor=driver.user, signup=signup)
    record = services.signup_confirm(actor=city.admin, signup=signup, hours=Decimal("3.5"))
    assert record.hours == Decimal("3.5") and record.kind == "volunteer"
    history = selectors.service_history(driver.user, driver)
    assert history["volunteer_hours"] == Decimal("3.5")


def test_alert_reaches_drivers_in_area_and_sighting_goes_to_sender(city):
    sender = staff(city.root)
    inside, outside = city.driver(), city.driver()
    factories.position(inside, 104.07, 30.66)
    factories.position(outside, 103.80, 30.90)
    alert = services.alert_create(
        actor=sender,
        unit=city.root,
        kind="missing_person",
        title="寻找走失儿童",
        description="男孩，6岁，蓝色外套",
        lng=104.066,
        lat=30.657,
        radius_km=5,
        expires_at=timezone.now() + timedelta(hours=6),
    )
    assert alert.recipients_count == 1
    with pytest.raises(NotFound):
        services.sighting_report(actor=outside.user, alert=alert, lng=1, lat=1, note="x")
    services.sighting_report(
        actor=inside.user, alert=alert, lng=104.07, lat=30.66, note="春熙路地铁站口看到"
    )
    note = Notification.objects.get(recipient=sender, event="alert.sighting")
    assert "春熙路" in note.body and inside.phone not in note.body
    services.alert_withdraw(actor=sender, alert=alert)
    with pytest.raises(InvalidTransition):
        services.sighting_report(
            actor=inside.user, alert=alert, lng=104.07, lat=30.66, note="again"
        )


def test_close_summary_equals_recomputation_and_service_records(city):
    member = city.member()
    declared = city.member(verified=False)
    plain = city.driver()
    m = factories.mobilization(city)
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [member, declared, plain])]
    )
    for d in (member, declared):
        services.response_record(actor=d.user, mobilization=m, status="arrived")
    services.response_record(actor=plain.user, mobilization=m, status="cant_come")
    services.passenger_enqueue(
        actor=city.admin,
        mobilization=m,
        party_size=3,
        need="elderly",
        destination_district="成华区",
    )
    services.ride_record(actor=city.admin, mobilization=m, driver=member)
    m = services.mobilization_close(actor=city.admin, mobilization=m)
    s = m.summary
    assert (s["drivers_called"], s["drivers_responded"], s["drivers_arrived"]) == (3, 3, 2)
    assert (s["members_called"], s["members_arrived"]) == (1, 1)  # declared is not verified
    assert (s["rides"], s["passengers"], s["priority_passengers"]) == (1, 3, 3)
    records = ServiceRecord.objects.filter(mobilization=m)
    assert records.count() == 2
    assert Decimal(s["driver_hours"]) == sum(r.hours for r in records)
    assert records.get(driver=member).passengers == 3
