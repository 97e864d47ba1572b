"""Mobile members (流动党员, domain-rules §5): the local 报到 ledger.

The check-in itself is the drivers app's (`Membership.mobile_branch`, `checked_in_at`,
`home_organisation`, services `membership_check_in` / `membership_check_out`). This app keeps,
per check-in, one ledger entry with the numbers of the national 全国党员管理信息系统 and of the
流动党员活动证, since when the member is away and when they expect to return; the transfers of
the party relationship (组织关系转接) recorded against it — recorded, never executed: the
national system is the system of record —; and the one reminder sent when the member has been
away six months.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel


class LedgerEntry(BaseModel):
    membership = models.ForeignKey(
        "drivers.Membership",
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        related_name="mobile_ledger_entries",
    )
    # The check-in this entry is about: the mobile branch and moment of Membership's check-in.
    mobile_branch = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("mobile branch"),
        on_delete=models.PROTECT,
        related_name="mobile_ledger_entries",
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    national_ref = models.CharField(
        _("national system reference (全国党员管理信息系统)"), max_length=32, blank=True
    )
    activity_card_no = models.CharField(
        _("mobile member activity card no. (流动党员活动证)"), max_length=20, blank=True
    )
    away_since = models.DateField(_("away since"))
    expected_return = models.DateField(_("expected return"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        verbose_name = _("报到 ledger entry")
        verbose_name_plural = _("报到 ledger")
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "checked_in_at"], name="mobile_ledger_one_per_check_in"
            ),
            models.CheckConstraint(
                condition=Q(expected_return__isnull=True) | Q(expected_return__gte=F("away_since")),
                name="mobile_ledger_return_after_leaving",
            ),
        ]

    def __str__(self):
        return f"{self.membership.driver.name} · {self.mobile_branch}"


class Transfer(ImmutableModel):
    """A transfer of the member's party relationship (组织关系转接), as recorded by the
    mobile branch: where to, when, the reference of the national system. Not executed here."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="transfers")
    to_organisation = models.CharField(_("transferred to"), max_length=150)
    transferred_on = models.DateField(_("transferred on"))
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-transferred_on", "-id"]
        verbose_name = _("relationship transfer")
        verbose_name_plural = _("relationship transfers")

    def __str__(self):
        return f"{self.to_organisation} · {self.transferred_on}"


class Reminder(ImmutableModel):
    """The six-month reminder of one ledger entry; the unique entry makes it once only, even
    with several workers."""

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="reminder")
    due_on = models.DateField(_("six months away on"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    recipients = models.PositiveSmallIntegerField(_("people notified"), default=0)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("six-month reminder")
        verbose_name_plural = _("six-month reminders")

    def __str__(self):
        return f"{self.entry} · {self.due_on}"
