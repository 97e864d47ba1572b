"""Public alerts: a broadcast to drivers in an area, who received it, and their sightings."""

from django.conf import settings
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel

PHOTO_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]


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
