from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core import crypto
from redwheel.core.models import BaseModel, ImmutableModel, StatusActivity


class Driver(BaseModel):
    """A ride-hailing driver. Licence (ID) number and phone are encrypted; lookups use indexes."""

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    name = models.CharField(_("name"), max_length=60, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    license_no = crypto.EncryptedTextField(_("licence / ID number"))
    license_index = crypto.BlindIndexField(_("licence index"), source="license_no", unique=True)
    license_masked = models.CharField(_("licence (masked)"), max_length=24)
    phone = crypto.EncryptedTextField(_("mobile number"))
    phone_index = crypto.BlindIndexField(_("mobile number index"), source="phone", db_index=True)
    phone_masked = models.CharField(_("mobile number (masked)"), max_length=20, db_index=True)
    region_code = models.CharField(_("region code"), max_length=6, blank=True)
    branch = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("party unit in charge"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drivers",
        help_text=_("The branch that looks after this driver (for members: their branch)."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="driver",
    )
    badge_consent = models.BooleanField(_("shows the party-member badge"), default=False)
    badge_consent_changed_at = models.DateTimeField(
        _("badge consent changed at"), null=True, blank=True
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("driver")
        verbose_name_plural = _("drivers")

    def __str__(self):
        return f"{self.name} ({self.license_masked})"

    def set_license(self, number: str) -> None:
        self.license_no = number
        self.license_index = crypto.blind_index(number)
        self.license_masked = crypto.mask_identity(number)

    def set_phone(self, phone: str) -> None:
        self.phone = phone
        self.phone_index = crypto.blind_index(phone)
        self.phone_masked = crypto.mask_phone(phone)


class Affiliation(BaseModel):
    """A driver works for a platform; a driver may be on several."""

    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="affiliations")
    platform = models.ForeignKey(
        "orgs.Platform",
        verbose_name=_("platform"),
        on_delete=models.PROTECT,
        related_name="affiliations",
    )
    certificate_no = models.CharField(_("driver certificate no."), max_length=32, blank=True)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("platform affiliation")
        verbose_name_plural = _("platform affiliations")
        constraints = [
            models.UniqueConstraint(fields=["driver", "platform"], name="affiliation_unique"),
        ]

    def __str__(self):
        return f"{self.driver.name} @ {self.platform}"


class Vehicle(BaseModel):
    class Energy(models.TextChoices):
        FUEL = "fuel", _("Fuel")
        NEW_ENERGY = "new_energy", _("New energy")

    driver = models.ForeignKey(
        Driver, verbose_name=_("driver"), on_delete=models.CASCADE, related_name="vehicles"
    )
    plate = models.CharField(_("plate"), max_length=8, unique=True)
    energy = models.CharField(_("energy"), max_length=16, choices=Energy.choices)
    brand = models.CharField(_("brand"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=40, blank=True)
    seats = models.PositiveSmallIntegerField(_("seats"), default=5)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")

    def __str__(self):
        return self.plate


class Category(models.TextChoices):
    FULL = "full", _("Full member (正式党员)")
    PROBATIONARY = "probationary", _("Probationary member (预备党员)")
    ACTIVIST = "activist", _("Activist (入党积极分子)")
    CANDIDATE = "candidate", _("Development candidate (发展对象)")
    APPLICANT = "applicant", _("Applicant (入党申请人)")


PARTY_MEMBER_CATEGORIES = (Category.FULL, Category.PROBATIONARY)


class Membership(BaseModel):
    """A driver's declared party status; its state changes only through the services."""

    class State(models.TextChoices):
        DECLARED = "declared", _("Declared, awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        LAPSED = "lapsed", _("Lapsed")

    driver = models.OneToOneField(
        Driver, verbose_name=_("driver"), on_delete=models.CASCADE, related_name="membership"
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, db_index=True)
    branch = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="memberships",
        help_text=_("The branch responsible for verifying and organising this member."),
    )
    mobile_branch = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("mobile branch checked in to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mobile_memberships",
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    home_organisation = models.CharField(
        _("home party organisation"),
        max_length=150,
        blank=True,
        help_text=_("Where a mobile member's party relationship is kept."),
    )
    joined_party_on = models.DateField(_("joined the party on"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("state changed at"))
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("party membership")
        verbose_name_plural = _("party memberships")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="rejected") | ~models.Q(rejection_reason=""),
                name="membership_rejection_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.driver.name} · {self.get_category_display()} · {self.get_state_display()}"

    @property
    def is_party_member(self) -> bool:
        return self.category in PARTY_MEMBER_CATEGORIES


class MembershipActivity(ImmutableModel):
    """One row per transition; the membership timeline is exactly these rows."""

    class Action(models.TextChoices):
        DECLARE = "declare", _("Declared")
        VERIFY = "verify", _("Verified")
        REJECT = "reject", _("Rejected")
        LAPSE = "lapse", _("Lapsed")
        TRANSFER = "transfer", _("Transferred")
        CHECK_IN = "check_in", _("Checked in to a mobile branch")
        CHECK_OUT = "check_out", _("Left the mobile branch")
        PIPELINE = "pipeline", _("Recruitment step")

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="activities")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    branch = models.ForeignKey(
        "orgs.OrgUnit", null=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("membership activity")
        verbose_name_plural = _("membership activities")


class BadgeConsentEvent(ImmutableModel):
    """Every switch of the badge, timestamped; the driver's current flag mirrors the latest."""

    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="consent_events")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    consented = models.BooleanField(_("consented"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("badge consent event")
        verbose_name_plural = _("badge consent events")


class ContactPair(BaseModel):
    """党员联系司机: a verified member looks after an ordinary driver."""

    member = models.ForeignKey(
        Driver,
        verbose_name=_("party member"),
        on_delete=models.CASCADE,
        related_name="contacts_looked_after",
    )
    driver = models.ForeignKey(
        Driver,
        verbose_name=_("driver"),
        on_delete=models.CASCADE,
        related_name="contact_members",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("contact pair")
        verbose_name_plural = _("contact pairs")
        constraints = [
            models.UniqueConstraint(fields=["member", "driver"], name="contact_pair_unique"),
            models.CheckConstraint(
                condition=~models.Q(member=models.F("driver")), name="contact_pair_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.member.name} → {self.driver.name}"


# Roster import -------------------------------------------------------------------------------
# An uploaded drivers or party-members roster, validated into a preview, then committed in one
# transaction. The code lives in `redwheel.drivers.imports`.


class ImportJob(BaseModel):
    class Kind(models.TextChoices):
        DRIVERS = "drivers", _("Drivers roster")
        MEMBERS = "members", _("Party members roster")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATING = "validating", _("Checking")
        PREVIEWED = "previewed", _("Checked, ready to review")
        COMMITTING = "committing", _("Importing")
        COMMITTED = "committed", _("Imported")
        FAILED = "failed", _("Failed")

    RUNNING = (Status.UPLOADED, Status.VALIDATING, Status.COMMITTING)

    kind = models.CharField(_("roster kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("importing for"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
        help_text=_("Unit names and platforms in the file are looked up within this unit."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.UPLOADED,
        db_index=True,
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    error_count = models.PositiveIntegerField(_("problems"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    validated_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def can_commit(self) -> bool:
        return (
            self.status == self.Status.PREVIEWED and self.error_count == 0 and self.valid_rows > 0
        )


class ImportJobActivity(StatusActivity):
    """One row per status change of a roster import: who uploaded, checked and imported it."""

    class Action(models.TextChoices):
        UPLOAD = "upload", _("Uploaded")
        VALIDATE = "validate", _("Checking started")
        PREVIEW = "preview", _("Checked")
        REQUEST_COMMIT = "request_commit", _("Import requested")
        COMMIT = "commit", _("Imported")
        FAIL = "fail", _("Failed")

    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta(StatusActivity.Meta):
        verbose_name = _("roster import activity")
        verbose_name_plural = _("roster import activities")

    def __str__(self):
        return f"{self.job_id}:{self.action}"


class ImportRowError(models.Model):
    """One problem found in one cell (or row) of an uploaded roster."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=40, blank=True)
    message = models.CharField(_("problem"), max_length=300)

    class Meta:
        ordering = ["row", "id"]
        verbose_name = _("import problem")
        verbose_name_plural = _("import problems")
        indexes = [models.Index(fields=["job", "row"], name="import_error_job_row")]

    def __str__(self):
        return f"{self.row} {self.column}: {self.message}"
