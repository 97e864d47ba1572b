"""Recruitment of new members (发展党员): the pipeline as versioned data, and one case per person.

A city's committee keeps a `PipelineVersion` of the 25 steps in 5 stages (2014 细则); each
`PipelineStep` carries its responsible role, required materials, typed fields and interval
rules as JSON data (see `rules.py` for the rule kinds). Editing means drafting a new version
and publishing it; a `Case` keeps the version it started with.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel, StatusActivity


class PipelineVersion(BaseModel):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("In force")
        RETIRED = "retired", _("Replaced")

    city = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("city"),
        on_delete=models.PROTECT,
        related_name="recruitment_pipelines",
        limit_choices_to={"parent__isnull": True},
    )
    number = models.PositiveIntegerField(_("version"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["city", "-number"]
        verbose_name = _("recruitment pipeline version")
        verbose_name_plural = _("recruitment pipeline versions")
        constraints = [
            models.UniqueConstraint(fields=["city", "number"], name="recruitment_version_number"),
            models.UniqueConstraint(
                fields=["city"],
                condition=Q(state="published"),
                name="recruitment_one_version_in_force",
            ),
        ]

    def __str__(self):
        return f"{self.city} v{self.number}"


class PipelineVersionActivity(StatusActivity):
    class Action(models.TextChoices):
        DRAFT = "draft", _("Drafted")
        EDIT = "edit", _("Step edited")
        PUBLISH = "publish", _("Published")
        RETIRE = "retire", _("Replaced by a newer version")

    version = models.ForeignKey(
        PipelineVersion, on_delete=models.PROTECT, related_name="activities"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("pipeline version activity")
        verbose_name_plural = _("pipeline version activities")


class Responsible(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    BRANCH_COMMITTEE = "branch_committee", _("Branch committee (支部委员会)")
    BRANCH_MEETING = "branch_meeting", _("Branch general meeting (支部党员大会)")
    HIGHER_COMMITTEE = "higher_committee", _("Higher party committee (上级党委)")
    MENTOR = "mentor", _("Mentor (培养联系人)")
    SPONSOR = "sponsor", _("Sponsors (入党介绍人)")


class PipelineStep(BaseModel):
    """One of the 25 steps of a version. `materials`: [{code, label, types, required}];
    `fields`: [{code, label, type, required}] with type date|text|number|bool|hours;
    `rules`: [{kind, ...}] (rules.py). `verify`: the numbers are editable defaults that the
    committee should check against its own rules (domain-rules, "verify")."""

    version = models.ForeignKey(PipelineVersion, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField(_("step"))
    stage = models.PositiveSmallIntegerField(_("stage"))
    name = models.CharField(_("name"), max_length=120)
    responsible = models.CharField(_("responsible"), max_length=20, choices=Responsible.choices)
    materials = models.JSONField(_("materials"), default=list, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    rules = models.JSONField(_("interval rules"), default=list, blank=True)
    guidance = models.CharField(_("guidance"), max_length=300, blank=True)
    verify = models.BooleanField(_("default to verify"), default=False)

    class Meta:
        ordering = ["version", "number"]
        verbose_name = _("pipeline step")
        verbose_name_plural = _("pipeline steps")
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="recruitment_step_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=25, stage__gte=1, stage__lte=5),
                name="recruitment_step_range",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"


class State(models.TextChoices):
    ACTIVE = "active", _("In progress")
    PROBATION = "probation", _("Probation (预备期)")
    EXTENDED = "extended", _("Probation extended (延长预备期)")
    COMPLETED = "completed", _("Full member (转正)")
    CANCELLED = "cancelled", _("Cancelled (取消资格)")


OPEN_STATES = (State.ACTIVE, State.PROBATION, State.EXTENDED)


class Case(BaseModel):
    """One person's way through the pipeline, at one branch, under one pipeline version."""

    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="recruitment_cases",
    )
    branch = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="recruitment_cases",
    )
    version = models.ForeignKey(
        PipelineVersion,
        verbose_name=_("pipeline version"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    current_step = models.PositiveSmallIntegerField(_("current step"), default=1)
    applied_on = models.DateField(_("application received on"))
    due_on = models.DateField(_("current step due on"), null=True, blank=True, db_index=True)
    limit_on = models.DateField(_("at the latest on"), null=True, blank=True)
    not_before = models.DateField(_("not before"), null=True, blank=True)
    joined_party_on = models.DateField(_("joined the party on (入党时间)"), null=True, blank=True)
    probation_ends_on = models.DateField(_("probation ends on"), null=True, blank=True)
    extended_months = models.PositiveSmallIntegerField(
        _("probation extended by (months)"), default=0
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("recruitment case")
        verbose_name_plural = _("recruitment cases")
        constraints = [
            models.UniqueConstraint(
                fields=["driver"],
                condition=Q(state__in=["active", "probation", "extended"]),
                name="recruitment_one_open_case_per_person",
            ),
            models.CheckConstraint(
                condition=Q(current_step__gte=1, current_step__lte=26),
                name="recruitment_case_step_range",
            ),
        ]

    def __str__(self):
        return f"{self.driver.name} · {self.current_step}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CaseActivity(StatusActivity):
    """The case's timeline: every step, assignment and outcome, never edited."""

    class Action(models.TextChoices):
        APPLY = "apply", _("Applied")
        COMPLETE = "complete", _("Step completed")
        MENTORS = "mentors", _("Mentors assigned")
        SPONSORS = "sponsors", _("Sponsors assigned")
        MATERIAL = "material", _("Material added")
        PROBATION = "probation", _("Admitted as probationary member")
        CONFIRM = "confirm", _("Confirmed as full member (按期转正)")
        EXTEND = "extend", _("Probation extended")
        CANCEL = "cancel", _("Cancelled")
        RESTART = "restart", _("Procedure restarted")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    step = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    on = models.DateField(_("date"), null=True, blank=True)

    class Meta(StatusActivity.Meta):
        verbose_name = _("recruitment case activity")
        verbose_name_plural = _("recruitment case activities")


class StepCompletion(ImmutableModel):
    """A step done: its date and the values of its typed fields. A restart or an extension adds
    new rows for steps done again; the latest row of a step counts."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="completions")
    step = models.PositiveSmallIntegerField(_("step"))
    done_on = models.DateField(_("date"))
    values = models.JSONField(_("values"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["case", "step", "id"]
        verbose_name = _("step completion")
        verbose_name_plural = _("step completions")


class Material(BaseModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    step = models.PositiveSmallIntegerField(_("step"))
    code = models.CharField(_("material"), max_length=40)
    label = models.CharField(_("label"), max_length=120)
    file = models.FileField(_("file"), upload_to="recruitment/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["step", "id"]
        verbose_name = _("recruitment material")
        verbose_name_plural = _("recruitment materials")

    def __str__(self):
        return self.original_name


class CasePerson(BaseModel):
    """培养联系人 (mentor, 1–2) and 入党介绍人 (sponsor, exactly 2): full members of the branch."""

    class Role(models.TextChoices):
        MENTOR = "mentor", _("Mentor (培养联系人)")
        SPONSOR = "sponsor", _("Sponsor (入党介绍人)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    member = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="recruitment_roles",
    )
    assigned_on = models.DateField(_("assigned on"))

    class Meta:
        ordering = ["case", "role", "id"]
        verbose_name = _("mentor or sponsor")
        verbose_name_plural = _("mentors and sponsors")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "role", "member"], name="recruitment_person_once"
            ),
        ]


class DigestSent(models.Model):
    """One weekly digest per secretary and ISO week: the unique row, inserted in the same
    transaction as the notification, makes a second worker's run a no-op."""

    secretary = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    week = models.CharField(_("ISO week"), max_length=8)  # e.g. "2026-W05"
    notification_id = models.PositiveBigIntegerField(null=True, blank=True)
    cases = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("recruitment digest sent")
        verbose_name_plural = _("recruitment digests sent")
        constraints = [
            models.UniqueConstraint(fields=["secretary", "week"], name="recruitment_digest_once"),
        ]

    def __str__(self):
        return f"{self.secretary_id} {self.week}"
