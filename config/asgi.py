import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from redwheel.core.checks import refuse_unsafe_settings  # noqa: E402  (after setup)

refuse_unsafe_settings()
