"""Restoring a backup into an empty database, with the checks that prove it complete."""

import contextlib
import json
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from redwheel.core import crypto
from redwheel.core.backups.shared import (
    DATABASE_FILES,
    FORMAT,
    MANIFEST,
    MEDIA,
    BackupCorrupt,
    BackupError,
    BackupIncompatible,
    Reporter,
    RestoreCheckFailed,
    TargetNotEmpty,
    check_keys,
    engine,
    media_files,
    pg_environment,
    quote,
    row_counts,
    run_pg_tool,
    sha256_file,
    sqlite_copy,
    table_names,
)

# --- restore -----------------------------------------------------------------------------------


@contextlib.contextmanager
def open_backup(path: Path):
    """The backup directory: `path` itself, or `path` (a .tar) unpacked beside it."""
    if path.is_dir():
        yield path
        return
    if not path.is_file():
        raise BackupError(_("No backup at %(path)s.") % {"path": path})
    with tempfile.TemporaryDirectory(prefix=".restore.", dir=path.parent) as unpacked:
        try:
            with tarfile.open(path) as archive:
                archive.extractall(unpacked, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise BackupCorrupt(
                _("%(path)s is not a readable backup archive: %(error)s")
                % {"path": path, "error": exc}
            ) from exc
        found = [p.parent for p in Path(unpacked).glob(f"*/{MANIFEST}")]
        if len(found) != 1:
            raise BackupCorrupt(_("%(path)s holds no single backup.") % {"path": path})
        yield found[0]


def load_manifest(directory: Path) -> dict:
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupCorrupt(
            _("The manifest of %(path)s cannot be read: %(error)s")
            % {"path": directory, "error": exc}
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BackupIncompatible(
            _("Backup format %(found)s is not supported (expected %(expected)s).")
            % {"found": manifest.get("format"), "expected": FORMAT}
        )
    return manifest


def verify_checksums(directory: Path, manifest: dict, reporter: Reporter) -> None:
    files = manifest["files"]
    total = sum(entry["bytes"] for entry in files.values())
    with reporter.bar(_("checksums"), total, "B", unit_scale=True) as bar:
        for name, entry in sorted(files.items()):
            path = directory / name
            if not path.is_file():
                raise BackupCorrupt(_("%(file)s is missing from the backup.") % {"file": name})
            if sha256_file(path, bar) != entry["sha256"] or path.stat().st_size != entry["bytes"]:
                raise BackupCorrupt(
                    _(
                        "%(file)s does not match its checksum in the manifest: the backup is "
                        "damaged. Nothing was restored; use another backup."
                    )
                    % {"file": name}
                )


def check_compatible(manifest: dict) -> None:
    """Same engine, and no migration this code does not know (a backup of newer code)."""
    from django.db.migrations.loader import MigrationLoader

    if manifest["engine"] != engine():
        raise BackupIncompatible(
            _(
                "This is a %(backup)s backup but DATABASE_URL points to %(target)s; restore it "
                "into a database of the same kind."
            )
            % {"backup": manifest["engine"], "target": engine()}
        )
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = sorted(f"{a}.{n}" for a, n in manifest["migrations"].items() if (a, n) not in known)
    if unknown:
        raise BackupIncompatible(
            _(
                "The backup was made by a newer version (%(version)s): this code lacks the "
                "migrations %(migrations)s. Restore with that version or a later one."
            )
            % {"version": manifest["app_version"], "migrations": ", ".join(unknown)}
        )


def table_names_in_target() -> list[str]:
    with connection.cursor() as cursor:
        return table_names(cursor, connection.vendor)


def media_is_empty(root: Path) -> bool:
    return not media_files(root)


def _wipe_postgres() -> None:
    """Drop this schema's tables, views, sequences and functions. Extensions keep theirs, and
    a column's own sequence (identity, serial: dependency 'i' or 'a') goes with its table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                   CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                        WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                   n.nspname, c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND NOT c.relispartition
              AND NOT EXISTS (
                  SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND (d.deptype = 'e' OR (d.deptype IN ('i', 'a') AND d.refobjid <> c.oid)))
            UNION ALL
            SELECT format('DROP FUNCTION IF EXISTS %s CASCADE', p.oid::regprocedure)
            FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND NOT EXISTS (
                  SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"""
        )
        for (statement,) in cursor.fetchall():
            cursor.execute(statement)


def _restore_database(directory: Path, manifest: dict, reporter: Reporter) -> None:
    source = directory / DATABASE_FILES[manifest["engine"]]
    if manifest["engine"] == "sqlite":
        target = connection.settings_dict["NAME"]
        connection.close()  # the backup API replaces every page; nothing else may hold the file
        uri = f"file:{source}?mode=ro"
        with (
            contextlib.closing(sqlite3.connect(uri, uri=True)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            sqlite_copy(src, dst, reporter)
        return
    args = ["pg_restore", "--verbose", "--no-owner", "--no-privileges", "--single-transaction"]
    args += [f"--dbname={connection.settings_dict['NAME']}", str(source)]
    with reporter.bar(_("database"), len(manifest["row_counts"]), "tables") as bar:
        run_pg_tool(args, pg_environment(connection.settings_dict), r"processing data for", bar)


def check_row_counts(manifest: dict, reporter: Reporter) -> None:
    with connection.cursor() as cursor:
        counts = row_counts(cursor, connection.vendor, reporter)
    wrong = {
        table: {"expected": expected, "found": counts.get(table)}
        for table, expected in manifest["row_counts"].items()
        if counts.get(table) != expected
    }
    if wrong:
        listed = ", ".join(
            f"{t} ({w['found']}≠{w['expected']})" for t, w in list(wrong.items())[:10]
        )
        raise RestoreCheckFailed(
            _("The restored row counts differ from the manifest in %(count)s tables: %(tables)s")
            % {"count": len(wrong), "tables": listed},
            details={"tables": wrong},
        )


def pending_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _restore_media(directory: Path, manifest: dict, root: Path, reporter: Reporter) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(directory / MEDIA) as archive:
        members = archive.getmembers()
        with reporter.bar(_("media"), len(members), "files") as bar:
            for member in members:
                archive.extract(member, root, filter="data")
                bar.update()
    found = len(media_files(root))
    if found < manifest["media"]["files"]:
        raise RestoreCheckFailed(
            _("%(found)s media files restored, the manifest lists %(expected)s.")
            % {"found": found, "expected": manifest["media"]["files"]}
        )


def _sample(cursor, table: str, pk: str, columns: list[str], size: int) -> list[tuple]:
    """Up to `size` rows from each end of the table with the first column set: the oldest rows
    (the likeliest to carry an old key) and the newest."""
    cols = ", ".join(quote(c) for c in columns)
    where = f"{quote(columns[0])} IS NOT NULL AND {quote(columns[0])} <> ''"
    rows: dict = {}
    for order in ("ASC", "DESC"):
        cursor.execute(
            f"SELECT {quote(pk)}, {cols} FROM {quote(table)} WHERE {where} "
            f"ORDER BY {quote(pk)} {order} LIMIT {int(size)}"
        )
        rows.update((row[0], row[1:]) for row in cursor.fetchall())
    return list(rows.values())


def check_personal_data(size: int, reporter: Reporter, *, check_indexes: bool = True) -> dict:
    """Decrypt sampled values of every encrypted column with the configured keys, and check
    that the blind index beside a number is that number's index under the configured key."""
    models = [
        m
        for m in apps.get_models()
        if m._meta.managed
        and not m._meta.proxy
        and any(isinstance(f, crypto.EncryptedTextField) for f in m._meta.concrete_fields)
    ]
    checked: dict[str, int] = {}
    failures: dict[str, int] = {}
    stale_indexes: dict[str, int] = {}
    with (
        connection.cursor() as cursor,
        reporter.bar(_("personal data"), len(models), "models") as bar,
    ):
        for model in models:
            table, pk = model._meta.db_table, model._meta.pk.column
            by_name = {f.name: f for f in model._meta.concrete_fields}
            for field in model._meta.concrete_fields:
                if not isinstance(field, crypto.EncryptedTextField):
                    continue
                label = f"{model._meta.label}.{field.name}"
                indexes = [
                    f
                    for f in model._meta.concrete_fields
                    if isinstance(f, crypto.BlindIndexField) and by_name.get(f.source) is field
                ]
                columns = [field.column, *(f.column for f in indexes)]
                rows = _sample(cursor, table, pk, columns, size)
                checked[label] = len(rows)
                for token, *stored in rows:
                    try:
                        plaintext = crypto.fernet().decrypt(token.encode()).decode()
                    except InvalidToken:
                        failures[label] = failures.get(label, 0) + 1
                        continue
                    for index_field, value in zip(indexes, stored, strict=True):
                        if check_indexes and value and value != crypto.blind_index(plaintext):
                            name = f"{model._meta.label}.{index_field.name}"
                            stale_indexes[name] = stale_indexes.get(name, 0) + 1
            bar.update()
    if failures:
        raise RestoreCheckFailed(
            _(
                "Sampled personal data does not decrypt with the configured PII_ENCRYPTION_KEYS "
                "(%(fields)s). Add the keys exported with `manage.py backup --keys-only` at "
                "backup time to PII_ENCRYPTION_KEYS and run the checks again with `manage.py "
                "restore --check-only`."
            )
            % {"fields": ", ".join(f"{k}: {v}/{checked[k]}" for k, v in failures.items())},
            code="restore_decrypt_failed",
            details={"failures": failures, "checked": checked},
        )
    if stale_indexes:
        raise RestoreCheckFailed(
            _(
                "Blind indexes do not match PII_BLIND_INDEX_KEY (%(fields)s): set it to the "
                "blind-index key exported at backup time."
            )
            % {"fields": ", ".join(f"{k}: {v}" for k, v in stale_indexes.items())},
            code="restore_blind_index_mismatch",
            details={"mismatches": stale_indexes},
        )
    return checked


def restore_backup(
    path: Path,
    *,
    force: bool,
    sample: int,
    reporter: Reporter,
    migrate,
    check_only: bool = False,
) -> dict:
    """Restore `path` into the configured database and MEDIA_ROOT, checking it on the way.

    Everything that can refuse without writing runs first: checksums, engine and version, the
    keys, the emptiness of the target. `migrate(names)` is called when this code has
    migrations the backup lacks. With `check_only` nothing is written: the backup and keys are
    checked and the personal data of the configured database is sampled."""
    media_root = Path(settings.MEDIA_ROOT)
    with open_backup(path) as directory:
        manifest = load_manifest(directory)
        reporter.step(_("Verifying checksums…"))
        verify_checksums(directory, manifest, reporter)
        check_compatible(manifest)
        reindex = check_keys(manifest, reporter)
        if check_only:
            reporter.step(_("Checking personal data…"))
            checked = check_personal_data(sample, reporter, check_indexes=not reindex)
            return {"manifest": manifest, "checked": checked, "migrated": []}
        existing = table_names_in_target()
        if existing and not force:
            raise TargetNotEmpty(
                _(
                    "The target database is not empty (%(count)s tables, e.g. %(example)s). "
                    "Restore into an empty database, or pass --force to replace its contents."
                )
                % {"count": len(existing), "example": existing[0]}
            )
        if not media_is_empty(media_root) and not force:
            raise TargetNotEmpty(
                _(
                    "MEDIA_ROOT (%(path)s) already holds files. Point MEDIA_ROOT to an empty "
                    "directory, or pass --force to restore over them."
                )
                % {"path": media_root}
            )
        if existing and connection.vendor == "postgresql":
            reporter.step(_("--force: dropping the existing tables…"))
            _wipe_postgres()
        reporter.step(_("1/4 Restoring the database…"))
        _restore_database(directory, manifest, reporter)
        reporter.step(_("2/4 Comparing row counts with the manifest…"))
        check_row_counts(manifest, reporter)
        reporter.step(_("3/4 Restoring the media files…"))
        _restore_media(directory, manifest, media_root, reporter)
    pending = pending_migrations()
    if pending:
        reporter.step(
            _("The code is newer than the backup: applying %(count)s migrations…")
            % {"count": len(pending)}
        )
        migrate(pending)
    reporter.step(_("4/4 Checking personal data…"))
    checked = check_personal_data(sample, reporter, check_indexes=not reindex)
    return {"manifest": manifest, "checked": checked, "migrated": pending}
