"""Writes for drivers, memberships, badge consent and contact pairs. Each takes an `actor`.

Callers import this package (`from redwheel.drivers import services`); the modules split it by
subject only."""

from redwheel.drivers.services._common import Action, State, badge_visible
from redwheel.drivers.services.consent import (
    badge_consent_set,
    contact_pair_create,
    contact_pair_delete,
)
from redwheel.drivers.services.membership import (
    MEMBERSHIP,
    allowed_actions,
    membership_check_in,
    membership_check_out,
    membership_declare,
    membership_follow_pipeline,
    membership_lapse,
    membership_reject,
    membership_transfer,
    membership_verify,
)
from redwheel.drivers.services.people import (
    _gender_from_id,
    affiliation_add,
    driver_create,
    driver_update,
    pii_reveal,
    vehicle_add,
)

__all__ = [
    "MEMBERSHIP",
    "Action",
    "State",
    "_gender_from_id",
    "affiliation_add",
    "allowed_actions",
    "badge_consent_set",
    "badge_visible",
    "contact_pair_create",
    "contact_pair_delete",
    "driver_create",
    "driver_update",
    "membership_check_in",
    "membership_check_out",
    "membership_declare",
    "membership_follow_pipeline",
    "membership_lapse",
    "membership_reject",
    "membership_transfer",
    "membership_verify",
    "pii_reveal",
    "vehicle_add",
]
