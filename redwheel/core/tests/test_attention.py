"""The kernel's attention registry (core.attention) and the quick actions (core.menus.quick):
ordering, replacement, the urgency in words, nothing for anonymous users."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from redwheel import testing
from redwheel.core import attention, menus


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(attention, "_providers", {})
    monkeypatch.setattr(attention, "_facts", {})
    return attention


@pytest.fixture
def user(db):
    return testing.user()


T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_cards_come_most_urgent_first_then_soonest_due_then_by_title(registry, user):
    registry.register(
        "one",
        lambda u: [
            attention.Card("info", "/i/", attention.INFO),
            attention.Card("soon undated", "/s2/", attention.SOON),
            attention.Card("soon later", "/s1/", attention.SOON, due=T0 + timedelta(hours=2)),
        ],
    )
    registry.register(
        "two",
        lambda u: [
            attention.Card("b now", "/n2/", attention.NOW),
            attention.Card("a now", "/n1/", attention.NOW),
            attention.Card("soon first", "/s0/", attention.SOON, due=T0),
            attention.Card("today", "/t/", attention.TODAY),
        ],
    )
    assert [c.title for c in registry.cards_for(user)] == [
        "a now",
        "b now",
        "today",
        "soon first",
        "soon later",
        "soon undated",
        "info",
    ]


def test_a_naive_due_time_does_not_break_the_ordering(registry, user):
    registry.register(
        "x",
        lambda u: [
            attention.Card("aware", "/a/", attention.TODAY, due=T0 + timedelta(hours=1)),
            attention.Card("naive", "/n/", attention.TODAY, due=datetime(2026, 3, 2, 1, 0)),
        ],
    )
    assert [c.title for c in registry.cards_for(user)] == ["naive", "aware"]


def test_registering_the_same_key_again_replaces_the_provider(registry, user):
    registry.register("x", lambda u: [attention.Card("old", "/o/")])
    registry.register("x", lambda u: [attention.Card("new", "/n/")])
    assert [c.title for c in registry.cards_for(user)] == ["new"]
    assert list(registry.providers()) == ["x"]


def test_an_unknown_urgency_is_refused():
    with pytest.raises(ValueError):
        attention.Card("t", "/", urgency=5)


def test_every_urgency_has_a_label_in_words():
    labels = {u: attention.Card("t", "/", u).urgency_label for u in attention.URGENCIES}
    assert labels == {
        attention.NOW: "Now",
        attention.TODAY: "Today",
        attention.SOON: "Soon",
        attention.INFO: "For information",
    }
    assert attention.Card("t", "/", attention.NOW).urgency_key == "now"


def test_nothing_for_an_anonymous_user(registry):
    calls = []
    registry.register("x", lambda u: calls.append(u) or [attention.Card("t", "/")])
    registry.register_fact("f", lambda u: attention.Fact("F", "v", "/"), order=1)
    assert registry.cards_for(AnonymousUser()) == []
    assert registry.facts_for(AnonymousUser()) == []
    assert calls == [], "providers are not even asked"


def test_facts_in_order_without_the_empty_ones(registry, user):
    registry.register_fact("score", lambda u: attention.Fact("Score", "80", "/s/"), order=20)
    registry.register_fact("badge", lambda u: attention.Fact("Badge", "on", "/b/"), order=10)
    registry.register_fact("none", lambda u: None, order=15)
    facts = registry.facts_for(user)
    assert [(f.label, f.kind, f.order) for f in facts] == [
        ("Badge", "badge", 10),
        ("Score", "score", 20),
    ]


def test_the_real_registry_has_the_existing_capabilities():
    keys = set(attention.providers())
    assert {"drivers", "inbox", "appeals", "mobilization"} <= keys
    assert {"badge", "score"} <= set(attention._facts)


# Quick actions -------------------------------------------------------------------------------


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(menus, "_quick", {})
    return menus


def test_quick_actions_in_order_and_replaced_by_url_name(quick, user):
    quick.quick("Membership", "me:membership", order=50)
    quick.quick("Appeal", "appeals:my_file", order=20, icon="诉")
    quick.quick("Appeal (new label)", "appeals:my_file", order=20, icon="诉")
    actions = quick.quick_actions(user)
    assert [(a.label, a.url) for a in actions] == [
        ("Appeal (new label)", "/me/appeals/new/"),
        ("Membership", "/me/membership/"),
    ]


def test_a_quick_action_can_be_limited_to_some_users(quick, user):
    quick.quick("Only for nobody", "me:badge", order=10, allowed=lambda u: False)
    quick.quick("For all", "me:home", order=20)
    assert [a.label for a in quick.quick_actions(user)] == ["For all"]


def test_the_driver_home_has_the_appeal_and_membership_actions(user):
    names = [a.url_name for a in menus.quick_actions(user)]
    assert "appeals:my_file" in names and "me:membership" in names
    assert names.index("appeals:my_file") < names.index("me:membership")
