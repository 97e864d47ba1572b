"""Facts ingested from the regulator exchange format (see docs/exchange.md).

Drivers are referenced by the blind index of their LicenseId (an ID number, so never stored in
clear here; only `UnknownDriver` keeps it, encrypted, for key rotation) and linked to
`drivers.Driver` when known. Operating data about drivers we do not know yet is kept, with
`driver` empty, and listed in `UnknownDriver` until their base record arrives. Coordinates are
stored as WGS-84 degrees.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core import crypto
from redwheel.core.crypto import BlindIndexField, EncryptedTextField
from redwheel.core.models import BaseModel


class Source(models.TextChoices):
    API = "api", _("HTTP batch API")
    FILE = "file", _("File import")
    DEMO = "demo", _("Demo data")


class IngestBatch(BaseModel):
    """One batch of one record type from one platform, with its outcome."""

    platform = models.ForeignKey(
        "orgs.Platform",
        verbose_name=_("platform"),
        on_delete=models.CASCADE,
        related_name="ingest_batches",
    )
    record_type = models.CharField(_("record type"), max_length=32, db_index=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    source_name = models.CharField(_("file or token"), max_length=200, blank=True)
    received = models.PositiveIntegerField(_("received"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged (duplicates)"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")
        indexes = [
            models.Index(
                fields=["platform", "record_type", "-created_at"], name="batch_platform_type_idx"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.record_type}#{self.pk}"


class Rejection(models.Model):
    """A record that failed validation: kept so staff can browse and platforms can fix feeds."""

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="rejections")
    index = models.PositiveIntegerField(_("index in batch"))
    field = models.CharField(_("field"), max_length=40, blank=True)
    code = models.CharField(_("code"), max_length=40, db_index=True)
    message = models.CharField(_("message"), max_length=300)
    excerpt = models.JSONField(_("record excerpt (masked)"), default=dict, blank=True)

    class Meta:
        ordering = ["batch", "index"]
        verbose_name = _("rejected record")
        verbose_name_plural = _("rejected records")

    def __str__(self):
        return f"{self.batch_id}[{self.index}] {self.code}"


class DriverRef(models.Model):
    """Common columns of facts about a driver: platform, LicenseId blind index, linked driver."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    license_index = BlindIndexField(kind="license_no", db_index=True)
    driver = models.ForeignKey(
        "drivers.Driver", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class UnknownDriver(BaseModel):
    """A LicenseId seen in operating data with no base record yet.

    The licence itself is kept encrypted (like a driver's) so that a blind-index key rotation
    can re-index the facts about it; rows recorded before it was kept have it empty."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    license_no = EncryptedTextField(_("licence / ID number"), blank=True, editable=False)
    license_index = BlindIndexField(source="license_no")
    license_masked = models.CharField(_("licence (masked)"), max_length=24)
    first_seen_type = models.CharField(_("first seen in"), max_length=32)
    records = models.PositiveIntegerField(_("records"), default=0)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unknown driver")
        verbose_name_plural = _("unknown drivers")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index"], name="unknown_driver_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.license_masked}"


class Trip(DriverRef):
    """One order, joined across orderCreate → orderMatch → operateDepart/Arrive → operatePay.

    Each stage fills its own columns, so records may arrive in any order. `driver` and
    `license_index` come from whichever of match/depart/pay arrived first.
    """

    license_index = BlindIndexField(kind="license_no", blank=True, db_index=True)
    order_id = models.CharField(_("OrderId"), max_length=64)
    region_code = models.CharField(max_length=6, blank=True)
    vehicle_no = models.CharField(max_length=10, blank=True)
    # orderCreate
    order_time = models.DateTimeField(null=True, blank=True)
    planned_depart_time = models.DateTimeField(null=True, blank=True)
    origin_lng = models.FloatField(null=True, blank=True)
    origin_lat = models.FloatField(null=True, blank=True)
    dest_lng = models.FloatField(null=True, blank=True)
    dest_lat = models.FloatField(null=True, blank=True)
    # orderMatch
    matched_at = models.DateTimeField(null=True, blank=True, db_index=True)
    match_lng = models.FloatField(null=True, blank=True)
    match_lat = models.FloatField(null=True, blank=True)
    # operateDepart
    departed_at = models.DateTimeField(null=True, blank=True)
    wait_km = models.FloatField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    # operateArrive
    arrived_at = models.DateTimeField(null=True, blank=True, db_index=True)
    drive_km = models.FloatField(null=True, blank=True)
    drive_seconds = models.PositiveIntegerField(null=True, blank=True)
    # operatePay
    paid_at = models.DateTimeField(null=True, blank=True)
    fare_yuan = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    price_yuan = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    pay_state = models.PositiveSmallIntegerField(null=True, blank=True)
    # orderCancel
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_operator = models.PositiveSmallIntegerField(null=True, blank=True)
    cancel_type = models.PositiveSmallIntegerField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        constraints = [
            models.UniqueConstraint(fields=["platform", "order_id"], name="trip_unique_order")
        ]
        indexes = [models.Index(fields=["driver", "arrived_at"], name="trip_driver_arrived_idx")]

    def __str__(self):
        return f"{self.platform_id}:{self.order_id}"


class Rating(models.Model):
    """ratedPassenger: the passenger's rating of a trip (five-point scale)."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    order_id = models.CharField(max_length=64)
    evaluated_at = models.DateTimeField()
    service_score = models.PositiveSmallIntegerField()
    driver_score = models.PositiveSmallIntegerField(null=True, blank=True)
    vehicle_score = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "order_id", "evaluated_at"], name="rating_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.order_id} {self.service_score}"


class Complaint(models.Model):
    """ratedPassengerComplaint; the driver is found through the trip with the same OrderId."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    order_id = models.CharField(max_length=64)
    complained_at = models.DateTimeField()
    detail = models.CharField(max_length=500, blank=True)
    result = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "order_id", "complained_at"], name="complaint_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.order_id} @ {self.complained_at:%Y-%m-%d}"


class Punishment(DriverRef):
    """ratedDriverPunish."""

    punished_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    result = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "punished_at"], name="punishment_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.license_index[:8]} @ {self.punished_at:%Y-%m-%d}"


class CreditLevel(DriverRef):
    """ratedDriver: the platform-reported service-quality credit level (1–5)."""

    level = models.PositiveSmallIntegerField()
    tested_on = models.DateField()
    department = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "tested_on"], name="credit_level_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.license_index[:8]} L{self.level}"


class TrainingRecord(DriverRef):
    """baseInfoDriverEducate."""

    course_name = models.CharField(max_length=150)
    course_date = models.DateField()
    minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "course_name", "course_date"],
                name="training_unique",
            )
        ]

    def __str__(self):
        return f"{self.course_name} ({self.course_date})"


class DriverMonthStat(DriverRef):
    """baseInfoDriverStat: platform-reported monthly counts."""

    month = models.DateField(help_text=_("First day of the month (Cycle, F6)."))
    order_count = models.PositiveIntegerField()
    traffic_violations = models.PositiveIntegerField()
    complaints = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "month"], name="driver_month_stat_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.license_index[:8]} {self.month:%Y-%m}"


class OnlineEvent(DriverRef):
    """operateLogin / operateLogout; sessions pair each login with the next logout."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGOUT = "logout", _("Logout")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField()
    vehicle_no = models.CharField(max_length=10, blank=True)
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "kind", "at"], name="online_event_unique"
            )
        ]
        indexes = [models.Index(fields=["license_index", "at"], name="online_event_driver_idx")]

    def __str__(self):
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class LatestPosition(DriverRef):
    """The last known position per driver and platform (positionDriver)."""

    at = models.DateTimeField()
    lng = models.FloatField()
    lat = models.FloatField()
    speed_kmh = models.FloatField(null=True, blank=True)
    direction = models.PositiveSmallIntegerField(null=True, blank=True)
    biz_status = models.PositiveSmallIntegerField(null=True, blank=True)
    order_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index"], name="latest_position_unique"
            )
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.license_index[:8]} @ {self.at:%Y-%m-%d %H:%M}"


class PositionSample(DriverRef):
    """A sampled position history (one point per driver per POSITION_SAMPLE_SECONDS),
    deleted after POSITION_RETENTION_DAYS; enough for metrics and dispatch replay."""

    at = models.DateTimeField()
    lng = models.FloatField()
    lat = models.FloatField()
    biz_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "at"], name="position_sample_unique"
            )
        ]
        indexes = [models.Index(fields=["at"], name="position_sample_at_idx")]

    def __str__(self):
        return f"{self.platform_id}:{self.license_index[:8]} @ {self.at:%Y-%m-%d %H:%M}"


class DriverMonthMetric(models.Model):
    """Snapshot of a driver's month, recomputed from the facts (a test proves they agree)."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.CASCADE, related_name="+")
    license_index = BlindIndexField(kind="license_no")
    driver = models.ForeignKey(
        "drivers.Driver", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    month = models.DateField()
    completed_orders = models.PositiveIntegerField(default=0)
    revenue_yuan = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    online_seconds = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    punishments = models.PositiveIntegerField(default=0)
    training_minutes = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "license_index", "month"], name="driver_month_metric_unique"
            )
        ]
        indexes = [models.Index(fields=["month", "platform"], name="metric_month_platform_idx")]

    def __str__(self):
        return f"{self.platform_id}:{self.license_index[:8]} {self.month:%Y-%m}"


class DriverFeedRecord(BaseModel):
    """What one platform's feed last reported about a driver (baseInfoDriver), per platform.

    Only the feed that created the driver (`created_driver`) changes the driver's name and
    phone; what any other feed reports is kept here and, while it differs from the driver and
    is not settled, listed to the city committee as a conflict (docs/exchange.md, "Feed
    ownership"). The phone is stored like a driver's: encrypted, blind index, masked copy.
    """

    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("driver"),
        on_delete=models.CASCADE,
        related_name="feed_records",
    )
    platform = models.ForeignKey(
        "orgs.Platform", verbose_name=_("platform"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("reported name"), max_length=60)
    phone = EncryptedTextField(_("reported mobile number"))
    phone_index = BlindIndexField(_("reported mobile number index"), source="phone")
    phone_masked = models.CharField(_("reported mobile number (masked)"), max_length=20)
    created_driver = models.BooleanField(_("created the driver"), default=False)
    reported_at = models.DateTimeField(_("report last changed at"))
    settled_at = models.DateTimeField(_("conflict settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("driver feed record")
        verbose_name_plural = _("driver feed records")
        constraints = [
            models.UniqueConstraint(fields=["driver", "platform"], name="feed_record_unique"),
            models.UniqueConstraint(
                fields=["driver"],
                condition=models.Q(created_driver=True),
                name="feed_record_one_creator",
            ),
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.driver_id} {self.name}"

    def set_phone(self, phone: str) -> None:
        self.phone = phone
        self.phone_index = crypto.blind_index(phone)
        self.phone_masked = crypto.mask_phone(phone)
