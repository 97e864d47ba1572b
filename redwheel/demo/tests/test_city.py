import io
import random

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count

from redwheel.accounts.models import Grant, User
from redwheel.core.models import AuditEntry
from redwheel.core.validators import clean_identity_number, clean_mobile, clean_plate
from redwheel.demo import names
from redwheel.demo.city import build_demo_city
from redwheel.demo.logins import demo_logins
from redwheel.demo.specs import DEMO_PASSWORD, MEMBER_DRIVER, ORDINARY_DRIVER, ROOT_NAME, URL
from redwheel.drivers.models import ContactPair, Driver, Membership, Vehicle
from redwheel.drivers.services import badge_visible
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform

SMALL = 0.05


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # The demo accounts are hashed with Argon2 in real builds; tests only need a working hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build(seed=2026, scale=SMALL):
    out = io.StringIO()
    assert build_demo_city(seed=seed, stdout=out, scale=scale) is True
    return out.getvalue()


def snapshot():
    return [
        model.objects.count()
        for model in (
            Driver,
            OrgUnit,
            Platform,
            User,
            Grant,
            Membership,
            Vehicle,
            ContactPair,
            JointAgreement,
            AuditEntry,
        )
    ]


@pytest.mark.django_db
def test_small_city_has_every_part():
    output = build()
    assert "drivers: 160/160" in output

    assert Driver.objects.count() == 160
    root = OrgUnit.objects.get(name=ROOT_NAME, parent=None)
    assert OrgUnit.objects.filter(path__startswith=root.path).count() == OrgUnit.objects.count()
    branch_types = set(OrgUnit.objects.filter(kind="branch").values_list("branch_type", flat=True))
    assert branch_types == {"regular", "mobile", "functional", "joint"}
    assert OrgUnit.objects.filter(kind="group").exists()

    platforms = Platform.objects.annotate(units_count=Count("units"))
    assert platforms.count() == 6
    gaps = [p.name for p in platforms if p.units_count == 0]
    assert gaps == ["熊猫快车"]
    aggregator = Platform.objects.get(kind=Platform.Kind.AGGREGATOR)
    assert aggregator.partners.count() == 3
    assert all(not p.webhook_url for p in platforms)
    assert JointAgreement.objects.filter(lead_unit__platform=aggregator).exists()

    verified = Membership.objects.filter(state="verified", category__in=["full", "probationary"])
    assert verified.count() == 9  # 3 mobile + 5 full + 1 probationary at this scale
    checked_in = Membership.objects.filter(mobile_branch__isnull=False)
    assert checked_in.count() >= 3
    assert all(m.home_organisation and m.mobile_branch.branch_type == "mobile" for m in checked_in)
    assert Membership.objects.filter(state="declared").exists()
    assert all(m.rejection_reason for m in Membership.objects.filter(state="rejected"))
    assert Membership.objects.filter(state="rejected").exists()
    assert Membership.objects.filter(category="activist").exists()
    assert Membership.objects.filter(category="applicant").exists()
    assert Driver.objects.filter(badge_consent=True).count() >= 4
    assert ContactPair.objects.count() >= 4
    # The coverage gap: drivers with no unit in charge all work for the unorganised platform.
    unorganised = Driver.objects.filter(branch=None)
    assert unorganised.exists()
    assert all(d.affiliations.filter(platform__name="熊猫快车").exists() for d in unorganised)
    assert not Membership.objects.filter(driver__branch=None).exists()


@pytest.mark.django_db
def test_generated_identifiers_are_valid_and_consistent():
    build()
    plates = []
    for driver in Driver.objects.prefetch_related("vehicles"):
        number = driver.license_no
        assert clean_identity_number(number) == number
        assert 1965 <= int(number[6:10]) <= 2000
        assert (int(number[16]) % 2 == 1) == (driver.gender == "M")
        assert clean_mobile(driver.phone) == driver.phone
        for vehicle in driver.vehicles.all():
            plate, new_energy = clean_plate(vehicle.plate)
            assert plate.startswith("川A")
            assert new_energy == (len(plate) == 8)
            plates.append(new_energy)
    assert 0.2 < sum(plates) / len(plates) < 0.6
    # Everyone not on the mobile list was born in Sichuan.
    local = Driver.objects.exclude(membership__mobile_branch__isnull=False)
    assert all(d.license_no.startswith("51") for d in local)


def test_generators_cover_the_declared_regions():
    rng = random.Random(7)
    for region in names.SICHUAN_COUNTIES:
        assert clean_identity_number(names.id_number(rng, "F", [region])).startswith(region)
    for regions, _home in names.HOME_ORGANISATIONS:
        assert clean_identity_number(names.id_number(rng, "M", regions))[:6] in regions
    for _ in range(200):
        clean_mobile(names.mobile(rng))
        clean_plate(names.plate(rng, new_energy=True))
        clean_plate(names.plate(rng, new_energy=False))


@pytest.mark.django_db
def test_second_run_changes_nothing():
    build()
    before = snapshot()
    assert build_demo_city(seed=2026, stdout=io.StringIO(), scale=SMALL) is False
    assert snapshot() == before


@pytest.mark.django_db
def test_same_seed_builds_the_same_city():
    def people(seed):
        with transaction.atomic():
            build(seed, scale=0.02)
            rows = list(
                Driver.objects.order_by("id").values_list(
                    "name", "phone_masked", "license_masked", "gender"
                )
            )
            transaction.set_rollback(True)
        return rows

    first = people(2026)
    assert Driver.objects.count() == 0
    assert people(2026) == first
    assert people(2027) != first


@pytest.mark.django_db
def test_every_printed_login_works():
    build()
    logins = demo_logins()
    assert len(logins) == 9
    for login in logins:
        assert login.password == DEMO_PASSWORD
        user = authenticate(phone=login.phone, password=login.password)
        assert user is not None, login.role
        assert user.activated_at is not None
    admin = authenticate(phone=logins[0].phone, password=DEMO_PASSWORD)
    assert admin.is_superuser
    roles = {grant.role for grant in Grant.objects.filter(user__is_superuser=False)}
    assert roles == {"staff", "regulator", "secretary", "organiser", "instructor", "viewer"}

    member = Driver.objects.get(
        user=authenticate(phone=MEMBER_DRIVER.phone, password=DEMO_PASSWORD)
    )
    assert member.name == MEMBER_DRIVER.name
    assert badge_visible(member)
    ordinary = Driver.objects.get(
        user=authenticate(phone=ORDINARY_DRIVER.phone, password=DEMO_PASSWORD)
    )
    assert not Membership.objects.filter(driver=ordinary).exists()
    assert authenticate(phone=MEMBER_DRIVER.phone, password="wrong-password") is None


@pytest.mark.django_db
def test_print_logins_only_prints():
    out = io.StringIO()
    call_command("demo", "--print-logins", stdout=out)
    text = out.getvalue()
    assert URL in text
    assert all(login.phone in text for login in demo_logins())
    assert Driver.objects.count() == 0 and Platform.objects.count() == 0
    out = io.StringIO()
    call_command("demo", "--print-logins", "--url", "http://127.0.0.1:8011", stdout=out)
    assert "http://127.0.0.1:8011" in out.getvalue() and URL not in out.getvalue()


def test_refuses_a_foreign_committee_with_the_same_name(city):
    with pytest.raises(CommandError):
        call_command("demo", "--scale", str(SMALL), stdout=io.StringIO())
    assert not Platform.objects.filter(name="蓉城出行").exists()
