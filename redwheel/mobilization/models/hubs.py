"""Transport hubs and their pick-up points."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel


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
