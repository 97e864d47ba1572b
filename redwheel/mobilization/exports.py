"""`.xlsx` exports (core.exports): a mobilization's record, per-unit statistics, a driver's
service. Only masked personal data goes into a workbook."""

from django.utils.translation import gettext as _

from redwheel.core.dates import local_text
from redwheel.core.exports import Sheet, xlsx_bytes
from redwheel.mobilization.services import summary_compute


def mobilization_workbook(m) -> bytes:
    summary = m.summary or summary_compute(m)
    labels = {
        "drivers_called": _("Drivers called"),
        "drivers_responded": _("Drivers responded"),
        "drivers_cant_come": _("Can't come"),
        "drivers_arrived": _("Drivers arrived"),
        "members_called": _("Party members called"),
        "members_responded": _("Party members responded"),
        "members_arrived": _("Party members arrived"),
        "rides": _("Rides"),
        "passengers": _("Passengers"),
        "priority_passengers": _("Priority passengers"),
        "passengers_left_waiting": _("Passengers still waiting"),
        "driver_hours": _("Driver hours"),
        "duration_hours": _("Duration (hours)"),
    }
    summary = Sheet(
        _("Summary"),
        [_("Figure"), _("Value")],
        [
            (_("Title"), m.title),
            (_("Hub"), m.hub.name),
            (_("Status"), m.get_status_display()),
            (_("Starts at"), local_text(m.starts_at)),
            (_("Closed at"), local_text(m.closed_at)),
        ]
        + [(labels.get(k, k), v) for k, v in summary.items()],
    )
    responses = {r.driver_id: r for r in m.responses.all()}
    drivers = Sheet(
        _("Drivers"),
        [_("Driver"), _("Mobile"), _("Called via"), _("Answer"), _("Arrived at")],
        [
            (
                c.driver.name,
                c.driver.phone_masked,
                c.get_via_display(),
                responses[c.driver_id].get_status_display() if c.driver_id in responses else "",
                local_text(responses[c.driver_id].arrived_at) if c.driver_id in responses else "",
            )
            for c in m.calls.select_related("driver").order_by("id")
        ],
    )
    rides = Sheet(
        _("Rides"),
        [_("Time"), _("Driver"), _("Passengers"), _("Destination district")],
        [
            (local_text(r.created_at), r.driver.name, r.passengers, r.destination_district)
            for r in m.rides.select_related("driver").order_by("id")
        ],
    )
    return xlsx_bytes([summary, drivers, rides])


STAT_COLUMNS = [
    ("unit", _("Unit")),
    ("mobilizations", _("Mobilisations")),
    ("closed", _("Closed")),
    ("drivers_called", _("Drivers called")),
    ("drivers_arrived", _("Drivers arrived")),
    ("rides", _("Rides")),
    ("passengers", _("Passengers")),
    ("mobilization_hours", _("Mobilisation hours")),
    ("opportunities", _("Opportunities")),
    ("volunteers", _("Volunteers")),
    ("volunteer_hours", _("Volunteer hours")),
    ("alerts", _("Alerts")),
    ("sightings", _("Sightings")),
]


def statistics_workbook(rows) -> bytes:
    return xlsx_bytes(
        [
            Sheet(
                _("Service statistics"),
                [str(label) for _k, label in STAT_COLUMNS],
                [
                    [float(r[k]) if k.endswith("hours") else r[k] for k, _l in STAT_COLUMNS]
                    for r in rows
                ],
            )
        ]
    )


def history_workbook(driver, h) -> bytes:
    service = Sheet(
        _("Service"),
        [_("Date"), _("Kind"), _("What"), _("Hours"), _("Rides"), _("Passengers")],
        [
            (
                r.served_on.isoformat(),
                r.get_kind_display(),
                r.mobilization.title if r.mobilization_id else r.signup.opportunity.title,
                float(r.hours),
                r.rides,
                r.passengers,
            )
            for r in h["records"]
        ],
    )
    calls = Sheet(
        _("Calls"),
        [_("Mobilisation"), _("Hub"), _("Called at"), _("Answer")],
        [
            (
                c.mobilization.title,
                c.mobilization.hub.name,
                local_text(c.called_at),
                c.response.get_status_display() if c.response else "",
            )
            for c in h["calls"]
        ],
    )
    return xlsx_bytes([service, calls])
