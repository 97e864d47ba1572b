import pytest
from django.test import Client

from redwheel import testing

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_units_need_a_session(city):
    response = Client().get("/api/v1/units")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_units_list_only_the_callers_subtree(city):
    body = _client(testing.staff(city.committee_b)).get("/api/v1/units").json()
    assert body["count"] == 2
    assert [unit["id"] for unit in body["items"]] == [city.committee_b.pk, city.branch_b.pk]


def test_units_filter_by_kind_and_paginate(city):
    client = _client(testing.staff(city.root))
    body = client.get("/api/v1/units", {"kind": "branch"}).json()
    assert {unit["id"] for unit in body["items"]} == {
        city.branch_a.pk,
        city.branch_b.pk,
        city.mobile_branch_a.pk,
    }
    page = client.get("/api/v1/units", {"page": 2, "page_size": 2}).json()
    assert page["count"] == 6
    assert len(page["items"]) == 2


def test_units_bad_kind_is_400_in_the_error_shape(city):
    response = _client(testing.staff(city.root)).get("/api/v1/units", {"kind": "club"})
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert response.json()["code"] == "invalid_request"


def test_unit_detail_lists_visible_children(city):
    body = (
        _client(testing.staff(city.committee_a)).get(f"/api/v1/units/{city.committee_a.pk}").json()
    )
    assert body["name"] == city.committee_a.name
    assert body["platform_id"] == city.platform_a.pk
    assert {child["id"] for child in body["children"]} == {
        city.branch_a.pk,
        city.mobile_branch_a.pk,
    }


@pytest.mark.parametrize("unit", ["root", "committee_a", "branch_a", "mobile_branch_a"])
def test_unit_outside_scope_is_404(city, unit):
    client = _client(testing.staff(city.committee_b))
    response = client.get(f"/api/v1/units/{getattr(city, unit).pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_unit_is_404(city):
    response = _client(city.admin).get("/api/v1/units/999999")
    assert response.status_code == 404


def test_platforms_are_scoped(city):
    body = _client(testing.staff(city.committee_b)).get("/api/v1/platforms").json()
    assert [p["company_id"] for p in body["items"]] == [city.platform_b.company_id]
    assert "webhook_secret" not in body["items"][0]
    everything = _client(testing.staff(city.root)).get("/api/v1/platforms").json()
    assert everything["count"] == 2


def test_a_driver_sees_no_units(city):
    driver = city.driver()
    body = _client(driver.user).get("/api/v1/units").json()
    assert body == {"items": [], "count": 0}
