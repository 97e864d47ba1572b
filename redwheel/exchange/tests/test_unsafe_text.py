"""Exchange records with NUL, control characters or lone surrogates in a text field are
rejected one by one (`unsafe_text`); the rest of the batch is stored as usual."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redwheel.accounts.services import token_create
from redwheel.exchange import validation
from redwheel.exchange.models import Rejection, Trip
from redwheel.exchange.records import RECORD_TYPES, SPECS
from redwheel.exchange.tests.examples import example

pytestmark = pytest.mark.django_db

UNSAFE = ["\x00", "\x01", "\x07", "\x0b", "\x1b", "\x1f", "\ud800", "\udc00", "\udfff"]
TEXT_FIELDS = [
    (record_type, name)
    for record_type in RECORD_TYPES
    for name, spec in SPECS[record_type].items()
    if spec.kind == "str"
]


def _safe(text: str) -> bool:
    """The rule spelled out independently of core.validators."""
    return not any(
        (ord(c) < 0x20 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF for c in text
    )


@pytest.fixture
def auth(city):
    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="feed", scopes=["exchange:write"]
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client, record_type, records, auth):
    return client.post(
        f"/api/v1/exchange/{record_type}",
        data=json.dumps(records),  # ensure_ascii: a lone surrogate travels as "\ud800"
        content_type="application/json",
        **auth,
    )


def test_one_bad_record_never_loses_the_others(client, city, auth):
    company = city.platform_a.company_id
    records = [example("orderCreate", company, order_id=f"OK{n}") for n in range(3)]
    records.insert(1, example("orderCreate", company, order_id="BAD\ud800"))
    records.insert(3, example("orderCreate", company, order_id="NUL\x00"))
    records.append(example("orderCreate", company, order_id="ESC") | {"Departure": "天府\x1b广场"})
    records.append(example("orderCreate", company, order_id="TAB") | {"Departure": "天府\t广场"})

    response = post(client, "orderCreate", records, auth)

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (7, 4, 3)
    assert [(r["index"], r["field"], r["code"]) for r in body["rejections"]] == [
        (1, "OrderId", "unsafe_text"),
        (3, "OrderId", "unsafe_text"),
        (5, "Departure", "unsafe_text"),
    ]
    assert body["rejections"][0]["message_en"] == (
        "The text contains a control character or an invalid character (such as NUL)."
    )
    assert body["rejections"][0]["message_zh"] == "文本含有控制字符或无效字符（如 NUL）。"
    stored = set(Trip.objects.filter(platform=city.platform_a).values_list("order_id", flat=True))
    assert stored == {"OK0", "OK1", "OK2", "TAB"}
    rejected = Rejection.objects.filter(batch_id=body["batch_id"]).order_by("index")
    assert [r.code for r in rejected] == ["unsafe_text"] * 3
    assert rejected[0].excerpt["OrderId"] == "BAD"  # shown without what could not be stored
    assert rejected[1].excerpt["OrderId"] == "NUL"


def test_unsafe_keys_and_ignored_fields_only_reach_the_excerpt(client, city, auth):
    company = city.platform_a.company_id
    bad = example("orderCreate", company, order_id="K1") | {"\ud800Extra\x00": "\udfff", "X": 1}
    bad["OrderTime"] = "not a time"  # rejected for another reason; its excerpt is stored
    response = post(client, "orderCreate", [bad], auth)
    assert response.status_code == 200
    rejection = Rejection.objects.get(batch_id=response.json()["batch_id"])
    assert rejection.code == "bad_time"
    assert "Extra" in rejection.excerpt and rejection.excerpt["Extra"] == ""
    assert all(_safe(key) and _safe(str(value)) for key, value in rejection.excerpt.items())


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(TEXT_FIELDS),
    prefix=st.text(max_size=5),
    bad=st.sampled_from(UNSAFE),
    suffix=st.text(max_size=5),
)
def test_every_text_field_of_every_record_type_refuses_unsafe_text(field, prefix, bad, suffix):
    record_type, name = field
    record = example(record_type, "PA1")
    record[name] = (prefix + bad + suffix)[: SPECS[record_type][name].max_len]
    if _safe(record[name]):  # the cut dropped the bad character
        return
    valid, rejected = validation.validate_batch(record_type, [record], "PA1")
    assert valid == []
    assert [(r["field"], r["code"]) for r in rejected] == [(name, "unsafe_text")]
    assert all(_safe(key) and _safe(value) for key, value in rejected[0]["excerpt"].items())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(st.characters(blacklist_categories=["Cs"]) | st.sampled_from(UNSAFE)))
def test_any_text_in_a_batch_answers_200(client, city, auth, text):
    company = city.platform_a.company_id
    records = [
        example("orderCreate", company, order_id="FIXED"),
        example("orderCreate", company, order_id=f"T{len(text)}") | {"Departure": text[:128]},
    ]
    body = post(client, "orderCreate", records, auth).json()
    assert body["received"] == 2
    assert body["accepted"] + body["unchanged"] + body["rejected"] == 2
    assert body["rejected"] == (0 if _safe(text[:128]) else 1)
