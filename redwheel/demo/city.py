"""Build the demo city (成都市) through the services, deterministically from a seed.

The city is modelled on the background articles: an industry party committee at the root,
platform party organisations with regular, mobile-member (流动党员), functional (党员先锋车队)
and joint (联合) branches, an aggregator with partner platforms linked by joint-building
agreements (联建), one platform with no party organisation at all (the coverage gap), about
3,200 drivers of whom about 53 are verified party members, some of them mobile members
checked in with their home organisations elsewhere, plus activists, applicants, declarations
awaiting verification, rejections, badge consents and contact pairs (党员联系司机). What it
is made of is in specs.py; the drivers and their party status are generated in people.py.
"""

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.accounts import services as accounts
from redwheel.accounts.models import User
from redwheel.core import audit
from redwheel.demo import people
from redwheel.demo.names import PeopleFactory
from redwheel.demo.specs import (
    AGGREGATOR_PARTNERS,
    AGREEMENTS,
    DEMO_PASSWORD,
    MARKER_COMPANY_ID,
    PLATFORM_OF_UNIT,
    PLATFORMS,
    RESERVED_PHONES,
    ROOT_NAME,
    STAFF,
    UNITS,
)
from redwheel.orgs import services as orgs
from redwheel.orgs.models import OrgUnit, Platform


class DemoCityConflict(Exception):
    """A committee with the demo name exists but the demo city was not built here."""


def demo_city_exists() -> bool:
    return Platform.objects.filter(company_id=MARKER_COMPANY_ID).exists()


def demo_city() -> OrgUnit | None:
    """The demo city's root unit: the licensing city of the demo's marker platform."""
    platform = Platform.objects.filter(company_id=MARKER_COMPANY_ID).select_related("city").first()
    return platform.city if platform is not None else None


@dataclass
class Builder:
    rng: random.Random
    out: object
    scale: float
    people: PeopleFactory
    users: dict = field(default_factory=dict)
    platforms: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        self.out.write(f"[{time.monotonic() - self.started:5.1f}s] {message}\n")
        if hasattr(self.out, "flush"):
            self.out.flush()

    def count(self, full: int, minimum: int) -> int:
        return max(minimum, round(full * self.scale))


def build_demo_city(seed: int = 2026, stdout=None, scale: float = 1.0) -> bool:
    """Build the city unless it exists. Returns True when it was built, False if it existed."""
    out = stdout or sys.stdout
    if demo_city_exists():
        return False
    if OrgUnit.objects.filter(name=ROOT_NAME, parent=None).exists():
        raise DemoCityConflict(
            _("A committee named %(name)s exists but it is not the demo city.")
            % {"name": ROOT_NAME}
        )
    rng = random.Random(seed)
    builder = Builder(
        rng=rng, out=out, scale=scale, people=PeopleFactory(rng, reserved_phones=RESERVED_PHONES)
    )
    with transaction.atomic():
        _build_accounts_and_tree(builder)
        plans = people.plan_drivers(builder)
        created = people.create_drivers(builder, plans)
        people.party(builder, plans, created)
    builder.say(_("Demo city built."))
    return True


# Organisations and staff ---------------------------------------------------------------------


def _build_accounts_and_tree(b: Builder) -> None:
    admin_spec = STAFF[0]
    admin = User.objects.create_superuser(
        admin_spec.phone, DEMO_PASSWORD, display_name=admin_spec.name
    )
    audit.record(actor=None, action="user.create", obj=admin, summary=admin.phone_masked)
    b.users["admin"] = admin

    root_key, _parent, root_name, root_kind, _type, root_region = UNITS[0]
    b.units[root_key] = orgs.unit_create(
        actor=admin, name=root_name, kind=root_kind, parent=None, region_code=root_region
    )
    for spec in PLATFORMS:
        b.platforms[spec.key] = orgs.platform_create(
            actor=admin,
            city=b.units[root_key],
            company_id=spec.company_id,
            name=spec.name,
            kind=spec.kind,
            commission_cap_percent=spec.cap,
        )
    orgs.platform_set_partners(
        actor=admin,
        aggregator=b.platforms["yd"],
        partners=[b.platforms[key] for key in AGGREGATOR_PARTNERS],
    )
    b.say(_("%(count)s platforms") % {"count": len(b.platforms)})

    for key, parent, name, kind, branch_type, region in UNITS[1:]:
        platform_key = PLATFORM_OF_UNIT.get(key)
        b.units[key] = orgs.unit_create(
            actor=admin,
            name=name,
            kind=kind,
            parent=b.units[parent] if parent else None,
            region_code=region,
            branch_type=branch_type,
            platform=b.platforms[platform_key] if platform_key else None,
        )
    for name, lead, partners, signed_on, scope in AGREEMENTS:
        orgs.agreement_create(
            actor=admin,
            name=name,
            lead_unit=b.units[lead],
            partner_units=[b.units[key] for key in partners],
            signed_on=signed_on,
            ends_on=signed_on.replace(year=signed_on.year + 3) - timedelta(days=1),
            scope=scope,
        )
    b.say(
        _("%(units)s party units, %(agreements)s joint-building agreements")
        % {"units": len(b.units), "agreements": len(AGREEMENTS)}
    )

    for spec in STAFF[1:]:
        user = accounts.user_create(
            actor=admin, phone=spec.phone, display_name=spec.name, password=DEMO_PASSWORD
        )
        for unit_key in spec.units:
            accounts.grant_create(actor=admin, user=user, unit=b.units[unit_key], role=spec.role)
        b.users[spec.key] = user
    b.say(_("%(count)s staff accounts") % {"count": len(STAFF)})


def build_demo(demo) -> bool:
    """The city step, which every other step runs after (see redwheel.demo.steps)."""
    return build_demo_city(seed=demo.seed, stdout=demo.out, scale=demo.scale)
