from dataclasses import dataclass

from django.urls import reverse

from redwheel.accounts.permissions import home_kind
from redwheel.accounts.services import TEXT_SCALES
from redwheel.core import menus, selectors

AUDIENCE = {"staff": menus.STAFF, "driver": menus.DRIVER}


@dataclass
class Frame:
    """What base.html needs besides the menu (docs/frontend.md): the user's elderly mode and
    text size, the driver's current tab, and the unread count, asked only when shown."""

    elderly: bool = False
    text_scale: int = 100
    tab: str = ""
    user: object = None

    def unread(self) -> int:
        if "_unread" not in self.__dict__:
            self.__dict__["_unread"] = selectors.inbox_unread_count(self.user)
        return self.__dict__["_unread"]


def navigation(request):
    """The signed-in user's menu, from the one registry (redwheel.core.menus), and the frame."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"home_kind": None, "menu": [], "frame": Frame()}
    kind = home_kind(user)
    frame = Frame(
        elderly=user.elderly_mode,
        text_scale=min(TEXT_SCALES, key=lambda step: abs(step - user.text_scale)),
        tab=_tab(request.path) if kind == "driver" else "",
        user=user,
    )
    return {"home_kind": kind, "menu": menus.menu(AUDIENCE.get(kind), user), "frame": frame}


def _tab(path: str) -> str:
    """Which tab of the driver's bottom bar the page belongs to."""
    if path == reverse("me:home"):
        return "home"
    if path.startswith(reverse("core:inbox")):
        return "messages"
    if path.startswith((reverse("accounts:settings"), "/accounts/")):
        return "me"
    return "services"
