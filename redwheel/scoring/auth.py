"""Platform token check for the look-up endpoints: cached for a short time, and rate-limited
per token in the same cache round trip. Used as `PlatformTokenAuth(scope,
verify=rate_limited_cached_authenticate)` (`accounts.api_auth`).

`token_authenticate` (one indexed query, plus the throttled `last_used_at` update) runs when
the cache has no entry for the token; its outcome — token id, platform id and scopes — is then
kept for `TOKEN_TTL` seconds under the hash of the secret, so a busy platform's look-ups do not
pay for a token query each. Saving or deleting a `PlatformToken` (revocation saves it) drops the
entry at once and again after commit (signal receivers in `redwheel.scoring.signals`), so a
revoked token is refused by the next request. Only writes that bypass model signals (a
queryset `update`) can leave a revoked token usable, for at most `TOKEN_TTL` seconds.
Wrong, revoked and under-scoped tokens are never cached: they always go to the service.

Every request is counted in its token's fixed window (`SCORING_LOOKUP_RATE_LIMIT` per
`SCORING_LOOKUP_RATE_WINDOW` seconds) before the token is checked, so a flood with a wrong
token is turned away with 429 before it reaches the database too.
"""

from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.accounts.models import PlatformToken
from redwheel.accounts.services import token_authenticate
from redwheel.core.errors import RateLimited
from redwheel.scoring import cache as fast_cache

TOKEN_PREFIX = "rw:tok:"
TOKEN_TTL = 30  # seconds


def _key(key_hash: str) -> str:
    return TOKEN_PREFIX + key_hash


def forget(key_hash: str) -> None:
    """Drop a token's cached authentication now and again after the transaction commits."""
    if not key_hash:
        return
    fast_cache.forget(_key(key_hash))
    transaction.on_commit(lambda: fast_cache.forget(_key(key_hash)))


class AuthenticatedToken(NamedTuple):
    """What the look-ups need of a platform token; cached as this tuple."""

    pk: int
    platform_id: int
    scopes: tuple[str, ...]

    @property
    def acts_for_platform(self) -> int:
        """Makes the token a platform principal for `core.permissions` (its platform's rows)."""
        return self.platform_id


def rate_limited_cached_authenticate(token: str, scope: str) -> AuthenticatedToken:
    """`token_authenticate`, counted against the token's rate limit first, with successful
    outcomes cached for `TOKEN_TTL` seconds. `request.auth` is then an `AuthenticatedToken`
    (from the cache, or from the `PlatformToken` the service found)."""
    key_hash = PlatformToken.hash_secret(token)
    limit = settings.SCORING_LOOKUP_RATE_LIMIT
    window = settings.SCORING_LOOKUP_RATE_WINDOW
    cached, allowed, retry_after = fast_cache.get_and_count(
        _key(key_hash), f"token:{key_hash}", limit, window
    )
    if not allowed:
        raise RateLimited(
            _("Too many look-ups with this token: at most %(limit)s per %(window)s seconds.")
            % {"limit": limit, "window": window},
            retry_after=retry_after,
            details={"limit": limit, "window_seconds": window, "retry_after": retry_after},
        )
    if cached is not None and scope in cached[2]:
        return AuthenticatedToken(*cached)
    found = token_authenticate(token, scope)  # raises 401 / 403
    authenticated = AuthenticatedToken(found.pk, found.platform_id, tuple(found.scopes))
    fast_cache.remember(_key(key_hash), tuple(authenticated), timeout=TOKEN_TTL)
    return authenticated
