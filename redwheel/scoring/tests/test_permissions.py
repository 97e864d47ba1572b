"""Issue 12: scoring through the one permission mechanism — look-ups answer exactly the token's
scope, rule books are the city committee's to change, and every service checks its actor."""

import dataclasses

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.core import permissions
from redwheel.core.errors import NotFound
from redwheel.core.permissions import SystemActor, scope
from redwheel.drivers import services as driver_services
from redwheel.drivers.models import Affiliation, Driver
from redwheel.scoring import defaults, lookup, services
from redwheel.scoring.auth import AuthenticatedToken
from redwheel.scoring.models import PointsEntry, RuleBook, ScoreSnapshot
from redwheel.scoring.permissions import check_lookup_scope
from redwheel.scoring.tests.helpers import lookup_post, published_book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cities():
    return testing.city(), testing.city()


def _consented_member(city, platform):
    driver = city.member(platform=platform)
    driver_services.badge_consent_set(actor=driver.user, driver=driver, consented=True)
    return driver


def _answers(secret, path, drivers) -> dict[str, dict]:
    response = lookup_post(secret, path, [d.license_no for d in drivers])
    assert response.status_code == 200
    return {row["license_id"]: row for row in response.json()["results"]}


def test_lookups_answer_exactly_the_tokens_scope(cities):
    one, two = cities
    published_book(one.admin)
    own = [one.driver(platform=one.platform_a), _consented_member(one, one.platform_a)]
    other_platform = [one.driver(platform=one.platform_b), _consented_member(one, one.platform_b)]
    no_platform = driver_services.driver_create(
        actor=one.admin,
        name="无平台司机",
        license_no=testing.id_number(990_001),
        phone=testing.mobile(990_001),
        branch=one.branch_a,
    )
    other_city = [_consented_member(two, two.platform_a)]
    everyone = [*own, *other_platform, no_platform, *other_city]
    services.scores_snapshot(actor=SystemActor.operator("test"))
    token, secret = token_create(
        actor=one.admin,
        platform=one.platform_a,
        name="app",
        scopes=["badges:read", "scores:read"],
    )
    principals = [token, AuthenticatedToken(token.pk, one.platform_a.pk, ("badges:read",))]
    for principal in principals:
        visible = set(scope(principal, "view", Driver.objects.all()))
        assert visible == set(own)  # the expectation, written out
        snapshots = scope(principal, "view", ScoreSnapshot.objects.all())
        assert {s.driver for s in snapshots} == set(own)

    for path in ("badges:lookup", "scores:lookup"):
        answers = _answers(secret, path, everyone)
        known = {d for d in everyone if answers[d.license_no]["known"]}
        assert known == set(scope(token, "view", Driver.objects.all()))
    badges = _answers(secret, "badges:lookup", everyone)
    assert [badges[d.license_no]["badge"] for d in own] == [False, True]
    scores = _answers(secret, "scores:lookup", own)
    assert all(scores[d.license_no]["score"] is not None for d in own)

    # The look-up narrows further: a driver who left the platform is unknown to it. (No service
    # ends an affiliation yet; the exchange feed will.)
    Affiliation.objects.filter(driver=own[1], platform=one.platform_a).update(is_active=False)
    assert _answers(secret, "badges:lookup", own)[own[1].license_no]["known"] is False


def test_the_lookup_refuses_to_start_when_the_registry_changes_shape():
    check_lookup_scope()  # the shipped registration matches the SQL
    lookup_table, driver_column, platform_column = lookup.platform_join()
    assert (lookup_table, driver_column, platform_column) == (
        Affiliation._meta.db_table,
        "driver_id",
        "platform_id",
    )
    original = permissions._registry[Driver]
    for changed in (
        dataclasses.replace(original, platforms=("vehicles__driver_id",)),
        dataclasses.replace(original, platforms=()),
        dataclasses.replace(original, platform_actions=frozenset()),
    ):
        permissions._registry[Driver] = changed
        try:
            with pytest.raises(ImproperlyConfigured):
                check_lookup_scope()
        finally:
            permissions._registry[Driver] = original


def test_only_a_city_committee_manages_the_rule_book(cities):
    one, two = cities
    refused = [
        testing.staff(one.committee_a, "staff"),  # a platform's committee
        testing.staff(one.branch_a, "secretary"),  # a branch
        testing.staff(one.root, "regulator"),  # on the committee, but not its staff
        testing.staff(one.root, "viewer"),
        one.driver().user,
        testing.user("无授权用户"),
        SystemActor.for_platform(one.platform_a.pk, "feed"),
    ]
    for person in refused:
        assert not services.may_manage_rules(person), person
        with pytest.raises(NotFound):
            services.rulebook_draft(actor=person, title="x")
    assert not RuleBook.objects.exists()
    # One rule book for the deployment today: either city's committee staff maintains it.
    for staff in (testing.staff(one.root, "staff"), testing.staff(two.root, "staff")):
        assert services.may_manage_rules(staff)
    assert services.may_manage_rules(SystemActor.operator("test"))
    draft = defaults.draft_default(actor=testing.staff(two.root, "staff"))
    assert draft.rules.exists()


def test_published_books_are_readable_drafts_are_the_committees(city):
    published = published_book(city.admin)
    draft = services.rulebook_draft(actor=city.admin, title="next")
    driver_user = city.driver().user
    assert set(scope(driver_user, "view", RuleBook.objects.all())) == {published}
    assert not scope(driver_user, "change", RuleBook.objects.all()).exists()
    committee = testing.staff(city.root, "staff")
    assert set(scope(committee, "view", RuleBook.objects.all())) == {published, draft}
    assert set(scope(committee, "change", RuleBook.objects.all())) == {published, draft}
    token, _secret = token_create(
        actor=city.admin, platform=city.platform_a, name="app", scopes=["badges:read"]
    )
    assert not scope(token, "view", RuleBook.objects.all()).exists()


def test_every_scoring_service_refuses_an_unprivileged_actor(cities):
    one, two = cities
    book = published_book(one.admin)
    draft = services.rulebook_draft(actor=one.admin, title="next")
    driver = one.driver(branch=one.branch_a)
    entry = services.points_grant(
        actor=one.admin, driver=driver, rule_code="brave_deed", occurred_at=timezone.now()
    )
    token, _secret = token_create(
        actor=one.admin, platform=one.platform_a, name="app", scopes=["badges:read"]
    )
    calls = {
        "rulebook_draft": lambda a: services.rulebook_draft(actor=a, title="t", based_on=book),
        "rulebook_weights_set": lambda a: services.rulebook_weights_set(
            actor=a, book=draft, weight_credit=15
        ),
        "rule_set": lambda a: services.rule_set(
            actor=a,
            book=draft,
            code="x",
            name="x",
            category="learning",
            points=1,
            evidence="e",
        ),
        "rule_remove": lambda a: services.rule_remove(actor=a, book=draft, code="brave_deed"),
        "deduction_add": lambda a: services.deduction_add(
            actor=a, book=draft, source="complaint", keyword="k", points=1, label="l"
        ),
        "rulebook_publish": lambda a: services.rulebook_publish(actor=a, book=draft),
        "points_grant": lambda a: services.points_grant(
            actor=a, driver=driver, rule_code="brave_deed", occurred_at=timezone.now()
        ),
        "points_reverse": lambda a: services.points_reverse(actor=a, entry=entry, reason="r"),
        "scores_snapshot": lambda a: services.scores_snapshot(actor=a),
    }
    unprivileged = [
        testing.user("无授权用户"),
        testing.staff(one.branch_b, "secretary"),  # another platform's branch
        testing.staff(two.root, "regulator"),  # another city's regulator
        token,
    ]
    for actor in unprivileged:
        for name, call in calls.items():
            with pytest.raises(NotFound):
                call(actor)
                pytest.fail(f"{name} let {actor!r} through")
    # The driver may not grant themselves points or undo a deduction of theirs.
    for name in ("points_grant", "points_reverse"):
        with pytest.raises(NotFound):
            calls[name](driver.user)
    assert PointsEntry.objects.count() == 1
    assert RuleBook.objects.get(pk=draft.pk).status == RuleBook.Status.DRAFT
    assert not ScoreSnapshot.objects.exists()


def test_a_city_committee_grants_points_only_to_its_own_drivers(cities):
    one, two = cities
    published_book(one.admin)
    ours, theirs = one.driver(), two.driver()
    committee = testing.staff(one.root, "staff")
    entry = services.points_grant(
        actor=committee, driver=ours, rule_code="brave_deed", occurred_at=timezone.now()
    )
    assert entry.amount > 0
    with pytest.raises(NotFound):
        services.points_grant(
            actor=committee, driver=theirs, rule_code="brave_deed", occurred_at=timezone.now()
        )
    with pytest.raises(NotFound):  # snapshots are the scheduler's city-wide job
        services.scores_snapshot(actor=committee)
    assert services.scores_snapshot(actor=SystemActor.operator("scheduler")).stored == 2
