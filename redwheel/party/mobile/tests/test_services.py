"""The 报到 ledger through its services: formats, who records, transfers, and the six-month
reminder (time-machine: 5 months 29 days none, 6 months one, run again still one)."""

from datetime import date, datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ, local_date
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.models import AuditEntry, Notification
from redwheel.drivers import services as drivers
from redwheel.party.mobile import services
from redwheel.party.mobile.models import LedgerEntry, Reminder, Transfer

pytestmark = pytest.mark.django_db


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def away(city):
    """A member who checked in to mobile_branch_a on 10 January 2025, and its secretary."""
    member = city.member("流动")
    secretary = testing.staff(city.mobile_branch_a, "secretary", name="流动支部书记")
    with time_machine.travel(_at(2025, 1, 10, 9, 0), tick=False):
        drivers.membership_check_in(
            actor=member.user, membership=member.membership, mobile_branch=city.mobile_branch_a
        )
    member.membership.refresh_from_db()
    return city, member, secretary


def _save(actor, member, **fields):
    return services.ledger_entry_save(actor=actor, membership=member.membership, **fields)


# Recording the entry ---------------------------------------------------------------------------


@time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False)
def test_the_member_records_their_own_entry_for_the_current_check_in(away):
    city, member, _secretary = away
    entry = _save(
        member.user,
        member,
        national_ref=" dy-2025 000123 ",
        activity_card_no="ld0001",
        expected_return=date(2025, 12, 31),
        notes="在深圳跑车",
    )
    assert entry.mobile_branch == city.mobile_branch_a
    assert entry.checked_in_at == member.membership.checked_in_at
    assert entry.national_ref == "DY-2025000123"  # spaces dropped, letters upper-cased
    assert entry.activity_card_no == "LD0001"
    assert entry.away_since == date(2025, 1, 10)  # the check-in date by default
    audit = AuditEntry.objects.get(action="mobile.entry_create")
    assert "DY-2025000123" not in str(audit.data) + audit.summary  # field names only
    assert audit.data == {
        "fields": ["activity_card_no", "away_since", "expected_return", "national_ref", "notes"]
    }


@time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False)
def test_the_mobile_branch_secretary_corrects_the_same_entry(away):
    _city, member, secretary = away
    first = _save(member.user, member, national_ref="ABC123")
    second = _save(secretary, member, national_ref="ABC124", away_since=date(2024, 12, 20))
    assert second.pk == first.pk
    assert LedgerEntry.objects.count() == 1
    second.refresh_from_db()
    assert (second.national_ref, second.away_since) == ("ABC124", date(2024, 12, 20))
    assert second.recorded_by == secretary


@time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False)
def test_checking_in_again_opens_a_new_entry(away):
    city, member, _secretary = away
    first = _save(member.user, member)
    drivers.membership_check_out(actor=member.user, membership=member.membership)
    with time_machine.travel(_at(2025, 4, 1, 12, 0), tick=False):
        drivers.membership_check_in(
            actor=member.user, membership=member.membership, mobile_branch=city.mobile_branch_a
        )
        member.membership.refresh_from_db()
        second = _save(member.user, member)
    assert second.pk != first.pk
    assert second.away_since == date(2025, 4, 1)


@time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False)
@pytest.mark.parametrize(
    "fields, field",
    [
        ({"national_ref": "12345"}, "national_ref"),  # too short
        ({"national_ref": "A" * 33}, "national_ref"),  # too long
        ({"national_ref": "DY_2025/01"}, "national_ref"),  # other characters
        ({"national_ref": "-DY2025"}, "national_ref"),  # must start with a letter or digit
        ({"activity_card_no": "L01"}, "activity_card_no"),
        ({"activity_card_no": "流动证001"}, "activity_card_no"),
        ({"away_since": date(2025, 3, 2)}, "away_since"),  # the future
        ({"away_since": date(1999, 12, 31)}, "away_since"),
        ({"expected_return": date(2025, 1, 9)}, "expected_return"),  # before leaving
        ({"notes": "x" * 1001}, "notes"),
        ({"notes": "坏\x00字"}, "notes"),
    ],
)
def test_bad_entries_are_refused_field_by_field(away, fields, field):
    _city, member, _secretary = away
    with pytest.raises(ValidationFailed) as caught:
        _save(member.user, member, **fields)
    assert list(caught.value.details) == [field]
    assert not LedgerEntry.objects.exists()


@time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False)
@pytest.mark.parametrize(
    "fields",
    [
        {"national_ref": "123456", "activity_card_no": "0001"},  # the shortest accepted
        {"national_ref": "A" * 32, "activity_card_no": "B" * 20},  # the longest
        {"national_ref": "", "activity_card_no": ""},  # not known yet
        {"expected_return": date(2025, 1, 10)},  # back the day they left
    ],
)
def test_good_entries_are_accepted(away, fields):
    _city, member, _secretary = away
    assert _save(member.user, member, **fields).pk


def test_a_member_not_checked_in_has_no_entry(city):
    member = city.member()
    with pytest.raises(ValidationFailed) as caught:
        _save(member.user, member)
    assert caught.value.code == "not_checked_in"


@time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False)
def test_only_the_member_and_the_mobile_branch_record(away):
    city, member, _secretary = away
    home_branch = testing.staff(city.branch_a, "secretary")  # sees the member, not the ledger
    others = [
        home_branch,
        testing.staff(city.mobile_branch_a, "viewer"),
        testing.staff(city.committee_b, "staff"),
        city.member("别人").user,
    ]
    for actor in others:
        with pytest.raises(NotFound):
            _save(actor, member, national_ref="ABC123")
    assert not LedgerEntry.objects.exists()
    foreign = testing.city()
    with pytest.raises(NotFound):
        _save(testing.staff(foreign.root), member)


# Transfers -------------------------------------------------------------------------------------


@time_machine.travel(_at(2025, 8, 1, 12, 0), tick=False)
def test_a_transfer_is_recorded_not_executed(away):
    _city, member, secretary = away
    entry = _save(member.user, member)
    transfer = services.transfer_record(
        actor=secretary,
        entry=entry,
        to_organisation="深圳市某街道党工委",
        transferred_on=date(2025, 7, 30),
        reference="ZJ-2025-88",
    )
    assert Transfer.objects.get() == transfer
    member.membership.refresh_from_db()
    assert member.membership.mobile_branch is not None  # still checked in: nothing executed
    assert AuditEntry.objects.filter(action="mobile.transfer", object_id=str(entry.pk)).exists()


@time_machine.travel(_at(2025, 8, 1, 12, 0), tick=False)
@pytest.mark.parametrize(
    "fields, field",
    [
        ({"to_organisation": "  "}, "to_organisation"),
        ({"transferred_on": date(2025, 8, 2)}, "transferred_on"),
        ({"transferred_on": date(2025, 1, 9)}, "transferred_on"),
    ],
)
def test_bad_transfers_are_refused(away, fields, field):
    _city, member, secretary = away
    entry = _save(member.user, member)
    kwargs = {"to_organisation": "某党组织", "transferred_on": date(2025, 7, 30), **fields}
    with pytest.raises(ValidationFailed) as caught:
        services.transfer_record(actor=secretary, entry=entry, **kwargs)
    assert list(caught.value.details) == [field]
    assert not Transfer.objects.exists()


@time_machine.travel(_at(2025, 8, 1, 12, 0), tick=False)
def test_the_member_cannot_record_their_own_transfer(away):
    _city, member, _secretary = away
    entry = _save(member.user, member)
    with pytest.raises(NotFound):
        services.transfer_record(
            actor=member.user, entry=entry, to_organisation="某", transferred_on=date(2025, 7, 1)
        )


# The six-month reminder ------------------------------------------------------------------------


def _reminders():
    return Notification.objects.filter(event="party.mobile.six_months")


def test_the_six_month_reminder_comes_once(away):
    _city, member, secretary = away
    with time_machine.travel(_at(2025, 7, 9, 23, 50), tick=False):  # 5 months 29 days
        assert services.remind_due() == 0
    assert not Reminder.objects.exists()
    assert not _reminders().exists()
    with time_machine.travel(_at(2025, 7, 10, 0, 10), tick=False):  # 6 months
        assert services.remind_due() == 1
        assert services.remind_due() == 0  # run again
    with time_machine.travel(_at(2025, 9, 1, 8, 0), tick=False):
        assert services.remind_due() == 0
    assert Reminder.objects.count() == 1
    assert sorted(_reminders().values_list("recipient_id", flat=True)) == sorted(
        [secretary.pk, member.user_id]
    )
    # No entry was recorded: the job opened one from the check-in date.
    entry = LedgerEntry.objects.get()
    assert entry.away_since == date(2025, 1, 10)
    assert entry.reminder.due_on == date(2025, 7, 10)
    assert AuditEntry.objects.filter(action="mobile.reminder").count() == 1


def test_the_reminder_counts_from_the_day_the_member_left(away):
    _city, member, _secretary = away
    with time_machine.travel(_at(2025, 3, 1, 12, 0), tick=False):
        _save(member.user, member, away_since=date(2024, 8, 31))
    # 31 August + 6 months is the end of February: already due on 1 March.
    with time_machine.travel(_at(2025, 3, 1, 13, 0), tick=False):
        assert services.remind_due() == 1
    assert Reminder.objects.get().due_on == date(2025, 2, 28)


def test_no_reminder_after_a_transfer_or_a_check_out(away, city):
    _city, member, secretary = away
    other = city.member("已转出")
    with time_machine.travel(_at(2025, 1, 10, 9, 0), tick=False):
        drivers.membership_check_in(
            actor=other.user, membership=other.membership, mobile_branch=city.mobile_branch_a
        )
    other.membership.refresh_from_db()
    with time_machine.travel(_at(2025, 6, 1, 12, 0), tick=False):
        entry = _save(other.user, other)
        services.transfer_record(
            actor=secretary, entry=entry, to_organisation="某", transferred_on=date(2025, 5, 30)
        )
        drivers.membership_check_out(actor=member.user, membership=member.membership)
    with time_machine.travel(_at(2025, 8, 1, 12, 0), tick=False):
        assert services.remind_due() == 0
    assert not Reminder.objects.exists()


def test_a_second_worker_with_the_same_list_sends_nothing(away):
    """Two workers found the same due entry: the second one's run, under the lock, sees the
    first one's reminder; and the database refuses a second row whatever the code does."""
    _city, _member, _secretary = away
    with time_machine.travel(_at(2025, 8, 1, 12, 0), tick=False):
        today = local_date()
        due = services._due_check_ins(today)
        assert len(due) == 1
        assert services.remind_due() == 1
        assert services._remind_one(*due[0], today) is False
    assert Reminder.objects.count() == 1
    assert _reminders().count() == 2  # the secretary and the member, once each
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(entry=LedgerEntry.objects.get(), due_on=date(2025, 7, 10))


def test_the_secretary_is_found_above_when_the_branch_has_none(city):
    member = city.member("流动")
    committee_staff = testing.staff(city.committee_a, "staff", name="企业党委")
    with time_machine.travel(_at(2025, 1, 10, 9, 0), tick=False):
        drivers.membership_check_in(
            actor=member.user, membership=member.membership, mobile_branch=city.mobile_branch_a
        )
    with time_machine.travel(_at(2025, 7, 10, 12, 0), tick=False):
        assert services.remind_due() == 1
    assert set(_reminders().values_list("recipient_id", flat=True)) == {
        committee_staff.pk,
        member.user_id,
    }
