"""One registry for the navigation. Each capability registers, from its AppConfig.ready(), the
entries of the staff menu (grouped by task) and of the driver menu, each with what the page
needs: a permission action held on at least one unit (`action`, checked with
core.permissions) or a test of the user (`allowed`). A menu shows only the entries its user may
open; redwheel/tests/test_menus.py requests every link each role is shown.

Which menu a user gets (staff, driver or none) is decided above the kernel, by accounts'
context processor, which then asks `menu(audience, user)`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from redwheel.core import permissions

STAFF = "staff"
DRIVER = "driver"
AUDIENCES = (STAFF, DRIVER)


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    order: int


@dataclass(frozen=True)
class Entry:
    audience: str
    label: str
    url_name: str
    order: int
    group: str = ""  # a Group key; staff menus are grouped, the driver's is one short row
    action: str | None = None
    allowed: Callable[[object], bool] | None = None

    def visible_to(self, user) -> bool:
        if self.action is not None and not (
            permissions.is_unscoped(user) or permissions.granted_paths(user, self.action)
        ):
            return False
        return self.allowed is None or bool(self.allowed(user))

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass
class Section:
    """What a template renders: one group's label and its visible entries."""

    label: str
    entries: list[Entry] = field(default_factory=list)


# The staff tasks most capabilities belong to; a capability may add its own with group().
ORGANISATION = "organisation"
DRIVERS = "drivers"
DATA = "data"
PARTY = "party"
SERVICES = "services"
SANDBOX = "sandbox"

_groups: dict[str, Group] = {}
_entries: dict[tuple[str, str], Entry] = {}


def group(key: str, label: str, order: int) -> None:
    _groups[key] = Group(key, label, order)


group(ORGANISATION, _("Organisation"), 10)
group(DRIVERS, _("Drivers"), 20)
group(PARTY, _("Party life"), 25)
group(DATA, _("Data"), 30)
group(SERVICES, _("Services"), 40)
group(SANDBOX, _("Sandbox"), 50)

# The driver's services page (/me/services/) lists the driver menu by these groups.
MY_MEMBERSHIP = "my_membership"
MY_HELP = "my_help"
MY_FIGURES = "my_figures"
group(MY_MEMBERSHIP, _("Membership and badge"), 5)
group(MY_HELP, _("Help and service"), 120)
group(MY_FIGURES, _("My figures and score"), 130)


def register(
    audience: str,
    label: str,
    url_name: str,
    *,
    order: int,
    group: str = "",
    action: str | None = None,
    allowed: Callable[[object], bool] | None = None,
) -> None:
    """Add one entry. Registering the same url name for the same audience again replaces it,
    so a ready() that runs twice (tests reloading apps) adds nothing."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    if group and group not in _groups:
        raise ValueError(f"unknown menu group {group!r}: declare it with menus.group()")
    if action is not None and action not in permissions.ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    _entries[audience, url_name] = Entry(audience, label, url_name, order, group, action, allowed)


def staff(
    label: str,
    url_name: str,
    *,
    group: str,
    order: int,
    action: str | None = "view",
    allowed: Callable[[object], bool] | None = None,
) -> None:
    """A staff menu entry; by default it needs the `view` action on some unit (every role)."""
    register(STAFF, label, url_name, group=group, order=order, action=action, allowed=allowed)


def driver(label: str, url_name: str, *, order: int, group: str = "") -> None:
    """A driver menu entry: the driver's own pages need nothing but the driver record. The
    group (MY_MEMBERSHIP, MY_HELP, MY_FIGURES, PARTY or a capability's own) is the heading it
    is listed under on the services page; ungrouped entries come last, under "More"."""
    register(DRIVER, label, url_name, order=order, group=group)


def entries(audience: str) -> list[Entry]:
    """Every registered entry of one audience, in menu order (visible or not)."""
    return sorted(
        (e for (a, _name), e in _entries.items() if a == audience),
        key=lambda e: (_groups[e.group].order if e.group else 1_000, e.order, e.url_name),
    )


def menu(audience: str | None, user) -> list[Section]:
    """The menu of `user` for `audience`, as sections in order; ungrouped entries come last, in
    a section without a label. Nothing for anyone outside both audiences."""
    if audience not in AUDIENCES:
        return []
    sections: dict[str, Section] = {}
    for entry in entries(audience):
        if entry.visible_to(user):
            label = _groups[entry.group].label if entry.group else ""
            sections.setdefault(entry.group, Section(label)).entries.append(entry)
    return list(sections.values())


# Quick actions of the driver home (/me/) -------------------------------------------------------


@dataclass(frozen=True)
class QuickAction:
    """One big button on the driver home ("File an appeal", "My membership"). `icon` is one
    short decorative text (a CJK character) shown beside the label, hidden from screen readers."""

    label: str
    url_name: str
    order: int
    icon: str = ""
    allowed: Callable[[object], bool] | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_quick: dict[str, QuickAction] = {}


def quick(
    label: str,
    url_name: str,
    *,
    order: int,
    icon: str = "",
    allowed: Callable[[object], bool] | None = None,
) -> None:
    """Add a quick action to the driver home; the same url name again replaces it."""
    _quick[url_name] = QuickAction(label, url_name, order, icon, allowed)


def quick_actions(user) -> list[QuickAction]:
    """The driver home's quick actions `user` may use, in order."""
    return [
        action
        for action in sorted(_quick.values(), key=lambda a: (a.order, a.url_name))
        if action.allowed is None or action.allowed(user)
    ]
