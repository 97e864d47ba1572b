"""Blind-index key rotation: `rotate_pii_keys --reindex` moves every index column of every app to
the new key, so look-ups, trip → driver joins and unknown-driver resolution keep working."""

import base64
import hashlib
import hmac
from datetime import date

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from redwheel import testing
from redwheel.accounts.models import User
from redwheel.core.crypto import BlindIndexField, EncryptedTextField
from redwheel.core.management.commands.rotate_pii_keys import blind_indexed_models
from redwheel.drivers import selectors as driver_selectors
from redwheel.drivers.models import Driver
from redwheel.exchange import metrics, services
from redwheel.exchange.models import DriverMonthMetric, Trip, UnknownDriver
from redwheel.exchange.tests.examples import example

pytestmark = pytest.mark.django_db

NEW_KEY = "rotated-blind-index-key-2027-with-32+chars"
MARCH = date(2024, 3, 1)
PASSWORD = "pw-Secret-2026"
# One record type per fact table that references a driver by licence.
FACT_TYPES = [
    "operatePay",  # Trip
    "operateLogin",  # OnlineEvent
    "positionDriver",  # LatestPosition, PositionSample
    "ratedDriverPunish",  # Punishment
    "ratedDriver",  # CreditLevel
    "baseInfoDriverEducate",  # TrainingRecord
    "baseInfoDriverStat",  # DriverMonthStat
]


def index_under(key: str, value: str) -> str:
    """The blind index, computed here independently of core.crypto."""
    digest = hmac.new(key.encode(), value.strip().upper().encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode().rstrip("=").lower()


def push(city, record_type, license_no, order_id="ORD-0001"):
    platform = city.platform_a
    record = example(record_type, platform.company_id, license_no=license_no, order_id=order_id)
    result = services.ingest(
        actor=city.admin, platform=platform, record_type=record_type, records=[record], source="api"
    )
    assert result.accepted == 1, result.rejections


@pytest.fixture
def world(city):
    """A known driver with facts in every exchange table and a feed record, an account, and an
    unknown licence with a trip; the monthly snapshot computed. All under the current key."""
    driver = city.driver("老王")
    for n, record_type in enumerate(FACT_TYPES):
        push(city, record_type, driver.license_no, order_id=f"K-{n}")
    push(city, "baseInfoDriver", driver.license_no)  # a feed record (DriverFeedRecord)
    unknown_licence = testing.id_number(4242)
    push(city, "operatePay", unknown_licence, order_id="U-1")
    metrics.recompute_month(MARCH)
    account = testing.user("登录用户", PASSWORD, phone="13700004242")
    return {"driver": driver, "unknown": unknown_licence, "account": account}


def _values(model, field) -> set[str]:
    return set(
        model._base_manager.exclude(**{field.attname: ""}).values_list(field.attname, flat=True)
    )


def _rotate(settings, old_key, **options):
    settings.PII_BLIND_INDEX_KEY = NEW_KEY
    call_command(
        "rotate_pii_keys", reindex=True, old_blind_index_key=old_key, verbosity=0, **options
    )


def test_lookups_joins_and_unknown_drivers_work_after_rotation(settings, city, client, world):
    old_key = settings.PII_BLIND_INDEX_KEY
    driver, account = world["driver"], world["account"]
    _rotate(settings, old_key)

    # Exact look-ups by licence and by phone find the rows under the new key.
    committee = testing.staff(city.root)
    for number in (driver.license_no, driver.phone):
        assert list(driver_selectors.driver_list(committee, q=number)) == [driver]
    assert client.login(phone=account.phone, password=PASSWORD)

    # Facts still join their driver: a recomputation gives the same snapshot, linked.
    metrics.recompute_month(MARCH)
    metric = DriverMonthMetric.objects.get(license_index=index_under(NEW_KEY, driver.license_no))
    assert metric.driver_id == driver.pk and metric.completed_orders == 1
    trips = Trip.objects.filter(license_index=Driver.objects.get(pk=driver.pk).license_index)
    assert trips.filter(driver=driver).count() == 1

    # New facts about the known driver link to them at once.
    push(city, "operatePay", driver.license_no, order_id="K-after")
    assert Trip.objects.get(order_id="K-after").driver_id == driver.pk

    # The unknown licence resolves when its driver's base record arrives.
    unknown = UnknownDriver.objects.get()
    assert unknown.license_index == index_under(NEW_KEY, world["unknown"])
    push(city, "baseInfoDriver", world["unknown"])
    newcomer = Driver.objects.get(license_index=index_under(NEW_KEY, world["unknown"]))
    assert Trip.objects.get(order_id="U-1").driver_id == newcomer.pk
    unknown.refresh_from_db()
    assert unknown.resolved_at is not None


def test_every_blind_index_column_of_every_app_is_reindexed(settings, world):
    old_key = settings.PII_BLIND_INDEX_KEY
    models = blind_indexed_models()
    labels = {m._meta.label for m in models}
    # The exchange facts and both people tables are found by field type.
    assert {"accounts.User", "drivers.Driver", "exchange.Trip", "exchange.UnknownDriver"} <= labels
    assert {"exchange.PositionSample", "exchange.DriverMonthMetric"} <= labels
    plaintexts = [
        value
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
        for value in model._base_manager.values_list(field.attname, flat=True)
        if value
    ]
    before = {}
    for model in models:
        for field in model._meta.concrete_fields:
            if isinstance(field, BlindIndexField):
                before[model, field] = _values(model, field)
                # A table without rows here would pass unchecked: give it one in `world`.
                assert before[model, field], f"no rows in {model._meta.label}.{field.name}"

    _rotate(settings, old_key)

    old_indexes = {index_under(old_key, p) for p in plaintexts}
    new_indexes = {index_under(NEW_KEY, p) for p in plaintexts}
    for (model, field), values in before.items():
        assert values <= old_indexes, f"{model._meta.label}.{field.name} had an unexpected value"
        after = _values(model, field)
        assert after and after <= new_indexes, f"{model._meta.label}.{field.name} not re-indexed"
        assert len(after) == len(values)


def test_a_second_run_changes_nothing(settings, world):
    old_key = settings.PII_BLIND_INDEX_KEY
    _rotate(settings, old_key)
    snapshot = sorted(Trip.objects.values_list("order_id", "license_index", "driver_id"))
    users = sorted(User.objects.values_list("pk", "phone_index"))
    _rotate(settings, old_key)
    assert sorted(Trip.objects.values_list("order_id", "license_index", "driver_id")) == snapshot
    assert sorted(User.objects.values_list("pk", "phone_index")) == users


def test_a_wrong_or_missing_old_key_is_refused_and_changes_nothing(settings, world):
    before = sorted(Trip.objects.values_list("order_id", "license_index"))
    drivers = sorted(Driver.objects.values_list("pk", "license_index"))
    with pytest.raises(CommandError, match="match neither"):
        _rotate(settings, "not-the-old-key")
    settings.PII_OLD_BLIND_INDEX_KEY = ""
    with pytest.raises(CommandError, match="previous blind-index key"):
        _rotate(settings, None)
    assert sorted(Trip.objects.values_list("order_id", "license_index")) == before
    assert sorted(Driver.objects.values_list("pk", "license_index")) == drivers


def test_the_old_key_can_come_from_the_environment_setting(settings, world):
    settings.PII_OLD_BLIND_INDEX_KEY = settings.PII_BLIND_INDEX_KEY
    _rotate(settings, None)
    driver = world["driver"]
    assert Driver.objects.get(license_index=index_under(NEW_KEY, driver.license_no)) == driver
    assert Trip.objects.filter(license_index=index_under(NEW_KEY, driver.license_no)).exists()
