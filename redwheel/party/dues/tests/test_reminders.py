"""Reminders before a month ends and after months in arrears: once per member, kind and month,
from the periodic job, with the delivery log."""

import threading
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from redwheel import testing
from redwheel.core.models import Notification
from redwheel.core.sms import MemorySmsBackend
from redwheel.party.dues import reminders, selectors, services
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import Reminder
from redwheel.party.dues.tests.factories import member

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def setup_member(city, *, income="4000", quarter=date(2026, 4, 1)):
    m = member(city)
    secretary = testing.staff(city.branch_a, "secretary")
    with time_machine.travel(at(2026, 5, 2, 9), tick=False):
        services.assessment_save(
            actor=secretary, member=m, basis="wage", income=income, quarter=quarter
        )
    return m, secretary


def test_the_month_end_reminder_goes_once_from_three_days_before(city):
    m, secretary = setup_member(city)
    with time_machine.travel(at(2026, 5, 27, 23, 0), tick=False):
        assert reminders.send_due() == 0  # before the 28th of a 31-day month
    with time_machine.travel(at(2026, 5, 28, 8, 0), tick=False):
        assert reminders.send_due() == 1
        assert reminders.send_due() == 0  # the next hourly run: already sent
    with time_machine.travel(at(2026, 5, 31, 20, 0), tick=False):
        assert reminders.send_due() == 0
    row = Reminder.objects.get()
    assert (row.member, row.kind, row.period, row.amount) == (m, "month_end", date(2026, 5, 1),
                                                              D("40.00"))  # fmt: skip
    assert row.notification.recipient == m.user
    assert row.notification.status == Notification.Status.SENT  # the inbox row
    assert "2026-05" in row.notification.title and "40.00" in row.notification.title
    assert row.sms_notification is None  # SMS is off unless the rules say so
    # A new month, a new reminder; a month paid in time gets none.
    with time_machine.travel(at(2026, 6, 10), tick=False):
        services.payment_record(
            actor=secretary, member=m, period=date(2026, 6, 1), amount="40", method="cash"
        )
    with time_machine.travel(at(2026, 6, 28, 9), tick=False):  # June has 30 days: from the 27th
        assert reminders.send_due() == 0
    with time_machine.travel(at(2026, 7, 29, 9), tick=False):
        assert reminders.send_due() == 1
    assert Reminder.objects.filter(kind="month_end").count() == 2


def test_the_arrears_reminder_after_three_months_once_a_month(city):
    _m, _secretary = setup_member(city, quarter=date(2026, 1, 1))
    with time_machine.travel(at(2026, 3, 5, 9), tick=False):
        assert reminders.send_due() == 0  # January and February: two months
    with time_machine.travel(at(2026, 4, 2, 9), tick=False):
        assert reminders.send_due() == 1  # January to March
        assert reminders.send_due() == 0
    with time_machine.travel(at(2026, 5, 2, 9), tick=False):
        assert reminders.send_due() == 1
    rows = Reminder.objects.filter(kind="arrears").order_by("period")
    assert [(r.period, r.months_in_arrears, r.amount) for r in rows] == [
        (date(2026, 4, 1), 3, D("120.00")), (date(2026, 5, 1), 4, D("160.00")),
    ]  # fmt: skip
    assert "4 months in arrears" in rows[1].notification.title


def test_the_settings_come_from_the_rules_version_in_force(city):
    _m, _secretary = setup_member(city, quarter=date(2026, 1, 1))
    committee = testing.staff(city.root, "staff")
    with time_machine.travel(at(2026, 3, 5, 9), tick=False):
        services.rules_publish(
            actor=committee, city=city.root, effective_from=date(2026, 4, 1),
            wage_bands=dues_rules.bands_to_json(dues_rules.DEFAULT.wage_bands),
            retired_bands=dues_rules.bands_to_json(dues_rules.DEFAULT.retired_bands),
            flat_amount=D("0.20"), remind_days_before_month_end=10, lapse_reminder_months=1,
            reminder_sms=True,
        )  # fmt: skip
    with time_machine.travel(at(2026, 4, 20, 9), tick=False):  # 30 − 10 = from the 20th
        assert reminders.send_due() == 2
    assert set(Reminder.objects.values_list("kind", flat=True)) == {"month_end", "arrears"}
    assert all(r.sms_notification is not None for r in Reminder.objects.all())
    assert MemorySmsBackend.outbox  # delivered by the (in-process) task


def test_members_without_an_account_or_not_owing_get_nothing(city):
    m, _secretary = setup_member(city)
    flat = member(city, "学生")
    with time_machine.travel(at(2026, 5, 2), tick=False):
        services.assessment_save(actor=flat.user, member=flat, basis="student")
        services.payment_record(
            actor=city.admin, member=flat, period=date(2026, 5, 1), amount="0.20", method="cash"
        )
    no_account = city.driver("无账号", account=False)
    from redwheel.drivers import services as drivers

    drivers.membership_verify(
        actor=city.admin,
        membership=drivers.membership_declare(
            actor=city.admin, driver=no_account, category="full", branch=no_account.branch
        ),
    )
    with time_machine.travel(at(2026, 5, 2), tick=False):
        services.assessment_save(actor=city.admin, member=no_account, basis="wage", income="1")
    with time_machine.travel(at(2026, 5, 30), tick=False):
        assert reminders.send_due() == 1
    assert list(Reminder.objects.values_list("member", flat=True)) == [m.pk]


def test_a_second_send_of_the_same_reminder_is_dropped(city):
    m, _secretary = setup_member(city)
    with time_machine.travel(at(2026, 5, 30), tick=False):
        dues = selectors.member_dues(m)
        first = reminders.remind(member=m, kind="month_end", period=date(2026, 5, 1), dues=dues)
        again = reminders.remind(member=m, kind="month_end", period=date(2026, 5, 1), dues=dues)
    assert first is not None and again is None
    assert Notification.objects.filter(event="dues.reminder.month_end").count() == 1


def test_the_job_is_registered_with_the_scheduler():
    from redwheel.core.scheduler import PERIODIC_JOBS

    assert PERIODIC_JOBS["party_dues_reminders"][1] == (
        "redwheel.party.dues.tasks.send_dues_reminders"
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_reminder():
    city = testing.city()
    members = [setup_member(city)[0] for _ in range(3)]
    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            results.append(reminders.send_due(now=at(2026, 5, 30, 9)))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(results) == 3
    for m in members:
        assert Reminder.objects.filter(member=m, kind="month_end").count() == 1
        assert (
            Notification.objects.filter(recipient=m.user, event="dues.reminder.month_end").count()
            == 1
        )
