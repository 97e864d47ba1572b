from redwheel.accounts.permissions import home_kind
from redwheel.core import menus

AUDIENCE = {"staff": menus.STAFF, "driver": menus.DRIVER}


def navigation(request):
    """The signed-in user's menu, from the one registry (redwheel.core.menus)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"home_kind": None, "menu": []}
    kind = home_kind(user)
    return {"home_kind": kind, "menu": menus.menu(AUDIENCE.get(kind), user)}
