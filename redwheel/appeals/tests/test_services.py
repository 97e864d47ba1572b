"""Routing, the state machine, paused clocks, notifications and the escalation job."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from redwheel import testing
from redwheel.appeals import services
from redwheel.appeals.models import Activity, Assignment, Case, DeadlinePolicy, Status
from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import Notification
from redwheel.drivers.services import contact_pair_create

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SH)


def file(city, driver, *, now=MONDAY, category="income", **extra):
    case, created = services.case_file(
        actor=driver.user,
        driver=driver,
        category=category,
        title="抽成过高",
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
        now=now,
        **extra,
    )
    assert created
    return case


@pytest.fixture
def webhook(city):
    city.platform_a.webhook_url = "https://platform-a.example/hook"
    city.platform_a.webhook_secret = "s3cret"
    city.platform_a.save()
    return city.platform_a


def test_level_one_is_the_contact_member_else_the_branch(city):
    driver = city.driver()
    case = file(city, driver)
    assert (case.level, case.unit, case.assignee) == (1, city.branch_a, None)

    member = city.member()
    other = city.driver()
    contact_pair_create(actor=city.admin, member=member, driver=other)
    paired = file(city, other)
    assert paired.level == 1 and paired.assignee == member.user
    assert paired.unit == member.membership.branch


def test_escalation_walks_the_chain_and_stops_at_the_top(city):
    driver = city.driver()
    case = file(city, driver)
    staff = testing.staff(city.branch_a)
    expected = [(2, city.mobile_branch_a), (3, city.committee_a), (4, city.root)]
    for level, unit in expected:
        case = services.case_escalate(
            actor=city.admin, case=case, reason="需要上级协调", now=MONDAY
        )
        assert (case.level, case.unit, case.status) == (level, unit, Status.SUBMITTED)
    assert case.escalations == 3
    with pytest.raises((InvalidTransition, NotFound)):
        services.case_escalate(actor=staff, case=case, reason="再上", now=MONDAY)
    assert services.allowed_actions(city.admin, case).count("escalate") == 0
    assert list(case.assignments.values_list("level", flat=True)) == [1, 2, 3, 4]


def test_state_machine_happy_path_and_timeline(city, webhook):
    driver = city.driver()
    handler = testing.staff(city.branch_a, role="secretary")
    case = file(city, driver)
    services.case_accept(actor=handler, case=case, now=MONDAY + timedelta(hours=1))
    case = services.case_answer(
        actor=handler,
        case=case,
        answer="已与平台核实，退还多扣部分。",
        now=MONDAY + timedelta(hours=3),
    )
    assert case.status == Status.ANSWERED
    services.case_rate(
        actor=driver.user, case=case, satisfied=True, now=MONDAY + timedelta(hours=4)
    )
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfied is True
    actions = list(case.activities.values_list("action", flat=True))
    assert actions == ["file", "accept", "answer", "rate"]
    stint = case.assignments.get()
    assert stint.responded_on_time and stint.answered_on_time and stint.satisfied
    events = set(Notification.objects.filter(recipient=driver.user).values_list("event", flat=True))
    assert {"appeal.accepted", "appeal.answered"} <= events
    hooks = Notification.objects.filter(channel="webhook", platform_ref=webhook.pk)
    assert set(hooks.values_list("event", flat=True)) == {"appeal.accepted", "appeal.answered"}
    assert all("phone" not in str(h.payload) for h in hooks)


def test_wrong_actor_and_wrong_state(city):
    driver = city.driver()
    other_branch = testing.staff(city.branch_b)
    case = file(city, driver)
    with pytest.raises(NotFound):
        services.case_accept(actor=other_branch, case=case)
    with pytest.raises(NotFound):  # drivers cannot accept their own case
        services.case_accept(actor=driver.user, case=case)
    with pytest.raises(InvalidTransition):
        services.case_rate(actor=driver.user, case=case, satisfied=True)
    with pytest.raises(ValidationFailed):
        services.case_answer(actor=city.admin, case=case, answer="  ")


def test_cannot_close_without_answer_constraint(city):
    from django.db import IntegrityError, transaction

    case = file(city, city.driver())
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)


def test_request_info_pauses_and_resume_recomputes(city):
    driver = city.driver()
    case = file(city, driver)  # L1 income: 2 working days, due Tue 17:30
    assert case.resolution_due_at == datetime(2026, 3, 3, 17, 30, tzinfo=SH)
    case = services.case_request_info(
        actor=city.admin, case=case, question="请上传账单截图", now=MONDAY + timedelta(hours=4)
    )
    assert case.status == Status.WAITING and case.escalate_at is None
    assert case.resolution_remaining == 13 * 3600
    # Nothing escalates while paused, however late it gets.
    assert services.escalate_due(now=MONDAY + timedelta(days=30))["escalated"] == 0
    resumed = datetime(2026, 3, 6, 15, 0, tzinfo=SH)
    case = services.case_provide_info(actor=driver.user, case=case, text="截图已补充", now=resumed)
    assert case.status == Status.ACCEPTED
    assert case.resolution_due_at == datetime(2026, 3, 10, 11, 0, tzinfo=SH)
    assert case.escalate_at == case.resolution_due_at


def test_reopen_within_window_keeps_history(city):
    driver = city.driver()
    case = file(city, driver)
    case = services.case_answer(actor=city.admin, case=case, answer="已处理", now=MONDAY)
    services.case_rate(actor=driver.user, case=case, satisfied=False, now=MONDAY)
    case = services.case_reopen(
        actor=driver.user, case=case, reason="问题没有解决", now=MONDAY + timedelta(days=2)
    )
    assert case.status == Status.SUBMITTED and case.reopen_count == 1 and case.answer == ""
    assert case.assignments.count() == 2
    assert "answer" in list(case.activities.values_list("action", flat=True))
    case = services.case_answer(actor=city.admin, case=case, answer="再次处理", now=MONDAY)
    with pytest.raises(InvalidTransition):
        services.case_reopen(
            actor=driver.user, case=case, reason="again", now=MONDAY + timedelta(days=8)
        )


def test_merge_duplicate_and_withdraw(city):
    driver = city.driver()
    first, second = file(city, driver), file(city, driver)
    merged = services.case_merge(actor=city.admin, case=second, into=first, now=MONDAY)
    assert merged.status == Status.MERGED and merged.merged_into == first
    other = file(city, city.driver())
    with pytest.raises(ValidationFailed):
        services.case_merge(actor=city.admin, case=other, into=first)
    services.case_withdraw(actor=driver.user, case=first, reason="已私下解决")
    first.refresh_from_db()
    assert first.status == Status.WITHDRAWN


def test_policy_override_and_safety_calendar_time(city):
    DeadlinePolicy.objects.create(
        level=1, category="", basis="calendar", response_minutes=30, resolution_minutes=60
    )
    case = file(city, city.driver())
    assert case.response_due_at == MONDAY + timedelta(minutes=30)
    saturday = datetime(2026, 3, 7, 22, 0, tzinfo=SH)
    DeadlinePolicy.objects.all().delete()
    safety = file(city, city.driver(), category="safety", now=saturday)
    assert safety.response_due_at == saturday + timedelta(hours=2)


def test_escalation_job_is_idempotent_and_exact_at_deadline(city):
    driver = city.driver()
    case = file(city, driver)
    due = case.response_due_at  # Monday 13:00
    assert services.escalate_due(now=due - timedelta(seconds=1))["escalated"] == 0
    assert services.escalate_due(now=due) == {"escalated": 1, "overdue": 0, "closed": 0}
    assert services.escalate_due(now=due) == {"escalated": 0, "overdue": 0, "closed": 0}
    case.refresh_from_db()
    assert case.level == 2 and case.escalations == 1
    stint = case.assignments.get(level=1)
    assert stint.end == Assignment.End.AUTO_ESCALATED and stint.responded_on_time is False
    assert Activity.objects.filter(case=case, action="auto_escalate").count() == 1
    assert Notification.objects.filter(recipient=driver.user, event="appeal.escalated").count() == 1


def test_top_level_overdue_is_flagged_once(city):
    case = file(city, city.driver())
    for _ in range(3):
        case = services.case_escalate(actor=city.admin, case=case, reason="上报", now=MONDAY)
    late = MONDAY + timedelta(days=40)
    assert services.escalate_due(now=late)["overdue"] == 1
    assert services.escalate_due(now=late)["overdue"] == 0
    case.refresh_from_db()
    assert case.level == 4 and case.overdue_notified_at == late


def test_job_closes_answered_cases_after_the_window(city):
    case = file(city, city.driver())
    services.case_answer(actor=city.admin, case=case, answer="已处理", now=MONDAY)
    assert services.escalate_due(now=MONDAY + timedelta(days=8))["closed"] == 1
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfied is None


def test_job_is_registered_with_the_scheduler():
    from redwheel.core.scheduler import PERIODIC_JOBS

    assert PERIODIC_JOBS["appeals_escalate_due"][1] == "redwheel.appeals.tasks.escalate_due_cases"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_escalate_each_case_exactly_once():
    city = testing.city()
    cases = [file(city, city.driver()) for _ in range(6)]
    due = max(c.response_due_at for c in cases)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(services.escalate_due(now=due))
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
    assert sum(r["escalated"] for r in results) == 6
    for case in cases:
        case.refresh_from_db()
        assert case.level == 2 and case.escalations == 1
        assert Activity.objects.filter(case=case, action="auto_escalate").count() == 1
