"""System checks that refuse to run a deployment on public development secrets.

The development defaults in `config/dev_secrets.py` are committed: with them, anyone holding a
database dump can decrypt the personal data, brute-force the blind indexes (there are only so
many mobile numbers) and forge sessions. With DEBUG off each check below reports an *error*.
They are deployment checks, so development commands (`makemigrations`, `shell`) are not held
up; `manage.py check --deploy` reports them, and `refuse_unsafe_settings()` makes the WSGI and
ASGI servers (so also `runserver`), `migrate` and the worker refuse to start. One id per
setting, so the message says exactly what to set (docs/operations.md):

redwheel.E001 SECRET_KEY, redwheel.E002 PII_ENCRYPTION_KEYS, redwheel.E003 PII_BLIND_INDEX_KEY,
redwheel.E004 SMS_BACKEND, and, when SMS_BACKEND is the HTTP gateway, redwheel.E005
SMS_GATEWAY_URL, redwheel.E006 SMS_GATEWAY_KEY, redwheel.E007 SMS_GATEWAY_SECRET;
redwheel.E011 METRICS_TOKEN, when METRICS_ENABLED.

redwheel.E010 is not a deployment check: with NO_COMPULSION on, an input of a score, points or
an assessment that reads logins, check-ins, time or clicks (core/compulsion.py) stops every
command that runs the system checks, development ones included.
"""

from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from config import dev_secrets

MIN_KEY_LENGTH = 32
DEVELOPMENT_SMS_BACKENDS = {
    "redwheel.core.sms.ConsoleSmsBackend": "prints every message, activation codes included",
    "redwheel.core.sms.MemorySmsBackend": "keeps messages in memory and sends nothing",
}
HTTP_SMS_BACKEND = "redwheel.core.sms.HttpSmsBackend"


GENERATE_HINT = (
    "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))' "
    "(docs/operations.md)."
)


@register(Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG or settings.SECRET_KEY != dev_secrets.SECRET_KEY:
        return []
    return [
        Error(
            "SECRET_KEY is the development key from the source code, and DEBUG is off.",
            hint="Set SECRET_KEY to 50 or more random characters. " + GENERATE_HINT,
            id="redwheel.E001",
        )
    ]


def _invalid_fernet_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:
        return True
    return False


@register(Tags.security, deploy=True)
def check_pii_encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    keys = list(settings.PII_ENCRYPTION_KEYS)
    if not keys:
        problem = "PII_ENCRYPTION_KEYS is empty"
    elif dev_secrets.PII_ENCRYPTION_KEY in keys:
        problem = "PII_ENCRYPTION_KEYS contains the development key from the source code"
    elif any(_invalid_fernet_key(key) for key in keys):
        problem = "PII_ENCRYPTION_KEYS contains a value that is not a Fernet key"
    else:
        return []
    return [
        Error(
            f"{problem}, and DEBUG is off.",
            hint=(
                "Set PII_ENCRYPTION_KEYS to your own Fernet key(s). Generate one with: "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'. Data already encrypted with the "
                "development key: put the new key first, keep the old one, run "
                "`manage.py rotate_pii_keys --skip-checks`, then drop it (docs/operations.md)."
            ),
            id="redwheel.E002",
        )
    ]


@register(Tags.security, deploy=True)
def check_pii_blind_index_key(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    key = settings.PII_BLIND_INDEX_KEY
    if key == dev_secrets.PII_BLIND_INDEX_KEY:
        problem = "PII_BLIND_INDEX_KEY is the development key from the source code"
    elif len(key) < MIN_KEY_LENGTH:
        problem = f"PII_BLIND_INDEX_KEY is shorter than {MIN_KEY_LENGTH} characters"
    else:
        return []
    return [
        Error(
            f"{problem}, and DEBUG is off: a database dump's blind indexes could be "
            "brute-forced back to the numbers.",
            hint=(
                f"Set PII_BLIND_INDEX_KEY to {MIN_KEY_LENGTH} or more random characters, then "
                "run `manage.py rotate_pii_keys --reindex`. " + GENERATE_HINT
            ),
            id="redwheel.E003",
        )
    ]


@register(Tags.security, deploy=True)
def check_sms_backend(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    backend = settings.SMS_BACKEND
    hint = f"Set SMS_BACKEND={HTTP_SMS_BACKEND} with the SMS_GATEWAY_* settings, or your own class."
    if backend in DEVELOPMENT_SMS_BACKENDS:
        return [
            Error(
                f"SMS_BACKEND is {backend}, a development backend that "
                f"{DEVELOPMENT_SMS_BACKENDS[backend]}, and DEBUG is off.",
                hint=hint,
                id="redwheel.E004",
            )
        ]
    try:
        import_string(backend)
    except ImportError as exc:
        return [
            Error(
                f"SMS_BACKEND {backend!r} cannot be imported: {exc}", hint=hint, id="redwheel.E004"
            )
        ]
    return []


@register(Tags.security)
def check_sms_gateway(app_configs=None, **kwargs) -> list[Error]:
    """The gateway settings are checked whenever the gateway is used, DEBUG or not: without
    them no message can be sent."""
    if settings.SMS_BACKEND != HTTP_SMS_BACKEND:
        return []
    errors = []
    url = urlsplit(settings.SMS_GATEWAY_URL)
    if url.scheme not in ("http", "https") or not url.hostname:
        errors.append(
            Error(
                "SMS_GATEWAY_URL is not an http(s) URL, and SMS_BACKEND is the HTTP gateway.",
                hint="Set SMS_GATEWAY_URL to the gateway's send endpoint, preferably https://.",
                id="redwheel.E005",
            )
        )
    if not settings.SMS_GATEWAY_KEY:
        errors.append(
            Error(
                "SMS_GATEWAY_KEY is empty, and SMS_BACKEND is the HTTP gateway.",
                hint="Set SMS_GATEWAY_KEY to the API key the gateway issued to RedWheel.",
                id="redwheel.E006",
            )
        )
    if not settings.SMS_GATEWAY_SECRET:
        errors.append(
            Error(
                "SMS_GATEWAY_SECRET is empty, and SMS_BACKEND is the HTTP gateway.",
                hint="Set SMS_GATEWAY_SECRET to the secret shared with the gateway that signs "
                "each request (X-RedWheel-Signature).",
                id="redwheel.E007",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_metrics_token(app_configs=None, **kwargs) -> list[Error]:
    """/metrics shows queue sizes, backlogs and traffic: never open, never a guessable token."""
    if settings.DEBUG or not settings.METRICS_ENABLED:
        return []
    if len(settings.METRICS_TOKEN) >= MIN_KEY_LENGTH:
        return []
    return [
        Error(
            f"METRICS_ENABLED is on and METRICS_TOKEN is shorter than {MIN_KEY_LENGTH} "
            "characters, and DEBUG is off.",
            hint=(
                f"Set METRICS_TOKEN to {MIN_KEY_LENGTH} or more random characters and give it "
                "to Prometheus as its bearer token, or set METRICS_ENABLED=0. " + GENERATE_HINT
            ),
            id="redwheel.E011",
        )
    ]


@register(Tags.security)
def check_no_compulsion(app_configs=None, **kwargs) -> list[Error]:
    from redwheel.core import compulsion

    if not compulsion.enforced():
        return []
    return [
        Error(
            f"{item.key} feeds {item.feeds} from activity signals "
            f"({', '.join(sorted(item.signals))}); NO_COMPULSION forbids it (domain-rules §1).",
            hint="Count a confirmed outcome instead, or set NO_COMPULSION=0 knowingly.",
            id="redwheel.E010",
        )
        for item in compulsion.violations()
    ]


def refuse_unsafe_settings() -> None:
    """Raise ImproperlyConfigured, naming each check, when the deployment checks above fail.

    Servers and the commands that change or serve data call this: Django runs deployment
    checks only for `check --deploy`, and WSGI/ASGI servers run no checks at all."""
    if settings.DEBUG:
        return
    errors = [
        m
        for m in run_checks(tags=[Tags.security], include_deployment_checks=True)
        if m.is_serious()
    ]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{m.id}: {m.msg}" for m in errors))
