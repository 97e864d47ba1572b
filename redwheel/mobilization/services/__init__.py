"""Writes for fleets, hubs, mobilizations, volunteer service and public alerts.

Every public function that takes `actor` checks permission itself with `core.permissions`
(`require`/`get_or_404` on the mobilization models, as `mobilization/permissions.py` declares
them; anything out of scope is NotFound, even when the view already checked), runs in one
transaction and writes one audit entry. Split by topic; import from this package.
"""

from redwheel.mobilization.services.alerts import (
    alert_create,
    alert_withdraw,
    sighting_report,
)
from redwheel.mobilization.services.common import (
    EMERGENCY_RULE,
    MAX_RADIUS_KM,
    MAX_VOLUNTEER_HOURS,
    POINTS_SKIPPED,
    TENTH,
    VOLUNTEER_RULE,
    is_party_member_q,
)
from redwheel.mobilization.services.fleets import (
    fleet_create,
    fleet_markers_set,
    fleet_member_add,
    fleet_member_remove,
    fleet_pledge_sign,
    hub_create,
    pickup_point_add,
)
from redwheel.mobilization.services.mobilizations import (
    mobilization_call,
    mobilization_cancel,
    mobilization_close,
    mobilization_open,
    passenger_enqueue,
    passenger_leave,
    response_record,
    ride_record,
    summary_compute,
)
from redwheel.mobilization.services.volunteering import (
    opportunity_close,
    opportunity_create,
    signup_cancel,
    signup_check_in,
    signup_check_out,
    signup_confirm,
    signup_create,
)

__all__ = [
    "EMERGENCY_RULE",
    "MAX_RADIUS_KM",
    "MAX_VOLUNTEER_HOURS",
    "POINTS_SKIPPED",
    "TENTH",
    "VOLUNTEER_RULE",
    "alert_create",
    "alert_withdraw",
    "fleet_create",
    "fleet_markers_set",
    "fleet_member_add",
    "fleet_member_remove",
    "fleet_pledge_sign",
    "hub_create",
    "is_party_member_q",
    "mobilization_call",
    "mobilization_cancel",
    "mobilization_close",
    "mobilization_open",
    "opportunity_close",
    "opportunity_create",
    "passenger_enqueue",
    "passenger_leave",
    "pickup_point_add",
    "response_record",
    "ride_record",
    "sighting_report",
    "signup_cancel",
    "signup_check_in",
    "signup_check_out",
    "signup_confirm",
    "signup_create",
    "summary_compute",
]
