"""What the demo app hands every step's hook: the run's options and the demo city's people.

Capabilities never import `redwheel.demo` (it is the top layer); their `build_demo(demo)`
hook receives a `DemoContext` and reads its attributes, so what a hook may rely on is
exactly what is documented here and in docs/demo.md.
"""

import sys
import time
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from redwheel.accounts.models import User
from redwheel.core import crypto
from redwheel.demo.specs import MARKER_COMPANY_ID, STAFF
from redwheel.orgs.models import OrgUnit, Platform


@dataclass
class DemoContext:
    """One run of `manage.py demo`.

    `seed` and `scale` are the command's options (every step draws its own
    `random.Random(seed)`, so one step's output never depends on another's draws); `month` is
    the month of generated operating data; `out` is where steps write their detail lines.
    `city`, `admin` and `committee` exist once the city step has run, which every other step
    runs after.
    """

    seed: int = 2026
    scale: float = 1.0
    month: date | None = None
    out: object = field(default_factory=lambda: sys.stdout)
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        """A detail line, stamped with the seconds since the current step started."""
        self.out.write(f"[{time.monotonic() - self.started:5.1f}s] {message}\n")
        if hasattr(self.out, "flush"):
            self.out.flush()

    @cached_property
    def city(self) -> OrgUnit:
        """The demo city's root unit (its industry committee)."""
        return Platform.objects.select_related("city").get(company_id=MARKER_COMPANY_ID).city

    def account(self, key: str) -> User:
        """A fixed demo account by its key in `redwheel.demo.specs.STAFF`, e.g. "secretary"."""
        spec = next(spec for spec in STAFF if spec.key == key)
        return User.objects.get(phone_index=crypto.blind_index(spec.phone))

    @cached_property
    def admin(self) -> User:
        """The demo superuser: steps that act as "the administrator" act as this account."""
        return self.account("admin")

    @cached_property
    def committee(self) -> User:
        """The industry committee's staff member (a staff grant on the city's root)."""
        return self.account("committee")
