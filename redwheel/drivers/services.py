"""Writes for drivers, memberships, badge consent and contact pairs. Each takes an `actor`."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.accounts.models import User
from redwheel.core import audit, crypto
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.notifications import notify_platform, notify_user
from redwheel.core.permissions import acting_platform, can, is_unscoped
from redwheel.core.states import StateMachine, Transition
from redwheel.core.validators import clean_identity_number, clean_mobile, clean_plate
from redwheel.drivers import selectors
from redwheel.drivers.models import (
    PARTY_MEMBER_CATEGORIES,
    Affiliation,
    BadgeConsentEvent,
    Category,
    ContactPair,
    Driver,
    Membership,
    MembershipActivity,
    Vehicle,
)
from redwheel.orgs.models import OrgUnit, Platform

State = Membership.State
Action = MembershipActivity.Action

# The membership state machine. None as a start state means "no membership yet"; a None
# target (transfer, check-in, check-out) keeps the state.
MEMBERSHIP = StateMachine(
    activity_model=MembershipActivity,
    parent_field="membership",
    audit_prefix="membership",
    changed_at_field="state_changed_at",
    activity_defaults=lambda membership, _actor: {
        "category": membership.category,
        "branch": membership.branch,
    },
    audit_summary=lambda membership: membership.driver.name,
    transitions={
        Action.DECLARE: Transition({None, State.REJECTED, State.LAPSED}, State.DECLARED),
        Action.VERIFY: Transition({State.DECLARED}, State.VERIFIED),
        Action.REJECT: Transition({State.DECLARED}, State.REJECTED),
        Action.LAPSE: Transition({State.VERIFIED}, State.LAPSED),
        Action.TRANSFER: Transition({State.DECLARED, State.VERIFIED}, None),
        Action.CHECK_IN: Transition({State.VERIFIED}, None),
        Action.CHECK_OUT: Transition(
            {State.VERIFIED},
            None,
            guard=lambda membership: membership.mobile_branch_id is not None,
            refusal=gettext_lazy("This member is not checked in to a mobile branch."),
        ),
        # A recruitment (发展党员) step decided by the branch: the category follows the pipeline
        # and the branch's own procedure is the verification.
        Action.PIPELINE: Transition(
            {None, State.DECLARED, State.VERIFIED, State.REJECTED, State.LAPSED}, State.VERIFIED
        ),
    },
)


def allowed_actions(membership: Membership | None) -> list[str]:
    return MEMBERSHIP.allowed_actions(membership)


def _require(actor, action: str, obj) -> None:
    if not can(actor, action, obj):
        raise NotFound()


def _branch(unit: OrgUnit) -> OrgUnit:
    if unit.kind not in (
        OrgUnit.Kind.BRANCH,
        OrgUnit.Kind.GENERAL_BRANCH,
        OrgUnit.Kind.ENTERPRISE_COMMITTEE,
    ):
        raise ValidationFailed(
            _("Members belong to a branch, general branch or enterprise committee.")
        )
    return unit


def badge_visible(driver: Driver) -> bool:
    """The "党员司机" badge: a verified party member (full or probationary) who consents."""
    return driver.badge_consent and _is_verified_member(driver)


# Drivers -------------------------------------------------------------------------------------


def driver_create(
    *,
    actor,
    name: str,
    license_no: str,
    phone: str,
    branch: OrgUnit | None = None,
    gender: str = "",
    region_code: str = "",
    platforms: list[Platform] = (),
    create_account: bool = True,
) -> Driver:
    # The new driver must land inside the actor's scope — in a branch they may change, or
    # with a platform they act for or whose organisation they run — and every platform it is
    # affiliated with opens the driver to that platform, so each must be the actor's too.
    if branch is not None:
        _require(actor, "change", branch)
    elif not platforms and not is_unscoped(actor):
        raise NotFound()
    if not all(can(actor, "change", p) for p in platforms):
        raise NotFound()
    license_no = clean_identity_number(license_no)
    phone = clean_mobile(phone)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A name is required."))
    with transaction.atomic():
        if Driver.objects.filter(license_index=crypto.blind_index(license_no)).exists():
            raise Conflict(
                _("A driver with this licence number already exists."), code="duplicate_driver"
            )
        driver = Driver(
            name=name,
            gender=gender or _gender_from_id(license_no),
            region_code=region_code or license_no[:6],
            branch=branch,
        )
        driver.set_license(license_no)
        driver.set_phone(phone)
        if create_account:
            driver.user = _driver_account(phone, name)
        driver.save()
        for platform in platforms:
            Affiliation.objects.create(driver=driver, platform=platform)
        audit.record(actor=actor, action="driver.create", obj=driver, summary=driver.name)
    return driver


def _gender_from_id(number: str) -> str:
    return Driver.Gender.MALE if int(number[16]) % 2 else Driver.Gender.FEMALE


def _driver_account(phone: str, name: str) -> User:
    """Drivers get an account without a password; they activate it with an SMS code."""
    existing = User.objects.filter(phone_index=crypto.blind_index(phone)).first()
    if existing is not None:
        if hasattr(existing, "driver"):
            raise Conflict(
                _("This mobile number already belongs to another driver."), code="duplicate_phone"
            )
        return existing
    return User.objects.create_user(phone, None, display_name=name)


def driver_update(
    *,
    actor,
    driver: Driver,
    name: str | None = None,
    phone: str | None = None,
    branch: OrgUnit | None = None,
) -> Driver:
    _require(actor, "change", driver)
    changed = []
    with transaction.atomic():
        if name is not None and name.strip() and name.strip() != driver.name:
            driver.name = name.strip()
            changed.append("name")
        if phone is not None:
            phone = clean_mobile(phone)
            if crypto.blind_index(phone) != driver.phone_index:
                driver.set_phone(phone)
                changed += ["phone", "phone_index", "phone_masked"]
        if branch is not None and branch != driver.branch:
            _require(actor, "change", branch)
            driver.branch = branch
            changed.append("branch")
        if changed:
            driver.save(update_fields=[*changed, "updated_at"])
            audit.record(
                actor=actor,
                action="driver.update",
                obj=driver,
                data={"fields": sorted(set(changed) - {"phone_index"})},
            )
    return driver


def affiliation_add(
    *,
    actor,
    driver: Driver,
    platform: Platform,
    certificate_no: str = "",
    joined_on: date | None = None,
) -> Affiliation:
    # A platform's own feed declares that a driver works for it (the regulator format's
    # baseInfoDriver) before the driver is in its scope; anyone else needs the driver.
    if acting_platform(actor) != platform.pk:
        _require(actor, "change", driver)
    _require(actor, "change", platform)
    with transaction.atomic():
        affiliation, created = Affiliation.objects.get_or_create(
            driver=driver,
            platform=platform,
            defaults={"certificate_no": certificate_no, "joined_on": joined_on},
        )
        if created:
            audit.record(
                actor=actor,
                action="affiliation.create",
                obj=affiliation,
                summary=f"{driver.name} @ {platform.name}",
            )
    return affiliation


def vehicle_add(
    *, actor, driver: Driver, plate: str, brand: str = "", model: str = "", seats: int = 5
) -> Vehicle:
    _require(actor, "change", driver)
    plate, new_energy = clean_plate(plate)
    with transaction.atomic():
        if Vehicle.objects.filter(plate=plate).exists():
            raise Conflict(_("Plate %(plate)s is already registered.") % {"plate": plate})
        vehicle = Vehicle.objects.create(
            driver=driver,
            plate=plate,
            brand=brand,
            model=model,
            seats=seats,
            energy=Vehicle.Energy.NEW_ENERGY if new_energy else Vehicle.Energy.FUEL,
        )
        audit.record(actor=actor, action="vehicle.create", obj=vehicle, summary=plate)
    return vehicle


def pii_reveal(*, actor, driver: Driver, field: str, reason: str) -> str:
    """Return one plaintext identifier, leaving an audit entry that says who, when and why."""
    _require(actor, "reveal", driver)
    if field not in ("phone", "license_no"):
        raise ValidationFailed(_("Only the phone or licence number can be revealed."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why you need to see this number."), code="reason_required")
    audit.record(
        actor=actor,
        action=f"driver.reveal.{field}",
        obj=driver,
        summary=driver.name,
        reason=reason.strip(),
    )
    return getattr(driver, field)


# Membership state machine --------------------------------------------------------------------


def membership_declare(
    *,
    actor,
    driver: Driver,
    category: str,
    branch: OrgUnit,
    joined_party_on: date | None = None,
    home_organisation: str = "",
    note: str = "",
) -> Membership:
    """A driver (for themselves) or staff (on their behalf) declares party status."""
    _require(actor, "change", driver)
    _require_placement(
        actor,
        driver,
        branch,
        own_choices=(selectors.declarable_branches, selectors.city_mobile_branches),
    )
    if category not in Category.values:
        raise ValidationFailed(_("Unknown membership category."))
    _branch(branch)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(driver=driver).first()
        if membership is None:
            membership = Membership(driver=driver, state_changed_at=timezone.now())
        elif Action.DECLARE not in MEMBERSHIP.allowed_actions(membership):
            raise InvalidTransition(_("This driver's membership is already declared or verified."))
        membership.category = category
        membership.branch = branch
        membership.joined_party_on = joined_party_on
        membership.home_organisation = home_organisation
        membership.rejection_reason = ""
        MEMBERSHIP.apply(membership, Action.DECLARE, actor=actor, note=note)
        if driver.branch_id is None:
            driver.branch = branch
            driver.save(update_fields=["branch", "updated_at"])
    return membership


def membership_follow_pipeline(
    *,
    actor,
    driver: Driver,
    branch: OrgUnit,
    category: str,
    joined_party_on: date | None = None,
    note: str = "",
    lapse: bool = False,
) -> Membership:
    """The one way the recruitment pipeline moves a driver's membership: create or update it in
    `category` at `branch` (verified: the branch's procedure decided it), or `lapse` it
    (取消资格). A driver acting for themself may only apply (become an applicant)."""
    _require(actor, "change", driver)
    _require_placement(
        actor,
        driver,
        branch,
        own_choices=(selectors.declarable_branches, selectors.city_mobile_branches),
    )
    if category not in Category.values:
        raise ValidationFailed(_("Unknown membership category."))
    if _is_self(actor, driver) and (lapse or category != Category.APPLICANT):
        raise NotFound()
    _branch(branch)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(driver=driver).first()
        if lapse:
            if membership is None or membership.state == State.LAPSED:
                return membership
            was_visible = _shows_badge(driver, membership)
            if membership.state != State.VERIFIED:  # a pending declaration: the step decides
                MEMBERSHIP.apply(membership, Action.PIPELINE, actor=actor, note=note)
            MEMBERSHIP.apply(membership, Action.LAPSE, actor=actor, note=note)
            driver.membership = membership
            if was_visible:
                _notify_badge_change(driver)
            return membership
        if membership is None:
            membership = Membership(driver=driver, state_changed_at=timezone.now())
        was_visible = _shows_badge(driver, membership)
        membership.category, membership.branch = category, branch
        membership.joined_party_on = joined_party_on or membership.joined_party_on
        membership.rejection_reason = ""
        MEMBERSHIP.apply(membership, Action.PIPELINE, actor=actor, note=note)
        if driver.branch_id is None:
            driver.branch = branch
            driver.save(update_fields=["branch", "updated_at"])
        driver.membership = membership
        if was_visible != _shows_badge(driver, membership):
            _notify_badge_change(driver)
    return membership


def _shows_badge(driver: Driver, membership: Membership | None) -> bool:
    return bool(
        driver.badge_consent
        and membership is not None
        and not membership._state.adding
        and membership.state == State.VERIFIED
        and membership.category in PARTY_MEMBER_CATEGORIES
    )


def _locked_membership(actor, membership: Membership, permission: str) -> Membership:
    if not can(actor, permission, membership):
        raise NotFound()
    return Membership.objects.select_for_update().select_related("driver").get(pk=membership.pk)


def membership_verify(*, actor, membership: Membership, note: str = "") -> Membership:
    with transaction.atomic():
        membership = _locked_membership(actor, membership, "verify")
        MEMBERSHIP.apply(membership, Action.VERIFY, actor=actor, note=note)
        _notify_member(
            membership,
            "membership.verified",
            _("Your party membership is verified"),
            _("You can now switch on the party-member driver badge."),
        )
        _notify_badge_change(membership.driver)
    return membership


def membership_reject(*, actor, membership: Membership, reason: str) -> Membership:
    if not (reason or "").strip():
        raise ValidationFailed(
            _("A reason is required to reject a declaration."), code="reason_required"
        )
    with transaction.atomic():
        membership = _locked_membership(actor, membership, "verify")
        MEMBERSHIP.apply(
            membership,
            Action.REJECT,
            actor=actor,
            note=reason,
            changes={"rejection_reason": reason.strip()[:300]},
        )
        _notify_member(
            membership,
            "membership.rejected",
            _("Your party membership declaration was not confirmed"),
            _("Reason: %(reason)s") % {"reason": membership.rejection_reason},
        )
    return membership


def membership_lapse(*, actor, membership: Membership, reason: str) -> Membership:
    if not (reason or "").strip():
        raise ValidationFailed(_("A reason is required."), code="reason_required")
    with transaction.atomic():
        membership = _locked_membership(actor, membership, "verify")
        was_visible = badge_visible(membership.driver)
        MEMBERSHIP.apply(membership, Action.LAPSE, actor=actor, note=reason)
        if was_visible:
            _notify_badge_change(membership.driver)
    return membership


def membership_transfer(
    *, actor, membership: Membership, to_branch: OrgUnit, note: str = ""
) -> Membership:
    """Move a member to another branch; both the sending and receiving side must be in scope."""
    with transaction.atomic():
        membership = _locked_membership(actor, membership, "change")
        _require(actor, "change", to_branch)
        _branch(to_branch)
        if to_branch.pk == membership.branch_id:
            raise ValidationFailed(_("The member is already in this branch."))
        MEMBERSHIP.apply(
            membership,
            Action.TRANSFER,
            actor=actor,
            note=note,
            changes={"branch": to_branch},
            branch=to_branch,
        )
        driver = membership.driver
        driver.branch = to_branch
        driver.save(update_fields=["branch", "updated_at"])
    return membership


def membership_check_in(
    *,
    actor,
    membership: Membership,
    mobile_branch: OrgUnit,
    home_organisation: str = "",
    note: str = "",
) -> Membership:
    """流动党员报到: a verified member registers with a mobile-member branch."""
    with transaction.atomic():
        membership = _locked_membership(actor, membership, "change")
        _require_placement(
            actor, membership.driver, mobile_branch, own_choices=(selectors.city_mobile_branches,)
        )
        if not (
            mobile_branch.kind == OrgUnit.Kind.BRANCH
            and mobile_branch.branch_type == OrgUnit.BranchType.MOBILE
        ):
            raise ValidationFailed(_("Mobile members check in to a mobile-member branch."))
        if membership.mobile_branch_id == mobile_branch.pk:
            return membership
        changes = {"mobile_branch": mobile_branch, "checked_in_at": timezone.now()}
        if home_organisation:
            changes["home_organisation"] = home_organisation
        MEMBERSHIP.apply(
            membership,
            Action.CHECK_IN,
            actor=actor,
            note=note,
            changes=changes,
            branch=mobile_branch,
        )
    return membership


def _is_self(actor, driver: Driver) -> bool:
    """Is `actor` the driver's own account (not a token or feed that happens to share an id)?"""
    return (
        acting_platform(actor) is None
        and getattr(actor, "is_authenticated", False)
        and driver.user_id is not None
        and driver.user_id == actor.pk
    )


def _require_placement(actor, driver: Driver, unit: OrgUnit, *, own_choices: tuple) -> None:
    """Placing a driver in a unit opens them to its staff: staff place drivers only in units
    they may change; a driver places themself in any unit their city offers them."""
    if _is_self(actor, driver):
        offered = (choices(driver) for choices in own_choices)
        if not any(choices.filter(pk=unit.pk).exists() for choices in offered):
            raise NotFound()
        return
    _require(actor, "change", unit)


def membership_check_out(*, actor, membership: Membership, note: str = "") -> Membership:
    with transaction.atomic():
        membership = _locked_membership(actor, membership, "change")
        MEMBERSHIP.apply(
            membership,
            Action.CHECK_OUT,
            actor=actor,
            note=note,
            changes={"mobile_branch": None, "checked_in_at": None},
            branch=membership.mobile_branch,
        )
    return membership


def _notify_member(membership: Membership, event: str, title: str, body: str) -> None:
    user = membership.driver.user
    if user is not None:
        notify_user(
            user=user,
            event=event,
            title=title,
            body=body,
            payload={"membership_id": membership.pk, "state": membership.state},
        )


def _notify_badge_change(driver: Driver) -> None:
    payload = {
        "license_masked": driver.license_masked,
        "driver_id": driver.pk,
        "badge": badge_visible(driver),
    }
    for affiliation in driver.affiliations.select_related("platform").filter(is_active=True):
        notify_platform(
            platform=affiliation.platform,
            event="badge.changed",
            payload={**payload, "company_id": affiliation.platform.company_id},
        )


# Badge consent -------------------------------------------------------------------------------


def badge_consent_set(*, actor, driver: Driver, consented: bool) -> Driver:
    """Switch the badge on or off. Only the driver themselves may do this."""
    if driver.user_id is None or getattr(actor, "pk", None) != driver.user_id:
        raise NotFound()
    with transaction.atomic():
        driver = (
            Driver.objects.select_for_update(of=("self",))
            .select_related("membership")
            .get(pk=driver.pk)
        )
        if consented and not _is_verified_member(driver):
            raise InvalidTransition(
                _("Only verified party members can show the badge."), code="not_verified"
            )
        if driver.badge_consent == consented:
            return driver
        driver.badge_consent = consented
        driver.badge_consent_changed_at = timezone.now()
        driver.save(update_fields=["badge_consent", "badge_consent_changed_at", "updated_at"])
        BadgeConsentEvent.objects.create(driver=driver, consented=consented, actor=actor)
        audit.record(
            actor=actor,
            action="badge.consent" if consented else "badge.withdraw",
            obj=driver,
            summary=driver.name,
        )
        _notify_badge_change(driver)
    return driver


def _is_verified_member(driver: Driver) -> bool:
    membership = getattr(driver, "membership", None)
    return bool(
        membership
        and membership.state == State.VERIFIED
        and membership.category in PARTY_MEMBER_CATEGORIES
    )


# Contact pairs -------------------------------------------------------------------------------


def contact_pair_create(*, actor, member: Driver, driver: Driver) -> ContactPair:
    _require(actor, "change", member)
    _require(actor, "change", driver)
    if not _is_verified_member(member):
        raise ValidationFailed(_("Only a verified party member can look after other drivers."))
    if member.pk == driver.pk:
        raise ValidationFailed(_("A member cannot be paired with themselves."))
    try:
        with transaction.atomic():
            pair = ContactPair.objects.create(member=member, driver=driver, created_by=actor)
            audit.record(
                actor=actor,
                action="contact_pair.create",
                obj=pair,
                summary=f"{member.name} → {driver.name}",
            )
    except IntegrityError as exc:
        raise Conflict(_("These two are already paired.")) from exc
    return pair


def contact_pair_delete(*, actor, pair: ContactPair) -> None:
    _require(actor, "change", pair.member)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="contact_pair.delete",
            obj=pair,
            summary=f"{pair.member.name} → {pair.driver.name}",
        )
        pair.delete()
