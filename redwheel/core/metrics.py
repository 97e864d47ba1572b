"""Prometheus metrics at /metrics (docs/operations.md, "Health checks and metrics").

Two kinds:

- per process, kept by `PrometheusMiddleware`: requests by route and status class, and their
  latency. The route is the URL pattern's name (its pattern when it has none), never the
  path, so ids cannot explode the number of series; an unresolved path counts as
  "<unmatched>". With several gunicorn processes set PROMETHEUS_MULTIPROC_DIR and every
  process writes its numbers there (prometheus_client's multiprocess mode), so any one of them
  answers a scrape for all.
- from the database, computed by `DatabaseCollector` at scrape time so they are right however
  many processes and workers there are: task queue, outbox, workers, and what the apps
  register with `register_source()` (the kernel imports no app; exchange and appeals add
  theirs from their `ready()`). Each source is a few indexed counts; a failing source is
  logged and shows as redwheel_metrics_source_up{source=...} 0 instead of failing the scrape.

The endpoint answers 404 unless METRICS_ENABLED, then 401 without the right bearer token.
"""

import hmac
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db.models import Case, Count, F, Min, When
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from redwheel.core import heartbeat
from redwheel.core.unavailable import is_unavailable

logger = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "redwheel_http_requests_total",
    "HTTP requests answered, by URL pattern name, method and status class.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "redwheel_http_request_duration_seconds",
    "Time from the first middleware to the response, by URL pattern name and method.",
    ["route", "method"],
)


def route_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name if match.url_name else (match.route or UNMATCHED)


class PrometheusMiddleware:
    """Count and time every request. Cheap: two label look-ups and two additions. Not loaded at
    all while METRICS_ENABLED is off, so a deployment without metrics pays nothing per request."""

    def __init__(self, get_response):
        if not settings.METRICS_ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_label(request)
        # Methods come from the client; an invented one must not become a new series.
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(route, method, f"{response.status_code // 100}xx").inc()
        return response


Source = Callable[[datetime], Iterable[Metric]]
_sources: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    """Add (or replace) a database metric source: `source(now)` yields metric families."""
    _sources[name] = source


def registered_sources() -> dict[str, Source]:
    return dict(_sources)


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def task_queue(now: datetime) -> Iterable[Metric]:
    from django_tasks_db.models import DBTaskResult, get_date_max

    depth = GaugeMetricFamily(
        "redwheel_task_queue_depth", "Tasks ready to run now, by queue.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "redwheel_task_queue_oldest_ready_age_seconds",
        "How long the longest-waiting ready task has been runnable, by queue.",
        labels=["queue"],
    )
    # A task is runnable from its run_after, or from its enqueueing when it has none (then
    # django-tasks-db stores the maximum date).
    ready_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")
    )
    rows = {
        row["queue_name"]: row
        for row in DBTaskResult.objects.ready()
        .order_by()
        .values("queue_name")
        .annotate(n=Count("id"), since=Min(ready_since))
    }
    rows.setdefault("default", {"n": 0, "since": None})
    for queue, row in sorted(rows.items()):
        depth.add_metric([queue], row["n"])
        oldest.add_metric([queue], _age(now, row["since"]))
    return [depth, oldest]


def outbox(now: datetime) -> Iterable[Metric]:
    from redwheel.core.models import Notification

    status = Notification.Status
    undelivered = [status.PENDING, status.SENDING, status.FAILED]
    counts = dict(
        Notification.objects.filter(status__in=[*undelivered, status.DEAD])
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    by_status = GaugeMetricFamily(
        "redwheel_outbox_notifications",
        "Notifications not sent: pending, sending, failed (will retry) and dead (gave up).",
        labels=["status"],
    )
    for value in [*undelivered, status.DEAD]:
        by_status.add_metric([value], counts.get(value, 0))
    since = (
        Notification.objects.filter(status__in=undelivered)
        .order_by()
        .aggregate(since=Min("created_at"))["since"]
    )
    return [
        by_status,
        GaugeMetricFamily(
            "redwheel_outbox_backlog",
            "Notifications still to deliver (pending, sending or failed and retrying).",
            value=sum(counts.get(value, 0) for value in undelivered),
        ),
        GaugeMetricFamily(
            "redwheel_outbox_oldest_undelivered_age_seconds",
            "Age of the oldest notification still to deliver (0 when none).",
            value=_age(now, since),
        ),
    ]


def workers(now: datetime) -> Iterable[Metric]:
    from redwheel.core.models import WorkerHeartbeat

    age, _rows = heartbeat.latest(now=now)
    window = settings.READY_WORKER_MAX_AGE_S if settings.READY_WORKER_MAX_AGE_S > 0 else 120
    alive = WorkerHeartbeat.objects.filter(seen_at__gte=now - timedelta(seconds=window)).count()
    return [
        GaugeMetricFamily(
            "redwheel_worker_heartbeat_age_seconds",
            "Seconds since the freshest worker heartbeat (+Inf when no worker ever beat).",
            value=float("inf") if age is None else age,
        ),
        GaugeMetricFamily(
            "redwheel_workers_alive",
            "Workers whose heartbeat is younger than READY_WORKER_MAX_AGE_S (120 s when 0).",
            value=alive,
        ),
    ]


register_source("tasks", task_queue)
register_source("outbox", outbox)
register_source("workers", workers)


class DatabaseCollector:
    def describe(self):
        return []  # nothing to declare up front; no scrape-time query at registration

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily(
            "redwheel_metrics_source_up",
            "1 when a database metric source answered this scrape.",
            labels=["source"],
        )
        unreachable = False
        for name, source in sorted(_sources.items()):
            if unreachable:  # every source would wait out the same dead connection again
                up.add_metric([name], 0)
                continue
            try:
                families = list(source(now))
            except Exception as exc:
                unreachable = is_unavailable(exc)
                if unreachable:
                    logger.warning("metrics: database unreachable at source %s", name)
                else:
                    logger.exception("metrics: source %s failed", name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


DATABASE_REGISTRY = CollectorRegistry(auto_describe=False)
DATABASE_REGISTRY.register(DatabaseCollector())


def _request_registry() -> CollectorRegistry:
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
        return registry
    return REGISTRY


def authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False  # never an open endpoint because the token was forgotten
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@csrf_exempt
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404
    if not authorized(request):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(_request_registry()) + generate_latest(DATABASE_REGISTRY)
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
