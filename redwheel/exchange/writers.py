"""Bulk upserts for exchange facts without building model instances.

`upsert(model, conflict, columns, rows, update=...)` writes `rows` (tuples in `columns` order)
with one cached `INSERT … ON CONFLICT (conflict) DO UPDATE SET col = excluded.col` (or
`DO NOTHING` when `update` is empty). Only the given columns are written: a new row gets the
database's value for the others, so callers pass every NOT NULL column for new rows (see
`services._Table`). SQLite runs the statement with `executemany` (one prepared statement);
PostgreSQL gets multi-row VALUES in chunks. Values are converted as Django would
(`Field.get_db_prep_save`) for date, datetime and decimal columns; the others are passed as
they are (str, int, float, None), which is what the ORM sends for those fields.

PostgreSQL rows are sent as one array per column (`INSERT … SELECT * FROM unnest(%s::type[],
…)`): the statement text stays small, so psycopg's client-side parameter merging (which
re-parses query strings longer than 4 kB on every call) does not scale with the batch.
`one_of(name, values)` is the matching filter for loading a batch's rows: `name = ANY(%s)` on
PostgreSQL, `name IN (…)` elsewhere.

This replaces `bulk_create(update_conflicts=True)`, whose per-instance and per-value SQL
compilation dominated ingestion time for the 30-column Trip table.

PostgreSQL bulk path (`BULK_MIN_ROWS` rows or more): the rows are streamed with COPY into a
session-private staging table (`TEMPORARY … ON COMMIT DELETE ROWS`, one per table and column
set, created on first use and remembered per connection once its transaction commits), then
moved by one statement, `WITH moved AS (DELETE FROM staging RETURNING *) INSERT INTO table …
SELECT … FROM moved ORDER BY key ON CONFLICT (key) DO …`, in the caller's transaction: a
failed batch leaves neither staged nor written rows. The conflict target must be a unique
constraint in the model's Meta (checked when the statement is built), so a change of the
natural key surfaces as a clear error instead of a wrong upsert. `upsert(..., returning=...)`
gives back the conflict-key values of the rows actually inserted or updated (PostgreSQL only).
`copy_rows()` is a plain COPY into a table, the ceiling measured by bench/ingest.py.
"""

import hashlib
import weakref
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import F, Q

_CONVERTED = (models.DateTimeField, models.DateField, models.DecimalField)
_MAX_PARAMS = 30_000
_MAX_ROWS = 1_000
# Below this many rows one `unnest` statement beats COPY's extra round trips.
BULK_MIN_ROWS = 64
# Staging tables known to exist, per raw database connection (they live as long as it does).
_staged: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _set_clause(table: str, column: str, field, *, fill: bool, keep_stored: bool) -> str:
    """`column = …` of an upsert. A batch computes its rows from what it read at its start, so
    a value another batch stored meanwhile (a trip's match stage while its payment is merged)
    must survive: a fill column keeps a stored non-empty value, and with `keep_stored` an empty
    (NULL) new value keeps the stored one."""
    stored, new = f"{table}.{column}", f"excluded.{column}"
    if fill:
        if isinstance(field, models.CharField | models.TextField):
            return f"{column} = COALESCE(NULLIF({stored}, ''), {new})"
        return f"{column} = COALESCE({stored}, {new})"
    if keep_stored:
        return f"{column} = COALESCE({new}, {stored})"
    return f"{column} = {new}"


@lru_cache(maxsize=256)
def _statement(
    model,
    conflict: tuple,
    columns: tuple,
    update: tuple,
    vendor: str,
    only_if_newer: str,
    fill: frozenset = frozenset(),
    keep_stored: bool = False,
):
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    converters = []
    for name in columns:
        field = fields[name]
        if vendor == "postgresql" and isinstance(field, _CONVERTED):
            converters.append(_passed_or(field))
        elif isinstance(field, _CONVERTED):
            converters.append(_converted(field))
        else:
            converters.append(None)
    head = "INSERT INTO {} ({}) ".format(
        quote(model._meta.db_table), ", ".join(quote(fields[c].column) for c in columns)
    )
    if vendor == "postgresql":
        arrays = ", ".join(f"%s::{_array_type(fields[c])}" for c in columns)
        head += f"SELECT * FROM unnest({arrays})"
    else:
        head += "VALUES "
    target = ", ".join(quote(fields[c].column) for c in conflict)
    if update:
        table = quote(model._meta.db_table)
        sets = ", ".join(
            _set_clause(
                table,
                quote(fields[c].column),
                fields[c],
                fill=c in fill,
                keep_stored=keep_stored,
            )
            for c in update
        )
        tail = f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        if only_if_newer:
            column = quote(fields[only_if_newer].column)
            tail += f" WHERE {table}.{column} < excluded.{column}"
    else:
        tail = f" ON CONFLICT ({target}) DO NOTHING"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return head, row, tail, tuple(converters)


def upsert(
    model,
    conflict,
    columns,
    rows,
    update=(),
    only_if_newer: str = "",
    returning: bool = False,
    fill=(),
    keep_stored: bool = False,
) -> list[tuple] | None:
    """INSERT rows (tuples in `columns` order) ON CONFLICT (conflict) DO UPDATE SET update.

    With `only_if_newer` (a column), a conflicting row is updated only when the new value of
    that column is later than the stored one. Callers compare beforehand too, but only the
    statement itself sees rows committed meanwhile by a concurrent batch. Columns in `fill` are
    set only where the stored value is empty, and with `keep_stored` a NULL never replaces a
    stored value (`_set_clause`). With `returning` (PostgreSQL only) the conflict-key tuples of
    the rows inserted or updated are returned."""
    if returning and connection.vendor != "postgresql":
        raise NotImplementedError("upsert(returning=True) needs PostgreSQL")
    if not rows:
        return [] if returning else None
    conflict, columns, update = tuple(conflict), tuple(columns), tuple(update)
    _check_conflict_target(model, conflict)
    head, row, tail, converters = _statement(
        model,
        conflict,
        columns,
        update,
        connection.vendor,
        only_if_newer,
        frozenset(fill),
        keep_stored,
    )
    converting = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    if converting:
        # Column by column: one comprehension per converted column instead of a call per value.
        table = list(zip(*rows, strict=True))
        for i, conv in converting:
            table[i] = conv(table[i])
        rows = list(zip(*table, strict=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if returning or len(rows) >= BULK_MIN_ROWS:
                return _copy_upsert(cursor, model, conflict, columns, rows, tail, returning)
            # Rows are written in key order, so concurrent batches that share rows (two
            # position batches of the same drivers, a trip's match and pay stages) lock them
            # in the same order and wait for each other instead of deadlocking.
            keys = [columns.index(name) for name in conflict]
            rows = sorted(rows, key=lambda values: [values[i] for i in keys])
            cursor.execute(head + tail, [list(column) for column in zip(*rows, strict=True)])
        elif connection.vendor == "sqlite":
            cursor.executemany(head + row + tail, rows)
        else:
            size = max(1, min(_MAX_ROWS, _MAX_PARAMS // len(columns)))
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                params = [value for values in chunk for value in values]
                cursor.execute(head + ", ".join([row] * len(chunk)) + tail, params)


def _converted(field):
    """A column converter: Django's conversion of every value but None."""
    convert = field.get_db_prep_save

    def column(values):
        return [None if v is None else convert(v, connection) for v in values]

    return column


def _passed_or(field):
    """A column converter for PostgreSQL, which takes an aware datetime, a date and a finite
    Decimal as they are: that is what Django's conversion returns for them there
    (`DatabaseOperations.adapt_*`). Anything else goes through Django. Validation yields
    exactly those types, so this skips the conversion's per-value work on the hot path."""
    convert = field.get_db_prep_save
    if isinstance(field, models.DateTimeField):

        def column(values):
            return [
                v
                if v is None or (type(v) is datetime and v.tzinfo is not None)
                else convert(v, connection)
                for v in values
            ]

    elif isinstance(field, models.DateField):

        def column(values):
            return [v if v is None or type(v) is date else convert(v, connection) for v in values]

    else:

        def column(values):
            return [
                v if v is None or (type(v) is Decimal and v.is_finite()) else convert(v, connection)
                for v in values
            ]

    return column


def _array_type(field) -> str:
    return _column_type(field) + "[]"


def _column_type(field) -> str:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    db_type = field.rel_db_type(connection) if field.primary_key else field.db_type(connection)
    return db_type.split(" CHECK")[0].strip()


@lru_cache(maxsize=256)
def _check_conflict_target(model, conflict: tuple) -> None:
    """The ON CONFLICT target must be exactly one of the model's unique constraints."""
    fields = {f.name: f.attname for f in model._meta.concrete_fields}
    targets = [{fields[name] for name in u.fields} for u in model._meta.total_unique_constraints]
    targets += [{fields[name] for name in group} for group in model._meta.unique_together]
    if set(conflict) not in targets:
        raise ImproperlyConfigured(
            f"{model._meta.label}: {conflict} is not a unique constraint of the model "
            f"(known: {sorted(sorted(t) for t in targets)})"
        )


@lru_cache(maxsize=256)
def _copy_statements(model, conflict: tuple, columns: tuple, tail: str):
    """(staging table name, its CREATE, the COPY, the move into the table) for one column set."""
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    table = model._meta.db_table
    digest = hashlib.blake2s(repr((table, columns)).encode(), digest_size=6).hexdigest()
    stage = quote(f"rw_stage_{table[:30]}_{digest}")
    names = ", ".join(quote(fields[c].column) for c in columns)
    create = "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS".format(
        stage, ", ".join(f"{quote(fields[c].column)} {_column_type(fields[c])}" for c in columns)
    )
    copy = f"COPY {stage} ({names}) FROM STDIN"
    order = ", ".join(quote(fields[c].column) for c in conflict)
    move = (
        f"WITH moved AS (DELETE FROM {stage} RETURNING *) "
        f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM moved ORDER BY {order}{tail}"
    )
    return stage, create, copy, move, f" RETURNING {order}"


def _copy_upsert(cursor, model, conflict, columns, rows, tail, returning):
    """COPY `rows` into the staging table, then move them into the table in key order (so
    concurrent batches lock shared rows in the same order and wait instead of deadlocking)."""
    stage, create, copy, move, returning_sql = _copy_statements(model, conflict, columns, tail)
    _ensure_staging(cursor, stage, create)
    with cursor.cursor.copy(copy) as stream:
        for values in rows:
            stream.write_row(values)
    if not returning:
        cursor.execute(move)
        return None
    _native_timestamps(cursor.cursor)
    cursor.execute(move + returning_sql)
    return [tuple(found) for found in cursor.fetchall()]


def _native_timestamps(raw_cursor) -> None:
    """Read timestamptz with psycopg's own (C) loader on this cursor only. Django's loader,
    registered on the connection, re-parses each value in Python to attach its time zone; a
    RETURNING of thousands of rows spends most of its time there. The values are the same
    instants, aware, in the session's time zone (UTC)."""
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.adapters.types["timestamptz"].oid
    raw_cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))


def _ensure_staging(cursor, stage: str, create: str) -> None:
    raw = connection.connection
    known = _staged.setdefault(raw, set())
    if stage in known:
        return
    cursor.execute(create)
    # A staging table created in a transaction that is rolled back is gone again: remember it
    # only once that transaction has committed.
    transaction.on_commit(lambda: known.add(stage))


def bulk_path() -> bool:
    """Whether writes go through COPY and statements can report the rows they wrote."""
    return connection.vendor == "postgresql"


def copy_rows(model, columns, rows) -> None:
    """A plain COPY of `rows` (tuples in `columns` order) into the model's table (PostgreSQL):
    no conflict handling, no staging. The ceiling bench/ingest.py compares the API against."""
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(quote(fields[c].column) for c in columns)
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as stream:
        for values in rows:
            stream.write_row(values)


class _AnyOf(models.Expression):
    """`column = ANY(%s)` with one array parameter (PostgreSQL)."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, name: str, values: list):
        super().__init__()
        self.name, self.values = name, values
        self.column = None

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        clone = self.copy()
        clone.column = F(self.name).resolve_expression(query, allow_joins, reuse, summarize)
        return clone

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        field = self.column.output_field
        values = self.values
        if isinstance(field, models.CharField) and all(type(v) is str for v in values):
            # A batch's licence indexes or order ids: sent as one array literal, which costs a
            # join where psycopg's list adaptation costs a few microseconds per element.
            return f"{sql} = ANY(%s::{_array_type(field)})", [*params, text_array(values)]
        values = [field.get_db_prep_value(v, connection) for v in values]
        return f"{sql} = ANY(%s::{_array_type(field)})", [*params, values]


def text_array(values: list[str]) -> str:
    """A PostgreSQL array literal of `values`, every element quoted (so commas, braces, blanks
    and the word NULL are plain text) with backslash and double quote escaped."""
    joined = "".join(values)
    if '"' in joined or "\\" in joined:
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}' if values else "{}"


def one_of(name: str, values) -> Q | _AnyOf:
    """A filter `name IN values` whose SQL does not grow with the number of values on
    PostgreSQL."""
    values = list(values)
    if connection.vendor == "postgresql":
        return _AnyOf(name, values)
    return Q(**{f"{name}__in": values})
