"""No page shows a raw phone or licence number; only the audited reveal action does."""

import pytest
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.models import User
from redwheel.core.models import AuditEntry
from redwheel.drivers import services
from redwheel.drivers.models import Driver

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_city(city):
    admin = city.admin
    member = city.member("党员")
    services.badge_consent_set(actor=member.user, driver=member, consented=True)
    services.vehicle_add(actor=admin, driver=member, plate=testing.plate(11, new_energy=True))
    mobile = city.member("流动党员", category="probationary")
    services.membership_check_in(
        actor=admin,
        membership=mobile.membership,
        mobile_branch=city.mobile_branch_a,
        home_organisation="老家支部",
    )
    city.member("申报人", verified=False)
    city.member("积极分子", category="activist")
    rejected = city.member("被拒", verified=False)
    services.membership_reject(actor=admin, membership=rejected.membership, reason="材料不符")
    plain = city.driver("普通司机")
    services.contact_pair_create(actor=admin, member=member, driver=plain)
    city.member("乙党员", platform=city.platform_b)
    city.driver("乙司机", platform=city.platform_b)
    city.driver("无账号", account=False)
    return city


def _secrets():
    out = {}
    for driver in Driver.objects.all():
        out[f"{driver.name} phone"] = driver.phone
        out[f"{driver.name} licence"] = driver.license_no
    for user in User.objects.all():
        out[f"user {user.pk} phone"] = user.phone
    return out


def _assert_clean(response, secrets, where):
    assert response.status_code == 200, where
    body = response.content.decode()
    leaked = [label for label, value in secrets.items() if value and value in body]
    assert not leaked, f"{where} shows {leaked}"


def test_no_page_shows_raw_numbers(client, busy_city):
    city = busy_city
    secrets = _secrets()
    assert len(secrets) >= 20
    staff = testing.staff(city.root, "staff")
    client.force_login(staff)
    urls = [
        reverse(n)
        for n in (
            "insights:dashboard",
            "orgs:tree",
            "insights:coverage",
            "drivers:list",
            "drivers:verification_queue",
            "core:inbox",
            "core:audit_log",
        )
    ]
    urls += [reverse("drivers:list") + f"?state={s}" for s in ("verified", "declared", "none")]
    urls += [reverse("drivers:list") + "?q=" + d.phone_masked[-4:] for d in Driver.objects.all()]
    urls += [
        reverse("orgs:unit_detail", args=[u])
        for u in (
            city.root.pk,
            city.committee_a.pk,
            city.committee_b.pk,
            city.branch_a.pk,
            city.branch_b.pk,
            city.mobile_branch_a.pk,
        )
    ]
    urls += [reverse("drivers:detail", args=[d.pk]) for d in Driver.objects.all()]
    for url in urls:
        _assert_clean(client.get(url), secrets, url)

    for driver in Driver.objects.exclude(user=None):
        client.force_login(driver.user)
        for name in ("me:home", "me:membership", "me:badge", "core:inbox"):
            _assert_clean(client.get(reverse(name)), secrets, f"{name} as {driver.name}")


def test_error_pages_do_not_show_raw_numbers(client, busy_city):
    city = busy_city
    secrets = _secrets()
    staff = testing.staff(city.root, "staff")
    client.force_login(staff)
    member = Driver.objects.get(name__startswith="党员")
    for name, data in (
        ("drivers:verify", {}),
        ("drivers:reveal", {"field": "phone"}),
        ("drivers:lapse", {"lapse-reason": ""}),
    ):
        response = client.post(reverse(name, args=[member.pk]), data)
        assert response.status_code in (400, 409)
        body = response.content.decode()
        assert not [label for label, value in secrets.items() if value in body], name


@pytest.mark.parametrize("field", ["phone", "license_no"])
@pytest.mark.parametrize("htmx", [True, False])
def test_reveal_shows_exactly_the_requested_number_and_is_audited(client, busy_city, field, htmx):
    city = busy_city
    staff = testing.staff(city.committee_a, "staff")
    target = Driver.objects.get(name__startswith="党员")
    client.force_login(staff)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(
        reverse("drivers:reveal", args=[target.pk]),
        {"field": field, "reason": "核实报到信息"},
        **headers,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert getattr(target, field) in body
    other_field = "license_no" if field == "phone" else "phone"
    secrets = {k: v for k, v in _secrets().items() if v != getattr(target, field)}
    assert getattr(target, other_field) in secrets.values()
    assert not [label for label, value in secrets.items() if value in body]
    entry = AuditEntry.objects.get(action=f"driver.reveal.{field}")
    assert (entry.actor, entry.object_id, entry.reason) == (staff, str(target.pk), "核实报到信息")
    assert getattr(target, field) not in f"{entry.summary}{entry.data}"


def test_reveal_needs_a_reason_and_the_reveal_permission(client, busy_city):
    city = busy_city
    target = Driver.objects.get(name__startswith="党员")
    organiser = testing.staff(city.branch_a, "organiser")  # may verify, may not reveal
    client.force_login(organiser)
    response = client.post(
        reverse("drivers:reveal", args=[target.pk]), {"field": "phone", "reason": "好奇"}
    )
    assert response.status_code == 404
    secretary = testing.staff(city.branch_a, "secretary")
    client.force_login(secretary)
    response = client.post(
        reverse("drivers:reveal", args=[target.pk]),
        {"field": "phone", "reason": "  "},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert target.phone not in response.content.decode()
    assert not AuditEntry.objects.filter(action__startswith="driver.reveal").exists()
