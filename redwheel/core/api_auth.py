"""Session authentication for the JSON API: people calling it from their browser session.

`session_auth` lets a signed-in staff member or driver call the API from the same browser
session as the pages. Unsafe methods must carry the CSRF token, as with Django forms; a failed
CSRF check answers 403 in the one error shape. Bearer tokens for platforms need the accounts
app, so they are in `redwheel.accounts.api_auth`.
"""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import SessionAuth

from redwheel.core.errors import NotFound, PermissionDenied
from redwheel.core.permissions import get_or_404


class StaffOrDriverSession(SessionAuth):
    """Django session authentication with CSRF on unsafe methods; active users only.

    With a `guard`, the operation's path object is checked here, before django-ninja reads
    the body: a caller who may not act on it gets 404 whatever they send, not a 400 about the
    body. `guard(user, path_kwargs)` raises NotFound (see `session_acting_on`).
    """

    def __init__(self, guard=None) -> None:
        self.guard = guard
        super().__init__()

    def _get_key(self, request: HttpRequest):
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise PermissionDenied(
                _("The CSRF check failed. Send the X-CSRFToken header."), code="csrf_failed"
            ) from exc

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.guard is not None:
            self.guard(user, request.resolver_match.kwargs)
        return user


MAX_ID = 2**63 - 1  # the largest BIGINT


def session_acting_on(
    queryset, action: str, kwarg: str = "id", field: str = "pk"
) -> StaffOrDriverSession:
    """Session auth for an operation on the object whose `field` is path parameter `kwarg`:
    refused with 404 before the body is read unless the user may `action` it (`queryset` is
    a callable, so models load lazily)."""

    def guard(user, path_kwargs) -> None:
        value = str(path_kwargs.get(kwarg, ""))
        # Ids are numbers that fit a database integer; ninja has not converted the path yet.
        if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
            raise NotFound()
        get_or_404(user, action, queryset(), **{field: int(value)})

    return StaffOrDriverSession(guard)


session_auth = StaffOrDriverSession()
