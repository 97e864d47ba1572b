"""Volunteer service: opportunities, the drivers' sign-ups and confirmed service records."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel, StatusActivity
from redwheel.mobilization.models.fleets import Fleet
from redwheel.mobilization.models.mobilizations import Mobilization


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


class OpportunityActivity(StatusActivity):
    """An opportunity's timeline: published, sign-up closed."""

    class Action(models.TextChoices):
        PUBLISH = "publish", _("Published")
        CLOSE = "close", _("Closed")

    # PROTECT: the deletion collector would otherwise delete immutable rows with their parent.
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, related_name="activities"
    )
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=8, blank=True)
    to_status = models.CharField(_("to"), max_length=8)

    class Meta(StatusActivity.Meta):
        verbose_name = _("opportunity activity")
        verbose_name_plural = _("opportunity activities")


class SignUpActivity(StatusActivity):
    """A sign-up's timeline: signed up, cancelled, checked in and out, hours confirmed."""

    class Action(models.TextChoices):
        SIGN_UP = "sign_up", _("Signed up")
        CANCEL = "cancel", _("Cancelled")
        CHECK_IN = "check_in", _("Checked in")
        CHECK_OUT = "check_out", _("Checked out")
        CONFIRM = "confirm", _("Hours confirmed")

    # PROTECT: the deletion collector would otherwise delete immutable rows with their parent.
    signup = models.ForeignKey(SignUp, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12)

    class Meta(StatusActivity.Meta):
        verbose_name = _("sign-up activity")
        verbose_name_plural = _("sign-up activities")


class ServiceRecord(ImmutableModel):
    """Confirmed service: hours at a mobilization (written on closing) or volunteer hours
    (confirmed by the organiser). Points are granted from these rows through the scoring
    ledger in the same transaction (see `services.signup_confirm` and `mobilization_close`).
    """

    class Kind(models.TextChoices):
        MOBILIZATION = "mobilisation", _("Emergency mobilisation")  # the stored value
        VOLUNTEER = "volunteer", _("Volunteer service")

    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.PROTECT, related_name="service_records"
    )
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    mobilization = models.ForeignKey(
        Mobilization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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
                fields=["mobilization", "driver"], name="service_record_once_per_mobilization"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="mobilisation", mobilization__isnull=False)
                    | models.Q(kind="volunteer", signup__isnull=False)
                ),
                name="service_record_has_source",
            ),
            models.CheckConstraint(condition=models.Q(hours__gte=0), name="service_hours_positive"),
        ]
