"""Drivers' part of the one permission mechanism.

A driver is visible through their branch, their membership's branch or mobile branch, or any
platform they work for (to grants covering that platform's own party organisation, and to the
platform's own tokens and feed). A driver account sees and changes its own records.
"""

from redwheel.core import permissions
from redwheel.drivers.models import (
    Affiliation,
    BadgeConsentEvent,
    ContactPair,
    Driver,
    ImportJob,
    ImportJobActivity,
    ImportRowError,
    Membership,
    MembershipActivity,
    Vehicle,
)

# The units that own a driver; rows about a driver prefix these with `driver__`.
DRIVER_UNITS = ("branch__path", "membership__branch__path", "membership__mobile_branch__path")


def register() -> None:
    permissions.register(
        Driver,
        units=DRIVER_UNITS,
        platforms=("affiliations__platform_id",),
        owners=("user_id",),
        self_actions=("view", "change"),
    )
    for model in (Membership, Affiliation, Vehicle, BadgeConsentEvent):
        permissions.register(model, via="driver")
    permissions.register(MembershipActivity, via="membership")
    permissions.register(ContactPair, via="driver")
    permissions.register(ImportJob, units=("unit__path",), platform_actions=())
    permissions.register(ImportRowError, via="job")
    permissions.register(ImportJobActivity, via="job")
