"""What every record type's handler shares: the per-batch context (platform, blind indexes,
driver look-ups, unknown licences), the generic keyed merge into fact tables and the
statuses a handler returns per record.
"""

from functools import lru_cache
from operator import itemgetter

from django.conf import settings

from redwheel.core import crypto
from redwheel.core.permissions import SystemActor
from redwheel.drivers.models import Driver
from redwheel.exchange import rejection_codes, validation, writers

ACCEPTED, UNCHANGED = "accepted", "unchanged"


class _Context:
    """Per-batch state: platform, memoised blind indexes, driver lookups, unknown counts."""

    def __init__(self, platform, record_type: str):
        self.platform = platform
        self.record_type = record_type
        self.system = SystemActor.for_platform(platform.pk, f"exchange {platform.company_id}")
        self._indexes: dict[str, str] = {}
        self.masked: dict[str, str] = {}
        self.licences: dict[str, str] = {}  # index -> LicenseId, kept encrypted for unknowns
        self.drivers: dict[str, int] = {}
        self.unknown: dict[str, int] = {}
        self.extra: dict[str, int] = {}

    def index(self, license_no: str) -> str:
        idx = self._indexes.get(license_no)
        if idx is None:
            idx = self._indexes[license_no] = _blind_index(license_no, settings.PII_BLIND_INDEX_KEY)
            self.masked[idx] = crypto.mask_identity(license_no)
            self.licences[idx] = license_no
        return idx

    def resolve(self, cleaned: list[tuple[int, dict]]) -> None:
        """One query: blind index → driver id for every LicenseId in the batch whose driver
        works for this platform (a licence known only to other platforms stays unknown here)."""
        wanted = {self.index(r["LicenseId"]) for _, r in cleaned if "LicenseId" in r}
        if wanted:
            self.drivers = dict(
                Driver.objects.filter(
                    writers.one_of("license_index", wanted), affiliations__platform=self.platform
                ).values_list("license_index", "id")
            )

    def note_unknown(self, idx: str) -> None:
        if idx and idx not in self.drivers:
            self.unknown[idx] = self.unknown.get(idx, 0) + 1


# A feed names the same drivers batch after batch, and the keyed hash is most of the cost of
# a licence: remember it across batches. The key is part of the cache key, so a rotated key
# (`rotate_pii_keys`) gives fresh indexes.
@lru_cache(maxsize=100_000)
def _blind_index(license_no: str, key: str) -> str:
    return crypto.blind_index(license_no, key)


def _plate(text: str | None) -> str:
    if not text:
        return ""
    return "".join(ch for ch in text.upper() if ch not in " ·•.-")[:10]


# Generic keyed merge --------------------------------------------------------------------


class _Table:
    """A fact table with a natural key (after platform) and the columns records write.

    Records of one type touch only some columns (e.g. operateArrive: arrival time, drive
    distance and time); `_merge` loads and writes just those, plus the key.
    """

    def __init__(self, model, key: tuple[str, ...]):
        self.model = model
        self.key = key
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.attname not in ("platform_id", *key)
        ]
        self.columns = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}

    def load(self, platform, keys: set, columns) -> dict:
        if not keys:
            return {}
        filters, conditions = {"platform": platform}, []
        for i, name in enumerate(self.key):
            values = {k[i] for k in keys}
            if len(values) == 1:
                filters[name] = next(iter(values))
            else:
                conditions.append(writers.one_of(name, values))
        rows = self.model.objects.filter(*conditions, **filters).values("id", *self.key, *columns)
        out = {}
        nkey = len(self.key)
        for row in rows:
            k = (row[self.key[0]],) if nkey == 1 else tuple(row[name] for name in self.key)
            if k in keys:
                out[k] = row
        return out

    def write(self, platform, rows: dict, deleted_ids: list, columns, fill_only=()) -> None:
        """Upsert `rows` (key → values of `columns`); a new row gets defaults elsewhere.

        The rows were merged from what this batch read, so the statement itself keeps what a
        concurrent batch stored since (a trip's other stages): `fill_only` columns only fill
        empty ones, and no column is emptied (`writers.upsert`'s `fill` and `keep_stored`)."""
        if deleted_ids:
            self.model.objects.filter(pk__in=deleted_ids).delete()
        if not rows:
            return
        # Columns not written by this record type keep their stored value on update and get
        # their default on insert (None columns are simply left out: NULL).
        constants = [c for c in self.columns if c not in columns and self.defaults[c] is not None]
        fixed = tuple(self.defaults[c] for c in constants)
        insert = ("platform_id", *self.key, *columns, *constants)
        head = (platform.pk,)
        if columns:
            pick = itemgetter(*columns)
            if len(columns) == 1:
                values = [(*head, *k, pick(row), *fixed) for k, row in rows.items()]
            else:
                values = [(*head, *k, *pick(row), *fixed) for k, row in rows.items()]
        else:
            values = [(*head, *k, *fixed) for k in rows]
        writers.upsert(
            self.model,
            ("platform_id", *self.key),
            insert,
            values,
            update=tuple(columns),
            fill=fill_only,
            keep_stored=True,
        )


def _merge(ctx: _Context, table: _Table, ops: list) -> list[str]:
    """Apply `ops` = [(key, own: dict, fill: dict, delete: bool, license_idx)] in order.

    Returns the status per op. `own` columns are set when given (not None); `fill` columns
    only while the stored value is empty.
    """
    touched: dict = {}
    owned: set = set()
    for op in ops:
        touched.update(dict.fromkeys(op[1]))
        touched.update(dict.fromkeys(op[2]))
        owned.update(op[1])
    columns = tuple(c for c in table.columns if c in touched)
    existing = table.load(ctx.platform, {op[0] for op in ops}, columns)
    state: dict = {k: dict(row) for k, row in existing.items()}
    defaults = {c: table.defaults[c] for c in columns}
    dirty: set = set()
    statuses = []
    for key, own, fill, delete, idx in ops:
        row = state.get(key)
        if delete:
            if row is None:
                statuses.append(UNCHANGED)
            else:
                state[key] = None
                dirty.add(key)
                statuses.append(ACCEPTED)
            continue
        new = dict(row) if row is not None else {**defaults, "id": None}
        for column, value in own.items():
            if value is not None:
                new[column] = value
        for column, value in fill.items():
            if value is not None and new.get(column) in (None, ""):
                new[column] = value
        if row is not None and new == row:
            statuses.append(UNCHANGED)
            continue
        state[key] = new
        dirty.add(key)
        statuses.append(ACCEPTED)
        if idx and new.get("driver_id") is None:
            ctx.note_unknown(idx)
    deleted_ids = [existing[k]["id"] for k in dirty if state[k] is None and k in existing]
    upserts = {k: state[k] for k in dirty if state[k] is not None}
    fill_only = tuple(c for c in columns if c not in owned)
    table.write(ctx.platform, upserts, deleted_ids, columns, fill_only)
    return statuses


def _driver_cols(ctx: _Context, r: dict) -> tuple[str, int | None]:
    idx = ctx.index(r["LicenseId"])
    return idx, ctx.drivers.get(idx)


def _deleted(r: dict) -> bool:
    return r.get("Flag") == 3


def _reject(code: str, field_name: str, message: str | None = None) -> dict:
    """A rejection found while storing; `ingest` sets its index and excerpt."""
    rejection = validation.rejection(0, field_name, code)
    if message and code not in rejection_codes.MESSAGES:
        rejection["message"] = message
    return rejection
