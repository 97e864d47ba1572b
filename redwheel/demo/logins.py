"""The demo accounts, one per role, as `manage.py demo` prints them at the end."""

import sys
from dataclasses import dataclass

from django.utils.translation import gettext as _

from redwheel.demo.specs import DEMO_PASSWORD, MEMBER_DRIVER, ORDINARY_DRIVER, STAFF, UNITS, URL


@dataclass(frozen=True)
class Login:
    role: str
    name: str
    phone: str
    password: str
    sees: str


def demo_logins() -> list[Login]:
    units = {key: name for key, _p, name, *_rest in UNITS}
    rows = [
        (_("Administrator"), STAFF[0], _("Everything, including the Django admin at /admin/")),
        (
            _("Industry committee staff"),
            STAFF[1],
            _("The whole city: coverage, verification queue, drivers, audit log"),
        ),
        (_("Transport regulator"), STAFF[2], _("The whole city read-only, and the audit log")),
        (
            _("Platform party secretary"),
            STAFF[3],
            _("%(unit)s and its branches: drivers, verification, check-ins")
            % {"unit": units["rc"]},
        ),
        (
            _("Branch organiser"),
            STAFF[4],
            _("One branch (%(unit)s): its members, check-ins and contact pairs")
            % {"unit": units["rc.jinjiang"]},
        ),
        (
            _("Instructor"),
            STAFF[5],
            _("Read-only view of the branches they guide: %(units)s")
            % {"units": "、".join(units[key] for key in STAFF[5].units)},
        ),
        (_("Viewer"), STAFF[6], _("Read-only view of the whole city")),
        (
            _("Driver (verified party member)"),
            MEMBER_DRIVER,
            _("Their own page: verified membership, badge switched on"),
        ),
        (
            _("Driver (not a party member)"),
            ORDINARY_DRIVER,
            _("Their own page: can declare party membership"),
        ),
    ]
    return [Login(role, spec.name, spec.phone, DEMO_PASSWORD, sees) for role, spec, sees in rows]


def print_logins(stdout=None, url: str = URL) -> None:
    out = stdout or sys.stdout
    rows = [(_("Role"), _("Name"), _("Phone"), _("Password"), _("What they see"))]
    rows += [(x.role, x.name, x.phone, x.password, x.sees) for x in demo_logins()]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    out.write(_("Open %(url)s and sign in with one of these accounts:") % {"url": url} + "\n")
    for index, row in enumerate(rows):
        cells = [row[i] + " " * (widths[i] - _width(row[i])) for i in range(4)]
        out.write("  ".join([*cells, row[4]]) + "\n")
        if index == 0:
            out.write("  ".join("-" * w for w in [*widths, _width(row[4])]) + "\n")


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
