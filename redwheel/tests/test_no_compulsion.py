"""No compulsion (domain-rules §1, issue 14 deliverable 6): nothing counts logins, check-ins,
time or clicks toward a score, a ranking or an assessment; one setting, on by default."""

import ast
import pathlib
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings
from django.utils import timezone

import redwheel
from redwheel import testing
from redwheel.core import compulsion
from redwheel.core.errors import ValidationFailed
from redwheel.scoring import services as scoring
from redwheel.scoring.models import Category, Rule, ScoreSnapshot
from redwheel.scoring.tests.helpers import published_book

# Field names a list of people could be ordered by that would make it a ranking of people by a
# measure of them or of their activity.
RANKING_WORDS = (
    "score", "points", "balance", "credit", "login", "attend", "sign_in", "signin",
    "online", "minutes", "hours", "likes", "shares", "clicks", "views", "votes", "tally",
)  # fmt: skip


def test_the_setting_is_on_by_default(settings):
    assert settings.NO_COMPULSION is True
    assert compulsion.enforced()


def test_every_declared_input_counts_confirmed_outcomes_only():
    declared = {item.key for item in compulsion.inputs()}
    assert {"scoring.service", "scoring.community_points"} <= declared
    assert compulsion.violations() == []
    assert [m for m in run_checks() if m.id == "redwheel.E010"] == []


def test_an_input_that_counts_logins_stops_the_system():
    compulsion.register_input(
        "tests.daily_login", feeds="a ranking", evidence="days logged in", signals=("login",)
    )
    try:
        errors = [m for m in run_checks() if m.id == "redwheel.E010"]
        assert len(errors) == 1 and "tests.daily_login" in errors[0].msg
        with override_settings(NO_COMPULSION=False):
            assert [m for m in run_checks() if m.id == "redwheel.E010"] == []
    finally:
        compulsion.unregister_input("tests.daily_login")


def test_an_unknown_signal_is_refused():
    with pytest.raises(ValueError):
        compulsion.register_input("tests.bad", feeds="x", evidence="y", signals=("mood",))


@pytest.mark.parametrize(
    "code, name, evidence, signal",
    [
        ("daily_sign_in", "每日签到", "连续签到天数", "login"),
        ("study_time", "学习积分", "学习时长满30分钟", "time"),
        ("reading", "阅读文章", "文章阅读量", "click"),
        ("likes", "Popular posts", "likes on posts", "like"),
        ("forward", "宣传转发", "转发到朋友圈", "share"),
        ("online", "Online bonus", "online time on the app", "time"),
    ],
)
def test_the_rule_book_refuses_a_rule_that_counts_activity(db, code, name, evidence, signal):
    city = testing.city()
    committee = testing.staff(city.root, "staff")
    draft = scoring.rulebook_draft(actor=committee, title="t", change_note="n")
    with pytest.raises(ValidationFailed) as refused:
        scoring.rule_set(
            actor=committee, book=draft, code=code, name=name,
            category=Category.LEARNING, points=1, evidence=evidence,
        )  # fmt: skip
    assert refused.value.code == "activity_not_outcome"
    assert signal in refused.value.details["signals"]
    assert not Rule.objects.filter(code=code).exists()


@pytest.mark.parametrize(
    "evidence",
    ["车队队长确认的志愿服务时长", "培训组织者确认的出勤记录", "随手拍审核通过并转办", "回访满意"],
)
def test_confirmed_outcomes_are_accepted(db, evidence):
    city = testing.city()
    committee = testing.staff(city.root, "staff")
    draft = scoring.rulebook_draft(actor=committee, title="t", change_note="n")
    rule = scoring.rule_set(
        actor=committee, book=draft, code="outcome", name="确认的成果",
        category=Category.VOLUNTEER, points=2, evidence=evidence,
    )  # fmt: skip
    assert rule.evidence == evidence


def test_a_tenant_that_switched_it_off_may_write_such_a_rule(db):
    city = testing.city()
    committee = testing.staff(city.root, "staff")
    draft = scoring.rulebook_draft(actor=committee, title="t", change_note="n")
    with override_settings(NO_COMPULSION=False):
        rule = scoring.rule_set(
            actor=committee, book=draft, code="daily_sign_in", name="每日签到",
            category=Category.LEARNING, points=1, evidence="连续签到天数",
        )  # fmt: skip
    assert rule.pk


def test_logging_in_and_looking_around_changes_no_score(db):
    """Two drivers with the same confirmed outcomes; one logs in and opens pages all day, the
    other never comes. Their points, credit and composite score are the same."""
    city = testing.city()
    published_book(city.admin)
    busy, absent = city.member("常来"), city.member("不来")
    secretary = testing.staff(city.branch_a, "secretary")
    for driver in (busy, absent):
        scoring.points_grant(
            actor=secretary,
            driver=driver,
            rule_code="volunteer_hour",
            occurred_at=timezone.now() - timedelta(days=3),
            quantity=2,
        )
    client = Client()
    for _visit in range(12):
        client.force_login(busy.user)
        for path in ("/me/", "/me/score/", "/me/score/points/", "/me/membership/", "/inbox/"):
            assert client.get(path).status_code == 200
        client.post("/accounts/logout/")
    busy.user.refresh_from_db()
    assert busy.user.last_login is not None and absent.user.last_login is None

    scoring.scores_snapshot(actor=city.admin, driver_ids=[busy.pk, absent.pk])
    snapshots = {s.driver_id: s for s in ScoreSnapshot.objects.filter(driver__in=[busy, absent])}
    assert snapshots[busy.pk].score == snapshots[absent.pk].score
    assert snapshots[busy.pk].credit_points == snapshots[absent.pk].credit_points
    assert busy.points_entries.count() == absent.points_entries.count() == 1


def _is_measure(field: str) -> bool:
    """Ordering by when something happened (`signed_in_at`) is a timeline, not a ranking."""
    if field.endswith(("_at", "_on", "date", "day", "month", "year", "week")):
        return False
    return any(word in field for word in RANKING_WORDS)


def test_the_ranking_detector_tells_measures_from_times():
    assert _is_measure("score") and _is_measure("points_total") and _is_measure("attendance")
    assert not _is_measure("signed_in_at") and not _is_measure("month")


def _order_by_arguments():
    root = pathlib.Path(redwheel.__file__).parent
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "testing.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "order_by"
            ):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        yield path.relative_to(root), node.lineno, arg.value


def test_no_query_orders_rows_by_a_score_or_by_activity():
    """A list ordered by score, points, attendance, logins or time would be a ranking."""
    offenders = [
        f"{path}:{line} order_by({value!r})"
        for path, line, value in _order_by_arguments()
        if _is_measure(value.lstrip("-?").split("__")[-1].lower())
    ]
    assert offenders == []


def test_a_public_page_shows_that_it_holds_and_what_counts(db):
    city = testing.city()
    published_book(city.admin)
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/scoring/no-compulsion/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Holds:" in text and "scoring.community_points" in text
    assert "车队队长确认的志愿服务时长" in text  # the rules in force, each checked

    compulsion.register_input("tests.clicks", feeds="x", evidence="y", signals=("click",))
    try:
        assert (
            "Does not hold:"
            in Client(HTTP_ACCEPT_LANGUAGE="en").get("/scoring/no-compulsion/").content.decode()
        )
    finally:
        compulsion.unregister_input("tests.clicks")
