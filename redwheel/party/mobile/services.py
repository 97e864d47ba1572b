"""Writes for the 报到 ledger of mobile members. Each checks permission itself, runs in one
transaction and writes one audit entry.

- `ledger_entry_save`: the member (their own) or the mobile branch (`change` on it) records the
  numbers, away-since and expected-return dates of the member's current check-in.
- `transfer_record`: the mobile branch records that the party relationship was transferred
  (组织关系转接) — where to, when, the national system's reference. Nothing is executed: the
  check-in stays until someone checks the member out.
- `remind_due`: the periodic job. A member away six months (from `away_since`, or the check-in
  date when no entry was recorded) gets one reminder, and so does the mobile branch's
  secretary, through the outbox; a unique row per ledger entry makes it once only.

Formats accepted (spaces are dropped and letters upper-cased first):
- national system reference: 6–32 letters, digits or hyphens, starting with a letter or digit;
- 流动党员活动证 number: 4–20 letters, digits or hyphens, starting with a letter or digit;
- away since: not in the future and not before 2000; expected return: not before away since.
Both numbers may be left empty until they are known.
"""

import re
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, Role
from redwheel.core import audit
from redwheel.core.dates import local_date
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.notifications import notify_user
from redwheel.core.permissions import SystemActor, acting_platform, can, require
from redwheel.core.validators import UNSAFE_TEXT_MESSAGE, contains_unsafe_text
from redwheel.drivers.models import Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.mobile.models import LedgerEntry, Reminder, Transfer

AWAY_LIMIT = relativedelta(months=6)
EARLIEST = date(2000, 1, 1)
NATIONAL_REF = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,31}$")
CARD_NO = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,19}$")
MAX_NOTES = 1000
JOB_ACTOR = SystemActor.operator("party-mobile-reminders")


def reminder_due_on(away_since: date) -> date:
    """Six calendar months after leaving (31 August → 28/29 February)."""
    return away_since + AWAY_LIMIT


def months_away(away_since: date, today: date | None = None) -> int:
    """Whole months away by today."""
    delta = relativedelta(today or local_date(), away_since)
    return max(delta.years * 12 + delta.months, 0)


def is_checked_in(membership: Membership) -> bool:
    return membership.mobile_branch_id is not None and membership.checked_in_at is not None


def default_away_since(membership: Membership) -> date:
    return local_date(membership.checked_in_at)


def _is_self(actor, driver: Driver) -> bool:
    return (
        acting_platform(actor) is None
        and getattr(actor, "is_authenticated", False)
        and driver.user_id is not None
        and driver.user_id == actor.pk
    )


def _person(actor):
    return (
        actor if getattr(actor, "is_authenticated", False) and not acting_platform(actor) else None
    )


# Validation ------------------------------------------------------------------------------------


def _number(value: str, pattern: re.Pattern, field: str, message: str, errors: dict) -> str:
    value = re.sub(r"\s+", "", value or "").upper()
    if value and not pattern.match(value):
        errors[field] = [message]
    return value


def _clean_text(value: str, limit: int, field: str, errors: dict) -> str:
    value = (value or "").strip()
    if contains_unsafe_text(value):
        errors[field] = [str(UNSAFE_TEXT_MESSAGE)]
    if len(value) > limit:
        errors[field] = [_("At most %(n)s characters.") % {"n": limit}]
    return value


def _raise(errors: dict) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, details=errors)


def _entry_fields(membership, national_ref, activity_card_no, away_since, expected_return, notes):
    errors: dict[str, list[str]] = {}
    today = local_date()
    fields = {
        "national_ref": _number(
            national_ref,
            NATIONAL_REF,
            "national_ref",
            _("A national system reference is 6–32 letters, digits or hyphens."),
            errors,
        ),
        "activity_card_no": _number(
            activity_card_no,
            CARD_NO,
            "activity_card_no",
            _("An activity card number is 4–20 letters, digits or hyphens."),
            errors,
        ),
        "away_since": away_since or default_away_since(membership),
        "expected_return": expected_return,
        "notes": _clean_text(notes, MAX_NOTES, "notes", errors),
    }
    if fields["away_since"] > today:
        errors["away_since"] = [_("The date you left cannot be in the future.")]
    elif fields["away_since"] < EARLIEST:
        errors["away_since"] = [_("The date you left cannot be before 2000.")]
    if expected_return is not None and expected_return < fields["away_since"]:
        errors["expected_return"] = [_("The expected return cannot be before the date you left.")]
    _raise(errors)
    return fields


# The ledger ------------------------------------------------------------------------------------


def _current_entry(membership: Membership) -> LedgerEntry | None:
    return (
        LedgerEntry.objects.select_for_update()
        .filter(membership=membership, checked_in_at=membership.checked_in_at)
        .first()
    )


def ledger_entry_save(
    *,
    actor,
    membership: Membership,
    national_ref: str = "",
    activity_card_no: str = "",
    away_since: date | None = None,
    expected_return: date | None = None,
    notes: str = "",
) -> LedgerEntry:
    """Record (or correct) the 报到 entry of the member's current check-in."""
    require(actor, "view", membership)
    with transaction.atomic():
        m = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("driver", "mobile_branch")
            .get(pk=membership.pk)
        )
        if not _is_self(actor, m.driver) and not (
            m.mobile_branch_id and can(actor, "change", m.mobile_branch)
        ):
            raise NotFound()
        if not is_checked_in(m):
            raise ValidationFailed(
                _("The member is not checked in to a mobile branch."), code="not_checked_in"
            )
        fields = _entry_fields(
            m, national_ref, activity_card_no, away_since, expected_return, notes
        )
        entry = _current_entry(m)
        created = entry is None
        if created:
            entry = LedgerEntry(
                membership=m, mobile_branch=m.mobile_branch, checked_in_at=m.checked_in_at
            )
        changed = [name for name, value in fields.items() if getattr(entry, name) != value]
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.recorded_by = _person(actor)
        entry.save()
        audit.record(
            actor=actor,
            action="mobile.entry_create" if created else "mobile.entry_update",
            obj=entry,
            summary=m.driver.name,
            data={"fields": sorted(changed)},  # which fields, not the numbers themselves
        )
    return entry


def transfer_record(
    *,
    actor,
    entry: LedgerEntry,
    to_organisation: str,
    transferred_on: date,
    reference: str = "",
    note: str = "",
) -> Transfer:
    """The mobile branch records a transfer of the member's party relationship."""
    require(actor, "view", entry)
    with transaction.atomic():
        e = (
            LedgerEntry.objects.select_for_update(of=("self",))
            .select_related("mobile_branch", "membership__driver")
            .get(pk=entry.pk)
        )
        require(actor, "change", e.mobile_branch)
        errors: dict[str, list[str]] = {}
        to_organisation = _clean_text(to_organisation, 150, "to_organisation", errors)
        if not to_organisation:
            errors["to_organisation"] = [_("Name the organisation the relationship went to.")]
        reference = _clean_text(reference, 40, "reference", errors)
        note = _clean_text(note, 300, "note", errors)
        if transferred_on > local_date():
            errors["transferred_on"] = [_("A transfer is recorded once it has happened.")]
        elif transferred_on < e.away_since:
            errors["transferred_on"] = [_("The transfer cannot be before the member left.")]
        _raise(errors)
        transfer = Transfer.objects.create(
            entry=e,
            to_organisation=to_organisation,
            transferred_on=transferred_on,
            reference=reference,
            note=note,
            recorded_by=_person(actor),
        )
        audit.record(
            actor=actor,
            action="mobile.transfer",
            obj=e,
            summary=e.membership.driver.name,
            data={"to": to_organisation, "on": transferred_on.isoformat()},
        )
    return transfer


# The six-month reminder ------------------------------------------------------------------------


def branch_secretaries(unit: OrgUnit) -> list:
    """Who answers for a mobile branch: its secretaries, else its organisers, else the nearest
    unit above with a secretary, organiser or staff grant."""
    levels = [unit.path, *reversed(unit.ancestor_paths())]
    for index, path in enumerate(levels):
        roles = (Role.SECRETARY, Role.ORGANISER) + ((Role.STAFF,) if index else ())
        for role in roles:
            users = [
                g.user
                for g in Grant.objects.filter(unit__path=path, role=role, user__is_active=True)
                .select_related("user")
                .order_by("id")
            ]
            if users:
                return list({u.pk: u for u in users}.values())
    return []


def _due_check_ins(today: date) -> list[tuple[int, datetime]]:
    current = Membership.objects.filter(
        state=Membership.State.VERIFIED,
        mobile_branch__isnull=False,
        checked_in_at__isnull=False,
    ).values_list("pk", "checked_in_at")
    entries = {
        (e.membership_id, e.checked_in_at): e
        for e in LedgerEntry.objects.filter(membership__mobile_branch__isnull=False)
        .select_related("reminder")
        .prefetch_related("transfers")
    }
    due = []
    for pk, checked_in_at in current:
        entry = entries.get((pk, checked_in_at))
        if entry is not None and (hasattr(entry, "reminder") or entry.transfers.all()):
            continue
        away_since = entry.away_since if entry else local_date(checked_in_at)
        if reminder_due_on(away_since) <= today:
            due.append((pk, checked_in_at))
    return due


def _remind_one(pk: int, checked_in_at: datetime, today: date) -> bool:
    with transaction.atomic():
        m = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("driver__user", "mobile_branch")
            .filter(pk=pk, checked_in_at=checked_in_at, mobile_branch__isnull=False)
            .first()
        )
        if m is None:  # checked out meanwhile
            return False
        entry = _current_entry(m)
        created = entry is None
        if created:
            entry = LedgerEntry.objects.create(
                membership=m,
                mobile_branch=m.mobile_branch,
                checked_in_at=m.checked_in_at,
                away_since=default_away_since(m),
            )
        due_on = reminder_due_on(entry.away_since)
        if due_on > today or entry.transfers.exists():
            return False
        secretaries = branch_secretaries(m.mobile_branch)
        member = m.driver.user if m.driver.user_id and m.driver.user.is_active else None
        recipients = [*secretaries, *([member] if member else [])]
        try:
            with transaction.atomic():
                Reminder.objects.create(entry=entry, due_on=due_on, recipients=len(recipients))
        except IntegrityError:  # another worker reminded this entry first
            return False
        names = {
            "name": m.driver.name,
            "branch": m.mobile_branch.name,
            "since": entry.away_since.isoformat(),
        }
        for user in secretaries:
            notify_user(
                user=user,
                event="party.mobile.six_months",
                title=_("%(name)s has been away six months") % names,
                body=_(
                    "%(name)s, checked in to %(branch)s, has been away since %(since)s. The "
                    "rules ask that the party relationship is now transferred (应转尽转); "
                    "record the transfer in the 报到 ledger once it is done."
                )
                % names,
                payload={"url": reverse("mobile_members:member", args=[m.pk])},
            )
        if member is not None:
            notify_user(
                user=member,
                event="party.mobile.six_months",
                title=_("You have been away from your home branch for six months"),
                body=_(
                    "You have been away since %(since)s. The rules ask that your party "
                    "relationship is now transferred (应转尽转); the secretary of %(branch)s "
                    "can help you."
                )
                % names,
                payload={"url": reverse("mobile_members:me")},
            )
        audit.record(
            actor=JOB_ACTOR,
            action="mobile.reminder",
            obj=entry,
            summary=m.driver.name,
            data={
                "due_on": due_on.isoformat(),
                "recipients": len(recipients),
                "entry_created": created,
            },
        )
    return True


def remind_due(now: datetime | None = None) -> int:
    """The periodic job: remind every member away six months, once per ledger entry."""
    today = local_date(now)
    return sum(_remind_one(pk, at, today) for pk, at in _due_check_ins(today))
