"""The drivers called to a mobilization and their answers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel
from redwheel.mobilization.models.fleets import Fleet
from redwheel.mobilization.models.mobilizations import Mobilization


class Call(models.Model):
    """One driver called to one mobilization (at most once, however many call rounds)."""

    class Via(models.TextChoices):
        FLEET = "fleet", _("Fleet roster")
        RADIUS = "radius", _("Nearby (last known position)")

    mobilization = models.ForeignKey(Mobilization, on_delete=models.CASCADE, related_name="calls")
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="mobilization_calls"
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
            models.UniqueConstraint(fields=["mobilization", "driver"], name="call_unique"),
        ]

    def __str__(self):
        return f"{self.mobilization_id}:{self.driver_id}"


class ResponseStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ON_MY_WAY = "on_my_way", _("On my way")
    ARRIVED = "arrived", _("Arrived")
    CANT_COME = "cant_come", _("Can't come")


class Response(BaseModel):
    """A driver's current answer to a call; one row per (mobilization, driver)."""

    mobilization = models.ForeignKey(
        Mobilization, on_delete=models.CASCADE, related_name="responses"
    )
    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="mobilization_responses"
    )
    status = models.CharField(_("status"), max_length=16, choices=ResponseStatus.choices)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.UniqueConstraint(fields=["mobilization", "driver"], name="response_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="arrived") | models.Q(arrived_at__isnull=False),
                name="response_arrived_has_time",
            ),
        ]


class ResponseEvent(ImmutableModel):
    """Every change of a driver's response (repeated taps that change nothing add no row): the
    response's activity row, whose action is the answer given."""

    # PROTECT: the deletion collector would otherwise delete immutable rows with their parent.
    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=ResponseStatus.choices)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=ResponseStatus.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("response event")
        verbose_name_plural = _("response events")
