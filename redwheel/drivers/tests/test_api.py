import json

import pytest
from django.test import Client

from redwheel import testing
from redwheel.accounts.services import token_create, token_revoke
from redwheel.core.models import AuditEntry
from redwheel.drivers import services
from redwheel.drivers.models import Driver, Membership

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, url, body=None):
    return client.post(
        url, json.dumps(body if body is not None else {}), content_type="application/json"
    )


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    if code:
        assert body["code"] == code
    return body


# Scope: every endpoint that takes an id ------------------------------------------------------


def _requests(city, driver, membership):
    """(method, url, body) for every id-taking staff endpoint, with bodies that are valid."""
    d, m = driver.pk, membership.pk
    return {
        "detail": ("get", f"/api/v1/drivers/{d}", None),
        "reveal": ("post", f"/api/v1/drivers/{d}:reveal", {"field": "phone", "reason": "call"}),
        "declare": (
            "post",
            f"/api/v1/drivers/{d}/membership:declare",
            {"category": "full", "branch_id": city.branch_b.pk},
        ),
        "verify": ("post", f"/api/v1/memberships/{m}:verify", {"note": "ok"}),
        "reject": ("post", f"/api/v1/memberships/{m}:reject", {"reason": "no record"}),
        "lapse": ("post", f"/api/v1/memberships/{m}:lapse", {"reason": "left"}),
        "transfer": (
            "post",
            f"/api/v1/memberships/{m}:transfer",
            {"to_branch_id": city.branch_b.pk},
        ),
        "check_in": (
            "post",
            f"/api/v1/memberships/{m}:check-in",
            {"mobile_branch_id": city.mobile_branch_a.pk},
        ),
    }


ENDPOINTS = ["detail", "reveal", "declare", "verify", "reject", "lapse", "transfer", "check_in"]


def _call(client, method, url, body):
    if method == "get":
        return client.get(url)
    return _post(client, url, body)


def _snapshot(membership):
    membership.refresh_from_db()
    return (
        membership.state,
        membership.branch_id,
        membership.mobile_branch_id,
        membership.activities.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("verified", [True, False], ids=["verified", "declared"])
def test_platform_b_committee_gets_404_for_platform_a(city, endpoint, verified):
    driver = city.member(platform=city.platform_a, verified=verified)
    membership = driver.membership
    before = _snapshot(membership)
    method, url, body = _requests(city, driver, membership)[endpoint]
    response = _call(_client(testing.staff(city.committee_b)), method, url, body)
    _error(response, 404, "not_found")
    assert _snapshot(membership) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_driver_gets_404_for_another_driver(city, endpoint):
    other = city.member(verified=False)
    me = city.driver()
    before = _snapshot(other.membership)
    method, url, body = _requests(city, other, other.membership)[endpoint]
    response = _call(_client(me.user), method, url, body)
    _error(response, 404, "not_found")
    assert _snapshot(other.membership) == before


def test_a_driver_cannot_verify_their_own_declaration(city):
    driver = city.member(verified=False)
    response = _post(_client(driver.user), f"/api/v1/memberships/{driver.membership.pk}:verify")
    _error(response, 404)
    driver.membership.refresh_from_db()
    assert driver.membership.state == "declared"


def test_staff_endpoints_need_a_session(city):
    driver = city.driver()
    _error(Client().get("/api/v1/drivers"), 401, "unauthorized")
    _error(Client().get(f"/api/v1/drivers/{driver.pk}"), 401, "unauthorized")
    _error(
        _post(Client(), f"/api/v1/drivers/{driver.pk}:reveal", {"field": "phone", "reason": "x"}),
        401,
    )


def test_session_writes_need_the_csrf_token(city):
    driver = city.member(verified=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(testing.staff(city.committee_a))
    response = _post(client, f"/api/v1/memberships/{driver.membership.pk}:verify")
    _error(response, 403, "csrf_failed")
    driver.membership.refresh_from_db()
    assert driver.membership.state == "declared"
    token = "Ab1" * 10 + "Cd"  # what the browser holds in the csrftoken cookie (32 characters)
    client.cookies["csrftoken"] = token
    response = client.post(
        f"/api/v1/memberships/{driver.membership.pk}:verify",
        "{}",
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "verified"


# Lists and details ---------------------------------------------------------------------------


def test_driver_list_is_scoped_masked_and_filterable(city):
    a1 = city.member("甲", platform=city.platform_a)
    a2 = city.driver("甲", platform=city.platform_a)
    city.driver("乙", platform=city.platform_b)
    client = _client(testing.staff(city.committee_a))

    body = client.get("/api/v1/drivers").json()
    assert {item["id"] for item in body["items"]} == {a1.pk, a2.pk}
    assert body["count"] == 2
    raw = json.dumps(body, ensure_ascii=False)
    assert a1.phone not in raw and a1.license_no not in raw
    item = next(item for item in body["items"] if item["id"] == a1.pk)
    assert item["phone_masked"] == a1.phone_masked
    assert item["membership"]["state"] == "verified"
    assert item["platforms"][0]["id"] == city.platform_a.pk

    assert [i["id"] for i in client.get("/api/v1/drivers", {"state": "none"}).json()["items"]] == [
        a2.pk
    ]
    assert [
        i["id"] for i in client.get("/api/v1/drivers", {"category": "full"}).json()["items"]
    ] == [a1.pk]
    assert client.get("/api/v1/drivers", {"platform": city.platform_b.pk}).json()["count"] == 0
    assert client.get("/api/v1/drivers", {"state": "checked_in"}).json()["count"] == 0
    services.membership_check_in(
        actor=city.admin, membership=a1.membership, mobile_branch=city.mobile_branch_a
    )
    checked_in = client.get("/api/v1/drivers", {"state": "checked_in"}).json()["items"]
    assert [item["id"] for item in checked_in] == [a1.pk]
    assert client.get("/api/v1/drivers", {"branch": city.branch_a.pk}).json()["count"] == 2
    assert client.get("/api/v1/drivers", {"branch": city.branch_b.pk}).json()["count"] == 0


def test_driver_search_by_name_and_full_numbers_only(city):
    driver = city.driver("王建国")
    city.driver("李四")
    client = _client(testing.staff(city.committee_a))

    def ids(q):
        return [item["id"] for item in client.get("/api/v1/drivers", {"q": q}).json()["items"]]

    assert ids("建国") == [driver.pk]
    assert ids(driver.phone) == [driver.pk]
    assert ids(f"+86 {driver.phone}") == [driver.pk]
    assert ids(driver.license_no) == [driver.pk]
    assert ids(driver.license_no.lower()) == [driver.pk]
    assert ids(driver.phone[:7]) == []  # partial numbers never match
    assert ids(driver.license_no[:10]) == []


def test_driver_list_paginates_with_a_bounded_number_of_queries(
    city, django_assert_max_num_queries
):
    for _ in range(12):
        city.member()
    client = _client(testing.staff(city.committee_a))
    body = client.get("/api/v1/drivers", {"page": 2, "page_size": 5}).json()
    assert body["count"] == 12
    assert len(body["items"]) == 5
    with django_assert_max_num_queries(8):
        client.get("/api/v1/drivers", {"page_size": 12})


def test_driver_detail_has_membership_and_timeline(city):
    driver = city.member(verified=False)
    staff = testing.staff(city.committee_a, name="王书记")
    services.membership_verify(actor=staff, membership=driver.membership, note="checked")
    body = _client(staff).get(f"/api/v1/drivers/{driver.pk}").json()
    assert body["license_masked"] == driver.license_masked
    assert driver.license_no not in json.dumps(body)
    assert body["membership"]["state"] == "verified"
    assert [a["action"] for a in body["membership"]["timeline"]] == ["declare", "verify"]
    assert body["membership"]["timeline"][1]["actor"] == "王书记"
    assert "lapse" in body["membership"]["allowed_actions"]
    assert body["affiliations"][0]["platform"]["id"] == city.platform_a.pk
    assert body["badge"] is False


def test_a_driver_sees_their_own_record(city):
    driver = city.driver()
    assert _client(driver.user).get(f"/api/v1/drivers/{driver.pk}").status_code == 200
    body = _client(driver.user).get("/api/v1/drivers").json()
    assert [item["id"] for item in body["items"]] == [driver.pk]


# Membership actions --------------------------------------------------------------------------


def test_membership_lifecycle_through_the_api(city):
    driver = city.driver()
    client = _client(testing.staff(city.committee_a))
    body = _post(
        client,
        f"/api/v1/drivers/{driver.pk}/membership:declare",
        {
            "category": "probationary",
            "branch_id": city.branch_a.pk,
            "joined_party_on": "2024-07-01",
        },
    ).json()
    assert body["state"] == "declared" and body["category"] == "probationary"
    mid = body["id"]

    assert _post(client, f"/api/v1/memberships/{mid}:verify").json()["state"] == "verified"
    body = _post(
        client,
        f"/api/v1/memberships/{mid}:check-in",
        {"mobile_branch_id": city.mobile_branch_a.pk, "home_organisation": "某县某镇党委"},
    ).json()
    assert body["mobile_branch"]["id"] == city.mobile_branch_a.pk
    branch_a2 = _branch(city, "甲出行第二支部")
    body = _post(
        client, f"/api/v1/memberships/{mid}:transfer", {"to_branch_id": branch_a2.pk}
    ).json()
    assert body["branch"]["id"] == branch_a2.pk
    body = _post(client, f"/api/v1/memberships/{mid}:lapse", {"reason": "moved away"}).json()
    assert body["state"] == "lapsed"
    assert [a["action"] for a in body["timeline"]] == [
        "declare",
        "verify",
        "check_in",
        "transfer",
        "lapse",
    ]


def _branch(city, name):
    from redwheel.orgs.services import unit_create

    return unit_create(
        actor=city.admin, name=name, kind="branch", parent=city.committee_a, region_code="510107"
    )


def test_reject_needs_a_reason_and_changes_nothing_without_one(city):
    driver = city.member(verified=False)
    client = _client(testing.staff(city.committee_a))
    url = f"/api/v1/memberships/{driver.membership.pk}:reject"
    before = _snapshot(driver.membership)
    _error(_post(client, url, {}), 400, "invalid_request")
    _error(_post(client, url, {"reason": "   "}), 400, "invalid_request")
    assert _snapshot(driver.membership) == before
    body = _post(client, url, {"reason": "no record"}).json()
    assert body["state"] == "rejected" and body["rejection_reason"] == "no record"


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/drivers/{d}/membership:declare", {"category": "emperor", "branch_id": 1}),
        ("/api/v1/drivers/{d}/membership:declare", {"category": "full"}),
        ("/api/v1/drivers/{d}/membership:declare", {"category": "full", "branch_id": "x"}),
        ("/api/v1/drivers/{d}:reveal", {"field": "name", "reason": "curious"}),
        ("/api/v1/drivers/{d}:reveal", {"field": "phone"}),
        ("/api/v1/memberships/{m}:transfer", {"to_branch_id": None}),
        ("/api/v1/memberships/{m}:check-in", {}),
        ("/api/v1/memberships/{m}:lapse", {"reason": "x" * 301}),
        ("/api/v1/memberships/{m}:verify", ["not", "an", "object"]),
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(city, url, body):
    driver = city.member(verified="verify" not in url)
    before = _snapshot(driver.membership)
    response = _post(
        _client(testing.staff(city.committee_a)),
        url.format(d=driver.pk, m=driver.membership.pk),
        body,
    )
    _error(response, 400, "invalid_request")
    assert _snapshot(driver.membership) == before


def test_a_body_that_is_not_json_is_400(city):
    driver = city.member(verified=False)
    before = _snapshot(driver.membership)
    response = _client(testing.staff(city.committee_a)).post(
        f"/api/v1/memberships/{driver.membership.pk}:reject",
        "{reason:",
        content_type="application/json",
    )
    _error(response, 400, "invalid_request")
    assert _snapshot(driver.membership) == before


def test_invalid_transition_is_409(city):
    driver = city.member()
    response = _post(
        _client(testing.staff(city.committee_a)),
        f"/api/v1/memberships/{driver.membership.pk}:verify",
    )
    _error(response, 409, "invalid_transition")


def test_declaring_into_a_branch_outside_scope_is_404(city):
    driver = city.driver()
    response = _post(
        _client(testing.staff(city.committee_a)),
        f"/api/v1/drivers/{driver.pk}/membership:declare",
        {"category": "full", "branch_id": city.branch_b.pk},
    )
    body = _error(response, 404, "not_found")
    assert body["details"] == {"field": "branch_id"}
    assert not Membership.objects.filter(driver=driver).exists()


# Reveal --------------------------------------------------------------------------------------


def test_reveal_returns_plaintext_once_and_audits_the_reason(city):
    driver = city.driver()
    staff = testing.staff(city.committee_a)
    response = _post(
        _client(staff),
        f"/api/v1/drivers/{driver.pk}:reveal",
        {"field": "license_no", "reason": "insurance claim"},
    )
    assert response.status_code == 200
    assert response.json() == {"field": "license_no", "value": driver.license_no}
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="driver.reveal.license_no")
    assert entry.actor == staff and entry.reason == "insurance claim"
    assert driver.license_no not in f"{entry.summary}{entry.data}"


def test_reveal_needs_the_reveal_permission(city):
    driver = city.driver()
    viewer = testing.staff(city.committee_a, role="viewer")
    response = _post(
        _client(viewer),
        f"/api/v1/drivers/{driver.pk}:reveal",
        {"field": "phone", "reason": "curious"},
    )
    _error(response, 404)
    assert not AuditEntry.objects.filter(action__startswith="driver.reveal").exists()


# The driver themselves -----------------------------------------------------------------------


def test_me_and_badge_consent(city):
    driver = city.member()
    client = _client(driver.user)
    body = client.get("/api/v1/me").json()
    assert body["id"] == driver.pk and body["badge"] is False
    response = client.put(
        "/api/v1/me/badge-consent", json.dumps({"consented": True}), content_type="application/json"
    )
    assert response.json()["consented"] is True and response.json()["badge"] is True
    assert client.get("/api/v1/me").json()["badge"] is True


def test_badge_consent_needs_a_verified_membership(city):
    driver = city.member(verified=False)
    response = _client(driver.user).put(
        "/api/v1/me/badge-consent", json.dumps({"consented": True}), content_type="application/json"
    )
    _error(response, 409, "not_verified")
    driver.refresh_from_db()
    assert driver.badge_consent is False


def test_badge_consent_body_must_be_a_boolean(city):
    driver = city.member()
    response = _client(driver.user).put(
        "/api/v1/me/badge-consent",
        json.dumps({"consented": "maybe"}),
        content_type="application/json",
    )
    _error(response, 400, "invalid_request")
    driver.refresh_from_db()
    assert driver.badge_consent is False


def test_me_is_404_for_staff_without_a_driver_record(city):
    _error(_client(testing.staff(city.committee_a)).get("/api/v1/me"), 404)


# Platform badge lookup (served by redwheel/scoring/api.py; more in scoring/tests) ----------


def _token(city, platform, scopes=("badges:read",)):
    return token_create(actor=city.admin, platform=platform, name="app", scopes=list(scopes))


def _lookup(secret, license_ids):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return Client().post(
        "/api/v1/badges:lookup",
        json.dumps({"license_ids": license_ids}),
        content_type="application/json",
        **headers,
    )


def _consent(driver, consented=True):
    return services.badge_consent_set(actor=driver.user, driver=driver, consented=consented)


def _badges(response):
    assert response.status_code == 200, response.content
    return {row["license_id"]: (row["known"], row["badge"]) for row in response.json()["results"]}


def test_badge_lookup_answers_only_for_the_platforms_own_drivers(city):
    shown = _consent(city.member(platform=city.platform_a))
    quiet = city.member(platform=city.platform_a)
    plain = city.driver(platform=city.platform_a)
    other = _consent(city.member(platform=city.platform_b))
    _token_a, secret = _token(city, city.platform_a)
    ids = [
        shown.license_no,
        quiet.license_no,
        plain.license_no,
        other.license_no,
        testing.id_number(999_999),
    ]
    assert _badges(_lookup(secret, ids)) == {
        shown.license_no: (True, True),
        quiet.license_no: (True, False),
        plain.license_no: (True, False),
        other.license_no: (False, False),
        ids[4]: (False, False),
    }
    _token_b, secret_b = _token(city, city.platform_b)
    assert _badges(_lookup(secret_b, [shown.license_no, other.license_no])) == {
        shown.license_no: (False, False),
        other.license_no: (True, True),
    }


def test_badge_lookup_keeps_order_and_duplicates(city):
    driver = _consent(city.member())
    _token_a, secret = _token(city, city.platform_a)
    rows = _lookup(secret, [driver.license_no, "X1", driver.license_no]).json()["results"]
    assert [row["license_id"] for row in rows] == [driver.license_no, "X1", driver.license_no]
    assert [row["badge"] for row in rows] == [True, False, True]


def test_withdrawing_consent_hides_the_badge_in_the_next_lookup(city):
    driver = _consent(city.member())
    _token_a, secret = _token(city, city.platform_a)
    assert _badges(_lookup(secret, [driver.license_no]))[driver.license_no] == (True, True)
    response = _client(driver.user).put(
        "/api/v1/me/badge-consent",
        json.dumps({"consented": False}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert _badges(_lookup(secret, [driver.license_no]))[driver.license_no] == (True, False)


def test_verification_changes_flip_the_badge(city):
    driver = _consent(city.member())
    _token_a, secret = _token(city, city.platform_a)
    assert _badges(_lookup(secret, [driver.license_no]))[driver.license_no] == (True, True)
    _post(
        _client(testing.staff(city.committee_a)),
        f"/api/v1/memberships/{driver.membership.pk}:lapse",
        {"reason": "left the party"},
    )
    assert _badges(_lookup(secret, [driver.license_no]))[driver.license_no] == (True, False)


def test_a_verified_activist_gets_no_badge(city):
    driver = city.member(category="activist")
    Driver.objects.filter(pk=driver.pk).update(badge_consent=True)  # even if the flag were set
    _token_a, secret = _token(city, city.platform_a)
    assert _badges(_lookup(secret, [driver.license_no]))[driver.license_no] == (True, False)


def test_badge_lookup_authentication(city):
    driver = city.member()
    _error(_lookup(None, [driver.license_no]), 401, "unauthorized")
    _error(_lookup("rw_wrong", [driver.license_no]), 401, "unauthorized")
    token, secret = _token(city, city.platform_a)
    token_revoke(actor=city.admin, token=token)
    _error(_lookup(secret, [driver.license_no]), 401, "unauthorized")
    _t, scores_only = _token(city, city.platform_a, scopes=["scores:read"])
    _error(_lookup(scores_only, [driver.license_no]), 403, "missing_scope")
    response = Client().post(
        "/api/v1/badges:lookup",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {secret}",
    )
    _error(response, 401, "unauthorized")


def test_a_session_is_not_enough_for_badge_lookup(city):
    driver = city.member()
    response = _client(city.admin).post(
        "/api/v1/badges:lookup",
        json.dumps({"license_ids": [driver.license_no]}),
        content_type="application/json",
    )
    _error(response, 401)


def test_badge_lookup_size_limit(city, django_assert_max_num_queries):
    _token_a, secret = _token(city, city.platform_a)
    ids = [testing.id_number(n) for n in range(501)]
    body = _error(_lookup(secret, ids), 400, "invalid_request")
    assert body["details"]["errors"]
    with django_assert_max_num_queries(3):  # token, last-used stamp, one lookup
        assert len(_badges(_lookup(secret, ids[:500]))) == 500


@pytest.mark.parametrize(
    "body",
    [{}, {"license_ids": "510107199001010011"}, {"license_ids": [""]}, {"license_ids": [123]}],
)
def test_badge_lookup_malformed_body(city, body):
    _token_a, secret = _token(city, city.platform_a)
    response = Client().post(
        "/api/v1/badges:lookup",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    _error(response, 400, "invalid_request")


# OpenAPI -------------------------------------------------------------------------------------


def test_openapi_schema_renders_and_lists_the_endpoints():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/units",
        "/api/v1/units/{id}",
        "/api/v1/platforms",
        "/api/v1/drivers",
        "/api/v1/drivers/{id}",
        "/api/v1/drivers/{id}:reveal",
        "/api/v1/drivers/{id}/membership:declare",
        "/api/v1/memberships/{id}:verify",
        "/api/v1/memberships/{id}:reject",
        "/api/v1/memberships/{id}:lapse",
        "/api/v1/memberships/{id}:transfer",
        "/api/v1/memberships/{id}:check-in",
        "/api/v1/me",
        "/api/v1/me/badge-consent",
        "/api/v1/badges:lookup",
    ]:
        assert path in paths, path
    lookup = paths["/api/v1/badges:lookup"]["post"]
    assert lookup["security"] == [{"PlatformTokenAuth": []}]
    schemes = response.json()["components"]["securitySchemes"]
    assert schemes["PlatformTokenAuth"]["scheme"] == "bearer"
