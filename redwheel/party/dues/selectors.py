"""Reads for party dues. Every function takes the viewer and goes through `permissions.scope`;
the balances are computed from the rows (`balances.compute`), a page at a time."""

from collections import defaultdict
from datetime import date

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from redwheel.core.attention import SOON, TODAY, Card
from redwheel.core.dates import local_date, month_start
from redwheel.core.errors import NotFound
from redwheel.core.permissions import get_or_404, granted_paths, is_unscoped, scope
from redwheel.drivers.models import Driver
from redwheel.orgs.models import OrgUnit
from redwheel.party.dues import balances, suggestions
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import (
    Assessment,
    Basis,
    HardshipRequest,
    Payment,
    Reminder,
    RuleSet,
)
from redwheel.party.dues.services.common import in_party_scope, rules_for, this_month
from redwheel.party.dues.services.common import members as member_drivers


def current_month() -> date:
    return this_month()


# Members and their balances --------------------------------------------------------------------


def members(viewer, *, branch: OrgUnit | None = None, search: str = "") -> QuerySet:
    """Verified party members the viewer may see, by branch then name."""
    qs = in_party_scope(viewer, "view", member_drivers())
    if branch is not None:
        qs = qs.filter(membership__branch__path__startswith=branch.path)
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    return qs.order_by("membership__branch__path", "name", "id")


def branch_choices(viewer) -> QuerySet:
    """Units in the viewer's scope that have verified party members, to filter the list."""
    units = member_drivers().values("membership__branch_id")
    return scope(viewer, "view", OrgUnit.objects.filter(pk__in=units)).order_by("path")


def dues_for(drivers, month: date | None = None) -> dict[int, balances.MemberDues]:
    """Each member's dues up to `month` (default this month), in four queries for the lot."""
    drivers = list(drivers)
    month = month or current_month()
    ids = [d.pk for d in drivers]
    assessments, payments, reliefs = defaultdict(list), defaultdict(list), defaultdict(list)
    for a in Assessment.objects.filter(member_id__in=ids).select_related("rule_set"):
        assessments[a.member_id].append(a)
    for p in Payment.objects.filter(member_id__in=ids).only(
        "member_id", "period", "amount", "voluntary"
    ):
        payments[p.member_id].append(p)
    for r in HardshipRequest.objects.filter(
        member_id__in=ids, status=HardshipRequest.Status.APPROVED
    ):
        reliefs[r.member_id].append(r)
    result = {}
    for d in drivers:
        membership = getattr(d, "membership", None)
        result[d.pk] = balances.compute(
            d,
            month=month,
            assessments=assessments[d.pk],
            payments=payments[d.pk],
            reliefs=reliefs[d.pk],
            joined_on=membership.joined_party_on if membership else None,
        )
    return result


def member_get(viewer, pk: int, action: str = "view") -> Driver:
    """A verified member in the viewer's party scope (`in_party_scope`), or NotFound."""
    found = in_party_scope(viewer, action, member_drivers()).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def may_change_member(viewer, member: Driver) -> bool:
    """Staff who may record for the member: `change` on them, and not the member themself
    (a member confirms their own income but never records their own payments)."""
    if is_unscoped(viewer):
        return True
    if getattr(viewer, "pk", None) is None or member.user_id == viewer.pk:
        return False
    return in_party_scope(viewer, "change", member_drivers()).filter(pk=member.pk).exists()


def member_dues(member: Driver, month: date | None = None) -> balances.MemberDues:
    return dues_for([member], month)[member.pk]


def assessments_of(member: Driver) -> QuerySet:
    return Assessment.objects.filter(member=member).select_related("rule_set", "confirmed_by")


def payments_of(member: Driver) -> QuerySet:
    return (
        Payment.objects.filter(member=member)
        .select_related("recorded_by", "reverses")
        .prefetch_related(Prefetch("reversed_by"))
        .order_by("-period", "-recorded_at", "-id")
    )


def hardship_of(member: Driver) -> QuerySet:
    return HardshipRequest.objects.filter(member=member).prefetch_related("activities")


# Lists -----------------------------------------------------------------------------------------


def ledger(viewer, *, branch: OrgUnit | None = None, month: date | None = None) -> QuerySet:
    qs = scope(viewer, "view", Payment.objects.all()).select_related(
        "member", "branch", "recorded_by"
    )
    if branch is not None:
        qs = qs.filter(branch__path__startswith=branch.path)
    if month is not None:
        qs = qs.filter(period=month_start(month))
    return qs.order_by("-recorded_at", "-id")


def assessments(viewer, *, quarter: date | None = None, branch=None) -> QuerySet:
    qs = scope(viewer, "view", Assessment.objects.all()).select_related(
        "member", "branch", "confirmed_by", "rule_set"
    )
    if quarter is not None:
        qs = qs.filter(quarter=dues_rules.quarter_start(quarter))
    if branch is not None:
        qs = qs.filter(branch__path__startswith=branch.path)
    return qs.order_by("-quarter", "branch__path", "member__name", "id")


def hardship_queue(viewer, *, status: str = "open") -> QuerySet:
    qs = scope(viewer, "view", HardshipRequest.objects.all()).select_related(
        "member", "branch", "requested_by"
    )
    if status == "open":
        qs = qs.filter(status__in=(HardshipRequest.Status.REQUESTED, HardshipRequest.Status.AGREED))
    elif status in HardshipRequest.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def hardship_get(viewer, pk: int) -> HardshipRequest:
    return get_or_404(
        viewer,
        "view",
        HardshipRequest.objects.select_related(
            "member", "branch", "requested_by", "agreed_by", "decided_by"
        ),
        pk=pk,
    )


def reminder_log(viewer) -> QuerySet:
    return (
        scope(viewer, "view", Reminder.objects.all())
        .select_related("member", "branch", "notification", "sms_notification")
        .order_by("-sent_at", "-id")
    )


# Rules -----------------------------------------------------------------------------------------


def viewer_cities(viewer) -> QuerySet:
    """The cities whose rules the viewer reads: those their grants (or driver record) lie in."""
    roots = OrgUnit.objects.filter(parent__isnull=True)
    if is_unscoped(viewer):
        return roots.order_by("path")
    paths = {p.split(".", 1)[0] + "." for p in granted_paths(viewer, "view")}
    return roots.filter(path__in=paths).order_by("path")


def rule_versions(city: OrgUnit) -> QuerySet:
    return RuleSet.objects.filter(city=city).select_related("created_by").order_by("-version")


def rules_in_force(unit: OrgUnit, day: date | None = None) -> dues_rules.Rules:
    return rules_for(unit, day or local_date())


# The member's own ------------------------------------------------------------------------------


def own_member(user) -> Driver | None:
    """The signed-in user's driver record if they are a verified party member."""
    if not getattr(user, "is_authenticated", False):
        return None
    return member_drivers().filter(user=user).first()


def own_member_or_404(user) -> Driver:
    member = own_member(user)
    if member is None:
        raise Http404
    return member


def suggestion_for(user, member: Driver, quarter: date | None = None):
    """What the platforms recorded for the member's previous quarter (their own view)."""
    quarter = quarter or dues_rules.quarter_start(current_month())
    return suggestions.for_member(user, member, quarter)


def needs_confirmation(dues: balances.MemberDues, member: Driver) -> bool:
    """No assessment yet, or the new quarter's income (no monthly wage) is still to confirm.
    Wages, retirement pay and flat bases carry over until the member changes them."""
    quarter = dues_rules.quarter_start(dues.month)
    if Assessment.objects.filter(member=member, quarter=quarter).exists():
        return False
    latest = Assessment.objects.filter(member=member).order_by("-quarter").first()
    return latest is None or latest.basis == Basis.NO_WAGE


def me_summary(user) -> dict | None:
    """For the /me/party/ index: the member's monthly amount, arrears and what to do."""
    member = own_member(user)
    if member is None:
        return None
    dues = member_dues(member)
    return {
        "member": member,
        "monthly_amount": dues.monthly_amount,
        "paid_this_month": dues.paid_this_month,
        "arrears": dues.arrears,
        "months_in_arrears": dues.months_in_arrears,
        "needs_confirmation": needs_confirmation(dues, member),
        "quarter": dues_rules.quarter_label(dues_rules.quarter_start(dues.month)),
        "url": reverse("dues:my_dues"),
    }


def attention_cards(user) -> list[Card]:
    """Driver home cards: the new quarter's income to confirm, and arrears."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return []
    summary = me_summary(user)
    if summary is None:
        return []
    cards = []
    if summary["needs_confirmation"]:
        cards.append(
            Card(
                title=_("Confirm your income for the party dues of %(quarter)s")
                % {"quarter": summary["quarter"]},
                url=reverse("dues:my_income"),
                urgency=SOON,
                body=_("Your monthly dues are worked out from it. It takes a minute."),
                kind="dues",
                action_label=_("Confirm income"),
            )
        )
    if summary["arrears"] > 0:
        member = summary["member"]
        lapse = rules_for(member.membership.branch, local_date()).lapse_reminder_months
        cards.append(
            Card(
                title=_("Party dues in arrears: ¥%(amount)s") % {"amount": summary["arrears"]},
                url=summary["url"],
                urgency=TODAY if summary["months_in_arrears"] >= lapse else SOON,
                body=ngettext(
                    "%(months)s month not yet recorded as paid. Pay your branch as usual.",
                    "%(months)s months not yet recorded as paid. Pay your branch as usual.",
                    summary["months_in_arrears"],
                )
                % {"months": summary["months_in_arrears"]},
                kind="dues",
                action_label=_("See my dues"),
            )
        )
    return cards
