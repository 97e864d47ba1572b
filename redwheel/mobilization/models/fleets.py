"""Fleets: 党员先锋车队 / 志愿服务车队, their rosters, pledges and 三亮 markers."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel


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
