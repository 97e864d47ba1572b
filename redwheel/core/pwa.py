"""The installable app (docs/frontend.md, "Installable"): the web app manifest, the service
worker and the offline page, all served at the site root (a service worker controls only the
pages under the path it is served from, so /sw.js controls the whole site).

What the service worker keeps on the device:

- the app shell (`SHELL`: the frame's CSS and scripts, the brand mark, the icons, the font's
  CSS) and the offline page, fetched without cookies when it installs;
- other static files once used (fonts, charts), refreshed in the background;
- no page of the site, except the pages under a prefix a capability declares offline-capable
  with `offline_pages(prefix)`: those are stored when the signed-in driver opens them, shown
  when the network is gone, and deleted when anyone logs out on that device.

Every other page goes to the network; without one, the offline page is shown.
"""

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME_COLOR = "#c8161d"
BACKGROUND_COLOR = "#ffffff"

# Static files the service worker stores on install: what every page of the frame loads.
SHELL = (
    "redwheel/app.css",
    "redwheel/home.css",
    "redwheel/frame.js",
    "redwheel/brand.svg",
    "redwheel/icons/icon.svg",
    "redwheel/icons/icon-192.png",
    "vendor/htmx.min.js",
    "vendor/noto-sans-sc/noto-sans-sc.css",
)

# (file, size, purpose) of the manifest's icons; drawn by scripts/icons.py.
ICONS = (
    ("redwheel/icons/icon-192.png", "192x192", "any"),
    ("redwheel/icons/icon-512.png", "512x512", "any"),
    ("redwheel/icons/icon-maskable-192.png", "192x192", "maskable"),
    ("redwheel/icons/icon-maskable-512.png", "512x512", "maskable"),
    ("redwheel/icons/icon.svg", "any", "any"),
)

_offline_prefixes: list[str] = []


def offline_pages(prefix: str) -> None:
    """Let the service worker keep the pages under `prefix` (a path such as
    "/me/learning/lessons/") for reading offline. Call it from the capability's ready(); only
    for pages of the driver's own that are fine to keep on their phone until logout."""
    if not (prefix.startswith("/") and prefix.endswith("/")) or prefix == "/":
        raise ValueError(f"an offline prefix is a path below the root, in slashes: {prefix!r}")
    if prefix not in _offline_prefixes:
        _offline_prefixes.append(prefix)


def offline_prefixes() -> list[str]:
    return sorted(_offline_prefixes)


@require_safe
@cache_control(max_age=86400)
def manifest(request):
    data = {
        "id": "/me/",
        "name": _("RedWheel"),
        "short_name": _("RedWheel"),
        "description": _("Party building for ride-hailing drivers."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("me:home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static(path), "sizes": sizes, "purpose": purpose, "type": _mime(path)}
            for path, sizes, purpose in ICONS
        ],
    }
    return JsonResponse(
        data,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@require_safe
def service_worker(request):
    shell = [static(path) for path in SHELL]
    script = render_to_string(
        "core/sw.js",
        {
            "config": json.dumps(
                {
                    "version": _version(),
                    "shell": shell,
                    "offline": reverse("pwa:offline"),
                    "static": settings.STATIC_URL,
                    "offlinePrefixes": offline_prefixes(),
                    "logout": reverse("accounts:logout"),
                },
                indent=2,
            )
        },
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    # Browsers check for a new worker on every navigation; never let a cache answer for it.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
def offline(request):
    """Shown by the service worker when a page cannot be fetched. Public and personal-data
    free: the worker stores it, whoever is signed in."""
    return render(request, "core/offline.html")


def _mime(path: str) -> str:
    return "image/svg+xml" if path.endswith(".svg") else "image/png"


def _version() -> str:
    """Changes whenever a shell file, the worker or the offline prefixes change, so browsers
    install the new worker and drop the old caches."""
    return _version_cached() if not settings.DEBUG else _version_cached.__wrapped__()


@lru_cache(maxsize=1)
def _version_cached() -> str:
    digest = hashlib.sha256()
    for path in SHELL:
        found = finders.find(path)
        digest.update(path.encode())
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
    digest.update(render_to_string("core/sw.js", {"config": ""}).encode())
    digest.update(render_to_string("core/offline.html").encode())
    digest.update(repr(offline_prefixes()).encode())
    return digest.hexdigest()[:16]
