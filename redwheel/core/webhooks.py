"""Safe outbound webhook requests: http(s) only, public addresses only, no redirects.

A webhook URL is set by platform staff, so without care it is a server-side request forgery
tool: `http://169.254.169.254/` (cloud metadata), `http://127.0.0.1:5432/`, an intranet host.
`resolve_target` parses the URL, resolves the host with `getaddrinfo` and refuses the whole
target if *any* address is private, loopback, link-local, multicast, reserved or unspecified
(unless `WEBHOOK_ALLOW_PRIVATE_TARGETS` is on). `post` then connects to one of exactly those
checked addresses, so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot send the request elsewhere. The Host header and TLS certificate check still
use the host name. Redirects are never followed: a 3xx is a failed delivery.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALLOWED_SCHEMES = ("http", "https")


class WebhookTargetRefused(Exception):
    """The URL may never be called (bad scheme or host, non-public address): do not retry.

    `reason` is "scheme", "host" or "address". The message names the host but not the
    resolved address, so it can be shown to whoever set the URL without mapping the intranet.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class WebhookResponseError(Exception):
    """The endpoint answered, but not with a 2xx (a 3xx included): a failed, retryable try."""

    def __init__(self, status: int, location: str = ""):
        self.status = status
        self.location = location
        if 300 <= status < 400:
            message = f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
        else:
            message = f"HTTP {status}: unexpected status"
        super().__init__(message)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    path: str  # path and query, never empty
    addresses: tuple[str, ...]  # every resolved address, all checked


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve_target(url: str, *, allow_private: bool | None = None) -> Target:
    """Parse, resolve and check `url`.

    Raises WebhookTargetRefused for a URL that must never be called, and OSError (e.g.
    socket.gaierror) when the host name cannot be resolved right now, which may be transient.
    """
    if allow_private is None:
        allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise WebhookTargetRefused("scheme", f"scheme {scheme or '(none)'!r} is not http(s)")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise WebhookTargetRefused("host", f"invalid host or port: {exc}") from exc
    if not host:
        raise WebhookTargetRefused("host", "no host name")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise WebhookTargetRefused("address", f"{host} is not a public address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a fixed, already checked address, named by `host`."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address
        self._tls = ssl.create_default_context() if target.scheme == "https" else None
        self.default_port = 443 if self._tls else 80  # keeps the Host header free of ":443"

    def connect(self):
        sock = socket.create_connection((self._address, self.port), timeout=self.timeout)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST `body` to `url` after `resolve_target`; return the 2xx status or raise.

    Tries the checked addresses in order until one accepts the connection. Raises
    WebhookTargetRefused, WebhookResponseError (non-2xx, redirects included) or OSError.
    """
    target = resolve_target(url)
    last_error: OSError | None = None
    for address in target.addresses:
        connection = _PinnedConnection(target, address, timeout)
        try:
            connection.connect()
        except OSError as exc:
            last_error = exc
            connection.close()
            continue
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            status, location = response.status, response.getheader("Location", "")
        finally:
            connection.close()
        if 200 <= status < 300:
            return status
        raise WebhookResponseError(status, location)
    raise last_error or OSError(f"no address for {target.host}")


def validate_webhook_url(value: str) -> None:
    """Model validation for a platform's webhook URL; sending re-checks every time.

    A host name that does not resolve now is accepted (DNS may be split or briefly down);
    delivery then fails and is retried, and refused if it later resolves to a private address.
    """
    if not value:
        return
    try:
        resolve_target(value)
    except WebhookTargetRefused as exc:
        messages = {
            "scheme": _("The webhook URL must start with http:// or https://."),
            "host": _("The webhook URL has no valid host name or port."),
            "address": _(
                "The webhook URL points to a private, loopback, link-local, multicast or "
                "reserved address. Webhooks are only sent to public internet addresses."
            ),
        }
        raise ValidationError(messages[exc.reason], code=f"webhook_{exc.reason}") from exc
    except OSError:
        return
