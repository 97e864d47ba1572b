"""Pluggable SMS sending. Set SMS_BACKEND to a dotted path of a class with `send(phone, text)`.

- `ConsoleSmsBackend` prints to stdout (development and the demo; refused with DEBUG off, since
  it would write activation codes into the logs);
- `MemorySmsBackend` keeps messages in a list for the tests;
- `HttpSmsBackend` posts to an SMS gateway (production).

The gateway request is a JSON POST `{"phone": ..., "text": ...}` to `SMS_GATEWAY_URL` with
`Authorization: Bearer <SMS_GATEWAY_KEY>`, `X-RedWheel-Timestamp` (Unix seconds) and
`X-RedWheel-Signature: sha256=<hex>`, an HMAC-SHA256 with `SMS_GATEWAY_SECRET` over
`<timestamp>.<body>` (the scheme of the platform webhooks), so the gateway can check that the
request comes from RedWheel, unchanged and recent.
"""

import hashlib
import hmac
import json
import logging
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from redwheel.core.crypto import mask_phone

logger = logging.getLogger(__name__)


class SmsDeliveryError(Exception):
    """The gateway could not be reached or did not accept the message (any non-2xx answer)."""


class ConsoleSmsBackend:
    """Prints messages to stdout: the default for development and the demo."""

    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {mask_phone(phone)}] {text}\n")
        sys.stdout.flush()


class MemorySmsBackend:
    """Keeps messages in a list; tests read `MemorySmsBackend.outbox`."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


def gateway_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would be replayed as a GET elsewhere: treat a 3xx as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpSmsBackend:
    """Posts each message to the SMS gateway configured by the SMS_GATEWAY_* settings."""

    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.key = settings.SMS_GATEWAY_KEY
        self.secret = settings.SMS_GATEWAY_SECRET
        self.timeout = settings.SMS_GATEWAY_TIMEOUT_SECONDS
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def send(self, phone: str, text: str) -> None:
        if not (self.url and self.key and self.secret):
            raise SmsDeliveryError(
                "SMS gateway not configured: set SMS_GATEWAY_URL, SMS_GATEWAY_KEY and "
                "SMS_GATEWAY_SECRET"
            )
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.key}",
                "X-RedWheel-Timestamp": timestamp,
                "X-RedWheel-Signature": gateway_signature(self.secret, timestamp, body),
            },
        )
        # Errors name the gateway's answer but never the number or the text (it holds codes).
        # urllib raises HTTPError for every answer outside 2xx (a refused redirect included).
        try:
            with self._opener.open(request, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            raise SmsDeliveryError(
                f"SMS gateway answered HTTP {exc.code} {exc.reason}{_answer_excerpt(exc)}"
            ) from exc
        except OSError as exc:  # URLError, refused connections and timeouts
            reason = getattr(exc, "reason", None) or exc
            raise SmsDeliveryError(f"SMS gateway unreachable at {self.url}: {reason}") from exc
        logger.info("SMS to %s accepted by the gateway", mask_phone(phone))


def _answer_excerpt(error: urllib.error.HTTPError) -> str:
    try:
        text = (error.read(200) or b"").decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f": {text}" if text else ""


def send_sms(phone: str, text: str) -> None:
    import_string(settings.SMS_BACKEND)().send(phone, text)
