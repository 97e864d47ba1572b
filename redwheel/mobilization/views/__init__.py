"""Staff pages: fleets, hubs, mobilizations with the live board, volunteer opportunities,
alerts, per-unit statistics and exports, one module per entity (the driver's own pages are in
`views_driver`). Each POST parses one form and calls one service; a refusal re-renders the page
with its message and status (`common.run`). Out-of-scope ids answer 404."""

from redwheel.mobilization.views.alerts import alert_detail, alert_list, alert_withdraw
from redwheel.mobilization.views.fleets import (
    fleet_detail,
    fleet_list,
    fleet_markers,
    fleet_member_add,
    fleet_member_remove,
)
from redwheel.mobilization.views.hubs import hub_detail, hub_list
from redwheel.mobilization.views.mobilizations import (
    mobilization_board,
    mobilization_call,
    mobilization_cancel,
    mobilization_close,
    mobilization_detail,
    mobilization_export,
    mobilization_list,
    queue_add,
    queue_leave,
    ride_add,
)
from redwheel.mobilization.views.overview import driver_history, index, statistics
from redwheel.mobilization.views.volunteering import (
    opportunity_close,
    opportunity_detail,
    opportunity_list,
    signup_confirm,
)

__all__ = [
    "alert_detail",
    "alert_list",
    "alert_withdraw",
    "driver_history",
    "fleet_detail",
    "fleet_list",
    "fleet_markers",
    "fleet_member_add",
    "fleet_member_remove",
    "hub_detail",
    "hub_list",
    "index",
    "mobilization_board",
    "mobilization_call",
    "mobilization_cancel",
    "mobilization_close",
    "mobilization_detail",
    "mobilization_export",
    "mobilization_list",
    "opportunity_close",
    "opportunity_detail",
    "opportunity_list",
    "queue_add",
    "queue_leave",
    "ride_add",
    "signup_confirm",
    "statistics",
]
