"""Bearer-token authentication for platforms calling the JSON API (sessions for people are in
`core.api_auth`, which needs no app).

`PlatformTokenAuth(scope)` accepts `Authorization: Bearer rw_...` for a platform token that
carries `scope`; the handler finds what `verify` returned (by default the `PlatformToken`, and
so its platform) in `request.auth`. A missing, wrong or revoked token answers 401, a token
without the scope 403, in the one error shape.

Every platform endpoint uses this one class, so the OpenAPI document names one security scheme,
`PlatformTokenAuth`, for the one kind of token. What may differ per endpoint is how the token
is checked: `verify(secret, scope)`, e.g. the scoring look-ups' cached and rate-limited check
(`scoring.auth.rate_limited_cached_authenticate`).
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from redwheel.accounts.services import token_authenticate
from redwheel.core.errors import Unauthorized


class PlatformTokenAuth(HttpBearer):
    """`Authorization: Bearer rw_...` for a platform token holding the endpoint's scope."""

    def __init__(self, scope: str, *, verify: Callable = token_authenticate) -> None:
        self.scope = scope
        self.verify = verify
        super().__init__()

    def __call__(self, request: HttpRequest):
        header = request.headers.get(self.header, "")
        scheme, _sep, secret = header.partition(" ")
        if not header or scheme.lower() != self.openapi_scheme or not secret.strip():
            raise Unauthorized(_("Send a platform API token as 'Authorization: Bearer rw_...'."))
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str):
        return self.verify(token, self.scope)
