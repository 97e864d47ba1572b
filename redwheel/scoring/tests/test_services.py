from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from redwheel import testing
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.core.permissions import SystemActor
from redwheel.scoring import selectors, services
from redwheel.scoring.models import PointsEntry, RuleBook
from redwheel.scoring.tests.helpers import published_book

pytestmark = pytest.mark.django_db


def test_a_version_that_takes_something_away_needs_30_days_notice(city):
    v1 = published_book(city.admin)
    draft = services.rulebook_draft(actor=city.admin, title="v2")
    assert draft.rules.count() == v1.rules.count()
    services.rule_set(
        actor=city.admin,
        book=draft,
        code="volunteer_hour",
        name="志愿服务",
        category="volunteer",
        points=1,
        evidence="x",
        daily_cap=8,
        monthly_cap=40,
    )
    with pytest.raises(ValidationFailed) as err:
        services.rulebook_publish(
            actor=city.admin, book=draft, effective_from=timezone.now() + timedelta(days=10)
        )
    assert err.value.code == "notice_period"
    book = services.rulebook_publish(actor=city.admin, book=draft)
    assert book.only_adds_points is False
    assert book.effective_from - book.published_at >= timedelta(days=30)
    assert services.book_in_force().pk == v1.pk  # still the old one
    current, upcoming, _history = selectors.published_books()
    assert current.book == v1 and [v.book for v in upcoming] == [book]
    assert [c[1].points for c in upcoming[0].changed] == [1]


def test_a_version_that_only_adds_points_takes_effect_at_once(city):
    published_book(city.admin)
    draft = services.rulebook_draft(actor=city.admin, title="v2")
    services.rule_set(
        actor=city.admin,
        book=draft,
        code="blood_donation",
        name="无偿献血",
        category="good_deed",
        points=5,
        evidence="献血证",
        monthly_cap=5,
    )
    services.rule_set(
        actor=city.admin,
        book=draft,
        code="lost_property",
        name="拾金不昧",
        category="good_deed",
        points=8,
        evidence="归还记录",
        daily_cap=16,
        monthly_cap=40,
    )
    book = services.rulebook_publish(actor=city.admin, book=draft)
    assert book.only_adds_points and services.book_in_force().pk == book.pk


def test_published_books_cannot_change_and_weights_are_capped(city):
    book = published_book(city.admin)
    with pytest.raises(InvalidTransition):
        services.rule_set(
            actor=city.admin,
            book=book,
            code="x",
            name="x",
            category="learning",
            points=1,
            evidence="x",
        )
    draft = services.rulebook_draft(actor=city.admin, title="v2")
    with pytest.raises(ValidationFailed):
        services.rulebook_weights_set(
            actor=city.admin, book=draft, weight_community=20, weight_service=30
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleBook.objects.filter(pk=draft.pk).update(weight_community=20, weight_service=30)


def test_only_committee_staff_manage_rule_books(city):
    with pytest.raises(NotFound):
        services.rulebook_draft(actor=testing.staff(city.committee_a), title="mine")
    assert services.rulebook_draft(actor=testing.staff(city.root), title="ok").version == 1


def test_grant_caps_idempotency_and_reversal(city):
    published_book(city.admin)
    driver = city.driver()
    staff = testing.staff(city.committee_a)
    at = timezone.now() - timedelta(hours=1)
    for _ in range(2):  # lost_property: 5 points, at most 10 a day
        services.points_grant(actor=staff, driver=driver, rule_code="lost_property", occurred_at=at)
    with pytest.raises(Conflict) as err:
        services.points_grant(actor=staff, driver=driver, rule_code="lost_property", occurred_at=at)
    assert err.value.code == "points_cap_reached"
    first = PointsEntry.objects.filter(driver=driver).order_by("id").first()
    reversal = services.points_reverse(actor=staff, entry=first, reason="duplicate")
    assert reversal.amount == -5 and reversal.rule_id == first.rule_id
    with pytest.raises(Conflict):
        services.points_reverse(actor=staff, entry=first, reason="again")
    with pytest.raises(InvalidTransition):
        services.points_reverse(actor=staff, entry=reversal, reason="undo")
    # the reversal frees the cap again
    services.points_grant(actor=staff, driver=driver, rule_code="lost_property", occurred_at=at)
    assert selectors.balances(driver)["total"] == 10
    # one source earns once
    membership_source = city.root
    e1 = services.points_grant(
        actor=SystemActor.operator("x"),
        driver=driver,
        rule_code="volunteer_hour",
        occurred_at=at,
        source=membership_source,
    )
    e2 = services.points_grant(
        actor=SystemActor.operator("x"),
        driver=driver,
        rule_code="volunteer_hour",
        occurred_at=at,
        source=membership_source,
    )
    assert e1.pk == e2.pk
    assert AuditEntry.objects.filter(action="points.grant").count() == 4
    assert AuditEntry.objects.filter(action="points.reverse").count() == 1


def test_ledger_rows_are_append_only(city):
    published_book(city.admin)
    entry = services.points_grant(
        actor=city.admin,
        driver=city.driver(),
        rule_code="learning_course",
        occurred_at=timezone.now(),
    )
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        PointsEntry.objects.filter(pk=entry.pk).update(amount=100)
    with pytest.raises(TypeError):
        entry.delete()


def test_grants_need_scope_and_never_self(city):
    published_book(city.admin)
    driver = city.driver(platform=city.platform_a)
    at = timezone.now()
    with pytest.raises(NotFound):
        services.points_grant(
            actor=testing.staff(city.branch_b),
            driver=driver,
            rule_code="learning_course",
            occurred_at=at,
        )
    with pytest.raises(NotFound):
        services.points_grant(
            actor=driver.user, driver=driver, rule_code="learning_course", occurred_at=at
        )
    with pytest.raises(ValidationFailed):
        services.points_grant(actor=city.admin, driver=driver, rule_code="nope", occurred_at=at)
    with pytest.raises(ValidationFailed):
        services.points_grant(
            actor=city.admin,
            driver=driver,
            rule_code="learning_course",
            occurred_at=at + timedelta(days=1),
        )


def test_entries_keep_the_version_they_were_earned_under(city):
    v1 = published_book(city.admin)
    driver = city.driver()
    draft = services.rulebook_draft(actor=city.admin, title="v2")
    services.rule_set(
        actor=city.admin,
        book=draft,
        code="learning_course",
        name="课程",
        category="learning",
        points=3,
        evidence="x",
        daily_cap=6,
        monthly_cap=30,
    )
    v2 = services.rulebook_publish(actor=city.admin, book=draft)
    assert v2.only_adds_points
    old = services.points_grant(
        actor=city.admin,
        driver=driver,
        rule_code="learning_course",
        occurred_at=v2.effective_from - timedelta(days=3),
    )
    new = services.points_grant(
        actor=city.admin, driver=driver, rule_code="learning_course", occurred_at=timezone.now()
    )
    assert (old.rule.book, old.amount) == (v1, 2)
    assert (new.rule.book, new.amount) == (v2, 3)
