"""What every server entry point does before it answers: refuse to run on unsafe settings.

`manage.py` commands run Django's system checks themselves; WSGI and ASGI servers (gunicorn,
uvicorn) do not, so a production server started with the development keys or the console
SMS backend would otherwise serve. With DEBUG off, the error-level checks
(`redwheel/core/checks.py`) stop it here.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_settings() -> None:
    if settings.DEBUG:
        return
    errors = [m for m in checks.run_checks(tags=[checks.Tags.security]) if m.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{m.id}: {m.msg}" for m in errors))
