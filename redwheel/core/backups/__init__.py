"""Backups and restores of a RedWheel installation: the database, the media files, a manifest.

A backup is a directory (or a `.tar` of one) holding `database.sqlite3` (SQLite's online backup
API, consistent while the app writes) or `database.dump` (`pg_dump --format=custom` inside an
exported snapshot), `media.tar` and `manifest.json`. The manifest's row counts and migration
state are read from the same snapshot as the copy, so a restore can compare them exactly.

The personal-data keys are never part of a backup: whoever holds both could read every ID
number and phone. The manifest keeps only fingerprints of them, so a restore can tell before
touching anything whether the configured keys are the ones the data was encrypted with; the
keys themselves are exported apart (`backup --keys-only`). docs/operations.md, "Backups".
"""

from redwheel.core.backups.dump import create_backup
from redwheel.core.backups.restore import check_personal_data, restore_backup
from redwheel.core.backups.shared import (
    BackupCorrupt,
    BackupError,
    BackupIncompatible,
    KeyMismatch,
    Reporter,
    RestoreCheckFailed,
    TargetNotEmpty,
    fingerprint,
    key_fingerprints,
    write_keys_file,
)

__all__ = [
    "BackupCorrupt",
    "BackupError",
    "BackupIncompatible",
    "KeyMismatch",
    "Reporter",
    "RestoreCheckFailed",
    "TargetNotEmpty",
    "check_personal_data",
    "create_backup",
    "fingerprint",
    "key_fingerprints",
    "restore_backup",
    "write_keys_file",
]
