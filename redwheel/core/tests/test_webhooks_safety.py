"""Webhook delivery: no transaction across the network call, one sender per claim, SSRF guard."""

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from redwheel.core import notifications, webhooks
from redwheel.core.errors import ValidationFailed
from redwheel.core.models import Notification
from redwheel.orgs.models import Platform
from redwheel.orgs.services import platform_update

SECRET = "whsec-safety-0123456789"
PUBLIC_IP = "93.184.216.34"  # a global unicast address; tests never really connect to it


class LocalServer:
    """A real HTTP endpoint that records POSTs and answers `status` (and `location`)."""

    def __init__(self, host="127.0.0.1"):
        self.requests: list = []
        self.status = 200
        self.location = ""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append((self.path, self.headers, body))
                self.send_response(server.status)
                if server.location:
                    self.send_header("Location", server.location)
                self.end_headers()

            do_GET = do_POST  # a followed 302 would usually turn into a GET

            def log_message(self, *args):
                pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self.httpd = server_class((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/hooks/redwheel"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def connections_made(monkeypatch):
    """Every outbound TCP connection the webhook code opens, by (address, port)."""
    made = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "create_connection", recording)
    return made


def set_url_behind_validation(platform: Platform, url: str) -> Platform:
    """A URL stored before this check existed, or whose DNS changed since it was validated."""
    Platform.objects.filter(pk=platform.pk).update(webhook_url=url, webhook_secret=SECRET)
    platform.refresh_from_db()
    return platform


def webhook_row(platform) -> Notification:
    [row] = notifications.notify_platform(platform=platform, event="ping", payload={"n": 1})
    row.refresh_from_db()
    return row


# Delivery to an allowed target -----------------------------------------------------------------


def test_a_signed_delivery_reaches_a_local_server_when_private_targets_are_allowed(
    city, server, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    platform = platform_update(
        actor=city.admin, platform=city.platform_a, webhook_url=server.url, webhook_secret=SECRET
    )
    row = webhook_row(platform)
    assert row.status == Notification.Status.SENT
    assert row.lease_expires_at is None
    [(path, headers, body)] = server.requests
    assert path == "/hooks/redwheel"
    timestamp = headers["X-RedWheel-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["X-RedWheel-Signature"] == "sha256=" + expected.hexdigest()
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert json.loads(body) == {"id": row.pk, "event": "ping", "data": {"n": 1}}


def test_no_transaction_is_open_while_the_request_is_sent(
    transactional_db, server, settings, monkeypatch
):
    from redwheel import testing

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    city = testing.city()
    platform = set_url_behind_validation(city.platform_a, server.url)
    seen = []
    real_post = webhooks.post

    def spying_post(url, **kwargs):
        in_flight = Notification.objects.get(platform_ref=platform.pk)
        seen.append(
            (
                transaction.get_connection().in_atomic_block,
                in_flight.status,
                in_flight.lease_expires_at > timezone.now(),
            )
        )
        return real_post(url, **kwargs)

    monkeypatch.setattr(webhooks, "post", spying_post)
    row = webhook_row(platform)
    # Not inside a transaction, and the claim was already committed: the row reads "sending".
    assert seen == [(False, Notification.Status.SENDING, True)]
    assert row.status == Notification.Status.SENT
    assert len(server.requests) == 1


# Refused targets -----------------------------------------------------------------------------


def test_private_targets_are_refused_without_any_request(city, server, connections_made):
    assert server.requests == []
    for url in [
        server.url,
        f"http://localhost:{server.port}/hooks/redwheel",
        "http://10.20.30.40/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hooks",
        "http://[::ffff:127.0.0.1]:8080/hooks",
        "http://0.0.0.0:8080/hooks",
    ]:
        platform = set_url_behind_validation(city.platform_a, url)
        row = webhook_row(platform)
        assert row.status == Notification.Status.DEAD, url
        assert row.attempts == 1
        assert row.last_error.startswith("refused target:"), row.last_error
        assert "not a public address" in row.last_error
    assert connections_made == []
    assert server.requests == []
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert notifications.deliver_due() == 0  # given up: never retried


def test_an_ipv6_loopback_server_is_not_reached(city, connections_made):
    v6 = LocalServer("::1")
    try:
        row = webhook_row(set_url_behind_validation(city.platform_a, v6.url))
    finally:
        v6.close()
    assert row.status == Notification.Status.DEAD
    assert connections_made == []
    assert v6.requests == []


@pytest.mark.parametrize("url", ["ftp://files.example.com/hook", "file:///etc/passwd"])
def test_non_http_schemes_are_refused_at_send_time(city, url, connections_made):
    row = webhook_row(set_url_behind_validation(city.platform_a, url))
    assert row.status == Notification.Status.DEAD
    assert "is not http(s)" in row.last_error
    assert connections_made == []


def test_the_allow_setting_does_not_open_other_schemes(city, settings, connections_made):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    row = webhook_row(set_url_behind_validation(city.platform_a, "ftp://127.0.0.1/hook"))
    assert row.status == Notification.Status.DEAD
    assert connections_made == []


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(city, server, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    target = LocalServer()
    try:
        server.status = 302
        server.location = target.url
        row = webhook_row(set_url_behind_validation(city.platform_a, server.url))
    finally:
        target.close()
    assert len(server.requests) == 1
    assert target.requests == []
    assert row.status == Notification.Status.FAILED
    assert "302" in row.last_error and "not followed" in row.last_error
    assert row.next_attempt_at is not None  # retried later, like any failure


def test_the_connection_goes_to_the_checked_address_even_if_dns_changes(
    city, server, monkeypatch, connections_made
):
    """DNS rebinding: the first answer is public, later answers point at the local server."""
    answers = iter([PUBLIC_IP] + ["127.0.0.1"] * 10)
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.platform-a.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        ip = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    def refuse(address, *args, **kwargs):
        connections_made.append(address)
        raise ConnectionRefusedError("no route in tests")

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(webhooks.socket, "create_connection", refuse)
    url = f"http://rebind.platform-a.example:{server.port}/hooks/redwheel"
    row = webhook_row(set_url_behind_validation(city.platform_a, url))
    assert connections_made == [(PUBLIC_IP, server.port)]
    assert server.requests == []
    assert row.status == Notification.Status.FAILED  # a transport error: retried


# Validation where the URL is set ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example.com/hook", "must start with http:// or https://"),
        ("http://127.0.0.1:8000/hook", "private, loopback, link-local"),
        ("http://localhost/hook", "private, loopback, link-local"),
        ("http://10.1.2.3/hook", "private, loopback, link-local"),
        ("http://169.254.169.254/latest/meta-data/", "private, loopback, link-local"),
        ("http://[fe80::1]/hook", "private, loopback, link-local"),
    ],
)
def test_setting_an_unsafe_webhook_url_is_refused_with_a_clear_message(city, url, message):
    with pytest.raises(ValidationFailed) as caught:
        platform_update(actor=city.admin, platform=city.platform_a, webhook_url=url)
    assert any(message in m for m in caught.value.details["webhook_url"])
    city.platform_a.refresh_from_db()
    assert city.platform_a.webhook_url == ""


def test_a_public_webhook_url_is_accepted(city, monkeypatch):
    def public(host, port, *args, **kwargs):
        assert host == "hooks.platform-a.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", public)
    url = "https://hooks.platform-a.example/redwheel"
    platform = platform_update(actor=city.admin, platform=city.platform_a, webhook_url=url)
    platform.refresh_from_db()
    assert platform.webhook_url == url


def test_a_name_with_one_private_address_among_public_ones_is_refused(city, monkeypatch):
    def mixed(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.10", port)),
        ]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", mixed)
    with pytest.raises(ValidationFailed):
        platform_update(
            actor=city.admin, platform=city.platform_a, webhook_url="https://mixed.example/h"
        )


def test_private_urls_can_be_set_when_the_setting_allows_them(city, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    platform = platform_update(
        actor=city.admin, platform=city.platform_a, webhook_url="http://10.1.2.3/hook"
    )
    assert platform.webhook_url == "http://10.1.2.3/hook"


# Claims ------------------------------------------------------------------------------------


def test_two_concurrent_claims_give_the_notification_to_one_worker(transactional_db):
    from redwheel import testing

    city = testing.city()
    platform = set_url_behind_validation(city.platform_a, "http://10.9.9.9/never-sent")
    row = Notification.objects.create(
        channel=Notification.Channel.WEBHOOK, platform_ref=platform.pk, event="ping"
    )
    workers = 6
    barrier = threading.Barrier(workers)
    claims = []

    def worker():
        from django.db import OperationalError, connection

        try:
            barrier.wait()
            for _ in range(200):
                try:
                    claims.append(notifications.claim(row.pk))
                    return
                except OperationalError:
                    # The in-memory SQLite test database has table locks without a busy
                    # timeout; a real worker's claim would wait, so try again.
                    time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claims) == workers
    assert len([c for c in claims if c is not None]) == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.SENDING
    assert row.attempts == 1


def test_a_claimed_notification_is_not_sent_by_another_worker(city, server, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "ENQUEUE_ON_COMMIT": False,
        }
    }
    row = webhook_row(set_url_behind_validation(city.platform_a, server.url))
    first = notifications.claim(row.pk)
    assert first is not None and first.attempts == 1
    assert notifications.claim(row.pk) is None  # a second worker, while the first is sending
    assert notifications.deliver(row.pk) == "skipped"
    assert notifications.deliver_due() == 0
    assert server.requests == []


def test_an_expired_claim_is_picked_up_again(city, server, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.NOTIFICATION_LEASE_SECONDS = 120
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "ENQUEUE_ON_COMMIT": False,
        }
    }
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        row = webhook_row(set_url_behind_validation(city.platform_a, server.url))
        assert notifications.claim(row.pk) is not None  # this worker then dies mid-send
        traveller.shift(timedelta(seconds=119))
        assert notifications.deliver_due() == 0
        traveller.shift(timedelta(seconds=1))
        assert notifications.deliver_due() == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 2  # the lost attempt counts
    assert len(server.requests) == 1


def test_a_claim_lost_on_the_last_attempt_gives_up(city, server, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "ENQUEUE_ON_COMMIT": False,
        }
    }
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        row = webhook_row(set_url_behind_validation(city.platform_a, server.url))
        assert notifications.claim(row.pk) is not None
        traveller.shift(timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS))
        notifications.deliver_due()
    row.refresh_from_db()
    assert row.status == Notification.Status.DEAD
    assert "claim expired" in row.last_error
    assert server.requests == []


# HTTPS through the pinned connection --------------------------------------------------------


def _self_signed(tmp_path, name: str):
    import ipaddress as ip

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = timezone.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ip.ip_address("127.0.0.1"))]
            )
            if name == "localhost"
            else x509.SubjectAlternativeName([x509.DNSName(name)]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(server, tmp_path, monkeypatch):
    """`server` behind TLS with a certificate for `localhost`, trusted by the webhook code."""
    import ssl

    def serve_with(cert_name: str):
        cert_path, key_path = _self_signed(tmp_path, cert_name)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
        real = ssl.create_default_context
        monkeypatch.setattr(
            webhooks.ssl, "create_default_context", lambda: real(cafile=str(cert_path))
        )
        return server

    return serve_with


def test_https_uses_the_host_name_for_tls_while_connecting_to_the_checked_address(
    city, settings, tls_server, connections_made
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = tls_server("localhost")
    url = f"https://localhost:{server.port}/hooks/redwheel"
    row = webhook_row(set_url_behind_validation(city.platform_a, url))
    assert row.status == Notification.Status.SENT, row.last_error
    assert connections_made == [("127.0.0.1", server.port)]
    [(_path, headers, _body)] = server.requests
    assert headers["Host"] == f"localhost:{server.port}"


def test_https_with_a_certificate_for_another_name_fails(city, settings, tls_server):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = tls_server("not-the-platform.example")
    url = f"https://localhost:{server.port}/hooks/redwheel"
    row = webhook_row(set_url_behind_validation(city.platform_a, url))
    assert row.status == Notification.Status.FAILED
    assert "certificate" in row.last_error.lower()
    assert server.requests == []
