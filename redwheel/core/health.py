"""Probes for the load balancer and the orchestrator (docs/operations.md, "Health checks and
metrics").

/healthz  200 "ok" whenever the process answers; touches nothing else (liveness).
/readyz   200 when the database, the migrations and a worker heartbeat are fine, else 503
          with Retry-After; the JSON body names each check (readiness). A failing cache makes
          the status "degraded" but still 200 (see DEGRADED_OK).

`ProbeMiddleware`, first in MIDDLEWARE, answers both before anything else runs: a probe that
sends the node's IP as Host, plain HTTP behind SECURE_SSL_REDIRECT, no session and no language
must still get its answer, and no middleware may open a database connection on the way. The
URLs are mounted too (config/urls.py) so that `reverse()` knows them.

The checks report an exception's class, never its message: the body is public, and a driver's
message can name hosts and ports. The full error goes to the log.
"""

import copy
import logging
import os
import secrets
import socket

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from redwheel.core import heartbeat

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
CACHE_KEY_TTL_SECONDS = 30
SAFE_METHODS = ("GET", "HEAD")


class _Migrations:
    """Once every migration on disk is applied it stays so for this process's lifetime (code
    on disk does not change under a running server), so later probes skip the loader."""

    all_applied = False


class _Readiness:
    """The failing checks of this process's last answer: a change is logged once, not the
    same failure every few seconds."""

    failed: list[str] = []
    causes: dict[str, str] = {}


def _failure(check: str, exc: Exception) -> tuple[bool, str]:
    logger.debug("readyz: %s check failed", check, exc_info=exc)
    _Readiness.causes[check] = f"{type(exc).__name__}: {exc}".strip()
    return False, f"error: {type(exc).__name__}"


def _probe_connection():
    """A separate connection to the default database with short connect and statement
    timeouts: the shared one has none (libpq waits for ever on an unreachable host), and a
    broken shared connection must not decide the answer."""
    base = connections[DEFAULT_DB_ALIAS]
    params = copy.deepcopy(base.settings_dict)
    options = params.setdefault("OPTIONS", {})
    timeout = max(settings.READY_DB_TIMEOUT_SECONDS, 1)
    if base.vendor == "postgresql":
        options.pop("pool", None)  # a pool of its own per probe would defeat the point
        options["connect_timeout"] = timeout
        extra = f"-c statement_timeout={timeout * 1000}"
        options["options"] = f"{options.get('options', '')} {extra}".strip()
    params["CONN_MAX_AGE"] = 0
    return load_backend(params["ENGINE"]).DatabaseWrapper(params, DEFAULT_DB_ALIAS)


def check_database() -> tuple[bool, str]:
    base = connections[DEFAULT_DB_ALIAS]
    # SQLite is a local file (or the tests' in-memory database, which a second connection
    # would not see): nothing to time out on, so the shared connection answers.
    probe = base if base.vendor == "sqlite" else _probe_connection()
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failure("database", exc)
    finally:
        if probe is not base:
            probe.close()
    return True, f"{base.vendor} answered"


def check_cache() -> tuple[bool, str]:
    cache = caches["default"]
    key = f"redwheel:readyz:{socket.gethostname()}:{os.getpid()}"
    value = secrets.token_hex(8)
    try:
        cache.set(key, value, timeout=CACHE_KEY_TTL_SECONDS)
        read = cache.get(key)
    except Exception as exc:
        return _failure("cache", exc)
    if read != value:
        return False, "a value written was not read back"
    return True, f"{type(cache).__name__} set/get"


def check_migrations() -> tuple[bool, str]:
    if _Migrations.all_applied:
        return True, "all applied"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return _failure("migrations", exc)
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        more = f" and {len(plan) - 5} more" if len(plan) > 5 else ""
        return False, f"{len(plan)} unapplied: {names}{more}"
    _Migrations.all_applied = True
    return True, "all applied"


def check_worker() -> tuple[bool, str]:
    max_age = settings.READY_WORKER_MAX_AGE_S
    if max_age <= 0:
        return True, "not checked (READY_WORKER_MAX_AGE_S=0)"
    try:
        age, workers = heartbeat.latest()
    except Exception as exc:
        return _failure("worker", exc)
    if age is None:
        return False, "no worker heartbeat"
    if age > max_age:
        return False, f"last heartbeat {age:.0f}s ago (limit {max_age}s)"
    return True, f"last heartbeat {age:.0f}s ago ({workers} worker row(s))"


# A lost cache slows the platforms' look-ups (they fall back to the database and a per-process
# rate limit, scoring/cache.py) and hides import progress, but stops nothing: it is reported as
# "degraded" without taking every node out of the load balancer at once.
DEGRADED_OK = frozenset({"cache"})


def run_checks() -> dict[str, dict]:
    results = {"database": check_database(), "cache": check_cache()}
    if results["database"][0]:
        results["migrations"] = check_migrations()
        results["worker"] = check_worker()
    else:
        # Both read the database; trying would only wait out a second timeout.
        skipped = (False, "skipped: database unavailable")
        results["migrations"] = results["worker"] = skipped
    return {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def healthz(request: HttpRequest) -> HttpResponse:
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    return _no_store(HttpResponse("ok", content_type="text/plain; charset=utf-8"))


@csrf_exempt
def readyz(request: HttpRequest) -> HttpResponse:
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    _Readiness.causes = {}
    checks = run_checks()
    ready = all(check["ok"] for name, check in checks.items() if name not in DEGRADED_OK)
    status = (
        "fail" if not ready else ("ok" if all(c["ok"] for c in checks.values()) else "degraded")
    )
    response = JsonResponse({"status": status, "checks": checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # Django would log every 503 as an error, i.e. once per probe for as long as a
        # dependency is down; the failed checks are logged above, with their cause.
        response._has_been_logged = True
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    if failed != _Readiness.failed:
        _Readiness.failed = failed
        if failed:
            logger.error(
                "readyz: not ready; %s",
                "; ".join(
                    f"{name}: {_Readiness.causes.get(name) or checks[name]['detail']}"
                    for name in failed
                ),
            )
        else:
            logger.info("readyz: ready")
    return _no_store(response)


PROBES = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """Answer /healthz and /readyz before the rest of the stack (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        view = PROBES.get(path[:-1] if path.endswith("/") else path)
        if view is None:
            return self.get_response(request)
        return view(request)
