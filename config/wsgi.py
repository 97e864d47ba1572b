import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from redwheel.core.checks import refuse_unsafe_settings  # noqa: E402  (after setup)

refuse_unsafe_settings()
