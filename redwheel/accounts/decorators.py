"""The two page audiences. Anyone outside a page's audience gets 404, as for out-of-scope ids, so
a URL says nothing about what exists behind it."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from redwheel.accounts.permissions import has_staff_role


def staff_required(view):
    """Signed in and holding at least one grant (or superuser)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not has_staff_role(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def driver_required(view):
    """Signed in with a driver record: the pages under /me/ work only on the driver's own rows."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not hasattr(request.user, "driver"):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
