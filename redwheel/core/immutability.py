"""Append-only tables, enforced by the database on PostgreSQL.

`ImmutableModel` refuses edits and deletes through the ORM, but raw SQL, a shell or another
client would not ask it. After every `migrate` (and `flush`), a trigger is put on the table of
every concrete `ImmutableModel` subclass that refuses UPDATE and DELETE of its rows, so a new
immutable model is covered without further code. TRUNCATE fires no row trigger: the test
database flush and `manage.py demo --fresh` still empty these tables.

`migrate` lifts the triggers before it runs the migrations (`pre_migrate`) and puts them back
after (`post_migrate`), so a data migration, or the UPDATE Django itself issues when a column
becomes NOT NULL, may rewrite such rows. Code that runs migrations without the command (a
test driving the MigrationExecutor) calls `lift()` first and `install()` after.
"""

from django.apps import apps
from django.db import connections

from redwheel.core.models import ImmutableModel

FUNCTION = "redwheel_append_only"

# restrict_violation (class 23, integrity): Django raises it as IntegrityError.
_CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def immutable_tables() -> list[str]:
    """The tables of every concrete, managed ImmutableModel (proxies share their table)."""
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if issubclass(model, ImmutableModel) and model._meta.managed and not model._meta.proxy
        }
    )


def trigger_name(table: str) -> str:
    return f"{table}_append_only"[:63]


def install(using: str = "default") -> list[str]:
    """Create the function and any missing trigger; returns the tables that got one."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    added = []
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_FUNCTION)
        for table in immutable_tables():
            if table not in existing:  # a partial migrate (to an older state)
                continue
            name = trigger_name(table)
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                [connection.ops.quote_name(table), name],
            )
            if cursor.fetchone():
                continue
            cursor.execute(
                f"CREATE TRIGGER {connection.ops.quote_name(name)} "
                f"BEFORE UPDATE OR DELETE ON {connection.ops.quote_name(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
            added.append(table)
    return added


def lift(using: str = "default") -> list[str]:
    """Drop every append-only trigger (of any table, current models or not); returns the
    tables that had one."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE p.proname = %s",
            [FUNCTION],
        )
        found = cursor.fetchall()
        quote = connection.ops.quote_name
        for table, name in found:
            cursor.execute(f"DROP TRIGGER {quote(name)} ON {quote(table)}")
    return sorted(table for table, _name in found)


def lift_before_migrate(sender, using="default", **kwargs) -> None:
    """pre_migrate receiver (connected for the core app: sent before any migration runs)."""
    lift(using)


def install_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate receiver (connected for the core app: sent once all migrations ran)."""
    install(using)
