"""Pluggable SMS sending. Set SMS_BACKEND to a dotted path of a class with `send(phone, text)`."""

import logging
import sys

from django.conf import settings
from django.utils.module_loading import import_string

from redwheel.core.crypto import mask_phone

logger = logging.getLogger(__name__)


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


def send_sms(phone: str, text: str) -> None:
    import_string(settings.SMS_BACKEND)().send(phone, text)
