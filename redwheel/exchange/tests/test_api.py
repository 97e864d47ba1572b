"""The batch API over HTTP: auth, errors, response shape, and fuzzing (never a 500)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redwheel.accounts.services import token_create
from redwheel.exchange.models import IngestBatch, Rejection, Trip
from redwheel.exchange.records import RECORD_TYPES, SPECS
from redwheel.exchange.tests.examples import example

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(city):
    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="feed", scopes=["exchange:write"]
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client, record_type, body, auth, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/exchange/{record_type}",
        data=data,
        content_type="application/json",
        **auth,
        **extra,
    )


def test_a_batch_answers_counts_and_rejections(client, city, auth):
    company = city.platform_a.company_id
    records = [example("orderCreate", company, order_id=f"O{n}") for n in range(3)]
    records[1]["OrderTime"] = "2024-03-15"
    records.append(example("orderCreate", city.platform_b.company_id, order_id="X"))
    response = post(client, "orderCreate", records, auth, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "batch_id",
        "record_type",
        "received",
        "accepted",
        "unchanged",
        "rejected",
        "rejections",
    }
    assert (body["received"], body["accepted"], body["unchanged"], body["rejected"]) == (4, 2, 0, 2)
    assert body["rejections"][0] == {
        "index": 1,
        "field": "OrderTime",
        "code": "bad_time",
        "message": body["rejections"][0]["message_en"],
        "message_zh": "时间格式应为 YYYYMMDDhhmmss（F14）。",
        "message_en": "The time must be YYYYMMDDhhmmss (F14).",
    }
    assert body["rejections"][1]["code"] == "foreign_company"
    assert IngestBatch.objects.get(pk=body["batch_id"]).source == "api"
    again = post(client, "orderCreate", records, auth).json()
    assert (again["accepted"], again["unchanged"]) == (0, 2)
    assert Trip.objects.filter(platform=city.platform_b).count() == 0


def test_chinese_is_the_default_language(client, city, auth):
    record = example("ratedDriver", city.platform_a.company_id) | {"Level": 9}
    body = post(client, "ratedDriver", [record], auth, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["rejections"][0]["message"] == body["rejections"][0]["message_zh"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "invalid_json"),
        ({"OrderId": "1"}, "not_an_array"),
        ("null", "not_an_array"),
        ([], "empty_batch"),
    ],
)
def test_bodies_that_are_not_a_batch_answer_400(client, auth, body, code):
    response = post(client, "orderCreate", body, auth)
    assert response.status_code == 400
    assert response.json()["code"] == code and "message" in response.json()


def test_batch_limit(client, city, auth, settings):
    settings.EXCHANGE_MAX_BATCH = 3
    records = [
        example("orderCreate", city.platform_a.company_id, order_id=f"O{n}") for n in range(4)
    ]
    response = post(client, "orderCreate", records, auth)
    assert response.status_code == 400 and response.json()["code"] == "batch_too_large"
    assert not Trip.objects.exists()
    assert post(client, "orderCreate", records[:3], auth).status_code == 200


def test_unknown_record_type_is_404(client, auth):
    response = post(client, "positionVehicles", [{}], auth)
    assert response.status_code == 404 and response.json()["code"] == "unknown_record_type"


def test_token_problems(client, city):
    record = [example("orderCreate", city.platform_a.company_id)]
    assert post(client, "orderCreate", record, {}).status_code == 401
    wrong = {"HTTP_AUTHORIZATION": "Bearer rw_nope"}
    assert post(client, "orderCreate", record, wrong).status_code == 401
    _t, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="badges", scopes=["badges:read"]
    )
    response = post(client, "orderCreate", record, {"HTTP_AUTHORIZATION": f"Bearer {secret}"})
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    assert not IngestBatch.objects.exists()


# Fuzzing ---------------------------------------------------------------------------------

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.text(min_size=600, max_size=2000),
    st.sampled_from(["20240315083000", "20241315083000", "510107", "1", "3", "", " "]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def record_for(draw, record_type, company):
    record = example(record_type, company)
    for name in draw(st.lists(st.sampled_from(sorted(SPECS[record_type])), max_size=4)):
        if draw(st.booleans()):
            record[name] = draw(json_value)
        else:
            record.pop(name, None)
    return record


@st.composite
def batch(draw, company):
    record_type = draw(st.sampled_from(RECORD_TYPES))
    records = draw(
        st.lists(st.one_of(record_for(record_type, company), json_value), min_size=1, max_size=6)
    )
    return record_type, records


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_batches_never_fail_with_a_server_error(client, city, auth, data):
    company = city.platform_a.company_id
    record_type, records = data.draw(batch(company))
    batches = IngestBatch.objects.count()
    response = post(client, record_type, records, auth)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["received"] == len(records)
    assert body["accepted"] + body["unchanged"] + body["rejected"] == len(records)
    assert [r["index"] for r in body["rejections"]] == sorted(
        r["index"] for r in body["rejections"]
    )
    for rejection in body["rejections"]:
        assert set(rejection) == {"index", "field", "code", "message", "message_zh", "message_en"}
        assert not isinstance(records[rejection["index"]], dict) or rejection["field"]
    assert IngestBatch.objects.count() == batches + 1
    assert Rejection.objects.filter(batch_id=body["batch_id"]).count() == body["rejected"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_value)
def test_fuzzed_bodies_answer_200_or_400(client, auth, body):
    batches = IngestBatch.objects.count()
    response = post(client, "operatePay", body, auth)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(response.json()) == {"code", "message", "details"}
        assert IngestBatch.objects.count() == batches


def test_deeply_nested_and_huge_bodies_answer_400_or_200(client, auth):
    deep = "[" * 100_000 + "]" * 100_000
    assert post(client, "operatePay", deep, auth).status_code == 400
    huge = [{"CompanyId": "x" * 100_000, "OrderId": {"a": [1] * 1000}}]
    response = post(client, "operatePay", huge, auth)
    assert response.status_code == 200 and response.json()["rejected"] == 1


def test_admin_lists_batches_and_rejections(client, city, auth):
    record = example("ratedDriver", city.platform_a.company_id) | {"Level": 9}
    batch_id = post(client, "ratedDriver", [record], auth).json()["batch_id"]
    client.force_login(city.admin)
    assert client.get("/admin/exchange/ingestbatch/").status_code == 200
    page = client.get(f"/admin/exchange/ingestbatch/{batch_id}/change/")
    assert page.status_code == 200 and "bad_number" in page.content.decode()
    assert record["LicenseId"] not in page.content.decode()
    for name in ("rejection", "unknowndriver", "trip", "rating", "latestposition"):
        assert client.get(f"/admin/exchange/{name}/").status_code == 200
