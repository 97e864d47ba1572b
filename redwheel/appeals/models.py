"""Appeal cases (诉求直达): routing levels, deadlines, immutable timeline, mediation."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel


class Category(models.TextChoices):
    INCOME = "income", _("Income and commission")
    DISPATCH = "dispatch", _("Dispatch")
    PENALTY = "penalty", _("Penalty review")
    INSURANCE = "insurance", _("Insurance")
    FACILITIES = "facilities", _("Parking, toilets, charging")
    SAFETY = "safety", _("Safety")
    RULES = "rules", _("Platform rules")
    OTHER = "other", _("Other")


class Level(models.IntegerChoices):
    CONTACT = 1, _("Contact member or branch")
    MOBILE_BRANCH = 2, _("Mobile or platform branch")
    PLATFORM = 3, _("Platform party organisation")
    COMMITTEE = 4, _("Industry party committee")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted, in progress")
    WAITING = "waiting", _("Waiting for the driver")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another case")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Case(BaseModel):
    class Kind(models.TextChoices):
        APPEAL = "appeal", _("Appeal")
        MEDIATION = "mediation", _("Mediation")

    class Channel(models.TextChoices):
        APP = "app", _("Driver, on the phone")
        INTAKE = "intake", _("Staff intake (hotline)")
        API = "api", _("Platform API")

    number = models.CharField(_("case number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.APPEAL)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("what happened"))
    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("driver"),
        on_delete=models.PROTECT,
        related_name="appeal_cases",
    )
    platform = models.ForeignKey(
        "orgs.Platform",
        verbose_name=_("platform"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeal_cases",
    )
    punishment = models.ForeignKey(
        "exchange.Punishment",
        verbose_name=_("contested penalty"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeal_cases",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    external_ref = models.CharField(_("platform reference"), max_length=64, blank=True)
    idempotency_scope = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True)

    status = models.CharField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.SUBMITTED,
        db_index=True,
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        related_name="appeal_cases",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_appeals",
    )
    # Deadlines of the current level, stored when computed; null while the clock is paused.
    level_started_at = models.DateTimeField(_("level started at"))
    response_due_at = models.DateTimeField(_("respond by"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("escalates at"), null=True, blank=True, db_index=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    response_remaining = models.FloatField(null=True, blank=True)
    resolution_remaining = models.FloatField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    version = models.PositiveIntegerField(default=0)

    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    satisfied = models.BooleanField(_("driver satisfied"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("appeal case")
        verbose_name_plural = _("appeal cases")
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appeal_case_idempotency",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["answered", "closed"]) | ~Q(answer=""),
                name="appeal_case_closed_has_answer",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="appeal_case_merged_has_target",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=4), name="appeal_case_level_range"
            ),
        ]
        indexes = [models.Index(fields=["status", "escalate_at"], name="appeal_case_due_idx")]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in (Status.SUBMITTED, Status.ACCEPTED, Status.WAITING)


class Assignment(models.Model):
    """One stint of a case at one unit and level; the accountability figures are computed
    from these rows (received, responded/answered on time, escalated, satisfaction)."""

    class End(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        ESCALATED = "escalated", _("Escalated by staff")
        AUTO_ESCALATED = "auto_escalated", _("Escalated when overdue")
        MERGED = "merged", _("Merged")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="appeal_assignments",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("received at"), db_index=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_on_time = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_on_time = models.BooleanField(null=True, blank=True)
    answer_seconds = models.FloatField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end = models.CharField(max_length=16, choices=End.choices, blank=True)
    satisfied = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["unit", "started_at"], name="appeal_assignment_unit_idx")]

    def __str__(self):
        return f"{self.case_id}@{self.unit_id} L{self.level}"


class Activity(ImmutableModel):
    """One row per step of a case; the timeline the driver sees is exactly these rows."""

    class Action(models.TextChoices):
        FILE = "file", _("Filed")
        ACCEPT = "accept", _("Accepted")
        REQUEST_INFO = "request_info", _("Asked the driver for information")
        PROVIDE_INFO = "provide_info", _("Driver added information")
        ANSWER = "answer", _("Answered")
        ESCALATE = "escalate", _("Escalated")
        AUTO_ESCALATE = "auto_escalate", _("Escalated automatically (overdue)")
        OVERDUE = "overdue", _("Overdue at the top level")
        RATE = "rate", _("Rated by the driver")
        CLOSE = "close", _("Closed")
        REOPEN = "reopen", _("Reopened")
        MERGE = "merge", _("Merged")
        WITHDRAW = "withdraw", _("Withdrawn")
        MEDIATION = "mediation", _("Mediation updated")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="activities")
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=120, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    visible_to_driver = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case activity")
        verbose_name_plural = _("case activities")


class Attachment(BaseModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="appeals/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.original_name


class Mediation(BaseModel):
    """调解: a passenger–driver dispute; 先赔后理 means the platform pays first, then sorts
    out who is at fault."""

    class Outcome(models.TextChoices):
        PENDING = "", _("Pending")
        AGREED = "agreed", _("Settlement agreed")
        PARTIAL = "partial", _("Partly agreed")
        FAILED = "failed", _("No agreement")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="mediation")
    passenger = models.CharField(
        _("passenger"),
        max_length=60,
        help_text=_("How the passenger is referred to, e.g. a surname; no phone numbers."),
    )
    order_ref = models.CharField(_("order number"), max_length=64, blank=True)
    facts = models.TextField(_("facts"))
    proposed_settlement = models.TextField(_("proposed settlement"), blank=True)
    compensate_first = models.BooleanField(_("compensate first, sort out later"), default=False)
    payer = models.ForeignKey(
        "orgs.Platform",
        verbose_name=_("paid first by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, blank=True, default=""
    )
    outcome_note = models.TextField(_("outcome details"), blank=True)

    class Meta:
        verbose_name = _("mediation")
        verbose_name_plural = _("mediations")
        constraints = [
            models.CheckConstraint(
                condition=Q(compensate_first=False) | Q(payer__isnull=False),
                name="mediation_compensate_first_has_payer",
            ),
        ]


class DeadlinePolicy(BaseModel):
    """Overrides the built-in deadlines (see deadlines.py) for one level and category."""

    class Basis(models.TextChoices):
        WORKING = "working", _("Working time")
        CALENDAR = "calendar", _("Calendar time")

    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=Category.choices,
        blank=True,
        help_text=_("Leave empty for every category of this level."),
    )
    basis = models.CharField(_("counted in"), max_length=8, choices=Basis.choices)
    response_minutes = models.PositiveIntegerField(_("respond within (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolve within (minutes)"))

    class Meta:
        ordering = ["level", "category"]
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [
            models.UniqueConstraint(fields=["level", "category"], name="deadline_policy_unique"),
            models.CheckConstraint(
                condition=Q(response_minutes__gt=0, resolution_minutes__gt=0),
                name="deadline_policy_positive",
            ),
        ]

    def __str__(self):
        return f"L{self.level} {self.category or '*'}"
