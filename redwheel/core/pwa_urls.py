from django.urls import path

from redwheel.core import pwa

# At the site root: a service worker controls only the pages under its own path.
app_name = "pwa"
urlpatterns = [
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
]
