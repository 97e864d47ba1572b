"""Rules as data, due dates on the working calendar (time-machine), the weekly digest."""

import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import Notification
from redwheel.core.scheduler import PERIODIC_JOBS
from redwheel.party.recruitment import services
from redwheel.party.recruitment.models import DigestSent
from redwheel.party.recruitment.tests.helpers import apply

pytestmark = pytest.mark.django_db


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("applied", "due"),
    [
        (date(2025, 9, 1), date(2025, 10, 9)),  # 1 month → 1 Oct, National Day week off
        (date(2026, 1, 15), date(2026, 2, 24)),  # → 15 Feb, Spring Festival off until 23 Feb
        (date(2026, 1, 14), date(2026, 2, 14)),  # → Sat 14 Feb, a make-up working day (调休)
        (date(2026, 3, 7), date(2026, 4, 7)),  # an ordinary Tuesday stays
    ],
)
def test_the_talk_is_due_a_month_after_the_letter_on_a_working_day(city, applied, due):
    with time_machine.travel(_at(applied + timedelta(days=2)), tick=False):
        case = apply(city, on=applied)
    assert case.current_step == 2 and case.due_on == due


def test_the_3_and_6_month_limits_after_the_branch_meeting(city):
    from redwheel.party.recruitment.tests.helpers import OFFSETS, advance

    start = date(2024, 1, 2)
    with time_machine.travel(_at(date(2025, 6, 1)), tick=False):
        case = advance(city, apply(city, on=start), 15)
    meeting = start + timedelta(days=OFFSETS[15])  # 2025-04-06
    assert meeting == date(2025, 4, 6)
    assert case.due_on == date(2025, 7, 7)  # 3 months → Sun 6 Jul → Monday
    assert case.limit_on == date(2025, 10, 6)  # 6 months, a calendar limit
    with time_machine.travel(_at(date(2025, 10, 6)), tick=False), pytest.raises(InvalidTransition):
        services.case_restart(actor=city.admin, case=case, reason="早")
    with time_machine.travel(_at(date(2025, 10, 20)), tick=False):
        with pytest.raises(ValidationFailed) as late:  # step 16 can no longer be recorded
            services.case_step_complete(
                actor=city.admin, case=case, done_on=date(2025, 10, 20), values={}
            )
        assert late.value.code == "over_limit"
        case = services.case_restart(actor=city.admin, case=case, reason="超过6个月")
    assert case.current_step == 10


def test_a_new_version_changes_due_dates_for_new_cases_only(city):
    committee = testing.staff(city.root, "staff")
    with time_machine.travel(_at(date(2026, 3, 9)), tick=False):
        old_case = apply(city, on=date(2026, 3, 2))
        v1 = old_case.version
        draft = services.version_draft(actor=committee, version=v1, note="谈话两个月内")
        step2 = draft.steps.get(number=2)
        services.version_step_update(
            actor=committee, step=step2, name=step2.name, responsible=step2.responsible,
            materials=step2.materials, fields=step2.fields,
            rules_=[{"kind": "within", "after_step": 1, "months": 2}],
        )  # fmt: skip
        services.version_publish(actor=committee, version=draft)
        new_case = apply(city, on=date(2026, 3, 2))
    old_case.refresh_from_db()
    v1.refresh_from_db()
    assert v1.state == "retired" and old_case.version == v1
    assert old_case.due_on == date(2026, 4, 2)
    assert new_case.version == draft and new_case.due_on == date(2026, 5, 6)  # 2 May → 6 May


def test_only_committee_staff_edit_the_pipeline_and_published_versions_never_change(city):
    case = apply(city)
    version = case.version
    for outsider in (
        testing.staff(city.branch_a, "secretary"),
        testing.staff(city.root, "viewer"),
        testing.staff(testing.city().root, "staff"),
    ):
        with pytest.raises(NotFound):
            services.version_draft(actor=outsider, version=version)
    committee = testing.staff(city.root, "staff")
    with pytest.raises(InvalidTransition) as refused:
        step = version.steps.get(number=2)
        services.version_step_update(
            actor=committee, step=step, name="x", responsible="applicant", materials=[],
            fields=[], rules_=[],
        )  # fmt: skip
    assert refused.value.code == "not_draft"


def test_a_bad_rule_is_refused(city):
    committee = testing.staff(city.root, "staff")
    draft = services.version_draft(actor=committee, version=apply(city).version)
    step = draft.steps.get(number=2)
    with pytest.raises(ValidationFailed) as refused:
        services.version_step_update(
            actor=committee, step=step, name="谈话", responsible="branch_committee",
            materials=[], fields=[], rules_=[{"kind": "whenever"}],
        )  # fmt: skip
    assert refused.value.code == "invalid_definition"


# Weekly digest ---------------------------------------------------------------------------------


def _digests(user):
    return Notification.objects.filter(recipient=user, event="recruitment.digest")


def test_digest_is_sent_once_per_week_per_secretary_and_again_next_week(city):
    secretary = testing.staff(city.branch_a, "secretary")
    other_branch = testing.staff(city.branch_b, "secretary")
    with time_machine.travel(_at(date(2026, 3, 2)), tick=False):
        overdue = apply(city, on=date(2026, 1, 5))  # talk due 5 Feb: overdue
    with time_machine.travel(_at(date(2026, 3, 9)), tick=False):  # Monday, ISO week 11
        first = services.send_weekly_digests()
        second = services.send_weekly_digests()
    assert first["sent"] == 1 and second["sent"] == 0
    [message] = _digests(secretary)
    assert overdue.driver.name in message.body and "OVERDUE" in message.body
    assert not _digests(other_branch).exists()
    with time_machine.travel(_at(date(2026, 3, 13)), tick=False):  # same ISO week
        assert services.send_weekly_digests()["sent"] == 0
    with time_machine.travel(_at(date(2026, 3, 16)), tick=False):  # next week
        assert services.send_weekly_digests()["sent"] == 1
    assert _digests(secretary).count() == 2
    assert DigestSent.objects.filter(secretary=secretary).count() == 2


def test_digest_job_is_registered():
    assert PERIODIC_JOBS["recruitment_weekly_digest"][1].endswith("tasks.send_weekly_digests")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_digest():
    city = testing.city()
    secretary = testing.staff(city.branch_a, "secretary")
    apply(city, on=date.today() - timedelta(days=60))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(services.send_weekly_digests())
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
    assert sum(r["sent"] for r in results) == 1
    assert _digests(secretary).count() == 1
