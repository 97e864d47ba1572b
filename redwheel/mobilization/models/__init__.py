"""Fleets, hubs, emergency mobilizations, volunteer service and public alerts.

Every staff-owned object hangs off an `OrgUnit` (`unit`), which is how selectors scope it.
State changes go through the services and the state machines of `mobilization/states.py`;
every move leaves an immutable activity row. Confirmed service (mobilization hours, volunteer
hours) lands in `ServiceRecord` rows, from which points are granted through the scoring ledger.
One module per entity; import the models from this package.
"""

from redwheel.mobilization.models.alerts import PHOTO_EXTENSIONS, Alert, AlertRecipient, Sighting
from redwheel.mobilization.models.calls import Call, Response, ResponseEvent, ResponseStatus
from redwheel.mobilization.models.fleets import Fleet, FleetMember
from redwheel.mobilization.models.hubs import Hub, PickupPoint
from redwheel.mobilization.models.mobilizations import (
    Mobilization,
    MobilizationActivity,
    QueueEntry,
    QueueEntryActivity,
    Ride,
)
from redwheel.mobilization.models.volunteering import (
    Opportunity,
    OpportunityActivity,
    ServiceRecord,
    SignUp,
    SignUpActivity,
)

__all__ = [
    "PHOTO_EXTENSIONS",
    "Alert",
    "AlertRecipient",
    "Call",
    "Fleet",
    "FleetMember",
    "Hub",
    "Mobilization",
    "MobilizationActivity",
    "Opportunity",
    "OpportunityActivity",
    "PickupPoint",
    "QueueEntry",
    "QueueEntryActivity",
    "Response",
    "ResponseEvent",
    "ResponseStatus",
    "Ride",
    "ServiceRecord",
    "Sighting",
    "SignUp",
    "SignUpActivity",
]
