from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel
from redwheel.core.webhooks import validate_webhook_url

company_id_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{2,32}$", _("CompanyId must be 2–32 letters, digits, '-' or '_'.")
)


class Platform(BaseModel):
    """A licensed ride-hailing platform, aggregator or leasing company (by CompanyId)."""

    class Kind(models.TextChoices):
        PLATFORM = "platform", _("Ride-hailing platform")
        AGGREGATOR = "aggregator", _("Aggregator")
        LEASING = "leasing", _("Leasing company")

    company_id = models.CharField(
        _("CompanyId"), max_length=32, unique=True, validators=[company_id_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PLATFORM)
    commission_cap_percent = models.DecimalField(
        _("published commission cap (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    partners = models.ManyToManyField(
        "self",
        verbose_name=_("partner platforms"),
        symmetrical=False,
        blank=True,
        related_name="aggregators",
        help_text=_("For an aggregator: the platforms whose cars it dispatches."),
    )
    # Ride-hailing operating licences are granted per city; the city's committee oversees it.
    city = models.ForeignKey(
        "OrgUnit",
        verbose_name=_("city"),
        null=True,
        on_delete=models.PROTECT,
        related_name="licensed_platforms",
        limit_choices_to={"parent__isnull": True},
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=128, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")

    def __str__(self):
        return self.name

    def clean(self):
        # Not a field validator: it depends on settings and DNS, which a migration must not
        # freeze. Delivery re-checks the URL every time (redwheel.core.webhooks).
        super().clean()
        try:
            validate_webhook_url(self.webhook_url)
        except ValidationError as exc:
            raise ValidationError({"webhook_url": exc.error_list}) from exc


class OrgUnit(BaseModel):
    """A node of the party organisation tree, stored as a materialised path for subtree reads."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("Industry party committee")
        ENTERPRISE_COMMITTEE = "enterprise_committee", _("Enterprise party committee")
        GENERAL_BRANCH = "general_branch", _("General party branch")
        BRANCH = "branch", _("Party branch")
        GROUP = "group", _("Party group")

    class BranchType(models.TextChoices):
        REGULAR = "regular", _("Regular")
        MOBILE = "mobile", _("Mobile party members")
        FUNCTIONAL = "functional", _("Functional")
        JOINT = "joint", _("Joint")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    branch_type = models.CharField(
        _("branch type"), max_length=16, choices=BranchType.choices, blank=True
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    region_code = models.CharField(_("region code (GB/T 2260)"), max_length=6)
    platform = models.ForeignKey(
        Platform,
        verbose_name=_("platform"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="branch") | models.Q(branch_type=""),
                name="orgunit_branch_type_only_on_branches",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="branch") | ~models.Q(branch_type=""),
                name="orgunit_branch_has_type",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def kind_label(self) -> str:
        if self.kind == self.Kind.BRANCH and self.branch_type != self.BranchType.REGULAR:
            return f"{self.get_kind_display()}（{self.get_branch_type_display()}）"
        return self.get_kind_display()

    def ancestor_paths(self) -> list[str]:
        segments = self.path.split(".")[:-1]
        return [".".join(segments[: i + 1]) + "." for i in range(len(segments))]


class JointAgreement(BaseModel):
    """联建: a lead unit working with units of other platforms (e.g. an aggregator's partners)."""

    name = models.CharField(_("name"), max_length=150)
    lead_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("lead unit"),
        on_delete=models.PROTECT,
        related_name="led_agreements",
    )
    partner_units = models.ManyToManyField(
        OrgUnit, verbose_name=_("partner units"), related_name="joint_agreements"
    )
    signed_on = models.DateField(_("signed on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    scope = models.TextField(_("what the units do together"), blank=True)

    class Meta:
        ordering = ["-signed_on"]
        verbose_name = _("joint-building agreement")
        verbose_name_plural = _("joint-building agreements")

    def __str__(self):
        return self.name
