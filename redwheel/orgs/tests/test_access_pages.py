"""Access management on staff pages (issue 12, deliverable 3): role grants, unit settings,
platforms and their API tokens, joint-building agreements. The admin is superuser-only, so
these pages are the only way staff do these tasks; every one is scoped like everything else.
"""

import json
import re
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.models import Grant, PlatformToken, User
from redwheel.accounts.services import staff_account_grant
from redwheel.core import crypto
from redwheel.core.errors import NotFound
from redwheel.core.models import AuditEntry
from redwheel.orgs import services
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform

pytestmark = pytest.mark.django_db

NEW_PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()  # token authentication is cached
    yield
    cache.clear()


@pytest.fixture
def root_staff(city):
    return testing.staff(city.root, "staff", name="行业党委干部")


@pytest.fixture
def staff_a(city):
    return testing.staff(city.committee_a, "staff", name="甲党委干部")


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _grant_post(client, unit, **fields):
    data = {"phone": NEW_PHONE, "display_name": "新来的张三", "role": "viewer", **fields}
    return client.post(reverse("orgs:grant_add", args=[unit.pk]), data)


def _lookup(secret):
    return Client().post(
        "/api/v1/badges:lookup",
        json.dumps({"license_ids": ["X1"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


# Role grants -----------------------------------------------------------------------------------


def test_committee_staff_grants_a_viewer_role_on_a_branch_and_revokes_it(city, root_staff):
    client = _login(root_staff)
    response = _grant_post(client, city.branch_a, password="Zq8!long-enough-pw")
    assert response.status_code == 302
    assert response.url == reverse("orgs:unit_detail", args=[city.branch_a.pk])

    person = User.objects.get(phone_index=crypto.blind_index(NEW_PHONE))
    assert person.display_name == "新来的张三"
    grant = Grant.objects.get(user=person)
    assert (grant.unit, grant.role, grant.granted_by) == (city.branch_a, "viewer", root_staff)
    actions = set(AuditEntry.objects.filter(actor=root_staff).values_list("action", flat=True))
    assert {"user.create", "grant.create"} <= actions

    page = client.get(reverse("orgs:unit_detail", args=[city.branch_a.pk])).text
    assert "138****5678" in page and NEW_PHONE not in page
    assert reverse("orgs:grant_revoke", args=[grant.pk]) in page

    # The new person signs in with the initial password and sees that branch, nothing beside it.
    newcomer = Client()
    assert newcomer.login(phone=NEW_PHONE, password="Zq8!long-enough-pw")
    assert newcomer.get(reverse("orgs:unit_detail", args=[city.branch_a.pk])).status_code == 200
    assert newcomer.get(reverse("orgs:unit_detail", args=[city.branch_b.pk])).status_code == 404

    response = client.post(reverse("orgs:grant_revoke", args=[grant.pk]))
    assert response.status_code == 302
    assert not Grant.objects.filter(pk=grant.pk).exists()
    assert AuditEntry.objects.filter(
        actor=root_staff, action="grant.revoke", object_id=str(grant.pk)
    ).exists()
    assert newcomer.get(reverse("orgs:unit_detail", args=[city.branch_a.pk])).status_code == 404


def test_granting_to_an_existing_number_keeps_that_account(city, root_staff):
    existing = testing.user("老李", phone=NEW_PHONE)
    users_before = User.objects.count()
    response = _grant_post(_login(root_staff), city.branch_b, display_name="别的名字")
    assert response.status_code == 302
    assert User.objects.count() == users_before
    existing.refresh_from_db()
    assert existing.display_name == "老李"
    assert Grant.objects.filter(user=existing, unit=city.branch_b, role="viewer").exists()


def test_grant_form_shows_field_errors_and_creates_nothing(city, root_staff):
    users_before = User.objects.count()
    response = _grant_post(_login(root_staff), city.branch_a, phone="12345")
    assert response.status_code == 400
    form = response.context["grant_form"]
    assert "This is not a valid mainland China mobile number." in form.errors["phone"][0]
    assert "This is not a valid mainland China mobile number." in response.text
    response = _grant_post(_login(root_staff), city.branch_a, password="123")
    assert response.status_code == 400
    assert response.context["grant_form"].errors["password"]
    assert User.objects.count() == users_before
    assert not Grant.objects.filter(unit=city.branch_a, role="viewer").exists()


def test_platform_staff_cannot_grant_on_another_platforms_units(city, staff_a):
    client = _login(staff_a)
    for unit in (city.branch_b, city.committee_b, city.root):
        assert _grant_post(client, unit).status_code == 404
    assert not User.objects.filter(phone_index=crypto.blind_index(NEW_PHONE)).exists()
    assert not Grant.objects.filter(role="viewer").exists()
    other = testing.staff(city.branch_b, "secretary")
    grant = other.grants.get()
    assert client.post(reverse("orgs:grant_revoke", args=[grant.pk])).status_code == 404
    assert Grant.objects.filter(pk=grant.pk).exists()
    # Its own subtree works.
    assert _grant_post(client, city.branch_a).status_code == 302


def test_a_viewer_cannot_grant_or_revoke_and_sees_no_people_section(city):
    viewer = testing.staff(city.committee_b, "viewer", name="只读")
    secretary = testing.staff(city.branch_b, "secretary")
    client = _login(viewer)
    page = client.get(reverse("orgs:unit_detail", args=[city.branch_b.pk]))
    assert page.status_code == 200
    assert "People and roles" not in page.text
    assert secretary.phone_masked not in page.text
    assert _grant_post(client, city.branch_b).status_code == 404
    assert not Grant.objects.filter(unit=city.branch_b, role="viewer").exists()
    grant = secretary.grants.get()
    assert client.post(reverse("orgs:grant_revoke", args=[grant.pk])).status_code == 404
    assert Grant.objects.filter(pk=grant.pk).exists()


def test_grant_service_checks_permission_before_looking_at_the_input(city, staff_a):
    with pytest.raises(NotFound):
        staff_account_grant(
            actor=staff_a, phone="bad", display_name="", unit=city.branch_b, role="nonsense"
        )


def test_write_endpoints_are_post_only(city, root_staff):
    client = _login(root_staff)
    grant = testing.staff(city.branch_a, "viewer").grants.get()
    for url in (
        reverse("orgs:grant_add", args=[city.branch_a.pk]),
        reverse("orgs:grant_revoke", args=[grant.pk]),
        reverse("orgs:token_create", args=[city.platform_a.pk]),
        reverse("orgs:platform_settings", args=[city.platform_a.pk]),
    ):
        assert client.get(url).status_code == 405
    assert Grant.objects.filter(pk=grant.pk).exists()


def test_people_list_is_paginated(city, root_staff):
    for n in range(55):
        Grant.objects.create(user=testing.user(f"人{n}"), unit=city.branch_a, role="viewer")
    client = _login(root_staff)
    url = reverse("orgs:unit_detail", args=[city.branch_a.pk])
    first = client.get(url).context["grants"]
    second = client.get(url + "?page=2").context["grants"]
    assert (len(first.object_list), len(second.object_list)) == (50, 5)


# Unit settings ---------------------------------------------------------------------------------


def test_unit_can_be_renamed_and_deactivated_and_bad_input_is_shown(city, staff_a):
    client = _login(staff_a)
    url = reverse("orgs:unit_edit", args=[city.branch_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "甲出行第一支部（改）", "region_code": "999999"})
    assert response.status_code == 400
    assert (
        "999999 is not a GB/T 2260 region code." in response.context["form"].errors["region_code"]
    )
    city.branch_a.refresh_from_db()
    assert city.branch_a.name == "甲出行第一支部"
    response = client.post(url, {"name": "甲出行第一支部（改）", "region_code": "510107"})
    assert response.status_code == 302
    city.branch_a.refresh_from_db()
    assert (city.branch_a.name, city.branch_a.is_active) == ("甲出行第一支部（改）", False)
    assert AuditEntry.objects.filter(actor=staff_a, action="unit.update").exists()
    assert client.get(reverse("orgs:unit_edit", args=[city.branch_b.pk])).status_code == 404
    viewer = testing.staff(city.committee_a, "viewer")
    assert _login(viewer).get(url).status_code == 404


# Platforms and tokens --------------------------------------------------------------------------


def test_platform_staff_reach_their_platform_only(city, staff_a):
    client = _login(staff_a)
    assert client.get(reverse("orgs:platform_detail", args=[city.platform_a.pk])).status_code == 200
    listing = client.get(reverse("orgs:platform_list")).text
    assert city.platform_a.name in listing and city.platform_b.name not in listing
    b = city.platform_b.pk
    assert client.get(reverse("orgs:platform_detail", args=[b])).status_code == 404
    response = client.post(
        reverse("orgs:token_create", args=[b]), {"name": "x", "scopes": ["badges:read"]}
    )
    assert response.status_code == 404
    response = client.post(
        reverse("orgs:platform_settings", args=[b]), {"name": "被改名", "kind": "platform"}
    )
    assert response.status_code == 404
    assert not PlatformToken.objects.filter(platform_id=b).exists()
    city.platform_b.refresh_from_db()
    assert city.platform_b.name == "乙约车"


def test_token_secret_is_shown_once_authenticates_and_stops_after_revocation(city, staff_a):
    client = _login(staff_a)
    url = reverse("orgs:platform_detail", args=[city.platform_a.pk])
    response = client.post(
        reverse("orgs:token_create", args=[city.platform_a.pk]),
        {"name": "徽章查询", "scopes": ["badges:read"]},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secrets_shown = re.findall(r"rw_[A-Za-z0-9_-]{20,}", response.text)
    assert len(set(secrets_shown)) == 1
    secret = secrets_shown[0]
    token = PlatformToken.objects.get(platform=city.platform_a, name="徽章查询")
    assert token.created_by == staff_a and token.scopes == ["badges:read"]
    assert AuditEntry.objects.filter(actor=staff_a, action="token.create").exists()

    assert _lookup(secret).status_code == 200
    again = client.get(url).text
    assert secret not in again and token.key_prefix in again

    response = client.post(reverse("orgs:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _lookup(secret).status_code == 401


def test_token_form_errors_are_shown(city, staff_a):
    client = _login(staff_a)
    response = client.post(reverse("orgs:token_create", args=[city.platform_a.pk]), {"name": ""})
    assert response.status_code == 400
    errors = response.context["token_form"].errors
    assert "name" in errors and "scopes" in errors
    assert not PlatformToken.objects.exists()


def test_another_platforms_token_cannot_be_revoked(city, staff_a, root_staff):
    client = _login(root_staff)
    client.post(
        reverse("orgs:token_create", args=[city.platform_b.pk]),
        {"name": "乙", "scopes": ["badges:read"]},
    )
    token = PlatformToken.objects.get(platform=city.platform_b)
    assert _login(staff_a).post(reverse("orgs:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_platform_settings_are_saved_and_validation_errors_are_shown(city, staff_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client = _login(staff_a)
    url = reverse("orgs:platform_settings", args=[city.platform_a.pk])
    base = {"name": "甲出行", "kind": "platform", "commission_cap_percent": "20"}
    response = client.post(url, {**base, "webhook_url": "ftp://hooks.example.com/x"})
    assert response.status_code == 400
    assert response.context["settings_form"].errors["webhook_url"]
    assert "http://" in response.text  # the model's message, shown on the page
    response = client.post(url, {**base, "webhook_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 400
    assert "private, loopback" in " ".join(response.context["settings_form"].errors["webhook_url"])
    response = client.post(url, {**base, "commission_cap_percent": "150"})
    assert response.status_code == 400
    assert response.context["settings_form"].errors["commission_cap_percent"]
    city.platform_a.refresh_from_db()
    assert (city.platform_a.webhook_url, city.platform_a.commission_cap_percent) == ("", None)

    response = client.post(url, {**base, "webhook_secret": "s3cret-value"})
    assert response.status_code == 302
    city.platform_a.refresh_from_db()
    assert city.platform_a.commission_cap_percent == 20
    assert city.platform_a.webhook_secret == "s3cret-value"
    page = client.get(reverse("orgs:platform_detail", args=[city.platform_a.pk])).text
    assert "s3cret-value" not in page
    # An empty secret field keeps the secret; the checkbox removes it.
    client.post(url, base)
    city.platform_a.refresh_from_db()
    assert city.platform_a.webhook_secret == "s3cret-value"
    client.post(url, {**base, "clear_webhook_secret": "on"})
    city.platform_a.refresh_from_db()
    assert city.platform_a.webhook_secret == ""


def test_committee_sets_an_aggregators_partners(city, root_staff):
    services.platform_update(actor=city.admin, platform=city.platform_a, kind="aggregator")
    client = _login(root_staff)
    response = client.post(
        reverse("orgs:platform_partners", args=[city.platform_a.pk]),
        {"partners": [city.platform_b.pk]},
    )
    assert response.status_code == 302
    assert list(city.platform_a.partners.all()) == [city.platform_b]
    other_city = testing.city()
    response = client.post(
        reverse("orgs:platform_partners", args=[city.platform_a.pk]),
        {"partners": [other_city.platform_a.pk]},
    )
    assert response.status_code == 400
    assert list(city.platform_a.partners.all()) == [city.platform_b]


def test_city_committee_registers_a_platform_and_platform_staff_cannot(city, root_staff, staff_a):
    response = _login(root_staff).post(
        reverse("orgs:platform_create"),
        {"city": city.root.pk, "company_id": "NEWCO1", "name": "丙打车", "kind": "platform"},
    )
    assert response.status_code == 302
    assert Platform.objects.get(company_id="NEWCO1").city == city.root
    assert "Register a platform" not in _login(staff_a).get(reverse("orgs:platform_list")).text
    response = _login(staff_a).post(
        reverse("orgs:platform_create"),
        {"city": city.root.pk, "company_id": "NEWCO2", "name": "丁", "kind": "platform"},
    )
    assert response.status_code == 404
    assert not Platform.objects.filter(company_id="NEWCO2").exists()


# Joint-building agreements ---------------------------------------------------------------------


def test_agreement_is_recorded_on_the_page_and_seen_by_both_sides(city, root_staff):
    other_city = testing.city()
    client = _login(root_staff)
    data = {
        "name": "甲乙联建",
        "lead_unit": city.committee_a.pk,
        "partner_units": [city.branch_b.pk],
        "signed_on": "2026-03-01",
    }
    response = client.post(reverse("orgs:agreement_create"), data)
    assert response.status_code == 302
    agreement = JointAgreement.objects.get(name="甲乙联建")
    assert list(agreement.partner_units.all()) == [city.branch_b]
    partner_staff = testing.staff(city.committee_b, "staff")
    assert "甲乙联建" in _login(partner_staff).get(reverse("orgs:agreements")).text

    # Another city's unit cannot be chosen; the form says so and nothing is written.
    response = client.post(
        reverse("orgs:agreement_create"),
        {**data, "name": "跨城", "partner_units": [other_city.branch_a.pk]},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["partner_units"]
    response = client.post(
        reverse("orgs:agreement_create"), {**data, "name": "倒签", "ends_on": "2025-01-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the signing date." in response.text
    assert not JointAgreement.objects.filter(name__in=["跨城", "倒签"]).exists()


def test_agreements_list_is_empty_for_a_new_city_and_shows_no_form_to_viewers(city):
    viewer = testing.staff(city.committee_a, "viewer")
    page = _login(viewer).get(reverse("orgs:agreements"))
    assert page.status_code == 200
    assert "No joint-building agreement yet." in page.text
    assert reverse("orgs:agreement_create") not in page.text


# Two cities ------------------------------------------------------------------------------------


def test_one_citys_committee_cannot_reach_another_citys_units_or_platforms(city, root_staff):
    other = testing.city()
    services.agreement_create(
        actor=other.admin,
        name="外城联建",
        lead_unit=other.committee_a,
        partner_units=[other.committee_b],
        signed_on=date(2026, 1, 1),
    )
    token_users = User.objects.count()
    client = _login(root_staff)
    for unit in (other.root, other.committee_a, other.branch_b):
        assert client.get(reverse("orgs:unit_detail", args=[unit.pk])).status_code == 404
        assert client.get(reverse("orgs:unit_edit", args=[unit.pk])).status_code == 404
        assert _grant_post(client, unit).status_code == 404
    for platform in (other.platform_a, other.platform_b):
        assert client.get(reverse("orgs:platform_detail", args=[platform.pk])).status_code == 404
        response = client.post(
            reverse("orgs:token_create", args=[platform.pk]),
            {"name": "x", "scopes": ["badges:read"]},
        )
        assert response.status_code == 404
    assert User.objects.count() == token_users
    assert not PlatformToken.objects.exists()
    assert not Grant.objects.filter(unit__path__startswith=other.root.path, role="viewer").exists()
    listing = client.get(reverse("orgs:platform_list")).text
    assert city.platform_a.name in listing
    assert not any(p.company_id in listing for p in (other.platform_a, other.platform_b))
    assert "外城联建" not in client.get(reverse("orgs:agreements")).text
    assert OrgUnit.objects.filter(pk=other.branch_b.pk, is_active=True).exists()


def test_staff_navigation_links_to_the_new_pages(city, staff_a):
    page = _login(staff_a).get(reverse("insights:dashboard")).text
    assert reverse("orgs:platform_list") in page
    assert reverse("orgs:agreements") in page


ACCESS_ROUTES_BY_ID = [
    ("orgs:unit_edit", "unit"),
    ("orgs:grant_add", "unit"),
    ("orgs:grant_revoke", "grant"),
    ("orgs:platform_detail", "platform"),
    ("orgs:platform_settings", "platform"),
    ("orgs:platform_partners", "platform"),
    ("orgs:token_create", "platform"),
    ("orgs:token_revoke", "token"),
]


@pytest.mark.parametrize("name,kind", ACCESS_ROUTES_BY_ID)
def test_foreign_ids_answer_like_missing_ones_and_read_only_roles_write_nothing(
    city, root_staff, name, kind
):
    from redwheel.accounts.services import token_create

    other = testing.city()
    foreign = {
        "unit": other.branch_a,
        "grant": testing.staff(other.branch_a, "viewer").grants.get(),
        "platform": other.platform_a,
        "token": token_create(
            actor=other.admin, platform=other.platform_a, name="t", scopes=["badges:read"]
        )[0],
    }[kind]
    own = {
        "unit": city.branch_a,
        "grant": testing.staff(city.branch_a, "organiser").grants.get(),
        "platform": city.platform_a,
        "token": token_create(
            actor=city.admin, platform=city.platform_a, name="t", scopes=["badges:read"]
        )[0],
    }[kind]
    principals = (root_staff, testing.staff(city.committee_a, "staff"))
    read_only = [testing.staff(city.root, role) for role in ("viewer", "instructor", "regulator")]
    grants, tokens = Grant.objects.count(), PlatformToken.objects.filter(revoked_at=None).count()
    for principal in principals:
        client = _login(principal)
        for method in (client.get, client.post):
            missing = method(reverse(name, args=[987_654_321])).status_code
            assert missing in (404, 405)
            assert method(reverse(name, args=[foreign.pk])).status_code == missing
    for person in read_only:
        assert _login(person).post(reverse(name, args=[own.pk])).status_code in (404, 405)
    assert Grant.objects.count() == grants
    assert PlatformToken.objects.filter(revoked_at=None).count() == tokens


def test_read_only_roles_cannot_post_to_the_list_pages(city):
    for role in ("viewer", "instructor", "regulator"):
        client = _login(testing.staff(city.root, role))
        for name in ("orgs:platform_create", "orgs:agreement_create"):
            assert client.post(reverse(name), {"name": "x"}).status_code == 404
        for name in ("orgs:platform_list", "orgs:agreements"):
            assert client.post(reverse(name)).status_code == 405
