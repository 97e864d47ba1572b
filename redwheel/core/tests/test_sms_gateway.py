"""HttpSmsBackend against a real HTTP server on 127.0.0.1 standing in for the SMS gateway."""

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from redwheel.core.sms import HttpSmsBackend, SmsDeliveryError, send_sms

PHONE = "13912345678"
TEXT = "[RedWheel] Your activation code is 314159, valid for 10 minutes."
SECRET = "gateway-signing-secret-0123456789abcdef"


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the client gave up (the timeout test): nothing to report


class FakeGateway:
    """Records every request; answers with `status` (and `location`, `body`) after `delay`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.body = b'{"ok": true}'
        self.location = ""
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                gateway.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                time.sleep(gateway.delay)
                self.send_response(gateway.status)
                if gateway.location:
                    self.send_header("Location", gateway.location)
                self.send_header("Content-Length", str(len(gateway.body)))
                self.end_headers()
                self.wfile.write(gateway.body)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeGateway() as fake:
        settings.SMS_BACKEND = "redwheel.core.sms.HttpSmsBackend"
        settings.SMS_GATEWAY_URL = fake.url
        settings.SMS_GATEWAY_KEY = "api-key-42"
        settings.SMS_GATEWAY_SECRET = SECRET
        settings.SMS_GATEWAY_TIMEOUT_SECONDS = 5
        yield fake


def test_a_message_is_posted_with_the_key_and_a_valid_signature(gateway):
    before = int(time.time())
    send_sms(PHONE, TEXT)

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["path"] == "/api/send"
    assert headers["authorization"] == "Bearer api-key-42"
    assert headers["content-type"].startswith("application/json")
    assert json.loads(request["body"]) == {"phone": PHONE, "text": TEXT}
    timestamp = headers["x-redwheel-timestamp"]
    assert before <= int(timestamp) <= int(time.time())
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["x-redwheel-signature"], f"sha256={expected}")


def test_an_error_answer_raises_with_the_status_but_not_the_message(gateway):
    gateway.status = 503
    gateway.body = b"quota exceeded"
    with pytest.raises(SmsDeliveryError) as caught:
        send_sms(PHONE, TEXT)
    message = str(caught.value)
    assert "503" in message
    assert "quota exceeded" in message
    assert "314159" not in message and PHONE not in message


def test_a_redirect_is_a_failure_and_is_not_followed(gateway):
    gateway.status = 302
    gateway.location = gateway.url.replace("/api/send", "/elsewhere")
    with pytest.raises(SmsDeliveryError, match="302"):
        send_sms(PHONE, TEXT)
    assert [r["path"] for r in gateway.requests] == ["/api/send"]


def test_a_slow_gateway_times_out(gateway, settings):
    settings.SMS_GATEWAY_TIMEOUT_SECONDS = 0.3
    gateway.delay = 2
    started = time.monotonic()
    with pytest.raises(SmsDeliveryError, match="unreachable"):
        send_sms(PHONE, TEXT)
    assert time.monotonic() - started < 1.5


def test_an_unreachable_gateway_raises(gateway, settings):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{port}/api/send"
    with pytest.raises(SmsDeliveryError, match="unreachable"):
        HttpSmsBackend().send(PHONE, TEXT)


def test_a_missing_configuration_raises_before_any_request(gateway, settings):
    settings.SMS_GATEWAY_SECRET = ""
    with pytest.raises(SmsDeliveryError, match="SMS_GATEWAY_SECRET"):
        send_sms(PHONE, TEXT)
    assert gateway.requests == []
