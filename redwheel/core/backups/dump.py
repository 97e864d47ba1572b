"""Making a backup: the database copy, the media archive and the manifest."""

import contextlib
import json
import sqlite3
import tarfile
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from redwheel.core.backups.shared import (
    DATABASE_FILES,
    FORMAT,
    MANIFEST,
    MEDIA,
    BackupError,
    Reporter,
    engine,
    key_fingerprints,
    media_files,
    migration_state,
    pg_environment,
    row_counts,
    run_pg_tool,
    sha256_file,
    sqlite_copy,
)

# --- backup ------------------------------------------------------------------------------------


def _backup_sqlite(target: Path, reporter: Reporter) -> tuple[dict, dict]:
    connection.ensure_connection()
    source = connection.connection  # Django's own: also works for an in-memory database
    with contextlib.closing(sqlite3.connect(target)) as copy:
        sqlite_copy(source, copy, reporter)
        # Counted in the copy, so they describe exactly what was saved.
        cursor = copy.cursor()
        return row_counts(cursor, "sqlite", reporter), migration_state(cursor)


def _backup_postgres(target: Path, reporter: Reporter) -> tuple[dict, dict]:
    """pg_dump and the counts share one exported snapshot: they agree while the app writes."""
    params = connection.get_connection_params()
    snapshot_holder = connection.get_new_connection(params)
    try:
        snapshot_holder.autocommit = False
        with snapshot_holder.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = row_counts(cursor, "postgresql", reporter)
            migrations = migration_state(cursor)
            args = ["pg_dump", "--format=custom", "--verbose", f"--snapshot={snapshot}"]
            args.append(f"--file={target}")
            with reporter.bar(_("database"), len(counts), "tables") as bar:
                run_pg_tool(
                    args,
                    pg_environment(connection.settings_dict),
                    r"dumping contents of table",
                    bar,
                )
        snapshot_holder.rollback()
    finally:
        snapshot_holder.close()
    return counts, migrations


def _tar_media(root: Path, target: Path, reporter: Reporter) -> dict:
    files = media_files(root)
    size = 0
    with tarfile.open(target, "w") as archive, reporter.bar(_("media"), len(files), "files") as bar:
        for path in files:
            archive.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
            size += path.stat().st_size
            bar.update()
    return {"files": len(files), "bytes": size}


def create_backup(destination: Path, name: str, *, archive: bool, reporter: Reporter) -> Path:
    """Write the backup to `destination/name` (or `name.tar`), atomically: a half-written one
    stays under a `.partial` name that retention scripts and restores ignore."""
    vendor = engine()
    final = destination / (f"{name}.tar" if archive else name)
    if final.exists():
        raise BackupError(_("%(path)s already exists.") % {"path": final})
    destination.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=destination))
    try:
        database_file = DATABASE_FILES[vendor]
        reporter.step(_("1/3 Copying the database (%(vendor)s)…") % {"vendor": vendor})
        backup = _backup_sqlite if vendor == "sqlite" else _backup_postgres
        counts, migrations = backup(work / database_file, reporter)
        reporter.step(_("2/3 Archiving the media files…"))
        media = _tar_media(Path(settings.MEDIA_ROOT), work / MEDIA, reporter)
        reporter.step(_("3/3 Writing the manifest…"))
        files = [database_file, MEDIA]
        total = sum((work / f).stat().st_size for f in files)
        with reporter.bar(_("checksums"), total, "B", unit_scale=True) as bar:
            checksums = {
                f: {"sha256": sha256_file(work / f, bar), "bytes": (work / f).stat().st_size}
                for f in files
            }
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": vendor,
            "app_version": _app_version(),
            "migrations": migrations,
            "row_counts": counts,
            "media": media,
            "files": checksums,
            "keys": key_fingerprints(),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if archive:
            with tarfile.open(work.with_suffix(".tar"), "w") as tar:
                for member in [MANIFEST, *files]:
                    tar.add(work / member, arcname=f"{name}/{member}")
            work.with_suffix(".tar").chmod(0o600)  # like the 0700 directory: personal data
            work.with_suffix(".tar").rename(final)
            _remove_tree(work)
        else:
            work.rename(final)
    except BaseException:
        _remove_tree(work)
        work.with_suffix(".tar").unlink(missing_ok=True)
        raise
    return final


def _app_version() -> str:
    try:
        return metadata.version("redwheel")
    except metadata.PackageNotFoundError:
        return "unknown"


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in sorted(path.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() and not child.is_symlink() else child.unlink()
    path.rmdir()
