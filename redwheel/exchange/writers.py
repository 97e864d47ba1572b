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
"""

from functools import lru_cache

from django.db import connection, models
from django.db.models import F, Q

_CONVERTED = (models.DateTimeField, models.DateField, models.DecimalField)
_MAX_PARAMS = 30_000
_MAX_ROWS = 1_000


@lru_cache(maxsize=256)
def _statement(
    model, conflict: tuple, columns: tuple, update: tuple, vendor: str, only_if_newer: str
):
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    converters = []
    for name in columns:
        field = fields[name]
        if isinstance(field, _CONVERTED):
            converters.append(field.get_db_prep_save)
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
        sets = ", ".join(
            f"{quote(fields[c].column)} = excluded.{quote(fields[c].column)}" for c in update
        )
        tail = f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        if only_if_newer:
            column = quote(fields[only_if_newer].column)
            table = quote(model._meta.db_table)
            tail += f" WHERE {table}.{column} < excluded.{column}"
    else:
        tail = f" ON CONFLICT ({target}) DO NOTHING"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return head, row, tail, tuple(converters)


def upsert(model, conflict, columns, rows, update=(), only_if_newer: str = "") -> None:
    """INSERT rows (tuples in `columns` order) ON CONFLICT (conflict) DO UPDATE SET update.

    With `only_if_newer` (a column), a conflicting row is updated only when the new value of
    that column is later than the stored one. Callers compare beforehand too, but only the
    statement itself sees rows committed meanwhile by a concurrent batch."""
    if not rows:
        return
    head, row, tail, converters = _statement(
        model, tuple(conflict), tuple(columns), tuple(update), connection.vendor, only_if_newer
    )
    converting = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    if converting:
        prepared = []
        for values in rows:
            values = list(values)
            for i, conv in converting:
                value = values[i]
                if value is not None:
                    values[i] = conv(value, connection)
            prepared.append(values)
        rows = prepared
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
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


def _array_type(field) -> str:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    db_type = field.rel_db_type(connection) if field.primary_key else field.db_type(connection)
    return db_type.split(" CHECK")[0].strip() + "[]"


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
        values = [field.get_db_prep_value(v, connection) for v in self.values]
        return f"{sql} = ANY(%s::{_array_type(field)})", [*params, values]


def one_of(name: str, values) -> Q | _AnyOf:
    """A filter `name IN values` whose SQL does not grow with the number of values on
    PostgreSQL."""
    values = list(values)
    if connection.vendor == "postgresql":
        return _AnyOf(name, values)
    return Q(**{f"{name}__in": values})
