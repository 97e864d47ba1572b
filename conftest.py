import pytest

from redwheel.core import testing


@pytest.fixture
def city(db):
    return testing.city()


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
