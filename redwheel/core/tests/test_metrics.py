"""/metrics (core.metrics): access, the request metrics and the database metrics."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.checks import Error
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from redwheel import testing
from redwheel.appeals import services as appeals
from redwheel.appeals.models import Case
from redwheel.core import checks, heartbeat, metrics, notifications
from redwheel.core.permissions import SystemActor
from redwheel.exchange import services as exchange
from redwheel.exchange.tests.examples import example

TOKEN = "m" * 40
BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def enabled(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = TOKEN
    settings.PROMETHEUS_MULTIPROC_DIR = ""


@pytest.fixture
def queued_tasks(settings):
    """The database queue, so enqueued tasks and their notifications stay undelivered."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "ENQUEUE_ON_COMMIT": False}
    }


def scrape(client=None) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one authorised scrape."""
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


# Access ----------------------------------------------------------------------------------------


def test_metrics_are_404_when_disabled(settings, db):
    settings.METRICS_ENABLED = False
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", TOKEN],
)
def test_metrics_are_401_without_the_right_bearer_token(enabled, db, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"redwheel_" not in response.content


def test_an_empty_token_opens_nothing(settings, db):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_only_get_and_head(enabled, db):
    response = Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_production_refuses_metrics_without_a_long_token(settings):
    settings.DEBUG = False
    settings.METRICS_ENABLED = True
    for token in ("", "short"):
        settings.METRICS_TOKEN = token
        errors = checks.check_metrics_token()
        assert [e.id for e in errors] == ["redwheel.E011"]
        assert isinstance(errors[0], Error)
    settings.METRICS_TOKEN = TOKEN
    assert checks.check_metrics_token() == []
    settings.METRICS_ENABLED = False
    settings.METRICS_TOKEN = ""
    assert checks.check_metrics_token() == []


# Request metrics -------------------------------------------------------------------------------


def requests_count(samples, **labels) -> float:
    return samples.get(("redwheel_http_requests_total", tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_name_never_by_raw_path(enabled, db):
    client = Client()
    before = scrape(client)
    # An id in the path: a case page, which sends an anonymous visitor to sign in.
    path = "/appeals/987654/"
    client.get(path)
    client.get(path)
    client.get("/no/such/page/424242/")
    after = scrape(client)

    route = "appeals:detail"
    labels = {"route": route, "method": "GET", "status": "3xx"}
    assert requests_count(after, **labels) - requests_count(before, **labels) == 2
    unmatched = {"route": metrics.UNMATCHED, "method": "GET", "status": "4xx"}
    assert requests_count(after, **unmatched) - requests_count(before, **unmatched) == 1
    every_label_value = {value for _name, labels in after for _key, value in labels}
    assert not any("987654" in value or "424242" in value for value in every_label_value)
    histogram = (
        "redwheel_http_request_duration_seconds_count",
        (("method", "GET"), ("route", route)),
    )
    assert after[histogram] - before.get(histogram, 0) == 2


def test_invented_methods_share_one_series(enabled, db):
    client = Client()
    client.generic("BREW", "/no/such/page/")
    samples = scrape(client)
    methods = {dict(labels).get("method") for name, labels in samples if "http" in name}
    assert "BREW" not in methods and "other" in methods


# Database metrics ------------------------------------------------------------------------------


def test_outbox_backlog_and_task_queue_from_undelivered_notifications(enabled, queued_tasks, db):
    person = testing.user()
    notifications.notify_user(user=person, event="e", title="一", sms=True)
    notifications.notify_user(user=person, event="e", title="二", sms=True)
    samples = scrape()
    assert samples[("redwheel_outbox_backlog", ())] == 2
    assert samples[("redwheel_outbox_notifications", (("status", "pending"),))] == 2
    assert samples[("redwheel_outbox_notifications", (("status", "dead"),))] == 0
    assert samples[("redwheel_outbox_oldest_undelivered_age_seconds", ())] >= 0
    # Each SMS row enqueued one delivery task, waiting for a worker.
    assert samples[("redwheel_task_queue_depth", (("queue", "default"),))] == 2
    assert samples[("redwheel_task_queue_oldest_ready_age_seconds", (("queue", "default"),))] >= 0


def test_empty_outbox_and_queue_read_zero(enabled, db):
    samples = scrape()
    assert samples[("redwheel_outbox_backlog", ())] == 0
    assert samples[("redwheel_outbox_oldest_undelivered_age_seconds", ())] == 0
    assert samples[("redwheel_task_queue_depth", (("queue", "default"),))] == 0


def test_the_oldest_undelivered_notification_sets_the_age(enabled, queued_tasks, db):
    from redwheel.core.models import Notification

    person = testing.user()
    [_inbox, sms] = notifications.notify_user(user=person, event="e", title="旧", sms=True)
    Notification.objects.filter(pk=sms.pk).update(created_at=timezone.now() - timedelta(hours=2))
    age = scrape()[("redwheel_outbox_oldest_undelivered_age_seconds", ())]
    assert 2 * 3600 <= age < 2 * 3600 + 600


def test_ingested_records_are_summed_from_the_stored_batches(enabled, city):
    platform = city.platform_a
    feed = SystemActor.for_platform(platform.pk, "test feed")
    good = example("baseInfoDriver", platform.company_id)
    bad = good | {"DriverBirthday": "19901301"}
    # The second batch resends the good record: unchanged.
    for records in ([good, bad, "not a record"], [good]):
        exchange.ingest(
            actor=feed,
            platform=platform,
            record_type="baseInfoDriver",
            records=records,
            source="api",
        )
    samples = scrape()

    def total(outcome):
        labels = (("outcome", outcome), ("record_type", "baseInfoDriver"))
        return samples[("redwheel_ingest_records_total", labels)]

    assert (total("accepted"), total("rejected"), total("unchanged")) == (1, 2, 1)


def test_escalations_are_counted_by_kind(enabled, city):
    driver = city.driver()
    case, _ = appeals.case_file(
        actor=driver.user,
        driver=driver,
        category="income",
        title="抽成过高",
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
    )
    appeals.case_escalate(actor=city.admin, case=case, reason="需要上级协调")
    appeals.case_escalate(actor=city.admin, case=case, reason="仍需协调")
    samples = scrape()
    assert samples[("redwheel_appeal_escalations_total", (("kind", "manual"),))] == 2
    assert samples[("redwheel_appeal_escalations_total", (("kind", "automatic"),))] == 0


def test_worker_heartbeat_age_and_alive_workers(enabled, settings, db):
    settings.READY_WORKER_MAX_AGE_S = 120
    assert scrape()[("redwheel_worker_heartbeat_age_seconds", ())] == float("inf")
    now = timezone.now()
    heartbeat.beat("w-live", now=now - timedelta(seconds=30))
    heartbeat.beat("w-stale", now=now - timedelta(seconds=600))
    samples = scrape()
    assert 30 <= samples[("redwheel_worker_heartbeat_age_seconds", ())] < 300
    assert samples[("redwheel_workers_alive", ())] == 1


def test_a_failing_source_is_reported_and_the_scrape_still_answers(enabled, db, monkeypatch):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setattr(metrics, "_sources", {**metrics.registered_sources(), "broken": broken})
    samples = scrape()
    assert samples[("redwheel_metrics_source_up", (("source", "broken"),))] == 0
    assert samples[("redwheel_metrics_source_up", (("source", "outbox"),))] == 1
    assert ("redwheel_outbox_backlog", ()) in samples


def test_every_app_source_is_registered():
    assert {"tasks", "outbox", "workers", "ingest", "appeals"} <= set(metrics.registered_sources())


# Several processes -----------------------------------------------------------------------------


def test_multiprocess_mode_reports_the_requests_of_every_process(tmp_path):
    """Gunicorn's processes each write their request metrics under PROMETHEUS_MULTIPROC_DIR;
    a scrape answered by any one of them sums them all. Two real processes here."""
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "ENV_FILE": str(tmp_path / "absent.env"),
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mp.sqlite3'}",
        "METRICS_ENABLED": "1",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    request_once = textwrap.dedent(
        """
        import django
        django.setup()
        from django.test import Client
        Client().get("/no/such/page/")
        """
    )
    scrape_once = textwrap.dedent(
        f"""
        import django
        django.setup()
        from django.test import Client
        body = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer {TOKEN}").content.decode()
        print(body)
        """
    )

    def run(code):
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    run(request_once)
    run(request_once)
    body = run(scrape_once)
    families = {f.name: f for f in text_string_to_metric_families(body)}
    unmatched = [
        s.value
        for s in families["redwheel_http_requests"].samples
        if s.name == "redwheel_http_requests_total"
        and s.labels.get("route") == metrics.UNMATCHED
        and s.labels.get("status") == "4xx"
    ]
    assert unmatched == [2.0]
    # The fresh database has no tables: the sources say so and the scrape still answers.
    assert "redwheel_metrics_source_up" in families
