"""Drivers, memberships and badges over JSON.

Staff and drivers use their browser session; platforms use a bearer token with a scope.
Phone and licence numbers are always masked here, except in the audited reveal endpoint.
Objects outside the caller's scope answer 404.
"""

import contextlib
from datetime import date, datetime
from typing import Annotated, Literal

from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import StringConstraints

from redwheel.core import crypto
from redwheel.core.api_auth import session_acting_on, session_auth
from redwheel.core.api_schemas import BodyIn, InputSchema, api_enum, error_responses
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.paging import ApiPagination
from redwheel.core.permissions import scope
from redwheel.core.validators import clean_mobile
from redwheel.drivers import services
from redwheel.drivers.models import Affiliation, Category, Driver, Membership, MembershipActivity
from redwheel.orgs.models import OrgUnit

router = Router(tags=["drivers"], auth=session_auth)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MembershipCategory = api_enum("MembershipCategory", Category)
MembershipState = api_enum("MembershipState", Membership.State)
MembershipAction = api_enum("MembershipAction", MembershipActivity.Action)
LIST_ERRORS = error_responses()
DETAIL_ERRORS = error_responses(404)
# Changes: 404 out of scope, 409 not allowed in the current state (or a conflict).
CHANGE_ERRORS = error_responses(404, 409)

# Schemas -------------------------------------------------------------------------------------


class UnitRef(Schema):
    id: int = Field(examples=[3])
    name: str = Field(examples=["甲出行第一支部"])


class PlatformRef(Schema):
    id: int = Field(examples=[1])
    company_id: str = Field(examples=["PA001"])
    name: str = Field(examples=["甲出行"])


class MembershipSummary(Schema):
    id: int
    category: MembershipCategory = Field(examples=["full"])
    state: MembershipState = Field(examples=["verified"])


class MembershipActivityOut(Schema):
    id: int
    at: datetime
    action: MembershipAction = Field(examples=["verify"])
    from_state: str = Field(examples=["declared"])
    to_state: str = Field(examples=["verified"])
    category: MembershipCategory
    branch: UnitRef | None
    actor: str | None = Field(examples=["王书记"], description="Who made the change.")
    note: str

    @staticmethod
    def resolve_actor(obj: MembershipActivity) -> str | None:
        return obj.actor.display_name if obj.actor_id else None


class MembershipOut(MembershipSummary):
    branch: UnitRef
    mobile_branch: UnitRef | None
    checked_in_at: datetime | None
    home_organisation: str
    joined_party_on: date | None
    state_changed_at: datetime
    rejection_reason: str
    allowed_actions: list[str] = Field(examples=[["lapse", "transfer", "check_in"]])
    timeline: list[MembershipActivityOut]

    @staticmethod
    def resolve_allowed_actions(obj: Membership) -> list[str]:
        return [str(action) for action in services.allowed_actions(obj)]

    @staticmethod
    def resolve_timeline(obj: Membership) -> list[MembershipActivity]:
        return list(obj.activities.select_related("actor", "branch"))


class DriverOut(Schema):
    id: int = Field(examples=[42])
    name: str = Field(examples=["张师傅"])
    gender: str = Field(examples=["M"])
    license_masked: str = Field(examples=["5101**********1234"])
    phone_masked: str = Field(examples=["139****0001"])
    region_code: str = Field(examples=["510107"])
    branch: UnitRef | None
    platforms: list[PlatformRef] = Field(description="Platforms the driver is active on.")
    membership: MembershipSummary | None
    badge: bool = Field(description="Whether the party-member badge is shown to passengers.")

    @staticmethod
    def resolve_platforms(obj: Driver):
        return [a.platform for a in obj.affiliations.all() if a.is_active]

    @staticmethod
    def resolve_membership(obj: Driver):
        return getattr(obj, "membership", None)

    @staticmethod
    def resolve_badge(obj: Driver) -> bool:
        return services.badge_visible(obj)


class VehicleOut(Schema):
    plate: str = Field(examples=["川AD12345"])
    energy: str = Field(examples=["new_energy"])
    brand: str
    model: str
    seats: int


class AffiliationOut(Schema):
    platform: PlatformRef
    certificate_no: str
    joined_on: date | None
    is_active: bool


class DriverDetailOut(DriverOut):
    membership: MembershipOut | None
    affiliations: list[AffiliationOut]
    vehicles: list[VehicleOut]
    badge_consent: bool
    badge_consent_changed_at: datetime | None

    @staticmethod
    def resolve_affiliations(obj: Driver):
        return list(obj.affiliations.all())

    @staticmethod
    def resolve_vehicles(obj: Driver):
        return list(obj.vehicles.all())


class DriverFilter(InputSchema):
    q: str | None = Field(
        None,
        max_length=60,
        description="Part of a name, or a full mobile or licence number (exact match).",
    )
    platform: int | None = Field(None, description="Platform id.")
    branch: int | None = Field(None, description="Org unit id; its whole subtree counts.")
    category: MembershipCategory | None = None
    state: MembershipState | Literal["none", "checked_in"] | None = Field(
        None,
        description="Membership state; 'none': no membership; 'checked_in': verified members "
        "checked in to a mobile-member branch.",
    )


Note = Annotated[str, StringConstraints(max_length=300)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class DeclareIn(BodyIn):
    category: MembershipCategory = Field(examples=["full"])
    branch_id: int = Field(examples=[3], description="Branch responsible for the member.")
    joined_party_on: date | None = Field(None, examples=["2015-07-01"])
    home_organisation: str = Field("", max_length=150)
    note: Note = ""


class NoteIn(BodyIn):
    note: Note = Field("", examples=["Checked with the home organisation."])


class ReasonIn(BodyIn):
    reason: Reason = Field(examples=["No record at the stated organisation."])


class TransferIn(BodyIn):
    to_branch_id: int = Field(examples=[4])
    note: Note = ""


class CheckInIn(BodyIn):
    mobile_branch_id: int = Field(examples=[5])
    home_organisation: str = Field("", max_length=150, examples=["某县某镇党委"])
    note: Note = ""


class RevealIn(BodyIn):
    field: Literal["phone", "license_no"] = Field(examples=["phone"])
    reason: Reason = Field(examples=["Calling about an emergency mobilisation."])


class RevealOut(Schema):
    field: str = Field(examples=["phone"])
    value: str = Field(examples=["13900000001"])


class ConsentIn(BodyIn):
    consented: bool


class ConsentOut(Schema):
    consented: bool
    badge: bool
    changed_at: datetime | None


# Reads ---------------------------------------------------------------------------------------


def _drivers(user, action: str = "view"):
    return scope(user, action, Driver.objects.all()).select_related("branch", "membership")


def _detail_queryset(user):
    return (
        _drivers(user)
        .select_related("membership__branch", "membership__mobile_branch")
        .prefetch_related(
            Prefetch("affiliations", queryset=Affiliation.objects.select_related("platform")),
            "vehicles",
        )
    )


def _search(drivers, q: str):
    q = q.strip()
    if not q:
        return drivers
    keys = {crypto.blind_index(q)}
    with contextlib.suppress(ValidationFailed):  # not a mobile number: name or licence search
        keys.add(crypto.blind_index(clean_mobile(q)))
    return drivers.filter(
        Q(name__icontains=q) | Q(phone_index__in=keys) | Q(license_index__in=keys)
    )


def _unit(units, pk: int, field: str) -> OrgUnit:
    unit = units.filter(pk=pk, is_active=True).first()
    if unit is None:
        raise NotFound(_("No such org unit."), details={"field": field})
    return unit


@router.get(
    "/drivers", response={200: list[DriverOut], **LIST_ERRORS}, summary="List drivers in scope"
)
@paginate(ApiPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def driver_list(request, filters: Query[DriverFilter]):
    drivers = _drivers(request.auth).prefetch_related(
        Prefetch("affiliations", queryset=Affiliation.objects.select_related("platform"))
    )
    if filters.q:
        drivers = _search(drivers, filters.q)
    if filters.platform:
        drivers = drivers.filter(affiliations__platform_id=filters.platform)
    if filters.branch:
        unit = OrgUnit.objects.filter(pk=filters.branch).first()
        if unit is None:
            return drivers.none()
        drivers = drivers.filter(
            Q(branch__path__startswith=unit.path)
            | Q(membership__branch__path__startswith=unit.path)
        )
    if filters.category:
        drivers = drivers.filter(membership__category=filters.category)
    if filters.state == "none":
        drivers = drivers.filter(membership__isnull=True)
    elif filters.state == "checked_in":
        drivers = drivers.filter(
            membership__state=MembershipState.VERIFIED, membership__mobile_branch__isnull=False
        )
    elif filters.state:
        drivers = drivers.filter(membership__state=filters.state)
    return drivers.order_by("name", "id")


@router.get(
    "/drivers/{int:id}",
    response={200: DriverDetailOut, **DETAIL_ERRORS},
    summary="One driver, masked",
)
def driver_detail(request, id: int):
    return get_object_or_404(_detail_queryset(request.auth), pk=id)


@router.post(
    "/drivers/{int:id}:reveal",
    auth=session_acting_on(lambda: Driver.objects.all(), "reveal"),
    response={200: RevealOut, **DETAIL_ERRORS},
    summary="Reveal one number (audited)",
)
def driver_reveal(request, id: int, payload: RevealIn, response: HttpResponse):
    driver = get_object_or_404(_drivers(request.auth), pk=id)
    value = services.pii_reveal(
        actor=request.auth, driver=driver, field=payload.field, reason=payload.reason
    )
    response["Cache-Control"] = "no-store"
    return {"field": payload.field, "value": value}


# Membership ----------------------------------------------------------------------------------


def _membership_out(membership: Membership) -> Membership:
    return Membership.objects.select_related("branch", "mobile_branch").get(pk=membership.pk)


def _membership(request, id: int) -> Membership:
    memberships = scope(request.auth, "view", Membership.objects.select_related("driver"))
    return get_object_or_404(memberships, pk=id)


def _declarable_branches(user):
    """Staff choose among the units they see; a driver declaring for themselves, any unit."""
    if user.is_superuser or user.grants.exists():
        return scope(user, "view", OrgUnit.objects.all())
    return OrgUnit.objects.all()


@router.post(
    "/drivers/{int:id}/membership:declare",
    auth=session_acting_on(lambda: Driver.objects.all(), "change"),
    response={200: MembershipOut, **CHANGE_ERRORS},
    summary="Declare party membership",
    tags=["memberships"],
)
def membership_declare(request, id: int, payload: DeclareIn):
    driver = get_object_or_404(_drivers(request.auth), pk=id)
    branch = _unit(_declarable_branches(request.auth), payload.branch_id, "branch_id")
    membership = services.membership_declare(
        actor=request.auth,
        driver=driver,
        category=payload.category,
        branch=branch,
        joined_party_on=payload.joined_party_on,
        home_organisation=payload.home_organisation,
        note=payload.note,
    )
    return _membership_out(membership)


@router.post(
    "/memberships/{int:id}:verify",
    auth=session_acting_on(lambda: Membership.objects.all(), "verify"),
    response={200: MembershipOut, **CHANGE_ERRORS},
    summary="Verify a declaration",
    tags=["memberships"],
)
def membership_verify(request, id: int, payload: NoteIn):
    membership = services.membership_verify(
        actor=request.auth, membership=_membership(request, id), note=payload.note
    )
    return _membership_out(membership)


@router.post(
    "/memberships/{int:id}:reject",
    auth=session_acting_on(lambda: Membership.objects.all(), "verify"),
    response={200: MembershipOut, **CHANGE_ERRORS},
    summary="Reject a declaration (reason required)",
    tags=["memberships"],
)
def membership_reject(request, id: int, payload: ReasonIn):
    membership = services.membership_reject(
        actor=request.auth, membership=_membership(request, id), reason=payload.reason
    )
    return _membership_out(membership)


@router.post(
    "/memberships/{int:id}:lapse",
    auth=session_acting_on(lambda: Membership.objects.all(), "verify"),
    response={200: MembershipOut, **CHANGE_ERRORS},
    summary="Mark a verified membership lapsed (reason required)",
    tags=["memberships"],
)
def membership_lapse(request, id: int, payload: ReasonIn):
    membership = services.membership_lapse(
        actor=request.auth, membership=_membership(request, id), reason=payload.reason
    )
    return _membership_out(membership)


@router.post(
    "/memberships/{int:id}:transfer",
    auth=session_acting_on(lambda: Membership.objects.all(), "change"),
    response={200: MembershipOut, **CHANGE_ERRORS},
    summary="Transfer a member to another branch",
    tags=["memberships"],
)
def membership_transfer(request, id: int, payload: TransferIn):
    membership = _membership(request, id)
    to_branch = _unit(
        scope(request.auth, "change", OrgUnit.objects.all()), payload.to_branch_id, "to_branch_id"
    )
    membership = services.membership_transfer(
        actor=request.auth, membership=membership, to_branch=to_branch, note=payload.note
    )
    return _membership_out(membership)


@router.post(
    "/memberships/{int:id}:check-in",
    auth=session_acting_on(lambda: Membership.objects.all(), "change"),
    response={200: MembershipOut, **CHANGE_ERRORS},
    summary="Check a mobile member in to a mobile-member branch",
    tags=["memberships"],
)
def membership_check_in(request, id: int, payload: CheckInIn):
    membership = _membership(request, id)
    mobile_branch = _unit(OrgUnit.objects.all(), payload.mobile_branch_id, "mobile_branch_id")
    membership = services.membership_check_in(
        actor=request.auth,
        membership=membership,
        mobile_branch=mobile_branch,
        home_organisation=payload.home_organisation,
        note=payload.note,
    )
    return _membership_out(membership)


# The signed-in driver ------------------------------------------------------------------------


def _own_driver(request) -> Driver:
    return get_object_or_404(_detail_queryset(request.auth), user=request.auth)


@router.get(
    "/me",
    response={200: DriverDetailOut, **DETAIL_ERRORS},
    summary="The signed-in driver",
    tags=["me"],
)
def me(request):
    return _own_driver(request)


@router.put(
    "/me/badge-consent",
    response={200: ConsentOut, **CHANGE_ERRORS},
    summary="Switch the party-member badge on or off",
    tags=["me"],
)
def me_badge_consent(request, payload: ConsentIn):
    driver = services.badge_consent_set(
        actor=request.auth, driver=_own_driver(request), consented=payload.consented
    )
    return {
        "consented": driver.badge_consent,
        "badge": services.badge_visible(driver),
        "changed_at": driver.badge_consent_changed_at,
    }
