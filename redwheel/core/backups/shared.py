"""What backup and restore share: errors, progress, key fingerprints, reading a database."""

import hashlib
import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from tqdm import tqdm

from redwheel.core.errors import DomainError

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media.tar"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
_CHUNK = 1 << 20


class BackupError(DomainError):
    code = "backup_error"


class BackupCorrupt(BackupError):
    code = "backup_corrupt"


class BackupIncompatible(BackupError):
    code = "backup_incompatible"


class KeyMismatch(BackupError):
    code = "backup_key_mismatch"


class TargetNotEmpty(BackupError):
    code = "restore_target_not_empty"


class RestoreCheckFailed(BackupError):
    code = "restore_check_failed"


class Reporter:
    """Step lines on stdout, progress bars on stderr; silent at verbosity 0."""

    def __init__(self, write=None, quiet: bool = False):
        self.write = write or (lambda line: None)
        self.quiet = quiet

    def step(self, message: str) -> None:
        if not self.quiet:
            self.write(message)

    def bar(self, desc: str, total: int | None, unit: str = "it", **kwargs) -> tqdm:
        return tqdm(desc=desc, total=total, unit=unit, disable=self.quiet, leave=False, **kwargs)


# --- keys -------------------------------------------------------------------------------------


def fingerprint(key: str) -> str:
    """A short, domain-separated hash that identifies a key without revealing it."""
    return hashlib.sha256(b"redwheel-key-fingerprint:" + key.encode()).hexdigest()[:16]


def key_fingerprints() -> dict:
    return {
        "encryption": [fingerprint(k) for k in settings.PII_ENCRYPTION_KEYS],
        "blind_index": fingerprint(settings.PII_BLIND_INDEX_KEY),
    }


def write_keys_file(path: Path) -> None:
    """The keys as an environment file (mode 0600), never overwriting an existing file."""
    lines = [
        "# RedWheel personal-data keys, exported by `manage.py backup --keys-only` at "
        f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}.",
        "# SECRET: with this file and a backup anyone can read every ID number and phone.",
        "# Keep it apart from the backups (offline or in the secret store), never beside them.",
        f"# Fingerprints: {json.dumps(key_fingerprints())}",
        f"PII_ENCRYPTION_KEYS={','.join(settings.PII_ENCRYPTION_KEYS)}",
        f"PII_BLIND_INDEX_KEY={settings.PII_BLIND_INDEX_KEY}",
    ]
    if settings.PII_OLD_BLIND_INDEX_KEY:
        lines.append(f"PII_OLD_BLIND_INDEX_KEY={settings.PII_OLD_BLIND_INDEX_KEY}")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise BackupError(
            _("%(path)s already exists; the keys file is never overwritten.") % {"path": path}
        ) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def check_keys(manifest: dict, reporter: Reporter) -> bool:
    """Refuse keys that cannot read the backup; True when its blind indexes are under
    PII_OLD_BLIND_INDEX_KEY (a re-index is due after the restore)."""
    saved = manifest["keys"]
    configured = key_fingerprints()
    if not set(saved["encryption"]) & set(configured["encryption"]):
        raise KeyMismatch(
            _(
                "None of the configured PII_ENCRYPTION_KEYS is a key of this backup (backup key "
                "fingerprints %(saved)s, configured %(configured)s). Set PII_ENCRYPTION_KEYS "
                "(and PII_BLIND_INDEX_KEY) to the values exported with `manage.py backup "
                "--keys-only` or kept in the secret store when the backup was made."
            )
            % {
                "saved": ", ".join(saved["encryption"]),
                "configured": ", ".join(configured["encryption"]),
            },
            details={"backup": saved, "configured": configured},
        )
    missing = [fp for fp in saved["encryption"] if fp not in configured["encryption"]]
    if missing:
        reporter.step(
            _(
                "Warning: keys %(missing)s of the backup are not in PII_ENCRYPTION_KEYS; rows "
                "still encrypted with them will not decrypt."
            )
            % {"missing": ", ".join(missing)}
        )
    if saved["blind_index"] != configured["blind_index"]:
        old = settings.PII_OLD_BLIND_INDEX_KEY
        if not old or fingerprint(old) != saved["blind_index"]:
            raise KeyMismatch(
                _(
                    "PII_BLIND_INDEX_KEY is not the blind-index key of this backup (fingerprint "
                    "%(saved)s, configured %(configured)s): look-ups and logins would miss. Set "
                    "it to the exported value, or, to move to a new key, set "
                    "PII_OLD_BLIND_INDEX_KEY to the backup's key and run `manage.py "
                    "rotate_pii_keys --reindex` after the restore."
                )
                % {"saved": saved["blind_index"], "configured": configured["blind_index"]}
            )
        reporter.step(
            _(
                "The backup's blind indexes use PII_OLD_BLIND_INDEX_KEY: run `manage.py "
                "rotate_pii_keys --reindex` after the restore."
            )
        )
        return True
    return False


# --- reading a database: tables, counts, migration state --------------------------------------


def table_names(cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:  # partitions count through their parent; extension-owned tables are not ours
        cursor.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
              AND NOT c.relispartition
              AND NOT EXISTS (
                  SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')"""
        )
    return sorted(row[0] for row in cursor.fetchall())


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def row_counts(cursor, vendor: str, reporter: Reporter) -> dict[str, int]:
    counts = {}
    tables = table_names(cursor, vendor)
    with reporter.bar(_("counting rows"), len(tables), "tables") as bar:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
            counts[table] = cursor.fetchone()[0]
            bar.update()
    return counts


def migration_state(cursor) -> dict[str, str]:
    """The latest applied migration of each app (by the order they were applied)."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return dict(cursor.fetchall())


# --- PostgreSQL tools --------------------------------------------------------------------------


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """libpq variables for pg_dump/pg_restore: the password never appears on a command line."""
    options = settings_dict.get("OPTIONS", {})
    env = dict(os.environ)
    for variable, value in [
        ("PGHOST", settings_dict.get("HOST")),
        ("PGPORT", settings_dict.get("PORT")),
        ("PGUSER", settings_dict.get("USER")),
        ("PGPASSWORD", settings_dict.get("PASSWORD")),
        ("PGDATABASE", settings_dict.get("NAME")),
        ("PGSERVICE", options.get("service")),
        ("PGPASSFILE", options.get("passfile")),
        ("PGSSLMODE", options.get("sslmode")),
        ("PGSSLROOTCERT", options.get("sslrootcert")),
        ("PGSSLCERT", options.get("sslcert")),
        ("PGSSLKEY", options.get("sslkey")),
    ]:
        if value:
            env[variable] = str(value)
    return env


def run_pg_tool(args: list[str], env: dict, pattern: str, bar: tqdm) -> None:
    """Run pg_dump/pg_restore --verbose, advancing `bar` on each table line it reports."""
    matcher = re.compile(pattern)
    tail: list[str] = []
    try:
        process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
    except FileNotFoundError as exc:
        raise BackupError(
            _(
                "%(tool)s was not found: install the PostgreSQL client tools, of the "
                "server's major version or newer."
            )
            % {"tool": args[0]}
        ) from exc
    errors: list[str] = []
    for line in process.stderr:
        if matcher.search(line):
            bar.update()
        elif "error:" in line or "FATAL" in line:
            errors.append(line.rstrip())  # libpq's and the tool's own error lines
        tail = [*tail[-19:], line.rstrip()]
    if process.wait() != 0:
        shown = errors[:5] or tail[-5:]
        raise BackupError(
            _("%(tool)s failed (exit code %(rc)s): %(output)s")
            % {"tool": args[0], "rc": process.returncode, "output": "\n".join(shown)},
            details={"errors": errors, "output": tail},
        )


def sha256_file(path: Path, bar: tqdm | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return digest.hexdigest()


def media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def engine() -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(
            _("Unsupported database engine: %(vendor)s") % {"vendor": connection.vendor}
        )
    return connection.vendor


def sqlite_copy(source, target, reporter: Reporter) -> None:
    """SQLite's online backup API: a consistent copy, page by page, while others write."""
    with reporter.bar(_("database"), None, "pages") as bar:

        def progress(status, remaining, total):
            bar.total = total
            bar.n = total - remaining
            bar.refresh()

        source.backup(target, pages=1024, progress=progress)
