"""Organisation life (三会一课, 主题党日): meeting types with their frequencies as data, per city;
meetings of a branch with sessions, one attendance record per member, leave requests, minutes
and attachments; the committee's monthly themed party day and its adoption by branches.

Self sign-in (the rotating QR code) is a record of presence only; attendance counts for
anything (community points) only once an officer confirms the list (`Attendance.confirmed_at`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, StatusActivity


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every quarter")
    HALF_YEARLY = "half_yearly", _("Every half year")
    YEARLY = "yearly", _("Every year")


class Quorum(models.TextChoices):
    NONE = "none", _("No quorum")
    MAJORITY = "majority", _("More than half of the members present")


class MeetingType(BaseModel):
    """One obligation of organisation life in one city (domain-rules §3), editable by the
    city committee. `code` is stable (the seeded defaults, compliance, the API)."""

    city = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("city"),
        on_delete=models.PROTECT,
        related_name="meeting_types",
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=60)
    frequency = models.CharField(_("frequency"), max_length=12, choices=Frequency.choices)
    quorum = models.CharField(
        _("quorum"), max_length=10, choices=Quorum.choices, default=Quorum.NONE
    )
    is_active = models.BooleanField(
        _("an obligation"),
        default=True,
        help_text=_("Inactive types can still be held but are not checked for compliance."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["city", "position", "code"]
        verbose_name = _("meeting type")
        verbose_name_plural = _("meeting types")
        constraints = [
            models.UniqueConstraint(fields=["city", "code"], name="meeting_type_unique_code"),
        ]

    def __str__(self):
        return self.name


class ThemedDay(BaseModel):
    """主题党日: the committee's topic for one month, with materials, for branches to adopt."""

    city = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("city"), on_delete=models.PROTECT, related_name="themed_days"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    title = models.CharField(_("topic"), max_length=120)
    materials = models.TextField(_("materials"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        ordering = ["-month", "-id"]
        verbose_name = _("themed party day")
        verbose_name_plural = _("themed party days")
        constraints = [
            models.UniqueConstraint(fields=["city", "month"], name="themed_day_one_per_month"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.title}"


class Status(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    RECORDED = "recorded", _("Minutes recorded")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(BaseModel):
    """One meeting of a branch. It may run as several sessions (e.g. noon and evening, for
    drivers' shifts) that share one attendance record per member."""

    branch = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="meetings"
    )
    type = models.ForeignKey(
        MeetingType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="meetings"
    )
    theme = models.ForeignKey(
        ThemedDay,
        verbose_name=_("themed party day"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings",
    )
    title = models.CharField(_("title"), max_length=120)
    agenda = models.TextField(_("agenda"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online link"), blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)  # the first session's start
    ends_at = models.DateTimeField(_("ends at"))  # the last session's end
    minutes = models.TextField(_("minutes"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    expected_count = models.PositiveIntegerField(_("members"), null=True, blank=True)
    present_count = models.PositiveIntegerField(_("present"), null=True, blank=True)
    quorate = models.BooleanField(_("quorate"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status="recorded") | Q(recorded_at__isnull=False),
                name="meeting_recorded_has_time",
            ),
            models.UniqueConstraint(
                fields=["branch", "theme"],
                condition=Q(theme__isnull=False),
                name="meeting_theme_adopted_once",
            ),
        ]
        indexes = [models.Index(fields=["branch", "starts_at"], name="meeting_branch_start_idx")]

    def __str__(self):
        return self.title

    @property
    def counts_for_compliance(self) -> bool:
        """Recorded, and quorate where the type needs a quorum."""
        if self.status != Status.RECORDED:
            return False
        return self.type.quorum != Quorum.MAJORITY or bool(self.quorate)


class MeetingActivity(StatusActivity):
    """The meeting's timeline: planned, edited, held, recorded, cancelled."""

    class Action(models.TextChoices):
        PLAN = "plan", _("Planned")
        EDIT = "edit", _("Edited")
        HOLD = "hold", _("Marked as held")
        RECORD = "record", _("Minutes recorded")
        CANCEL = "cancel", _("Cancelled")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("meeting activity")
        verbose_name_plural = _("meeting activities")


class Session(BaseModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="sessions")
    label = models.CharField(_("label"), max_length=40, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.label or f"{self.starts_at:%Y-%m-%d %H:%M}"


class Attendance(BaseModel):
    """ONE row per member and meeting, whichever session they came to."""

    class State(models.TextChoices):
        PRESENT = "present", _("Present")
        LEAVE = "leave", _("On leave")
        ABSENT = "absent", _("Absent")

    class Method(models.TextChoices):
        QR = "qr", _("Signed in with the QR code")
        OFFICER = "officer", _("Marked by the organiser")
        LEAVE = "leave", _("Leave approved")
        RECORD = "record", _("Not marked when the minutes were recorded")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="meeting_attendances",
    )
    state = models.CharField(_("attendance"), max_length=8, choices=State.choices)
    method = models.CharField(_("recorded by"), max_length=8, choices=Method.choices)
    session = models.ForeignKey(
        Session,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attendances",
    )
    signed_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when an officer confirms the list by recording the meeting: only this counts.
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["meeting", "driver__name", "id"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "driver"], name="attendance_one_per_member"),
        ]

    def __str__(self):
        return f"{self.meeting_id}:{self.driver_id} {self.state}"


class LeaveRequest(BaseModel):
    class State(models.TextChoices):
        REQUESTED = "requested", _("Awaiting the organiser")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="leave_requests")
    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="meeting_leave_requests",
    )
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("organiser's note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "driver"], name="leave_one_per_member"),
        ]

    def __str__(self):
        return f"{self.meeting_id}:{self.driver_id} {self.state}"


class LeaveActivity(StatusActivity):
    class Action(models.TextChoices):
        REQUEST = "request", _("Requested")
        APPROVE = "approve", _("Approved")
        DECLINE = "decline", _("Declined")
        WITHDRAW = "withdraw", _("Withdrawn")

    leave = models.ForeignKey(LeaveRequest, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("leave request activity")
        verbose_name_plural = _("leave request activities")


class MeetingFile(BaseModel):
    """An attachment of a meeting's minutes (photos, scans, documents)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to="meetings/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("meeting attachment")
        verbose_name_plural = _("meeting attachments")

    def __str__(self):
        return self.original_name


class ThemeFile(BaseModel):
    """Material of a themed party day (slides, readings), published with it."""

    theme = models.ForeignKey(ThemedDay, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to="meetings/themes/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("themed day material")
        verbose_name_plural = _("themed day materials")

    def __str__(self):
        return self.original_name
