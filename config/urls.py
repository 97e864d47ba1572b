"""Pages by audience (docs/architecture.md, "URLs and menus"): staff pages under
/staff/<capability>/, a driver's own pages under /me/<capability>/, the JSON API under
/api/v1/, sign-in under /accounts/. Each app's urls.py mounts its own pages at both prefixes
(redwheel.core.audiences), so the apps are included at the root; the old URLs redirect
(config/legacy_urls.py, last, so a live page always wins)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from redwheel.accounts.views import home
from redwheel.api import api
from redwheel.core import health, metrics

urlpatterns = [
    # Probes and metrics first (core.health's ProbeMiddleware normally answers the probes).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", api.urls),  # first: platforms' look-ups are the hottest paths
    path("", home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("redwheel.accounts.urls")),  # /accounts/…, and /me/services/, /me/settings/
    path("", include("redwheel.core.pwa_urls")),  # /manifest.webmanifest, /sw.js, /offline/
    path("", include("redwheel.core.urls")),
    path("", include("redwheel.insights.urls")),
    path("", include("redwheel.orgs.urls")),
    path("", include("redwheel.drivers.urls")),
    path("", include("redwheel.drivers.urls_driver")),
    path("", include("redwheel.drivers.imports.urls")),
    path("", include("redwheel.exchange.urls")),
    path("", include("redwheel.scoring.urls")),
    path("", include("redwheel.dispatch.urls")),
    path("", include("redwheel.appeals.urls")),
    path("", include("redwheel.mobilization.urls")),
    path("", include("redwheel.party.recruitment.urls")),
    path("", include("redwheel.party.meetings.urls")),
    path("", include("redwheel.party.evaluation.urls")),
    path("", include("redwheel.party.dues.urls")),
    path("", include("redwheel.party.mobile.urls")),
    path("", include("redwheel.party.urls")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
urlpatterns.append(path("", include("config.legacy_urls")))
