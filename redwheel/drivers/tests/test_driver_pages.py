import pytest
from django.urls import reverse

from redwheel import testing
from redwheel.drivers import services
from redwheel.drivers.models import BadgeConsentEvent, Membership
from redwheel.orgs.services import unit_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["me:home", "me:membership", "me:badge"])
def test_driver_pages_render(client, city, name):
    driver = city.member()
    client.force_login(driver.user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert driver.name in response.text or name != "me:home"


@pytest.mark.parametrize("name", ["me:home", "me:membership", "me:badge"])
def test_staff_without_driver_record_gets_404(client, city, name):
    client.force_login(testing.staff(city.committee_a))
    assert client.get(reverse(name)).status_code == 404


def test_home_shows_masked_profile(client, city):
    driver = city.member()
    services.vehicle_add(actor=city.admin, driver=driver, plate=testing.plate(7))
    client.force_login(driver.user)
    text = client.get(reverse("me:home")).text
    assert driver.phone_masked in text and driver.license_masked in text
    assert city.platform_a.name in text and testing.plate(7) in text
    assert city.branch_a.name in text


def test_badge_on_and_off_through_http(client, city):
    driver = city.member()
    client.force_login(driver.user)
    response = client.post(reverse("me:badge"), {"consented": "1"})
    assert response.status_code == 302
    driver.refresh_from_db()
    assert driver.badge_consent and services.badge_visible(driver)
    page = client.get(reverse("me:badge"))
    assert page.context["badge_on"]
    assert len(page.context["history"]) == 1

    response = client.post(reverse("me:badge"), {"consented": "0"})
    assert response.status_code == 302
    driver.refresh_from_db()
    assert not driver.badge_consent
    assert not services.badge_visible(driver), "withdrawal hides the badge at once"
    assert list(
        BadgeConsentEvent.objects.filter(driver=driver).values_list("consented", flat=True)
    ) == [True, False]
    page = client.get(reverse("me:badge"))
    assert not page.context["badge_on"]
    assert [e.consented for e in page.context["history"]] == [False, True]  # newest first


@pytest.mark.parametrize("kind", ["declared", "activist", "none"])
def test_non_verified_driver_cannot_switch_on(client, city, kind):
    if kind == "declared":
        driver = city.member(verified=False)
    elif kind == "activist":
        driver = city.member(category="activist")
    else:
        driver = city.driver()
    client.force_login(driver.user)
    page = client.get(reverse("me:badge"))
    assert 'id="why-not"' in page.text
    assert 'name="consented" value="1"' not in page.text
    response = client.post(reverse("me:badge"), {"consented": "1"})
    assert response.status_code == 409
    assert "flash-error" in response.text
    driver.refresh_from_db()
    assert not driver.badge_consent
    assert not BadgeConsentEvent.objects.filter(driver=driver).exists()


def test_badge_form_garbage_is_a_400(client, city):
    driver = city.member()
    client.force_login(driver.user)
    assert client.post(reverse("me:badge"), {"consented": "maybe"}).status_code == 400


def test_declare_through_http(client, city):
    driver = city.driver(platform=city.platform_b)
    client.force_login(driver.user)
    page = client.get(reverse("me:membership"))
    branches = list(page.context["declare_form"].fields["branch"].queryset)
    # Any active branch of the city, not only the driver's platform; never the mobile branch.
    assert city.branch_a in branches and city.branch_b in branches
    assert city.mobile_branch_a not in branches and city.root not in branches
    response = client.post(
        reverse("me:declare"), {"category": "probationary", "branch": city.branch_a.pk}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(driver=driver)
    assert (membership.state, membership.category, membership.branch) == (
        "declared",
        "probationary",
        city.branch_a,
    )
    page = client.get(reverse("me:membership"))
    assert [a.action for a in page.context["timeline"]] == ["declare"]
    assert not page.context["can_declare"]
    # Declaring again while declared is refused.
    response = client.post(reverse("me:declare"), {"category": "full", "branch": city.branch_a.pk})
    assert response.status_code == 409
    assert Membership.objects.get(driver=driver).category == "probationary"


def test_branch_search_and_inactive_branches(client, city):
    closed = unit_create(
        actor=city.admin,
        name="甲出行已撤销支部",
        kind="branch",
        parent=city.committee_a,
        region_code="510107",
    )
    closed.is_active = False
    closed.save()
    driver = city.driver()
    client.force_login(driver.user)
    page = client.get(reverse("me:membership"), {"bq": "乙约车"})
    branches = list(page.context["declare_form"].fields["branch"].queryset)
    assert branches == [city.committee_b, city.branch_b]
    response = client.post(reverse("me:declare"), {"category": "full", "branch": closed.pk})
    assert response.status_code == 400
    assert not Membership.objects.filter(driver=driver).exists()


def test_mobile_member_checks_in_themselves(client, city):
    driver = city.member()
    client.force_login(driver.user)
    page = client.get(reverse("me:membership"))
    assert page.context["can_check_in"]
    response = client.post(
        reverse("me:check_in"),
        {"mobile_branch": city.mobile_branch_a.pk, "home_organisation": "某县某村党支部"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(driver=driver)
    assert membership.mobile_branch == city.mobile_branch_a
    assert membership.activities.last().actor == driver.user
    client.post(reverse("me:check_out"))
    assert Membership.objects.get(driver=driver).mobile_branch is None


def test_declared_driver_cannot_check_in(client, city):
    driver = city.member(verified=False)
    client.force_login(driver.user)
    response = client.post(reverse("me:check_in"), {"mobile_branch": city.mobile_branch_a.pk})
    assert response.status_code == 409
    assert Membership.objects.get(driver=driver).mobile_branch is None
