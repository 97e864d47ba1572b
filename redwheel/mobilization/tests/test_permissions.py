"""Who sees what in mobilization, through the one permission mechanism: two cities in one
database never see each other, a platform's branch never sees a sibling platform's rows,
a driver sees only their own calls and sign-ups, and a call never reaches a driver outside
the sender's scope."""

import inspect
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from redwheel import testing
from redwheel.accounts.models import Grant
from redwheel.core.errors import NotFound
from redwheel.core.permissions import SystemActor, scope
from redwheel.mobilization import exports, selectors, services
from redwheel.mobilization.models import Call, Fleet, Hub, Mobilization, Opportunity, QueueEntry
from redwheel.mobilization.tests import factories

pytestmark = pytest.mark.django_db

STATION = factories.EAST_STATION


def _opportunity(c, unit, title="爱心送考", places=5):
    now = timezone.now()
    return services.opportunity_create(
        actor=c.admin,
        unit=unit,
        title=title,
        kind="exam",
        role="送考司机",
        place="成都七中",
        starts_at=now,
        ends_at=now + timedelta(hours=4),
        places=places,
    )


def _alert(c, unit, title="寻找走失老人"):
    return services.alert_create(
        actor=c.admin,
        unit=unit,
        kind="missing_person",
        title=title,
        description="穿灰色外套",
        lng=STATION[0],
        lat=STATION[1],
        radius_km=5,
        expires_at=timezone.now() + timedelta(hours=6),
    )


def _world(c, tag: str):
    """One city's fleet, hub, open mobilization (with a called, arrived driver and a waiting
    passenger), opportunity with a checked-out sign-up, and alert with a recipient."""
    driver = c.driver(f"{tag}司机")
    factories.position(driver, STATION[0] + 0.001, STATION[1])
    fleet = factories.fleet(c, [driver], unit=c.committee_a, name=f"{tag}先锋车队")
    hub = factories.hub(c, name=f"{tag}东站")
    m = factories.mobilization(c, the_hub=hub, unit=c.root)
    Mobilization.objects.filter(pk=m.pk).update(title=f"{tag}春运返程")
    m.refresh_from_db()
    services.mobilization_call(actor=c.admin, mobilization=m, fleets=[fleet])
    services.response_record(actor=driver.user, mobilization=m, status="arrived")
    entry = services.passenger_enqueue(actor=c.admin, mobilization=m, party_size=2)
    opportunity = _opportunity(c, c.root, title=f"{tag}爱心送考")
    signup = services.signup_create(actor=driver.user, opportunity=opportunity)
    services.signup_check_in(actor=driver.user, signup=signup)
    services.signup_check_out(actor=driver.user, signup=signup)
    alert = _alert(c, c.root, title=f"{tag}寻人启事")
    return {
        "driver": driver,
        "fleet": fleet,
        "member": fleet.members.get(),
        "hub": hub,
        "m": m,
        "entry": entry,
        "opportunity": opportunity,
        "signup": signup,
        "alert": alert,
    }


@pytest.fixture
def two_cities(db):
    one, two = testing.city(), testing.city()
    return one, _world(one, "一城"), two, _world(two, "二城")


def _get(client, name, *args, query=""):
    return client.get(reverse(f"mobilization:{name}", args=args) + query)


def _post(client, name, *args, data=None):
    return client.post(reverse(f"mobilization:{name}", args=args), data or {})


# Two cities ------------------------------------------------------------------------------------


def test_city_committee_lists_and_exports_show_none_of_the_other_city(two_cities, client):
    one, w1, _two, w2 = two_cities
    client.force_login(testing.staff(one.root))
    pages = {
        "fleet_list": (w1["fleet"].name, w2["fleet"].name),
        "hub_list": (w1["hub"].name, w2["hub"].name),
        "mobilization_list": (w1["m"].title, w2["m"].title),
        "opportunity_list": (w1["opportunity"].title, w2["opportunity"].title),
        "alert_list": (w1["alert"].title, w2["alert"].title),
        "index": (w1["m"].title, w2["m"].title),
    }
    for name, (own, foreign) in pages.items():
        html = _get(client, name).content.decode()
        assert own in html, name
        assert foreign not in html, name

    stats = _get(client, "statistics", query="?format=xlsx")
    sheet = load_workbook(io.BytesIO(stats.content)).active
    keys = [key for key, _label in exports.STAT_COLUMNS]
    rows = [dict(zip(keys, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    assert sum(r["mobilizations"] for r in rows) == 1
    assert sum(r["opportunities"] for r in rows) == 1
    assert sum(r["alerts"] for r in rows) == 1


def test_city_committee_gets_404_on_the_other_citys_ids(two_cities, client):
    one, _w1, _two, w2 = two_cities
    client.force_login(testing.staff(one.root))
    gets = [
        ("fleet_detail", w2["fleet"].pk),
        ("hub_detail", w2["hub"].pk),
        ("mobilization_detail", w2["m"].pk),
        ("mobilization_board", w2["m"].pk),
        ("mobilization_export", w2["m"].pk),
        ("opportunity_detail", w2["opportunity"].pk),
        ("alert_detail", w2["alert"].pk),
        ("driver_history", w2["driver"].pk),
    ]
    for name, pk in gets:
        assert _get(client, name, pk).status_code == 404, name
    assert _get(client, "driver_history", w2["driver"].pk, query="?format=xlsx").status_code == 404
    posts = [
        ("fleet_member_add", w2["fleet"].pk, {"driver": w2["driver"].name, "role": "member"}),
        ("fleet_member_remove", w2["member"].pk, {}),
        ("fleet_markers", w2["member"].pk, {"vehicle_sign": "on"}),
        ("hub_detail", w2["hub"].pk, {"name": "出站口", "lng": "104.1", "lat": "30.6"}),
        ("mobilization_call", w2["m"].pk, {"radius_km": "5"}),
        ("queue_add", w2["m"].pk, {"party_size": "1", "need": "none"}),
        ("queue_leave", w2["entry"].pk, {}),
        ("ride_add", w2["m"].pk, {"driver": w2["driver"].pk, "destination_district": "武侯区"}),
        ("mobilization_close", w2["m"].pk, {}),
        ("mobilization_cancel", w2["m"].pk, {"reason": "x"}),
        ("opportunity_close", w2["opportunity"].pk, {}),
        ("signup_confirm", w2["signup"].pk, {"hours": "2"}),
        ("alert_withdraw", w2["alert"].pk, {}),
    ]
    for name, pk, data in posts:
        assert _post(client, name, pk, data=data).status_code == 404, name
    # Nothing of city two changed.
    w2["m"].refresh_from_db()
    w2["alert"].refresh_from_db()
    assert w2["m"].is_open and w2["alert"].withdrawn_at is None
    assert Opportunity.objects.get(pk=w2["opportunity"].pk).status == "open"
    assert QueueEntry.objects.get(pk=w2["entry"].pk).status == "waiting"


def test_city_committee_services_refuse_the_other_city(two_cities):
    one, w1, _two, w2 = two_cities
    committee = testing.staff(one.root)
    with pytest.raises(NotFound):
        services.mobilization_close(actor=committee, mobilization=w2["m"])
    with pytest.raises(NotFound):
        services.fleet_member_add(actor=committee, fleet=w2["fleet"], driver=w1["driver"])
    with pytest.raises(NotFound):
        services.opportunity_close(actor=committee, opportunity=w2["opportunity"])
    with pytest.raises(NotFound):
        services.alert_withdraw(actor=committee, alert=w2["alert"])
    with pytest.raises(NotFound):  # a hub of the other city cannot host our mobilization
        factories.mobilization(one, the_hub=w2["hub"], actor=committee)
    m = factories.mobilization(one, the_hub=w1["hub"], actor=committee)
    with pytest.raises(NotFound):  # nor can its fleets be called
        services.mobilization_call(actor=committee, mobilization=m, fleets=[w2["fleet"]])
    assert not Call.objects.filter(mobilization=m).exists()


def test_even_an_unscoped_operator_cannot_mix_cities(two_cities):
    one, w1, _two, w2 = two_cities
    operator = SystemActor.operator("test")
    with pytest.raises(NotFound):
        factories.mobilization(one, the_hub=w2["hub"], actor=operator)
    m = factories.mobilization(one, the_hub=w1["hub"], actor=operator)
    with pytest.raises(NotFound):
        services.mobilization_call(actor=operator, mobilization=m, fleets=[w2["fleet"]])


# Platforms within one city -----------------------------------------------------------------


def test_platform_a_branch_secretary_cannot_open_platform_bs_rows(city, client):
    secretary = testing.staff(city.branch_a, role="secretary")
    b_driver = city.driver(platform=city.platform_b)
    b_fleet = factories.fleet(city, [b_driver], unit=city.committee_b, name="乙车队")
    b_hub = factories.hub(city, name="乙停车场")
    Hub.objects.filter(pk=b_hub.pk).update(unit=city.committee_b)
    city_hub = factories.hub(city, name="成都东站")
    b_m = factories.mobilization(city, the_hub=city_hub, unit=city.committee_b)
    b_opportunity = _opportunity(city, city.committee_b, title="乙送考")
    b_alert = _alert(city, city.committee_b, title="乙寻人")

    # The city's hub is shared with everyone below the committee; platform B's hub is not.
    assert list(selectors.hubs(secretary)) == [city_hub]
    client.force_login(secretary)
    assert _get(client, "hub_detail", city_hub.pk).status_code == 200
    for name, pk in [
        ("hub_detail", b_hub.pk),
        ("fleet_detail", b_fleet.pk),
        ("mobilization_detail", b_m.pk),
        ("mobilization_export", b_m.pk),
        ("opportunity_detail", b_opportunity.pk),
        ("alert_detail", b_alert.pk),
        ("driver_history", b_driver.pk),
    ]:
        assert _get(client, name, pk).status_code == 404, name
    assert "乙车队" not in _get(client, "fleet_list").content.decode()
    assert _post(client, "mobilization_close", b_m.pk).status_code == 404
    with pytest.raises(NotFound):
        factories.mobilization(city, the_hub=city_hub, actor=secretary, unit=city.committee_b)
    with pytest.raises(NotFound):  # sharing a hub is for reading, not for changing it
        services.pickup_point_add(actor=secretary, hub=city_hub, name="出口", lng=104.1, lat=30.6)
    # Their own branch may open a mobilization at the city's hub.
    own = factories.mobilization(city, the_hub=city_hub, actor=secretary, unit=city.branch_a)
    assert list(selectors.mobilizations(secretary)) == [own]


# Drivers ---------------------------------------------------------------------------------------


def test_a_driver_sees_only_their_own_calls_and_sign_ups(city, client):
    me, other, uncalled = city.driver("我"), city.driver("他"), city.driver("未呼")
    fleet = factories.fleet(city, [me, other])
    m = factories.mobilization(city)
    services.mobilization_call(actor=city.admin, mobilization=m, fleets=[fleet])
    services.response_record(actor=other.user, mobilization=m, status="arrived")
    opportunity = _opportunity(city, city.committee_a)
    other_signup = services.signup_create(actor=other.user, opportunity=opportunity)
    alert = _alert(city, city.root)  # nobody has a position: reaches nobody

    client.force_login(me.user)
    calls = client.get("/api/v1/mobilizations/my-calls").json()
    assert [c["mobilisation_id"] for c in calls] == [m.pk] and calls[0]["my_answer"] is None
    assert _get(client, "my_call", m.pk).status_code == 200
    # Another driver's sign-up and an alert that did not reach me are not found.
    assert _post(client, "my_signup_action", other_signup.pk, "cancel").status_code == 404
    assert _get(client, "my_alert", alert.pk).status_code == 404
    sighting = {"lng": 104.1, "lat": 30.6, "note": "看到了"}
    url = f"/api/v1/alerts/{alert.pk}/sightings"
    assert client.post(url, sighting, content_type="application/json").status_code == 404
    with pytest.raises(NotFound):
        services.signup_cancel(actor=me.user, signup=other_signup)
    with pytest.raises(NotFound):
        services.fleet_pledge_sign(actor=me.user, member=fleet.members.get(driver=other))
    # The driver's history shows their own call only, not the other driver's arrival.
    history = selectors.service_history(me.user, me)
    assert [c.driver_id for c in history["calls"]] == [me.pk]
    assert history["signups"] == []
    # Staff pages stay closed to drivers.
    for name, pk in [("mobilization_detail", m.pk), ("opportunity_detail", opportunity.pk)]:
        assert _get(client, name, pk).status_code == 404

    client.force_login(uncalled.user)
    assert client.get("/api/v1/mobilizations/my-calls").json() == []
    assert _get(client, "my_call", m.pk).status_code == 404
    answer = client.post(
        f"/api/v1/mobilizations/{m.pk}/answer",
        {"status": "received"},
        content_type="application/json",
    )
    assert answer.status_code == 404
    assert not m.responses.filter(driver=uncalled).exists()


def test_staff_who_is_also_a_driver_cannot_answer_for_others(city):
    manager = city.driver("调度司机")
    Grant.objects.create(user=manager.user, unit=city.root, role="staff")
    driver = city.driver()
    m = factories.mobilization(city, actor=manager.user)
    fleet = factories.fleet(city, [driver])
    services.mobilization_call(actor=manager.user, mobilization=m, fleets=[fleet])
    with pytest.raises(NotFound):  # the manager was not called themselves
        services.response_record(actor=manager.user, mobilization=m, status="arrived")
    member = fleet.members.get(driver=driver)
    with pytest.raises(NotFound):
        services.fleet_pledge_sign(actor=manager.user, member=member)


# Calls never leave the sender's scope -----------------------------------------------------------


def test_an_opened_mobilization_never_calls_a_driver_outside_the_senders_scope(city):
    other_city = testing.city()
    near = (STATION[0] + 0.002, STATION[1])
    a_driver = city.driver("甲")
    b_driver = city.driver("乙", platform=city.platform_b)
    far_driver = other_city.driver("外市")
    for d in (a_driver, b_driver, far_driver):
        factories.position(d, *near)
    hub = factories.hub(city)
    # Platform A's committee: its fleet's roster includes a platform-B driver, added by the city.
    mixed = factories.fleet(city, [a_driver, b_driver], unit=city.committee_a)
    a_staff = testing.staff(city.committee_a)
    m = factories.mobilization(city, the_hub=hub, actor=a_staff, unit=city.committee_a)
    called = services.mobilization_call(actor=a_staff, mobilization=m, fleets=[mixed], radius_km=5)
    assert called == 1
    assert list(m.calls.values_list("driver_id", flat=True)) == [a_driver.pk]

    # The city committee reaches both platforms, never the other city's driver at the same spot.
    committee = testing.staff(city.root)
    m2 = factories.mobilization(city, the_hub=hub, actor=committee)
    services.mobilization_call(actor=committee, mobilization=m2, radius_km=5)
    assert set(m2.calls.values_list("driver_id", flat=True)) == {a_driver.pk, b_driver.pk}

    # The same holds for alerts.
    alert = services.alert_create(
        actor=a_staff,
        unit=city.committee_a,
        kind="road_closure",
        title="封路",
        description="二环高架封闭",
        lng=hub.lng,
        lat=hub.lat,
        radius_km=5,
        expires_at=timezone.now() + timedelta(hours=2),
    )
    assert list(alert.recipients.values_list("driver_id", flat=True)) == [a_driver.pk]


# Unprivileged actors ----------------------------------------------------------------------------


def test_every_service_refuses_a_user_with_no_grant_and_no_driver_and_a_foreign_city(two_cities):
    one, w1, two, w2 = two_cities
    nobody = testing.user("路人")
    foreign = testing.staff(two.root)
    now = timezone.now()
    window = {"starts_at": now, "ends_at": now + timedelta(hours=1)}
    calls = {
        "fleet_create": {"unit": one.root, "name": "x", "kind": "pioneer"},
        "fleet_member_add": {"fleet": w1["fleet"], "driver": w1["driver"]},
        "fleet_member_remove": {"member": w1["member"]},
        "fleet_pledge_sign": {"member": w1["member"]},
        "fleet_markers_set": {"member": w1["member"], "vehicle_sign": True, "identity_shown": True},
        "hub_create": {"unit": one.root, "name": "x", "kind": "bus", "lng": 104.0, "lat": 30.0},
        "pickup_point_add": {"hub": w1["hub"], "name": "x", "lng": 104.0, "lat": 30.0},
        "mobilization_open": {
            "unit": one.root,
            "hub": w1["hub"],
            "title": "x",
            "reason": "y",
            **window,
        },
        "mobilization_call": {"mobilization": w1["m"], "radius_km": 5},
        "response_record": {"mobilization": w1["m"], "status": "received"},
        "passenger_enqueue": {"mobilization": w1["m"]},
        "passenger_leave": {"entry": w1["entry"]},
        "ride_record": {"mobilization": w1["m"], "driver": w1["driver"], "passengers": 1},
        "mobilization_close": {"mobilization": w1["m"]},
        "mobilization_cancel": {"mobilization": w1["m"], "reason": "x"},
        "opportunity_create": {
            "unit": one.root,
            "title": "x",
            "kind": "exam",
            "role": "r",
            "place": "p",
            "places": 1,
            **window,
        },
        "opportunity_close": {"opportunity": w1["opportunity"]},
        "signup_create": {"opportunity": w1["opportunity"]},
        "signup_cancel": {"signup": w1["signup"]},
        "signup_check_in": {"signup": w1["signup"]},
        "signup_check_out": {"signup": w1["signup"]},
        "signup_confirm": {"signup": w1["signup"], "hours": Decimal("1")},
        "alert_create": {
            "unit": one.root,
            "kind": "other",
            "title": "x",
            "description": "y",
            "lng": 104.0,
            "lat": 30.0,
            "radius_km": 1,
            "expires_at": now + timedelta(hours=1),
        },
        "alert_withdraw": {"alert": w1["alert"]},
        "sighting_report": {"alert": w1["alert"], "lng": 104.0, "lat": 30.0, "note": "x"},
    }
    public = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if not name.startswith("_")
        and fn.__module__.startswith(services.__name__)
        and "actor" in inspect.signature(fn).parameters
    }
    assert public <= set(calls), public - set(calls)
    for actor in (nobody, foreign):
        for name, kwargs in calls.items():
            with pytest.raises(NotFound):
                getattr(services, name)(actor=actor, **kwargs)
    w1["m"].refresh_from_db()
    assert w1["m"].is_open and not scope(foreign, "view", Mobilization.objects.all()).filter(
        pk=w1["m"].pk
    )
    assert w2["m"].is_open


def test_admin_lists_only_the_viewers_city(two_cities, rf):
    from django.contrib import admin

    one, w1, _two, _w2 = two_cities
    request = rf.get("/")
    request.user = testing.staff(one.root)
    for model, own in [(Mobilization, w1["m"]), (Fleet, w1["fleet"]), (Hub, w1["hub"])]:
        listed = admin.site._registry[model].get_queryset(request)
        assert list(listed) == [own], model.__name__


def test_an_operator_is_nobodys_driver(city):
    no_account = city.driver("无账号", account=False)
    m = factories.mobilization(city)
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [no_account])]
    )
    with pytest.raises(NotFound):  # `user_id=None` must not match a driver without an account
        services.response_record(actor=SystemActor.operator("x"), mobilization=m, status="arrived")
    assert not m.responses.exists()
