from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from redwheel.api import api
from redwheel.core.views import home

urlpatterns = [
    path("api/v1/", api.urls),  # first: platforms' look-ups are the hottest paths
    path("", home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("redwheel.accounts.urls")),
    path("staff/", include("redwheel.orgs.urls")),
    path("staff/", include("redwheel.drivers.urls")),
    path("staff/imports/", include("redwheel.drivers.imports.urls")),
    path("staff/exchange/", include("redwheel.exchange.urls")),
    path("scoring/", include("redwheel.scoring.urls")),
    path("sandbox/", include("redwheel.dispatch.urls")),
    path("appeals/", include("redwheel.appeals.urls")),
    path("mobilization/", include("redwheel.mobilization.urls")),
    path("me/", include("redwheel.drivers.urls_driver")),
    path("core/", include("redwheel.core.urls")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
