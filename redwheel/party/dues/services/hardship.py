"""Hardship relief (domain-rules §4): a member who cannot pay asks to pay less or nothing for
stated months; the branch agrees (its secretary), then the higher committee approves (a grant
with `change` on a unit above the member's branch, held by someone other than who agreed).

    requested ──agree──▶ agreed ──approve──▶ approved
        │                  │
        └──refuse / withdraw──▶ refused / withdrawn

Only an approved request changes what is due, for exactly its months.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, Role
from redwheel.accounts.permissions import ROLE_ACTIONS
from redwheel.core.dates import month_start
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.notifications import notify_user
from redwheel.core.permissions import get_or_404, is_unscoped
from redwheel.core.states import StateMachine, Transition
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import HardshipActivity, HardshipRequest
from redwheel.party.dues.services.common import (
    _is_self,
    _is_staff_for,
    _member_for,
    _person,
    _person_id,
    branch_of,
    now_or,
)

Status = HardshipRequest.Status
Action = HardshipActivity.Action
OPEN = (Status.REQUESTED, Status.AGREED)
MAX_SPAN_MONTHS = 12

HARDSHIP = StateMachine(
    activity_model=HardshipActivity,
    parent_field="request",
    audit_prefix="dues.hardship",
    state_field="status",
    from_field="from_status",
    to_field="to_status",
    changed_at_field="status_changed_at",
    audit_summary=lambda r: f"{r.member.name} {r.months_from:%Y-%m}–{r.months_to:%Y-%m}",
    # Reasons describe a member's hardship: they stay on the request, out of the audit log.
    note_in_audit=False,
    transitions={
        Action.REQUEST: Transition({None}, Status.REQUESTED),
        Action.AGREE: Transition({Status.REQUESTED}, Status.AGREED),
        Action.APPROVE: Transition({Status.AGREED}, Status.APPROVED),
        Action.REFUSE: Transition(OPEN, Status.REFUSED),
        Action.WITHDRAW: Transition(OPEN, Status.WITHDRAWN),
    },
)

_CHANGE_ROLES = frozenset(role for role, actions in ROLE_ACTIONS.items() if "change" in actions)


def _grants(actor) -> list[Grant]:
    pid = _person_id(actor)
    if pid is None:
        return []
    return list(Grant.objects.filter(user_id=pid).select_related("unit"))


def _is_branch_secretary(actor, request: HardshipRequest) -> bool:
    """A secretary of the member's branch (a secretary grant on it or on a unit above it)."""
    if is_unscoped(actor):
        return True
    path = request.branch.path
    return any(
        g.role == Role.SECRETARY and path.startswith(g.unit.path) for g in _grants(actor)
    ) and not _is_self(actor, request.member)


def _is_higher_committee(actor, request: HardshipRequest) -> bool:
    """A grant with `change` on a unit strictly above the member's branch, and not the person
    who agreed for the branch (two people decide)."""
    if is_unscoped(actor):
        return _person_id(actor) is None or _person_id(actor) != request.agreed_by_id
    path = request.branch.path
    above = any(
        g.role in _CHANGE_ROLES and path.startswith(g.unit.path) and path != g.unit.path
        for g in _grants(actor)
    )
    return (
        above and _person_id(actor) != request.agreed_by_id and not _is_self(actor, request.member)
    )


def _may_take(actor, request: HardshipRequest, action: str) -> bool:
    """Whether `actor` has a part in `action` on `request` (the state aside)."""
    if action == Action.AGREE:
        return _is_branch_secretary(actor, request)
    if action == Action.APPROVE:
        return _is_higher_committee(actor, request)
    if action == Action.REFUSE:
        if request.status == Status.AGREED:
            return _is_higher_committee(actor, request)
        return _is_branch_secretary(actor, request)
    if action == Action.WITHDRAW:
        pid = _person_id(actor)
        return (
            _is_self(actor, request.member)
            or (pid is not None and pid == request.requested_by_id)
            or is_unscoped(actor)
        )
    return False


def allowed_actions(*, actor, request: HardshipRequest) -> list[str]:
    """The steps `actor` may take on `request` now (for the buttons)."""
    try:
        fresh = _visible(actor, request)
    except NotFound:
        return []
    return [a for a in HARDSHIP.allowed_actions(fresh) if _may_take(actor, fresh, a)]


def _visible(actor, request) -> HardshipRequest:
    return get_or_404(
        actor,
        "view",
        HardshipRequest.objects.select_related("member", "member__membership", "branch"),
        pk=getattr(request, "pk", None),
    )


def _month(value, field: str) -> date:
    if not isinstance(value, date):
        raise ValidationFailed(_("Choose a month."), details={field: [_("Choose a month.")]})
    return month_start(value)


def hardship_request(
    *,
    actor,
    member,
    kind: str,
    months_from: date,
    months_to: date,
    reason: str,
    reduced_amount: Decimal | None = None,
    now: datetime | None = None,
) -> HardshipRequest:
    """Ask for relief for the months `months_from`–`months_to` (both included, at most 12):
    the member for themself, or their branch on their behalf."""
    driver = _member_for(actor, member, "change")
    if not (_is_self(actor, driver) or _is_staff_for(actor, driver)):
        raise NotFound()
    if kind not in HardshipRequest.Kind.values:
        raise ValidationFailed(_("Choose what is asked for."), details={"kind": [_("Choose.")]})
    first, last = _month(months_from, "months_from"), _month(months_to, "months_to")
    if last < first:
        raise ValidationFailed(
            _("The last month comes before the first."),
            details={"months_to": [_("The last month comes before the first.")]},
        )
    if len(dues_rules.months_between(first, last)) > MAX_SPAN_MONTHS:
        raise ValidationFailed(
            _("Ask for at most 12 months at a time."),
            details={"months_to": [_("Ask for at most 12 months at a time.")]},
        )
    amount = None
    if kind == HardshipRequest.Kind.REDUCE:
        try:
            amount = Decimal(str(reduced_amount))
        except (InvalidOperation, TypeError, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount > 100000:
            raise ValidationFailed(
                _("Enter the monthly amount the member can pay."),
                details={"reduced_amount": [_("Enter an amount of zero or more.")]},
            )
        amount = dues_rules.to_fen(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason."), details={"reason": [_("Give a reason.")]})
    with transaction.atomic():
        overlapping = HardshipRequest.objects.select_for_update().filter(
            member=driver,
            status__in=(*OPEN, Status.APPROVED),
            months_from__lte=last,
            months_to__gte=first,
        )
        if overlapping.exists():
            raise Conflict(
                _("There is already an open or approved request for some of these months."),
                code="hardship_overlaps",
            )
        request = HardshipRequest(
            member=driver,
            branch=branch_of(driver),
            kind=kind,
            months_from=first,
            months_to=last,
            reduced_amount=amount,
            reason=reason[:2000],
            requested_by=_person(actor),
        )
        HARDSHIP.apply(request, Action.REQUEST, actor=actor, now=now_or(now))
    return request


def _step(actor, request, action: str, note: str = "", now=None, **changes) -> HardshipRequest:
    fresh = _visible(actor, request)
    if not _may_take(actor, fresh, action):
        raise NotFound()
    with transaction.atomic():
        locked = (
            HardshipRequest.objects.select_for_update()
            .select_related("member", "branch")
            .get(pk=fresh.pk)
        )
        HARDSHIP.check(locked, action)
        if not _may_take(actor, locked, action):  # re-checked under the lock
            raise NotFound()
        HARDSHIP.apply(
            locked, action, actor=actor, note=note[:300], changes=changes,
            now=now_or(now),
        )  # fmt: skip
    return locked


def hardship_agree(*, actor, request: HardshipRequest, note: str = "", now=None):
    """The branch secretary agrees; the request goes to the higher committee."""
    now = now_or(now)
    return _step(actor, request, Action.AGREE, note, now, agreed_by=_person(actor), agreed_at=now)


def hardship_approve(*, actor, request: HardshipRequest, note: str = "", now=None):
    """The higher committee approves: the relief applies to the request's months."""
    now = now_or(now)
    done = _step(
        actor, request, Action.APPROVE, note, now, decided_by=_person(actor), decided_at=now
    )
    _tell_member(done, _("Your request for dues relief was approved."))
    return done


def hardship_refuse(*, actor, request: HardshipRequest, reason: str, now=None):
    """The branch (before agreeing) or the committee (after) refuses, saying why."""
    reason = (reason or "").strip()
    fresh = _visible(actor, request)
    if not _may_take(actor, fresh, Action.REFUSE):
        raise NotFound()
    if not reason:
        raise ValidationFailed(_("Say why."), details={"reason": [_("Say why.")]})
    now = now_or(now)
    done = _step(
        actor, fresh, Action.REFUSE, reason, now, decided_by=_person(actor), decided_at=now
    )
    _tell_member(done, _("Your request for dues relief was refused."))
    return done


def hardship_withdraw(*, actor, request: HardshipRequest, note: str = "", now=None):
    """The member (or whoever asked for them) withdraws an open request."""
    return _step(actor, request, Action.WITHDRAW, note, now)


def _tell_member(request: HardshipRequest, title: str) -> None:
    if request.member.user_id is None:
        return
    notify_user(
        user=request.member.user,
        event="dues.hardship_decided",
        title=title,
        body=f"{request.months_from:%Y-%m} – {request.months_to:%Y-%m}",
        payload={"hardship_request": request.pk, "status": request.status},
    )


__all__ = [
    "HARDSHIP",
    "allowed_actions",
    "hardship_agree",
    "hardship_approve",
    "hardship_refuse",
    "hardship_request",
    "hardship_withdraw",
]
