"""Membership: the state machine and its transitions (declare, verify, reject, lapse,
transfer, check in and out)."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.notifications import notify_user
from redwheel.core.permissions import can
from redwheel.core.states import StateMachine, Transition
from redwheel.drivers import selectors
from redwheel.drivers.models import (
    PARTY_MEMBER_CATEGORIES,
    Category,
    Driver,
    Membership,
    MembershipActivity,
)
from redwheel.drivers.services._common import (
    Action,
    State,
    _branch,
    _is_self,
    _notify_badge_change,
    _require,
    badge_visible,
)
from redwheel.orgs.models import OrgUnit

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
