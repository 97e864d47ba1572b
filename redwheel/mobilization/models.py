"""Fleets, hubs, emergency mobilisations, volunteer service and public alerts.

Every staff-owned object hangs off an `OrgUnit` (`unit`), which is how selectors scope it.
State changes go through `services.py`; mobilisation transitions and driver responses leave
immutable activity rows. Confirmed service (mobilisation hours, volunteer hours) lands in
`ServiceRecord` rows, from which points will be granted once the scoring ledger exists.
"""

from django.conf import settings
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel

PHOTO_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]


# Fleets ----------------------------------------------------------------------------------------


class Fleet(BaseModel):
    """党员先锋车队 / 志愿服务车队: a roster of drivers with leaders and a service pledge."""

    class Kind(models.TextChoices):
        PIONEER = "pioneer", _("Party-member pioneer fleet")
        VOLUNTEER = "volunteer", _("Volunteer fleet")
        EMERGENCY = "emergency", _("Emergency support fleet")

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("organised by"),
        on_delete=models.PROTECT,
        related_name="fleets",
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    pledge_title = models.CharField(_("pledge title"), max_length=120, blank=True)
    pledge_text = models.TextField(_("service pledge"), blank=True)
    flag_presented_on = models.DateField(
        _("fleet flag presented on"),
        null=True,
        blank=True,
        help_text=_("三亮: the date the fleet flag was presented (亮旗帜)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("fleet")
        verbose_name_plural = _("fleets")
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="fleet_unique_name_per_unit"),
        ]

    def __str__(self):
        return self.name


class FleetMember(BaseModel):
    class Role(models.TextChoices):
        LEADER = "leader", _("Leader")
        MEMBER = "member", _("Member")

    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="members")
    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("driver"),
        on_delete=models.CASCADE,
        related_name="fleet_memberships",
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(_("active"), default=True)
    pledge_signed_at = models.DateTimeField(_("pledge signed at"), null=True, blank=True)
    vehicle_sign = models.BooleanField(_("vehicle sign displayed (亮标识)"), default=False)
    identity_shown = models.BooleanField(_("member identity shown (亮身份)"), default=False)

    class Meta:
        ordering = ["fleet", "-role", "id"]
        verbose_name = _("fleet member")
        verbose_name_plural = _("fleet members")
        constraints = [
            models.UniqueConstraint(fields=["fleet", "driver"], name="fleet_member_unique"),
        ]

    def __str__(self):
        return f"{self.fleet} · {self.driver.name}"


# Hubs ------------------------------------------------------------------------------------------


class Hub(BaseModel):
    """A transport hub (railway station, airport, coach station). Coordinates are WGS-84."""

    class Kind(models.TextChoices):
        RAILWAY = "railway", _("Railway station")
        AIRPORT = "airport", _("Airport")
        BUS = "bus", _("Coach station")
        OTHER = "other", _("Other")

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("managed by"),
        on_delete=models.PROTECT,
        related_name="hubs",
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    region_code = models.CharField(_("region code"), max_length=6, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lng = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("hub")
        verbose_name_plural = _("hubs")
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="hub_unique_name_per_unit"),
            models.CheckConstraint(
                condition=models.Q(lng__gte=-180, lng__lte=180, lat__gte=-90, lat__lte=90),
                name="hub_coordinates_valid",
            ),
        ]

    def __str__(self):
        return self.name


class PickupPoint(BaseModel):
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="pickup_points")
    name = models.CharField(_("name"), max_length=120)
    note = models.CharField(_("note"), max_length=200, blank=True)
    lng = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))

    class Meta:
        ordering = ["hub", "name", "id"]
        verbose_name = _("pick-up point")
        verbose_name_plural = _("pick-up points")

    def __str__(self):
        return f"{self.hub} · {self.name}"


# Mobilisations ---------------------------------------------------------------------------------


class Mobilisation(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("organised by"),
        on_delete=models.PROTECT,
        related_name="mobilisations",
    )
    hub = models.ForeignKey(
        Hub, verbose_name=_("hub"), on_delete=models.PROTECT, related_name="mobilisations"
    )
    title = models.CharField(_("title"), max_length=150)
    reason = models.TextField(_("reason"))
    expected_passengers = models.PositiveIntegerField(_("expected passengers"), default=0)
    drivers_needed = models.PositiveIntegerField(_("drivers needed"), default=0)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    summary = models.JSONField(_("closing summary"), default=dict, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("mobilisation")
        verbose_name_plural = _("mobilisations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="mobilisation_window_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_at__isnull=False),
                name="mobilisation_finished_has_time",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class MobilisationActivity(ImmutableModel):
    """The mobilisation's timeline: opened, drivers called, closed, cancelled."""

    class Action(models.TextChoices):
        OPEN = "open", _("Opened")
        CALL = "call", _("Drivers called")
        CLOSE = "close", _("Closed")
        CANCEL = "cancel", _("Cancelled")

    mobilisation = models.ForeignKey(
        Mobilisation, on_delete=models.CASCADE, related_name="activities"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    note = models.CharField(_("note"), max_length=300, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("mobilisation activity")
        verbose_name_plural = _("mobilisation activities")


class Call(models.Model):
    """One driver called to one mobilisation (at most once, however many call rounds)."""

    class Via(models.TextChoices):
        FLEET = "fleet", _("Fleet roster")
        RADIUS = "radius", _("Nearby (last known position)")

    mobilisation = models.ForeignKey(Mobilisation, on_delete=models.CASCADE, related_name="calls")
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="mobilisation_calls"
    )
    via = models.CharField(_("called via"), max_length=8, choices=Via.choices)
    fleet = models.ForeignKey(
        Fleet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    called_at = models.DateTimeField(_("called at"), auto_now_add=True)

    class Meta:
        ordering = ["called_at", "id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(fields=["mobilisation", "driver"], name="call_unique"),
        ]

    def __str__(self):
        return f"{self.mobilisation_id}:{self.driver_id}"


class ResponseStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ON_MY_WAY = "on_my_way", _("On my way")
    ARRIVED = "arrived", _("Arrived")
    CANT_COME = "cant_come", _("Can't come")


class Response(BaseModel):
    """A driver's current answer to a call; one row per (mobilisation, driver)."""

    mobilisation = models.ForeignKey(
        Mobilisation, on_delete=models.CASCADE, related_name="responses"
    )
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="mobilisation_responses"
    )
    status = models.CharField(_("status"), max_length=16, choices=ResponseStatus.choices)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.UniqueConstraint(fields=["mobilisation", "driver"], name="response_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="arrived") | models.Q(arrived_at__isnull=False),
                name="response_arrived_has_time",
            ),
        ]


class ResponseEvent(ImmutableModel):
    """Every change of a driver's response (repeated taps that change nothing add no row)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=ResponseStatus.choices)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("response event")
        verbose_name_plural = _("response events")


class Ride(BaseModel):
    """One free ride from the hub: a driver, the passengers carried, the destination district."""

    mobilisation = models.ForeignKey(Mobilisation, on_delete=models.CASCADE, related_name="rides")
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.PROTECT, related_name="mobilisation_rides"
    )
    passengers = models.PositiveSmallIntegerField(
        _("passengers"), validators=[MinValueValidator(1)]
    )
    destination_district = models.CharField(_("destination district"), max_length=60)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ride")
        verbose_name_plural = _("rides")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passengers__gte=1), name="ride_has_passengers"
            ),
        ]


class QueueEntry(BaseModel):
    """A passenger (or a travelling party) waiting at the hub. Priority first, then FIFO."""

    class Need(models.TextChoices):
        ELDERLY = "elderly", _("Elderly")
        CHILD = "child", _("With children")
        PREGNANT = "pregnant", _("Pregnant")
        DISABLED = "disabled", _("Disability")
        NONE = "none", _("None")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SERVED = "served", _("Served")
        LEFT = "left", _("Left the queue")

    PRIORITY_NEEDS = (Need.ELDERLY, Need.CHILD, Need.PREGNANT, Need.DISABLED)

    mobilisation = models.ForeignKey(Mobilisation, on_delete=models.CASCADE, related_name="queue")
    pickup_point = models.ForeignKey(
        PickupPoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    party_size = models.PositiveSmallIntegerField(
        _("passengers"), default=1, validators=[MinValueValidator(1)]
    )
    need = models.CharField(
        _("priority need"), max_length=16, choices=Need.choices, default=Need.NONE
    )
    priority = models.PositiveSmallIntegerField(
        _("priority (0 first)"), default=1, help_text=_("0 for priority needs, 1 otherwise.")
    )
    destination_district = models.CharField(_("destination district"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.WAITING
    )
    ride = models.ForeignKey(
        Ride, null=True, blank=True, on_delete=models.SET_NULL, related_name="queue_entries"
    )
    served_at = models.DateTimeField(_("served at"), null=True, blank=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("queue entry")
        verbose_name_plural = _("passenger queue")
        indexes = [
            models.Index(
                fields=["mobilisation", "status", "priority", "id"], name="queue_order_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(party_size__gte=1), name="queue_party_size"),
            models.CheckConstraint(
                condition=~models.Q(status="served") | models.Q(ride__isnull=False),
                name="queue_served_has_ride",
            ),
        ]


# Volunteer service -----------------------------------------------------------------------------


class Opportunity(BaseModel):
    """A volunteer service opportunity, e.g. 爱心送考 exam-day rides."""

    class Kind(models.TextChoices):
        EXAM = "exam", _("Exam-day rides (爱心送考)")
        HOSPITAL = "hospital", _("Hospital rides for the elderly")
        COMMUNITY = "community", _("Community service")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open for sign-up")
        CLOSED = "closed", _("Closed")

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("organised by"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    fleet = models.ForeignKey(
        Fleet,
        verbose_name=_("fleet"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    role = models.CharField(_("role"), max_length=120)
    place = models.CharField(_("place"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    places = models.PositiveIntegerField(_("places"), validators=[MinValueValidator(1)])
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("volunteer opportunity")
        verbose_name_plural = _("volunteer opportunities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="opportunity_window_positive",
            ),
        ]

    def __str__(self):
        return self.title


class SignUp(BaseModel):
    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        CANCELLED = "cancelled", _("Cancelled")
        CHECKED_IN = "checked_in", _("Checked in")
        CHECKED_OUT = "checked_out", _("Checked out")
        CONFIRMED = "confirmed", _("Hours confirmed")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="signups")
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="volunteer_signups"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SIGNED_UP
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "driver"], name="signup_unique"),
        ]


class ServiceRecord(ImmutableModel):
    """Confirmed service: hours at a mobilisation (written on closing) or volunteer hours
    (confirmed by the organiser). Points are granted from these rows through the scoring
    ledger in the same transaction (see `services.signup_confirm` and `mobilisation_close`).
    """

    class Kind(models.TextChoices):
        MOBILISATION = "mobilisation", _("Emergency mobilisation")
        VOLUNTEER = "volunteer", _("Volunteer service")

    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.PROTECT, related_name="service_records"
    )
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    mobilisation = models.ForeignKey(
        Mobilisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signup = models.OneToOneField(
        SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="service_record"
    )
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1)
    rides = models.PositiveIntegerField(_("rides"), default=0)
    passengers = models.PositiveIntegerField(_("passengers"), default=0)
    served_on = models.DateField(_("served on"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-served_on", "-id"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        constraints = [
            models.UniqueConstraint(
                fields=["mobilisation", "driver"], name="service_record_once_per_mobilisation"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="mobilisation", mobilisation__isnull=False)
                    | models.Q(kind="volunteer", signup__isnull=False)
                ),
                name="service_record_has_source",
            ),
            models.CheckConstraint(condition=models.Q(hours__gte=0), name="service_hours_positive"),
        ]


# Public alerts ---------------------------------------------------------------------------------


class Alert(BaseModel):
    """A broadcast to drivers in an area (centre + radius), e.g. a missing child, a closure."""

    class Kind(models.TextChoices):
        MISSING_PERSON = "missing_person", _("Missing person")
        ROAD_CLOSURE = "road_closure", _("Road closure")
        WEATHER = "weather", _("Severe weather")
        OTHER = "other", _("Other")

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("sent by unit"),
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"))
    photo = models.FileField(
        _("photo"),
        upload_to="alerts/%Y/%m/",
        blank=True,
        max_length=200,
        validators=[FileExtensionValidator(PHOTO_EXTENSIONS)],
    )
    lng = models.FloatField(_("centre longitude (WGS-84)"))
    lat = models.FloatField(_("centre latitude (WGS-84)"))
    radius_km = models.FloatField(_("radius (km)"), validators=[MinValueValidator(0.1)])
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(_("drivers reached"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("public alert")
        verbose_name_plural = _("public alerts")

    def __str__(self):
        return self.title


class AlertRecipient(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    driver = models.ForeignKey("drivers.Driver", on_delete=models.CASCADE, related_name="+")
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert recipient")
        verbose_name_plural = _("alert recipients")
        constraints = [
            models.UniqueConstraint(fields=["alert", "driver"], name="alert_recipient_unique"),
        ]

    def __str__(self):
        return f"{self.alert_id}:{self.driver_id}"


class Sighting(BaseModel):
    """A driver's "seen something" reply to an alert, routed to the sender's inbox."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="sightings")
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="alert_sightings"
    )
    lng = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    note = models.CharField(_("note"), max_length=500)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sighting")
        verbose_name_plural = _("sightings")
