"""Restore drill: a small city is backed up, restored into a fresh database by `manage.py restore`
in a new process, and compared table by table; personal data must decrypt to what was stored.

Runs on the engine of the test database: SQLite restores into a new file, PostgreSQL into a new
database `restore_drill_<random>` on the same server, dropped afterwards."""

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from redwheel import testing
from redwheel.drivers import services as driver_services
from redwheel.exchange import services as exchange_services
from redwheel.exchange.tests.examples import example

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump must see committed rows

BASE_DIR = Path(django_settings.BASE_DIR)
MEDIA_NAME = "reports/2026/photo.jpg"
MEDIA_BYTES = b"\xff\xd8\xff\xe0 not really a jpeg \x00\x01"


def fresh_keys() -> dict[str, str]:
    return {
        "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PII_BLIND_INDEX_KEY": f"drill-blind-index-{uuid.uuid4().hex}",
    }


@pytest.fixture
def keys(settings):
    chosen = fresh_keys()
    settings.PII_ENCRYPTION_KEYS = [chosen["PII_ENCRYPTION_KEYS"]]
    settings.PII_BLIND_INDEX_KEY = chosen["PII_BLIND_INDEX_KEY"]
    return chosen


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # setting_changed resets default_storage
    return Path(settings.MEDIA_ROOT)


def build_city(count: int = 4) -> dict[int, tuple[str, str]]:
    """Drivers (with accounts, one verified member), exchange facts and a media file, through
    the services. Returns {driver id: (licence, phone)} as given to the services."""
    city = testing.city()
    drivers = [city.driver("司机", platform=city.platform_a) for _ in range(count)]
    drivers.append(city.member("党员"))
    drivers.append(city.driver("乙司机", platform=city.platform_b))
    driver_services.membership_declare(
        actor=city.admin, driver=drivers[0], category="full", branch=drivers[0].branch
    )
    for n, record_type in enumerate(["operatePay", "operateLogin", "positionDriver"]):
        record = example(
            record_type,
            city.platform_a.company_id,
            license_no=drivers[n].license_no,
            order_id=f"D-{n}",
        )
        result = exchange_services.ingest(
            actor=city.admin,
            platform=city.platform_a,
            record_type=record_type,
            records=[record],
            source="api",
        )
        assert result.accepted == 1, result.rejections
    default_storage.save(MEDIA_NAME, ContentFile(MEDIA_BYTES))
    return {d.pk: (d.license_no, d.phone) for d in drivers}


def source_counts() -> dict[str, int]:
    """Row counts of every table of the source database (not this session's temporary ones:
    exchange ingestion stages rows in those on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            tables = [row[0] for row in cursor.fetchall()]
        else:
            tables = connection.introspection.table_names()
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def source_rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


class Target:
    """A fresh, empty database of the test database's engine, opened independently."""

    def __init__(self, tmp_path: Path, name: str = "restored"):
        self.vendor = connection.vendor
        self.media = tmp_path / f"{name}-media"
        if self.vendor == "sqlite":
            self.path = tmp_path / f"{name}.sqlite3"
            self.url = f"sqlite:///{self.path}"
            return
        source = connection.settings_dict
        self.server = {
            "host": source["HOST"] or "127.0.0.1",
            "port": source["PORT"] or 5432,
            "user": source["USER"],
            "password": source["PASSWORD"] or None,
        }
        self.name = f"restore_drill_{uuid.uuid4().hex[:12]}"
        with closing(psycopg.connect(dbname="postgres", autocommit=True, **self.server)) as db:
            db.execute(f'CREATE DATABASE "{self.name}"')
        password = f":{source['PASSWORD']}" if source["PASSWORD"] else ""
        self.url = (
            f"postgres://{source['USER']}{password}@{self.server['host']}:"
            f"{self.server['port']}/{self.name}"
        )

    def query(self, sql: str) -> list[tuple]:
        if self.vendor == "sqlite":
            if not self.path.exists():
                return []
            with closing(sqlite3.connect(self.path)) as db:
                return db.execute(sql).fetchall()
        with closing(psycopg.connect(dbname=self.name, **self.server)) as db:
            return [tuple(row) for row in db.execute(sql).fetchall()]

    def tables(self) -> set[str]:
        if self.vendor == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return {row[0] for row in self.query(sql)}

    def counts(self, tables) -> dict[str, int]:
        return {t: self.query(f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables}

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with closing(psycopg.connect(dbname="postgres", autocommit=True, **self.server)) as db:
                db.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def target(tmp_path):
    made = []

    def make(name: str = "restored") -> Target:
        made.append(Target(tmp_path, name))
        return made[-1]

    yield make
    for t in made:
        t.drop()


def restore(backup: Path, target: Target, key_env: dict[str, str], *args: str):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENV_FILE": str(target.media.parent / "absent.env"),  # a developer's .env stays out
        "LANG": "C.UTF-8",
        "DEBUG": "0",
        "SECRET_KEY": "restore-drill-" + uuid.uuid4().hex * 2,
        **key_env,
        "DATABASE_URL": target.url,
        "MEDIA_ROOT": str(target.media),
    }
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "restore", str(backup), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def make_backup(tmp_path: Path, name: str = "drill", archive: bool = False) -> Path:
    call_command("backup", str(tmp_path / "backups"), name=name, archive=archive, verbosity=0)
    return tmp_path / "backups" / (f"{name}.tar" if archive else name)


def read_keys_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_restore_drill_round_trip(keys, media, target, tmp_path):
    originals = build_city()
    expected = source_counts()
    driver_sql = "SELECT id, license_no, license_index, phone, phone_index FROM drivers_driver"
    expected_drivers = sorted(source_rows(driver_sql + " ORDER BY id"))
    keys_file = tmp_path / "secret" / "redwheel-keys.env"
    keys_file.parent.mkdir()
    call_command("backup", keys_only=str(keys_file), verbosity=0)
    backup = make_backup(tmp_path, archive=True)

    assert oct(keys_file.stat().st_mode & 0o777) == "0o600"
    saved_keys = read_keys_file(keys_file)
    assert saved_keys == keys
    # No key, in any form that could be used, is inside the backup.
    blob = backup.read_bytes()
    for secret in keys.values():
        assert secret.encode() not in blob

    restored = target()
    result = restore(backup, restored, saved_keys)
    assert result.returncode == 0, result.stderr
    assert restored.tables() >= set(expected)
    assert restored.counts(expected) == expected
    assert expected["drivers_driver"] == len(originals)
    assert expected["exchange_trip"] == 1
    assert sorted(restored.query(driver_sql + " ORDER BY id")) == expected_drivers
    fernet = Fernet(keys["PII_ENCRYPTION_KEYS"].encode())
    for pk, licence, _index, phone, _phone_index in restored.query(driver_sql):
        assert fernet.decrypt(licence.encode()).decode() == originals[pk][0]
        assert fernet.decrypt(phone.encode()).decode() == originals[pk][1]
    assert (restored.media / MEDIA_NAME).read_bytes() == MEDIA_BYTES


def test_restore_refuses_a_non_empty_database_unless_forced(keys, media, target, tmp_path):
    build_city(count=1)
    expected = source_counts()
    backup = make_backup(tmp_path)
    restored = target()
    assert restore(backup, restored, keys).returncode == 0

    again = restore(backup, restored, keys)
    assert again.returncode != 0
    assert "[restore_target_not_empty]" in again.stderr
    assert "--force" in again.stderr
    assert restored.counts(expected) == expected  # left as it was

    forced = restore(backup, restored, keys, "--force")
    assert forced.returncode == 0, forced.stderr
    assert restored.counts(expected) == expected
    assert (restored.media / MEDIA_NAME).read_bytes() == MEDIA_BYTES


def test_restore_with_the_wrong_keys_fails_before_writing(keys, media, target, tmp_path):
    build_city(count=1)
    backup = make_backup(tmp_path)
    restored = target()

    result = restore(backup, restored, fresh_keys())
    assert result.returncode != 0
    assert "[backup_key_mismatch]" in result.stderr
    assert "PII_ENCRYPTION_KEYS" in result.stderr and "--keys-only" in result.stderr
    assert restored.tables() == set()

    wrong_index_key = {**keys, "PII_BLIND_INDEX_KEY": "another-blind-index-key-0123456789"}
    result = restore(backup, restored, wrong_index_key)
    assert result.returncode != 0
    assert "[backup_key_mismatch]" in result.stderr and "PII_BLIND_INDEX_KEY" in result.stderr
    assert restored.tables() == set()


def test_a_key_missing_from_an_unfinished_rotation_fails_the_decrypt_check(
    settings, keys, media, target, tmp_path
):
    """Rows written before a key was prepended still need the old key: the fingerprint check
    only warns (one key matches), the decryption of sampled rows catches it."""
    build_city(count=2)
    new_key = Fernet.generate_key().decode()
    settings.PII_ENCRYPTION_KEYS = [new_key, keys["PII_ENCRYPTION_KEYS"]]
    testing.city().driver("轮换后")
    backup = make_backup(tmp_path)

    result = restore(backup, target(), {**keys, "PII_ENCRYPTION_KEYS": new_key})
    assert result.returncode != 0
    assert "[restore_decrypt_failed]" in result.stderr
    assert "drivers.Driver.license_no" in result.stderr
    assert "PII_ENCRYPTION_KEYS" in result.stderr

    both = restore(
        backup,
        target("both"),
        {**keys, "PII_ENCRYPTION_KEYS": f"{new_key},{keys['PII_ENCRYPTION_KEYS']}"},
    )
    assert both.returncode == 0, both.stderr


def test_a_corrupted_backup_is_refused(keys, media, target, tmp_path):
    build_city(count=1)
    backup = make_backup(tmp_path)
    manifest = json.loads((backup / "manifest.json").read_text())
    database = next(name for name in manifest["files"] if name.startswith("database."))
    data = bytearray((backup / database).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (backup / database).write_bytes(bytes(data))
    restored = target()

    result = restore(backup, restored, keys)
    assert result.returncode != 0
    assert "[backup_corrupt]" in result.stderr and database in result.stderr
    assert restored.tables() == set()
    assert not restored.media.exists() or not any(restored.media.iterdir())


def test_a_backup_from_newer_code_is_refused(keys, media, target, tmp_path):
    build_city(count=1)
    backup = make_backup(tmp_path)
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["migrations"]["drivers"] = "9999_from_the_future"
    (backup / "manifest.json").write_text(json.dumps(manifest))
    restored = target()

    result = restore(backup, restored, keys)
    assert result.returncode != 0
    assert (
        "[backup_incompatible]" in result.stderr and "drivers.9999_from_the_future" in result.stderr
    )
    assert restored.tables() == set()


def test_the_keys_file_is_never_overwritten(keys, tmp_path):
    existing = tmp_path / "keys.env"
    existing.write_text("precious\n")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", keys_only=str(existing), verbosity=0)
    assert existing.read_text() == "precious\n"
