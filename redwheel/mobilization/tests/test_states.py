"""Every move of a mobilization, an answer, a queue entry, an opportunity and a sign-up goes
through the kernel state machines: its activity row and audit entry are written with it, a
refused move writes nothing, and activity rows outlive no parent (PROTECT)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from redwheel.core.errors import InvalidTransition
from redwheel.core.models import AuditEntry
from redwheel.mobilization import services
from redwheel.mobilization.models import (
    Mobilization,
    MobilizationActivity,
    Opportunity,
    OpportunityActivity,
    QueueEntry,
    QueueEntryActivity,
    ResponseEvent,
    SignUp,
    SignUpActivity,
)
from redwheel.mobilization.tests import factories

pytestmark = pytest.mark.django_db


def _steps(rows):
    return [(r.action, r.from_status, r.to_status) for r in rows.order_by("id")]


def _audit(obj):
    return list(
        AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def _opportunity(city, places=2):
    now = timezone.now()
    return services.opportunity_create(
        actor=city.admin,
        unit=city.committee_a,
        title="爱心送考",
        kind="exam",
        role="送考司机",
        place="成都七中",
        starts_at=now,
        ends_at=now + timedelta(hours=4),
        places=places,
    )


def _called(city):
    driver = city.driver()
    m = factories.mobilization(city)
    services.mobilization_call(
        actor=city.admin, mobilization=m, fleets=[factories.fleet(city, [driver])]
    )
    return m, driver


def test_a_mobilizations_timeline_is_its_moves(city):
    m, _driver = _called(city)
    services.mobilization_close(actor=city.admin, mobilization=m, note="疏散完毕")
    assert _steps(m.activities) == [
        ("open", "", "open"),
        ("call", "open", "open"),
        ("close", "open", "closed"),
    ]
    assert m.activities.get(action="close").note == "疏散完毕"
    assert _audit(m) == ["mobilization.open", "mobilization.call", "mobilization.close"]

    with pytest.raises(InvalidTransition):
        services.mobilization_cancel(actor=city.admin, mobilization=m, reason="重复")
    m.refresh_from_db()
    assert m.status == "closed" and m.activities.count() == 3 and len(_audit(m)) == 3


def test_an_answer_event_names_the_answer_and_who_gave_it(city):
    m, driver = _called(city)
    services.response_record(actor=driver.user, mobilization=m, status="on_my_way")
    services.response_record(actor=driver.user, mobilization=m, status="received")  # late tap
    services.response_record(actor=driver.user, mobilization=m, status="arrived")
    events = ResponseEvent.objects.filter(response__mobilization=m)
    assert _steps(events) == [("on_my_way", "", "on_my_way"), ("arrived", "on_my_way", "arrived")]
    assert {e.actor_id for e in events} == {driver.user_id}


def test_queue_entries_join_are_served_or_leave_with_their_rows(city):
    m, driver = _called(city)
    services.response_record(actor=driver.user, mobilization=m, status="arrived")
    first, second = (
        services.passenger_enqueue(actor=city.admin, mobilization=m, destination_district="锦江区")
        for _ in range(2)
    )
    ride = services.ride_record(actor=city.admin, mobilization=m, driver=driver)
    services.passenger_leave(actor=city.admin, entry=second)
    first.refresh_from_db()
    assert first.status == "served" and first.ride == ride and first.served_at is not None
    assert _steps(first.activities) == [("join", "", "waiting"), ("serve", "waiting", "served")]
    assert _steps(second.activities) == [("join", "", "waiting"), ("leave", "waiting", "left")]
    assert _audit(second) == ["mobilization.queue.join", "mobilization.queue.leave"]

    with pytest.raises(InvalidTransition, match="no longer waiting"):
        services.passenger_leave(actor=city.admin, entry=first)
    assert QueueEntry.objects.get(pk=first.pk).status == "served"
    assert first.activities.count() == 2


def test_an_opportunity_is_published_and_closed_once(city):
    o = _opportunity(city)
    services.opportunity_close(actor=city.admin, opportunity=o)
    with pytest.raises(InvalidTransition, match="already closed"):
        services.opportunity_close(actor=city.admin, opportunity=o)
    assert _steps(o.activities) == [("publish", "", "open"), ("close", "open", "closed")]
    assert Opportunity.objects.get(pk=o.pk).status == "closed"
    assert _audit(o) == ["volunteer.opportunity.publish", "volunteer.opportunity.close"]


def test_a_sign_up_keeps_every_step_and_refuses_one_out_of_turn(city):
    driver = city.driver()
    o = _opportunity(city)
    signup = services.signup_create(actor=driver.user, opportunity=o)
    services.signup_cancel(actor=driver.user, signup=signup)
    signup = services.signup_create(actor=driver.user, opportunity=o)
    with pytest.raises(InvalidTransition, match="Check in first"):
        services.signup_check_out(actor=driver.user, signup=signup)
    assert SignUp.objects.get(pk=signup.pk).checked_out_at is None
    services.signup_check_in(actor=driver.user, signup=signup)
    services.signup_check_out(actor=driver.user, signup=signup)
    services.signup_confirm(actor=city.admin, signup=signup, hours=Decimal("2.0"))

    signup.refresh_from_db()
    assert signup.status == "confirmed" and signup.checked_in_at and signup.checked_out_at
    assert _steps(signup.activities) == [
        ("sign_up", "", "signed_up"),
        ("cancel", "signed_up", "cancelled"),
        ("sign_up", "cancelled", "signed_up"),
        ("check_in", "signed_up", "checked_in"),
        ("check_out", "checked_in", "checked_out"),
        ("confirm", "checked_out", "confirmed"),
    ]
    actors = list(signup.activities.order_by("id").values_list("actor_id", flat=True))
    assert actors == [driver.user_id] * 5 + [city.admin.pk]
    assert _audit(signup)[-1] == "volunteer.confirm"


@pytest.mark.parametrize(
    "parent, activity",
    [
        (Mobilization, MobilizationActivity),
        (QueueEntry, QueueEntryActivity),
        (Opportunity, OpportunityActivity),
        (SignUp, SignUpActivity),
    ],
)
def test_a_parent_with_activity_rows_cannot_be_deleted(city, parent, activity):
    m, driver = _called(city)
    services.passenger_enqueue(actor=city.admin, mobilization=m)
    services.signup_create(actor=driver.user, opportunity=_opportunity(city))
    obj = parent.objects.get()
    rows = activity.objects.count()
    with pytest.raises(ProtectedError):
        obj.delete()
    assert parent.objects.filter(pk=obj.pk).exists() and activity.objects.count() == rows
