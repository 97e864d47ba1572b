"""With DEBUG off the system checks refuse the committed development secrets and the console
SMS backend; the production environment documented in docs/operations.md passes
`check --deploy` without a single warning."""

import os
import re
import secrets
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.checks import ERROR, Tags, run_checks

from redwheel import testing

BASE_DIR = Path(django_settings.BASE_DIR)
# The committed development values, spelled out so the test does not trust the code under test.
DEV_SECRET_KEY = "dev-insecure-redwheel-key-change-me"
DEV_PII_KEY = "cmVkd2hlZWwtZGV2LWtleS0wMDAwMDAwMDAwMDAwMDA="
DEV_BLIND_INDEX_KEY = "redwheel-dev-blind-index-key"
DEV_CHECK_IDS = {"redwheel.E001", "redwheel.E002", "redwheel.E003", "redwheel.E004"}


def redwheel_errors() -> dict[str, str]:
    """Every registered security check's redwheel error, by id: message plus hint."""
    return {
        m.id: f"{m.msg} {m.hint}"
        for m in run_checks(tags=[Tags.security], include_deployment_checks=True)
        if m.id.startswith("redwheel.") and m.level >= ERROR
    }


@pytest.fixture
def development_defaults(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = DEV_SECRET_KEY
    settings.PII_ENCRYPTION_KEYS = [DEV_PII_KEY]
    settings.PII_BLIND_INDEX_KEY = DEV_BLIND_INDEX_KEY
    settings.SMS_BACKEND = "redwheel.core.sms.ConsoleSmsBackend"
    return settings


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    settings.PII_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.PII_BLIND_INDEX_KEY = secrets.token_urlsafe(32)
    settings.SMS_BACKEND = "redwheel.core.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = "https://sms.example.invalid/send"
    settings.SMS_GATEWAY_KEY = "gateway-key"
    settings.SMS_GATEWAY_SECRET = secrets.token_urlsafe(32)
    return settings


def test_with_debug_off_each_development_default_is_an_error_naming_its_setting(
    development_defaults,
):
    errors = redwheel_errors()
    assert set(errors) == DEV_CHECK_IDS
    assert "SECRET_KEY" in errors["redwheel.E001"]
    assert "PII_ENCRYPTION_KEYS" in errors["redwheel.E002"]
    assert "PII_BLIND_INDEX_KEY" in errors["redwheel.E003"]
    assert "SMS_BACKEND" in errors["redwheel.E004"]
    assert "ConsoleSmsBackend" in errors["redwheel.E004"]


def test_with_debug_on_the_development_defaults_are_accepted(development_defaults):
    development_defaults.DEBUG = True
    assert redwheel_errors() == {}


def test_a_production_configuration_has_no_errors(production):
    assert redwheel_errors() == {}


def test_an_old_development_pii_key_kept_for_decryption_is_still_refused(production):
    production.PII_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), DEV_PII_KEY]
    assert set(redwheel_errors()) == {"redwheel.E002"}


@pytest.mark.parametrize(
    ("keys", "words"),
    [([], "empty"), (["not-a-fernet-key"], "not a Fernet key")],
)
def test_missing_or_malformed_pii_keys_are_refused(production, keys, words):
    production.PII_ENCRYPTION_KEYS = keys
    errors = redwheel_errors()
    assert set(errors) == {"redwheel.E002"}
    assert words in errors["redwheel.E002"]


def test_a_short_blind_index_key_is_refused(production):
    production.PII_BLIND_INDEX_KEY = "short-key"
    errors = redwheel_errors()
    assert set(errors) == {"redwheel.E003"}
    assert "PII_BLIND_INDEX_KEY" in errors["redwheel.E003"]


@pytest.mark.parametrize(
    "backend", ["redwheel.core.sms.MemorySmsBackend", "redwheel.core.sms.NoSuchBackend"]
)
def test_the_memory_backend_and_unimportable_backends_are_refused(production, backend):
    production.SMS_BACKEND = backend
    errors = redwheel_errors()
    assert set(errors) == {"redwheel.E004"}
    assert backend in errors["redwheel.E004"]


def test_the_http_gateway_needs_its_url_key_and_secret_debug_or_not(production):
    production.DEBUG = True
    production.SMS_GATEWAY_URL = "sms.internal/send"  # no scheme
    production.SMS_GATEWAY_KEY = ""
    production.SMS_GATEWAY_SECRET = ""
    errors = redwheel_errors()
    assert set(errors) == {"redwheel.E005", "redwheel.E006", "redwheel.E007"}
    assert "SMS_GATEWAY_URL" in errors["redwheel.E005"]
    assert "SMS_GATEWAY_KEY" in errors["redwheel.E006"]
    assert "SMS_GATEWAY_SECRET" in errors["redwheel.E007"]


# --- manage.py in a subprocess, with the environment passed explicitly -----------------------

# Values for the placeholders of the documented environment; a new placeholder in the docs
# must be added here, which keeps the docs and this test in step.
PLACEHOLDERS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "PII_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
    "PII_BLIND_INDEX_KEY": lambda: secrets.token_urlsafe(32),
    "SMS_GATEWAY_KEY": lambda: "gateway-key",
    "SMS_GATEWAY_SECRET": lambda: secrets.token_urlsafe(32),
}


def documented_production_env() -> dict[str, str]:
    text = (BASE_DIR / "docs" / "operations.md").read_text(encoding="utf-8")
    block = re.search(r"Minimum production environment.*?```sh\n(.*?)```", text, re.S)
    assert block, "docs/operations.md lost its 'Minimum production environment' block"
    env = {}
    for line in block.group(1).splitlines():
        name, value = line.split("=", 1)
        if "<" in value and name != "DATABASE_URL":
            assert name in PLACEHOLDERS, f"no test value for the documented placeholder {name}"
            value = PLACEHOLDERS[name]()
        env[name] = value
    assert env["DEBUG"] == "0"
    return env


def manage(tmp_path: Path, *args: str, extra: dict[str, str] | None = None):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENV_FILE": str(tmp_path / "absent.env"),  # a developer's .env must not leak in
        "LANG": "C.UTF-8",
        **(extra or {}),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tables(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with closing(sqlite3.connect(path)) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_check_deploy_fails_on_the_defaults_and_migrate_refuses_too(tmp_path):
    result = manage(tmp_path, "check", "--deploy", extra={"DEBUG": "0"})
    assert result.returncode != 0
    for check_id, setting in [
        ("redwheel.E001", "SECRET_KEY"),
        ("redwheel.E002", "PII_ENCRYPTION_KEYS"),
        ("redwheel.E003", "PII_BLIND_INDEX_KEY"),
        ("redwheel.E004", "SMS_BACKEND"),
    ]:
        assert re.search(rf"\({re.escape(check_id)}\) {setting}\b", result.stderr), result.stderr

    migrate = manage(tmp_path, "migrate", "--no-input", extra={"DEBUG": "0"})
    assert migrate.returncode != 0
    assert "redwheel.E001" in migrate.stderr
    assert tables(tmp_path / "check.sqlite3") == set()  # nothing was migrated


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    result = manage(tmp_path, "check", "--deploy", extra=documented_production_env())
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in output, output
    assert "WARNING" not in output


def test_the_worker_helper_secrets_pass_the_checks(tmp_path):
    result = manage(tmp_path, "check", extra={"DEBUG": "0", **testing.production_secrets()})
    assert result.returncode == 0, result.stderr


def test_every_settings_variable_is_listed_in_env_example():
    settings_source = (BASE_DIR / "config" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', settings_source))
    listed = set(
        re.findall(r"^([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(encoding="utf-8"), re.M)
    )
    assert names, "no env_* calls found in config/settings.py"
    assert names - listed == set()


def _load_server_app(tmp_path: Path, module: str, extra: dict[str, str]):
    """Import the WSGI/ASGI application as gunicorn or uvicorn would, in a fresh process."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENV_FILE": str(tmp_path / "absent.env"),
        "LANG": "C.UTF-8",
        **extra,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_servers_refuse_to_start_on_the_development_defaults(tmp_path, module):
    refused = _load_server_app(tmp_path, module, {"DEBUG": "0"})
    assert refused.returncode != 0
    assert "redwheel.E001" in refused.stderr and "SECRET_KEY" in refused.stderr
    started = _load_server_app(tmp_path, module, {"DEBUG": "0", **testing.production_secrets()})
    assert started.returncode == 0, started.stderr


def test_the_worker_refuses_the_defaults_and_development_commands_still_run(tmp_path):
    worker = manage(tmp_path, "worker", "--once", extra={"DEBUG": "0"})
    assert worker.returncode != 0
    assert "redwheel.E001" in worker.stderr
    makemigrations = manage(
        tmp_path, "makemigrations", "--check", "--dry-run", extra={"DEBUG": "0"}
    )
    assert makemigrations.returncode == 0, makemigrations.stderr
