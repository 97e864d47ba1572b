"""Party dues (党费, domain-rules §4): the city's rules as versioned data, each member's
quarterly assessment, an append-only payment ledger, hardship relief and the reminder log.

RedWheel records dues; it moves no money. Amounts are Decimal yuan with two places (fen).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel, StatusActivity

MONEY = {"max_digits": 12, "decimal_places": 2}


class RuleSet(ImmutableModel):
    """One version of a city's dues rules. Never edited: a change is a new version with a later
    effective date (the first day of a quarter). Bands are `[{"up_to": "3000.00", "rate":
    "0.005"}, …, {"up_to": null, "rate": "0.02"}]`, ordered, each upper edge inclusive."""

    city = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("city"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("in force from"))
    wage_bands = models.JSONField(_("bands for wages and net income"))
    retired_bands = models.JSONField(_("bands for retirement pay"))
    flat_amount = models.DecimalField(
        _("flat monthly amount (students, unemployed, minimum allowance)"), **MONEY
    )
    remind_days_before_month_end = models.PositiveSmallIntegerField(
        _("remind this many days before the month ends"), default=3
    )
    lapse_reminder_months = models.PositiveSmallIntegerField(
        _("remind after this many months in arrears"), default=3
    )
    reminder_sms = models.BooleanField(_("also send reminders by SMS"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["city", "-effective_from"]
        verbose_name = _("dues rules version")
        verbose_name_plural = _("dues rules versions")
        constraints = [
            models.UniqueConstraint(fields=["city", "version"], name="dues_ruleset_version"),
            models.UniqueConstraint(
                fields=["city", "effective_from"], name="dues_ruleset_effective"
            ),
            models.CheckConstraint(
                condition=Q(flat_amount__gte=0), name="dues_ruleset_flat_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.city_id} v{self.version} ({self.effective_from:%Y-%m-%d})"

    @property
    def wage_bands_text(self) -> str:
        from redwheel.party.dues.rules import bands_from_json, bands_text

        return bands_text(bands_from_json(self.wage_bands))

    @property
    def retired_bands_text(self) -> str:
        from redwheel.party.dues.rules import bands_from_json, bands_text

        return bands_text(bands_from_json(self.retired_bands))


class Basis(models.TextChoices):
    WAGE = "wage", _("Monthly wage (after tax)")
    NO_WAGE = "no_wage", _("No monthly wage: average net income of the previous quarter")
    RETIRED = "retired", _("Retired: monthly retirement pay (after tax)")
    STUDENT = "student", _("Student")
    UNEMPLOYED = "unemployed", _("Unemployed")
    MINIMUM_ALLOWANCE = "minimum_allowance", _("Minimum living allowance (低保)")


FLAT_BASES = (Basis.STUDENT, Basis.UNEMPLOYED, Basis.MINIMUM_ALLOWANCE)


class Assessment(BaseModel):
    """A member's monthly dues for one quarter: the basis, the income figure, the rate and the
    amount the rules give, and who confirmed it. Months of later quarters without their own
    assessment use the latest earlier one (carried over)."""

    class Source(models.TextChoices):
        MEMBER = "member", _("Confirmed by the member")
        BRANCH = "branch", _("Recorded by the branch from the member's declaration")

    member = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="dues_assessments",
    )
    branch = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    quarter = models.DateField(_("quarter"), help_text=_("First day of the quarter."))
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    income = models.DecimalField(_("monthly income (yuan)"), null=True, blank=True, **MONEY)
    month_incomes = models.JSONField(
        _("net income of each month of the previous quarter"), default=list, blank=True
    )
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4, null=True, blank=True)
    monthly_amount = models.DecimalField(_("monthly dues (yuan)"), **MONEY)
    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("rules"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    suggested_income = models.DecimalField(
        _("turnover recorded by platforms (shown as a suggestion)"),
        null=True,
        blank=True,
        **MONEY,
    )
    used_suggestion = models.BooleanField(_("member took the suggested figures"), default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-quarter", "member_id"]
        verbose_name = _("dues assessment")
        verbose_name_plural = _("dues assessments")
        constraints = [
            models.UniqueConstraint(fields=["member", "quarter"], name="dues_assessment_quarter"),
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0), name="dues_assessment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(income__isnull=True) | Q(income__gte=0),
                name="dues_assessment_income_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.member_id} {self.quarter:%Y-%m} ¥{self.monthly_amount}"

    @property
    def rate_percent(self) -> Decimal | None:
        return None if self.rate is None else (self.rate * 100).normalize()


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    WECHAT = "wechat", _("WeChat Pay (recorded)")
    ALIPAY = "alipay", _("Alipay (recorded)")
    OTHER = "other", _("Other")


class Payment(ImmutableModel):
    """One ledger entry: a payment for one month, or the reversal of an earlier entry
    (negative amount, `reverses` set). Never updated or deleted."""

    member = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="dues_payments",
    )
    branch = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.DateField(_("month"), help_text=_("First day of the month paid for."))
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    voluntary = models.BooleanField(_("voluntary extra payment"), default=False)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    receipt_no = models.CharField(_("receipt number"), max_length=40, blank=True)
    paid_by_name = models.CharField(
        _("paid by"),
        max_length=60,
        blank=True,
        help_text=_("Leave empty when the member paid themself."),
    )
    paid_on = models.DateField(_("paid on"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("dues ledger entry")
        verbose_name_plural = _("dues ledger")
        indexes = [models.Index(fields=["member", "period"], name="dues_payment_member_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(amount__gt=0))
                | (Q(reverses__isnull=False) & Q(amount__lt=0)),
                name="dues_payment_sign",
            ),
        ]

    def __str__(self):
        return f"{self.member_id} {self.period:%Y-%m} ¥{self.amount}"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class HardshipRequest(BaseModel):
    """A request to pay less or nothing for stated months: the branch agrees, then the higher
    committee approves (domain-rules §4)."""

    class Kind(models.TextChoices):
        REDUCE = "reduce", _("Pay less")
        EXEMPT = "exempt", _("Exemption")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested, awaiting the branch")
        AGREED = "agreed", _("Branch agreed, awaiting the committee")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    member = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="dues_hardship_requests",
    )
    branch = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    months_from = models.DateField(_("from month"))
    months_to = models.DateField(_("to month (inclusive)"))
    reduced_amount = models.DecimalField(
        _("monthly amount instead (yuan)"), null=True, blank=True, **MONEY
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.REQUESTED,
        db_index=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agreed by (branch)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("dues hardship request")
        verbose_name_plural = _("dues hardship requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(months_from__lte=models.F("months_to")),
                name="dues_hardship_months_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(kind="reduce") & Q(reduced_amount__gte=0))
                | (Q(kind="exempt") & Q(reduced_amount__isnull=True)),
                name="dues_hardship_amount_by_kind",
            ),
        ]

    def __str__(self):
        return f"{self.member_id} {self.kind} {self.months_from:%Y-%m}–{self.months_to:%Y-%m}"

    def covers(self, month) -> bool:
        return self.months_from <= month <= self.months_to


class HardshipActivity(StatusActivity):
    class Action(models.TextChoices):
        REQUEST = "request", _("Requested")
        AGREE = "agree", _("Branch agreed")
        APPROVE = "approve", _("Committee approved")
        REFUSE = "refuse", _("Refused")
        WITHDRAW = "withdraw", _("Withdrawn")

    request = models.ForeignKey(
        HardshipRequest, on_delete=models.PROTECT, related_name="activities"
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("hardship request activity")
        verbose_name_plural = _("hardship request activities")


class Reminder(BaseModel):
    """The delivery log: one reminder of one kind to one member for one month, at most
    (a unique constraint makes two workers unable to send it twice)."""

    class Kind(models.TextChoices):
        MONTH_END = "month_end", _("Before the month ends, month unpaid")
        ARREARS = "arrears", _("Months in arrears")

    member = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="dues_reminders",
    )
    branch = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    period = models.DateField(_("month"))
    amount = models.DecimalField(_("amount reminded (yuan)"), **MONEY)
    months_in_arrears = models.PositiveSmallIntegerField(_("months in arrears"), default=0)
    notification = models.ForeignKey(
        "core.Notification",
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sms_notification = models.ForeignKey(
        "core.Notification",
        verbose_name=_("SMS notification"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("dues reminder")
        verbose_name_plural = _("dues reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "period"], name="dues_reminder_once_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.member_id} {self.kind} {self.period:%Y-%m}"
