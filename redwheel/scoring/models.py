"""Points rule book, points ledger, and daily score snapshots (see docs/scoring.md).

- `RuleBook` is one published version of everything a driver's numbers are made from: the
  points rules, the credit deduction table and the composite-score weights. Drafts are edited;
  published books never change (a new version replaces them from its `effective_from`).
- `PointsEntry` is the append-only ledger. A correction is a reversing entry (`reverses`).
- `PointsLock` is one row per (driver, rule code), locked while a grant checks its caps.
- `ScoreSnapshot` stores a driver's score of one day with its full explanation.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel

# The community component may never weigh more than this (out of 100), and never more than
# service or safety: points can reward, they cannot make up for poor service or safety.
COMMUNITY_WEIGHT_MAX = 10
DEDUCTION_STEPS = (1, 3, 5, 10, 20)


class RuleBook(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    version = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=150)
    change_note = models.TextField(_("what changes and why"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    only_adds_points = models.BooleanField(
        _("only adds points"),
        default=False,
        help_text=_("Set at publication: such a version takes effect at once."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Composite-score weights (out of 100).
    weight_service = models.PositiveSmallIntegerField(_("weight: service quality"), default=40)
    weight_safety = models.PositiveSmallIntegerField(_("weight: safety"), default=35)
    weight_credit = models.PositiveSmallIntegerField(_("weight: credit grade"), default=15)
    weight_community = models.PositiveSmallIntegerField(_("weight: community points"), default=10)
    community_points_cap = models.PositiveIntegerField(
        _("community points counted at most"),
        default=100,
        help_text=_("Points over the last 12 months beyond this add nothing to the score."),
    )
    credit_bonus_step = models.PositiveIntegerField(
        _("community points per credit bonus point"), default=10
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("rule book")
        verbose_name_plural = _("rule books")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    weight_service=100
                    - F("weight_safety")
                    - F("weight_credit")
                    - F("weight_community")
                ),
                name="rulebook_weights_sum_100",
            ),
            models.CheckConstraint(
                condition=Q(weight_community__lte=COMMUNITY_WEIGHT_MAX)
                & Q(weight_community__lte=F("weight_service"))
                & Q(weight_community__lte=F("weight_safety")),
                name="rulebook_community_weight_capped",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(published_at__isnull=False) & Q(effective_from__isnull=False)),
                name="rulebook_published_has_dates",
            ),
            models.CheckConstraint(
                condition=Q(community_points_cap__gt=0) & Q(credit_bonus_step__gt=0),
                name="rulebook_positive_parameters",
            ),
        ]

    def __str__(self):
        return f"v{self.version} · {self.title}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Category(models.TextChoices):
    LEARNING = "learning", _("Learning")
    VOLUNTEER = "volunteer", _("Volunteer service")
    EMERGENCY = "emergency", _("Emergency service")
    GOOD_DEED = "good_deed", _("Good deeds")
    REPORT = "report", _("Accepted grassroots reports")
    TRAINING = "training", _("Training")


class Rule(models.Model):
    """One way to earn points, as published in one rule book version."""

    book = models.ForeignKey(RuleBook, on_delete=models.CASCADE, related_name="rules")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    points = models.PositiveSmallIntegerField(_("points"))
    evidence = models.CharField(_("evidence that earns them"), max_length=300)
    daily_cap = models.PositiveIntegerField(_("at most per day"), null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(_("at most per month"), null=True, blank=True)

    class Meta:
        ordering = ["book", "category", "code"]
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        constraints = [
            models.UniqueConstraint(fields=["book", "code"], name="rule_unique_code"),
            models.CheckConstraint(condition=Q(points__gt=0), name="rule_points_positive"),
        ]

    def __str__(self):
        return f"{self.code} ({self.points})"


class Deduction(models.Model):
    """A row of the published credit deduction table: which punishments or complaint outcomes
    cost how many credit points. Rows are tried in `position` order; the first match counts.
    An empty keyword matches everything of its source (the fallback row)."""

    class Source(models.TextChoices):
        PUNISHMENT = "punishment", _("Platform punishment")
        COMPLAINT = "complaint", _("Passenger complaint outcome")

    book = models.ForeignKey(RuleBook, on_delete=models.CASCADE, related_name="deductions")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    keyword = models.CharField(_("keyword in reason or outcome"), max_length=60, blank=True)
    points = models.PositiveSmallIntegerField(
        _("deduction"), choices=[(n, str(n)) for n in DEDUCTION_STEPS]
    )
    label = models.CharField(_("label"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["book", "source", "position", "id"]
        verbose_name = _("credit deduction")
        verbose_name_plural = _("credit deductions")
        constraints = [
            models.CheckConstraint(
                condition=Q(points__in=DEDUCTION_STEPS), name="deduction_published_steps"
            ),
        ]

    def __str__(self):
        return f"{self.source}:{self.keyword or '*'} −{self.points}"


class PointsEntry(ImmutableModel):
    """One line of a driver's points ledger. Never edited: corrections reverse."""

    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("driver"),
        on_delete=models.PROTECT,
        related_name="points_entries",
    )
    rule = models.ForeignKey(
        Rule,
        verbose_name=_("rule (and its version)"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    rule_code = models.SlugField(_("rule code"), max_length=40)
    amount = models.IntegerField(_("points"))
    occurred_at = models.DateTimeField(_("occurred at"))
    day = models.DateField(_("day (Asia/Shanghai)"))
    month = models.DateField(_("month"))
    source_type = models.CharField(_("source type"), max_length=80, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("granted by"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        constraints = [
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(amount__gt=0))
                | (Q(reverses__isnull=False) & Q(amount__lt=0)),
                name="points_entry_sign",
            ),
            models.UniqueConstraint(
                fields=["driver", "rule_code", "source_type", "source_id"],
                condition=Q(reverses__isnull=True) & ~Q(source_id=""),
                name="points_entry_once_per_source",
            ),
        ]
        indexes = [
            models.Index(fields=["driver", "rule_code", "day"], name="points_driver_rule_day"),
            models.Index(fields=["driver", "occurred_at"], name="points_driver_time"),
        ]

    def __str__(self):
        return f"{self.rule_code} {self.amount:+d}"


class PointsLock(models.Model):
    """Locked (SELECT … FOR UPDATE) while a grant or reversal for this driver and rule checks
    its caps, so two concurrent grants are serialised and cannot exceed a cap together."""

    driver = models.ForeignKey("drivers.Driver", on_delete=models.CASCADE, related_name="+")
    rule_code = models.SlugField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["driver", "rule_code"], name="points_lock_unique")
        ]

    def __str__(self):
        return f"{self.driver_id}:{self.rule_code}"


class ScoreSnapshot(models.Model):
    """A driver's composite score and credit on one day, with the explanation shown to them."""

    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="score_snapshots"
    )
    day = models.DateField(_("day"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    credit_points = models.SmallIntegerField(_("credit points"))
    credit_grade = models.CharField(_("credit grade"), max_length=3)
    book = models.ForeignKey(RuleBook, on_delete=models.PROTECT, related_name="+")
    explanation = models.JSONField(_("explanation"), default=dict)
    # The snapshot as the platform score look-up answers it, a JSON object text written with
    # the snapshot (`lookup.snapshot_json`): the look-up copies it into its body undecoded.
    lookup_json = models.TextField(_("look-up answer"))
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "driver"]
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")
        constraints = [
            models.UniqueConstraint(fields=["driver", "day"], name="score_snapshot_unique"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="score_in_range"
            ),
            models.CheckConstraint(
                condition=Q(lookup_json__startswith='{"score":'), name="score_lookup_json_object"
            ),
        ]
        indexes = [models.Index(fields=["day", "score"], name="score_day_idx")]

    def __str__(self):
        return f"{self.driver_id} {self.day} {self.score}"
