"""Reads for the staff driver pages and the driver's own pages. All scoped to the viewer."""

import re

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from redwheel.core import crypto
from redwheel.core.permissions import can, scope
from redwheel.drivers.models import (
    PARTY_MEMBER_CATEGORIES,
    Affiliation,
    Category,
    ContactPair,
    Driver,
    Membership,
    MembershipActivity,
)
from redwheel.orgs.models import OrgUnit, Platform

MEMBER_UNIT_KINDS = (
    OrgUnit.Kind.BRANCH,
    OrgUnit.Kind.GENERAL_BRANCH,
    OrgUnit.Kind.ENTERPRISE_COMMITTEE,
)
# Values of the list's "state" filter besides the membership states.
STATE_NONE = "none"
STATE_CHECKED_IN = "checked_in"
STATE_ACTIVE = "active"
# Value of the list's "category" filter for activists and applicants together.
CATEGORY_PROSPECTIVE = "prospective"


def _active_affiliations() -> Prefetch:
    return Prefetch(
        "affiliations",
        queryset=Affiliation.objects.filter(is_active=True).select_related("platform"),
        to_attr="active_affiliations",
    )


INDEX_TOKEN = "#"
_FULL_NUMBER = re.compile(r"[0-9Xx]{11,18}")


def search_token(q: str) -> str:
    """A full phone or licence number becomes '#<blind index>'; anything else stays as typed."""
    compact = re.sub(r"\s+", "", q or "")
    if _FULL_NUMBER.fullmatch(compact):
        return INDEX_TOKEN + crypto.blind_index(compact)
    return (q or "").strip()


def driver_list(
    viewer,
    *,
    q: str = "",
    platform: Platform | None = None,
    branch: OrgUnit | None = None,
    category: str = "",
    state: str = "",
    party_only: bool = False,
) -> QuerySet:
    """Drivers the viewer may see, filtered; rows carry branch, membership and platforms."""
    qs = scope(viewer, "view", Driver.objects.all())
    q = (q or "").strip()
    if q.startswith(INDEX_TOKEN):
        index = q.removeprefix(INDEX_TOKEN)
        qs = qs.filter(Q(phone_index=index) | Q(license_index=index))
    elif q:
        match = Q(name__icontains=q)
        compact = re.sub(r"\s+", "", q)
        if len(compact) >= 11:  # a full phone or licence number: exact, via the blind index
            index = crypto.blind_index(compact)
            match |= Q(phone_index=index) | Q(license_index=index)
        if re.fullmatch(r"[0-9Xx*]{4,}", compact):  # the visible tail of a masked number
            tail = compact.upper()
            match |= Q(phone_masked__endswith=tail) | Q(license_masked__endswith=tail)
        qs = qs.filter(match)
    if platform is not None:
        qs = qs.filter(id__in=Affiliation.objects.filter(platform=platform).values("driver_id"))
    if branch is not None:
        qs = qs.filter(
            Q(branch__path__startswith=branch.path)
            | Q(membership__branch__path__startswith=branch.path)
        )
    if category == CATEGORY_PROSPECTIVE:
        qs = qs.filter(
            membership__category__in=(Category.ACTIVIST, Category.CANDIDATE, Category.APPLICANT)
        )
    elif category:
        qs = qs.filter(membership__category=category)
    if party_only:
        qs = qs.filter(membership__category__in=PARTY_MEMBER_CATEGORIES)
    if state == STATE_NONE:
        qs = qs.filter(membership__isnull=True)
    elif state == STATE_ACTIVE:
        qs = qs.filter(membership__state__in=(Membership.State.DECLARED, Membership.State.VERIFIED))
    elif state == STATE_CHECKED_IN:
        qs = qs.filter(
            membership__state=Membership.State.VERIFIED, membership__mobile_branch__isnull=False
        )
    elif state:
        qs = qs.filter(membership__state=state)
    return (
        qs.select_related("branch", "membership", "membership__branch")
        .prefetch_related(_active_affiliations())
        .order_by("name", "id")
    )


def driver_detail(viewer, pk: int) -> Driver:
    """One driver in the viewer's view scope, with everything the detail page shows, or 404."""
    driver = (
        scope(viewer, "view", Driver.objects.all())
        .select_related(
            "branch", "user", "membership", "membership__branch", "membership__mobile_branch"
        )
        .prefetch_related(
            _active_affiliations(),
            "vehicles",
            Prefetch("consent_events", queryset=_consent_events()),
            Prefetch(
                "contacts_looked_after", queryset=ContactPair.objects.select_related("driver")
            ),
            Prefetch("contact_members", queryset=ContactPair.objects.select_related("member")),
        )
        .filter(pk=pk)
        .first()
    )
    if driver is None:
        raise Http404
    return driver


def driver_for_action(viewer, pk: int, action: str) -> Driver:
    """The driver an action form targets: 404 unless the viewer may `action` them (checked
    before the form is read, so a read-only role is refused, not told what is missing)."""
    driver = (
        scope(viewer, action, Driver.objects.all())
        .select_related("membership", "branch")
        .filter(pk=pk)
        .first()
    )
    if driver is None:
        raise Http404
    return driver


def membership_of(driver: Driver) -> Membership | None:
    return getattr(driver, "membership", None)


def is_verified_member(driver: Driver) -> bool:
    membership = membership_of(driver)
    return bool(
        membership
        and membership.state == Membership.State.VERIFIED
        and membership.category in PARTY_MEMBER_CATEGORIES
    )


def timeline(membership: Membership | None) -> list[MembershipActivity]:
    if membership is None:
        return []
    return list(membership.activities.select_related("actor", "branch").order_by("at", "id"))


def _consent_events():
    from redwheel.drivers.models import BadgeConsentEvent

    return BadgeConsentEvent.objects.select_related("actor").order_by("-at", "-id")


def consent_history(driver: Driver) -> list:
    return list(_consent_events().filter(driver=driver))


def permissions_on(viewer, driver: Driver) -> dict[str, bool]:
    membership = membership_of(driver)
    return {
        "change": can(viewer, "change", driver),
        "reveal": can(viewer, "reveal", driver),
        "verify": membership is not None and can(viewer, "verify", membership),
        "change_membership": membership is not None and can(viewer, "change", membership),
    }


def branch_choices(viewer, action: str = "change") -> QuerySet:
    """Active units that can hold members and that the viewer may `action` (transfer targets)."""
    return (
        scope(viewer, action, OrgUnit.objects.all())
        .filter(kind__in=MEMBER_UNIT_KINDS, is_active=True)
        .exclude(branch_type=OrgUnit.BranchType.MOBILE)
        .order_by("path")
    )


def mobile_branch_choices(viewer=None) -> QuerySet:
    """Active mobile-member branches; scoped to the viewer when one is given."""
    qs = OrgUnit.objects.filter(
        kind=OrgUnit.Kind.BRANCH, branch_type=OrgUnit.BranchType.MOBILE, is_active=True
    )
    if viewer is not None:
        qs = scope(viewer, "change", qs)
    return qs.order_by("path")


def find_driver_by_number(viewer, number: str) -> Driver | None:
    """Exact lookup by full phone or licence number among drivers the viewer may change."""
    number = re.sub(r"\s+", "", number or "")
    if not number:
        return None
    index = crypto.blind_index(number)
    return (
        scope(viewer, "change", Driver.objects.all())
        .select_related("membership")
        .filter(Q(phone_index=index) | Q(license_index=index))
        .first()
    )


def verification_queue(viewer) -> QuerySet:
    """Declared memberships the viewer may verify, oldest first."""
    return (
        scope(viewer, "verify", Membership.objects.all())
        .filter(state=Membership.State.DECLARED)
        .select_related("driver", "branch")
        .prefetch_related(
            Prefetch(
                "driver__affiliations",
                queryset=Affiliation.objects.filter(is_active=True).select_related("platform"),
                to_attr="active_affiliations",
            )
        )
        .order_by("state_changed_at", "id")
    )


def queue_membership(viewer, driver_pk: int) -> Membership:
    """The membership of one driver, for re-rendering a queue row after an action."""
    membership = (
        scope(viewer, "view", Membership.objects.all())
        .select_related("driver", "branch")
        .prefetch_related(
            Prefetch(
                "driver__affiliations",
                queryset=Affiliation.objects.filter(is_active=True).select_related("platform"),
                to_attr="active_affiliations",
            )
        )
        .filter(driver_id=driver_pk)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


# The driver's own pages ------------------------------------------------------------------------


def own_driver(user) -> Driver:
    """The signed-in driver's record, with what their pages show; 404 for non-drivers."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    driver = (
        Driver.objects.filter(user=user)
        .select_related("branch", "membership", "membership__branch", "membership__mobile_branch")
        .prefetch_related(_active_affiliations(), "vehicles")
        .first()
    )
    if driver is None:
        raise Http404
    return driver


def _city_root_paths(driver: Driver) -> list[str]:
    paths = []
    if driver.branch_id:
        paths.append(driver.branch.path)
    platform_ids = [a.platform_id for a in getattr(driver, "active_affiliations", [])]
    if platform_ids:
        paths += OrgUnit.objects.filter(platform_id__in=platform_ids).values_list("path", flat=True)
    return sorted({p.split(".", 1)[0] + "." for p in paths})


def declarable_branches(driver: Driver, search: str = "") -> QuerySet:
    """Active branches of the driver's city a driver may declare to, searchable by name."""
    qs = OrgUnit.objects.filter(kind__in=MEMBER_UNIT_KINDS, is_active=True).exclude(
        branch_type=OrgUnit.BranchType.MOBILE
    )
    roots = _city_root_paths(driver)
    if roots:
        city = Q(pk__in=[])
        for root in roots:
            city |= Q(path__startswith=root)
        qs = qs.filter(city)
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    return qs.select_related("platform").order_by("path")


def city_mobile_branches(driver: Driver) -> QuerySet:
    qs = mobile_branch_choices()
    roots = _city_root_paths(driver)
    if roots:
        city = Q(pk__in=[])
        for root in roots:
            city |= Q(path__startswith=root)
        qs = qs.filter(city)
    return qs
