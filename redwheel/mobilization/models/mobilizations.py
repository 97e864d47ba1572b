"""Emergency mobilizations at a hub: the mobilization and its timeline, the passenger queue
and the rides."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, StatusActivity
from redwheel.mobilization.models.hubs import Hub, PickupPoint


class Mobilization(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("organised by"),
        on_delete=models.PROTECT,
        related_name="mobilizations",
    )
    hub = models.ForeignKey(
        Hub, verbose_name=_("hub"), on_delete=models.PROTECT, related_name="mobilizations"
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
                name="mobilization_window_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_at__isnull=False),
                name="mobilization_finished_has_time",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class MobilizationActivity(StatusActivity):
    """The mobilization's timeline: opened, drivers called, closed, cancelled."""

    class Action(models.TextChoices):
        OPEN = "open", _("Opened")
        CALL = "call", _("Drivers called")
        CLOSE = "close", _("Closed")
        CANCEL = "cancel", _("Cancelled")

    mobilization = models.ForeignKey(
        Mobilization, on_delete=models.PROTECT, related_name="activities"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta(StatusActivity.Meta):
        verbose_name = _("mobilisation activity")
        verbose_name_plural = _("mobilisation activities")


class Ride(BaseModel):
    """One free ride from the hub: a driver, the passengers carried, the destination district."""

    mobilization = models.ForeignKey(Mobilization, on_delete=models.CASCADE, related_name="rides")
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.PROTECT, related_name="mobilization_rides"
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

    mobilization = models.ForeignKey(Mobilization, on_delete=models.CASCADE, related_name="queue")
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
                fields=["mobilization", "status", "priority", "id"], name="queue_order_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(party_size__gte=1), name="queue_party_size"),
            models.CheckConstraint(
                condition=~models.Q(status="served") | models.Q(ride__isnull=False),
                name="queue_served_has_ride",
            ),
        ]


class QueueEntryActivity(StatusActivity):
    """A queue entry's timeline: joined, served (by a ride), left."""

    class Action(models.TextChoices):
        JOIN = "join", _("Joined the queue")
        SERVE = "serve", _("Served")
        LEAVE = "leave", _("Left the queue")

    # PROTECT: the deletion collector would otherwise delete immutable rows with their parent.
    entry = models.ForeignKey(QueueEntry, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=8, blank=True)
    to_status = models.CharField(_("to"), max_length=8)

    class Meta(StatusActivity.Meta):
        verbose_name = _("queue entry activity")
        verbose_name_plural = _("queue entry activities")
