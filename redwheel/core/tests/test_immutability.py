"""Activity and audit rows are protected: PROTECT foreign keys on every database, and on
PostgreSQL a trigger that refuses UPDATE and DELETE whatever the client."""

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, models, transaction

from redwheel.appeals import services as appeals
from redwheel.appeals.models import Activity, Case
from redwheel.core import audit, immutability
from redwheel.core.models import AuditEntry, ImmutableModel
from redwheel.dispatch import services as dispatch
from redwheel.dispatch.models import RuleSetActivity
from redwheel.drivers.imports import services as imports
from redwheel.drivers.models import ImportJobActivity, MembershipActivity

pytestmark = pytest.mark.django_db


def postgres_only(test):
    skip = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
    return pytest.mark.postgres(skip(test))


def _immutable_models():
    return [m for m in apps.get_models() if issubclass(m, ImmutableModel)]


@pytest.fixture
def rows(city):
    """One parent with activity rows of each kind the tests touch."""
    member = city.member()
    case, _created = appeals.case_file(
        actor=member.user,
        driver=member,
        category="income",
        title="抽成过高",
        description="本月抽成超过上限。",
        channel=Case.Channel.APP,
    )
    rule_set = dispatch.ruleset_create(
        actor=city.admin, city=city.root, name="规则", version="1", parameters={}
    )
    job = imports.import_upload(
        actor=city.admin,
        kind="drivers",
        unit=city.branch_a,
        uploaded_file=SimpleUploadedFile("roster.csv", "姓名,身份证号,手机号,平台\n".encode()),
        enqueue=False,
    )
    return {
        "membership": member.membership,
        "case": case,
        "rule_set": rule_set,
        "job": job,
        "driver": member,
    }


def test_every_activity_row_protects_its_parent():
    """Django's deletion collector would otherwise delete the rows with their parent,
    whatever the immutable queryset says."""
    loose = [
        f"{model._meta.label}.{field.name}"
        for model in _immutable_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.remote_field.on_delete is not models.PROTECT
    ]
    assert loose == []


@pytest.mark.parametrize("parent", ["membership", "case", "rule_set", "job", "driver"])
def test_deleting_a_parent_with_activity_rows_is_refused(rows, parent):
    obj = rows[parent]
    with pytest.raises(models.ProtectedError), transaction.atomic():
        obj.delete()
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_the_new_activity_rows_are_written(rows):
    assert list(rows["rule_set"].activities.values_list("action", flat=True)) == ["create"]
    assert list(rows["job"].activities.values_list("action", "to_status")) == [
        ("upload", "uploaded")
    ]


def _refused(sql: str, params) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        assert "append-only" in str(exc)
        return True
    return False


@pytest.mark.parametrize(
    ("model", "parent", "column"),
    [
        (MembershipActivity, "membership", "note"),
        (Activity, "case", "note"),
        (RuleSetActivity, "rule_set", "note"),
        (ImportJobActivity, "job", "note"),
        (AuditEntry, None, "summary"),
    ],
)
@postgres_only
def test_raw_update_and_delete_are_refused_by_the_database(rows, model, parent, column):
    table = connection.ops.quote_name(model._meta.db_table)
    row = model.objects.filter(**({parent: rows[parent]} if parent else {})).first()
    assert row is not None
    assert _refused(f"UPDATE {table} SET {column} = %s WHERE id = %s", ["changed", row.pk])
    assert _refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    assert model.objects.filter(pk=row.pk).exists()
    assert getattr(model.objects.get(pk=row.pk), column) != "changed"


@postgres_only
def test_every_immutable_table_has_the_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = c.relname || '_append_only'"
        )
        covered = {name for (name,) in cursor.fetchall()}
    tables = immutability.immutable_tables()
    assert {m._meta.db_table for m in _immutable_models()} <= set(tables)
    assert set(tables) - covered == set()


@postgres_only
def test_installing_again_adds_nothing(rows):
    assert immutability.install() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_truncate_still_empties_the_tables():
    """The test database flush and `demo --fresh` rely on it (committed rows, no trigger)."""
    audit.record(actor=None, action="test.truncate")
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(AuditEntry._meta.db_table)}")
    assert not AuditEntry.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_migrate_lifts_the_triggers_and_puts_them_back(city):
    """So data migrations may rewrite rows; code driving the executor does the same."""
    member = city.member()
    row = member.membership.activities.first()
    table = connection.ops.quote_name(MembershipActivity._meta.db_table)
    update = f"UPDATE {table} SET note = %s WHERE id = %s"
    try:
        assert set(immutability.immutable_tables()) <= set(immutability.lift())
        assert not _refused(update, ["rewritten by a migration", row.pk])
    finally:
        assert set(immutability.install()) == set(immutability.immutable_tables())
    assert _refused(update, ["changed", row.pk])
    assert MembershipActivity.objects.get(pk=row.pk).note == "rewritten by a migration"
