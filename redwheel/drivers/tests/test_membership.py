import pytest

from redwheel import testing
from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.drivers import services
from redwheel.drivers.models import MembershipActivity

pytestmark = pytest.mark.django_db


def test_declare_verify_consent_then_withdraw_hides_badge_at_once(city):
    driver = city.driver()
    membership = services.membership_declare(
        actor=driver.user, driver=driver, category="full", branch=city.branch_a
    )
    assert not services.badge_visible(driver)
    secretary = testing.staff(city.branch_a, "secretary")
    services.membership_verify(actor=secretary, membership=membership)
    driver.refresh_from_db()
    assert not services.badge_visible(driver), "no badge without consent"

    services.badge_consent_set(actor=driver.user, driver=driver, consented=True)
    driver.refresh_from_db()
    assert services.badge_visible(driver)

    services.badge_consent_set(actor=driver.user, driver=driver, consented=False)
    driver.refresh_from_db()
    assert not services.badge_visible(driver)
    assert [e.consented for e in driver.consent_events.all()] == [True, False]
    assert list(membership.activities.values_list("action", flat=True)) == ["declare", "verify"]


def test_rejection_needs_a_reason_and_is_on_the_timeline(city):
    driver = city.driver()
    membership = services.membership_declare(
        actor=city.admin, driver=driver, category="activist", branch=city.branch_a
    )
    with pytest.raises(ValidationFailed):
        services.membership_reject(actor=city.admin, membership=membership, reason=" ")
    services.membership_reject(actor=city.admin, membership=membership, reason="查无此人")
    activity = membership.activities.last()
    assert (activity.action, activity.to_state, activity.note) == ("reject", "rejected", "查无此人")
    with pytest.raises(InvalidTransition):
        services.membership_verify(actor=city.admin, membership=membership)


def test_activists_never_show_the_badge(city):
    driver = city.member(category="activist")
    with pytest.raises(InvalidTransition):
        services.badge_consent_set(actor=driver.user, driver=driver, consented=True)


def test_other_platforms_secretary_cannot_verify(city):
    driver = city.driver()
    membership = services.membership_declare(
        actor=city.admin, driver=driver, category="full", branch=city.branch_a
    )
    outsider = testing.staff(city.branch_b, "secretary")
    with pytest.raises(NotFound):
        services.membership_verify(actor=outsider, membership=membership)
    membership.refresh_from_db()
    assert membership.state == "declared"


def test_activity_rows_are_immutable(city):
    driver = city.member()
    activity = driver.membership.activities.first()
    activity.note = "edited"
    with pytest.raises(TypeError):
        activity.save()
    with pytest.raises(TypeError):
        MembershipActivity.objects.all().delete()
