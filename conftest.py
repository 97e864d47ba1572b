import pytest
from django.utils import translation

from redwheel import testing


@pytest.fixture
def city(db):
    return testing.city()


@pytest.fixture(autouse=True)
def _english(settings):
    """Tests assert on English messages; test_i18n checks that zh-Hans is the default."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests hash thousands of passwords. Production keeps Argon2
    (see test_password_hashing_is_argon2 for the configured default)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    from redwheel.core.sms import MemorySmsBackend

    settings.SMS_BACKEND = "redwheel.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    yield


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Run background tasks in-process so tests see their effects without a worker."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "ENQUEUE_ON_COMMIT": False,
        }
    }
    yield
