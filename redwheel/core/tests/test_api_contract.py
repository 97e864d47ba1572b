"""The API's contract beyond single endpoints: the OpenAPI schema names each component once and
documents every error answer, and every error under /api/v1/ has the one JSON shape."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja.openapi.schema import OpenAPISchema, get_schema

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.api import api

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "message", "details"}


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == ERROR_KEYS
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def published(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _property(schema: dict, node: dict, name: str) -> dict:
    prop = _resolve(schema, node)["properties"][name]
    options = prop.get("anyOf", [prop])  # `X | None` is anyOf [X, null]
    return _resolve(schema, next(o for o in options if o.get("type") != "null"))


# Schema ----------------------------------------------------------------------------------------


def test_each_component_name_stands_for_one_definition(monkeypatch):
    seen: dict[str, list[dict]] = {}
    original = OpenAPISchema.add_schema_definitions

    def record(self, definitions):
        for name, definition in definitions.items():
            seen.setdefault(name, []).append(json.dumps(definition, sort_keys=True))
        return original(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", record)
    get_schema(api, path_prefix="/api/v1/")
    collisions = {name: defs for name, defs in seen.items() if len(set(defs)) > 1}
    assert not collisions, f"component names used for different definitions: {list(collisions)}"
    assert {"UnitKind", "PlatformKind", "MembershipCategory", "AppealCategory", "Error"} <= set(
        seen
    )


def test_every_reference_resolves(published):
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(published["paths"])
    walk(published["components"])
    assert refs and set(refs) <= set(published["components"]["schemas"])


def test_enums_carry_their_own_values(published):
    paths = published["paths"]

    def response_item(path):
        page = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        items = _property(published, page, "items")
        return items["items"]

    def request_body(path):
        return paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]

    unit_kind = _property(published, response_item("/api/v1/units"), "kind")
    assert unit_kind["enum"] == [
        "committee",
        "enterprise_committee",
        "general_branch",
        "branch",
        "group",
    ]
    platform_kind = _property(published, response_item("/api/v1/platforms"), "kind")
    assert platform_kind["enum"] == ["platform", "aggregator", "leasing"]
    membership_category = _property(
        published, request_body("/api/v1/drivers/{id}/membership:declare"), "category"
    )
    assert membership_category["enum"] == [
        "full",
        "probationary",
        "activist",
        "candidate",
        "applicant",
    ]
    appeal_category = _property(published, request_body("/api/v1/appeals"), "category")
    assert appeal_category["enum"] == [
        "income",
        "dispatch",
        "penalty",
        "insurance",
        "facilities",
        "safety",
        "rules",
        "other",
    ]
    assert unit_kind != platform_kind and membership_category != appeal_category


def test_every_operation_documents_its_errors_with_the_error_shape(published):
    error = published["components"]["schemas"]["Error"]
    assert set(error["required"]) == ERROR_KEYS
    undocumented = []
    for path, operations in published["paths"].items():
        for method, operation in operations.items():
            if path == "/api/v1/ping":  # no parameters, no authentication: nothing can fail
                continue
            responses = operation["responses"]
            errors = {code for code in responses if code >= "400"}
            if not {"400", "401", "403"} <= errors:
                undocumented.append(f"{method.upper()} {path}")
            for code in errors:
                schema = responses[code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, code)
    assert not undocumented
    paths = published["paths"]
    assert "404" in paths["/api/v1/units/{id}"]["get"]["responses"]
    assert "409" in paths["/api/v1/memberships/{id}:verify"]["post"]["responses"]
    assert "429" in paths["/api/v1/badges:lookup"]["post"]["responses"]


# The one error shape ---------------------------------------------------------------------------


@pytest.fixture
def staff_client(city):
    client = Client(enforce_csrf_checks=True)
    client.force_login(testing.staff(city.root, "staff"))
    return client


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_paths_answer_404_in_the_error_shape(staff_client, method):
    for path in ("/api/v1/nope", "/api/v1/drivers/1/nope", "/api/v1/units/", "/api/v1/x:y"):
        # POST without a CSRF token too: an unknown path is a 404, not Django's CSRF page.
        _error(getattr(staff_client, method)(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/drivers/abc", "/api/v1/units/1.5", "/api/v1/units/-1"])
def test_ids_that_are_not_integers_answer_404_in_the_error_shape(staff_client, path):
    _error(staff_client.get(path), 404, "not_found")


def test_a_wrong_method_answers_405_with_allow(staff_client):
    response = staff_client.delete("/api/v1/units")
    body = _error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    assert body["details"] == {"allowed": ["GET"]}
    _error(staff_client.get("/api/v1/memberships/1:verify"), 405, "method_not_allowed")


def test_a_missing_csrf_token_answers_403_in_the_error_shape(staff_client):
    response = staff_client.post(
        "/api/v1/memberships/1:verify", data="{}", content_type="application/json"
    )
    _error(response, 403, "csrf_failed")


@pytest.mark.parametrize("path", ["/api/v1/units", "/api/v1/platforms", "/api/v1/drivers"])
@pytest.mark.parametrize(
    "query",
    [
        "page=9223372036854775807",
        "page=99999999999999999999999999",
        "page=1000001",
        "page=0",
        "page=abc",
        "page_size=9223372036854775807",
    ],
)
def test_absurd_pages_answer_400_in_the_error_shape(staff_client, path, query):
    body = _error(staff_client.get(f"{path}?{query}"), 400, "invalid_request")
    assert body["details"]["errors"][0]["loc"][0] == "query"


def test_a_body_over_the_upload_limit_answers_400_in_the_error_shape(client, city, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="t", scopes=["exchange:write"]
    )
    response = client.post(
        "/api/v1/exchange/orderCreate",
        data=json.dumps([{"OrderId": "x" * 2000}]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    _error(response, 400, "request_too_large")


def test_the_last_allowed_page_is_an_empty_page(staff_client):
    response = staff_client.get("/api/v1/units?page=1000000&page_size=1000")
    assert response.status_code == 200
    assert response.json()["items"] == []


# Unsafe text in API input ----------------------------------------------------------------------

UNSAFE_CHARACTERS = st.sampled_from(
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ud800", "\udbff", "\udfff"]
)


@st.composite
def unsafe_text(draw):
    text = draw(st.text(st.characters(codec="utf-8"), max_size=20))
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(UNSAFE_CHARACTERS) + text[at:]


@pytest.fixture
def membership(city):
    return city.member("党员", verified=False).membership


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(note=unsafe_text())
def test_api_bodies_refuse_unsafe_text_with_a_field_error(client, city, membership, note):
    client.force_login(city.admin)
    response = client.post(
        f"/api/v1/memberships/{membership.pk}:verify",
        data=json.dumps({"note": note}),  # ensure_ascii: lone surrogates travel as \ud800
        content_type="application/json",
    )
    body = _error(response, 400, "invalid_request")
    assert [e["loc"] for e in body["details"]["errors"]] == [["body", "payload", "note"]]
    membership.refresh_from_db()
    assert membership.state == "declared"


def test_tabs_and_newlines_are_ordinary_text(client, city, membership):
    client.force_login(city.admin)
    response = client.post(
        f"/api/v1/memberships/{membership.pk}:verify",
        data=json.dumps({"note": "第一行\n\t第二行\r\n"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "verified"


@pytest.mark.parametrize("q", ["%00", "a%01b", "%1F"])
def test_query_filters_refuse_unsafe_text(client, city, q):
    client.force_login(city.admin)
    body = _error(client.get(f"/api/v1/drivers?q={q}"), 400, "invalid_request")
    assert body["details"]["errors"][0]["loc"] == ["query", "q"]


def test_platform_bodies_path_ids_and_headers_refuse_unsafe_text(client, city):
    driver = city.driver()
    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="t", scopes=["appeals:write"]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    appeal = {
        "license_id": testing.id_number(1001),
        "category": "income",
        "title": "抽成\ud800过高",
        "description": "说明",
    }
    response = client.post(
        "/api/v1/appeals", data=json.dumps(appeal), content_type="application/json", **auth
    )
    body = _error(response, 400, "invalid_request")
    assert body["details"]["errors"][0]["loc"] == ["body", "payload", "title"]
    _error(client.get("/api/v1/appeals/SQ%00", **auth), 400, "invalid_request")
    appeal["title"] = "抽成过高"
    appeal["license_id"] = driver.license_no
    response = client.post(
        "/api/v1/appeals",
        data=json.dumps(appeal),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key\x01",
        **auth,
    )
    _error(response, 400, "unsafe_text")
