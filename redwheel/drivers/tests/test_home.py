"""The driver home (/me/): the attention cards each capability registers, the facts line, the
quick actions and the short profile. Data set up through the services."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from redwheel import testing
from redwheel.accounts.models import User
from redwheel.appeals import services as appeals
from redwheel.appeals.models import Case
from redwheel.core import attention
from redwheel.core.notifications import notify_user
from redwheel.core.permissions import SystemActor
from redwheel.core.services import notification_mark_all_read
from redwheel.drivers import services
from redwheel.drivers.services import contact_pair_create
from redwheel.mobilization import services as mobilization
from redwheel.mobilization.tests import factories
from redwheel.scoring import services as scoring
from redwheel.scoring.tests.helpers import published_book

pytestmark = pytest.mark.django_db

EMPTY = "All is well — nothing needs you right now"


def fresh(user):
    """The user as a new request loads it (nothing cached from an earlier call)."""
    return User.objects.get(pk=user.pk)


def cards(user, kind=None):
    return [c for c in attention.cards_for(fresh(user)) if kind is None or c.kind == kind]


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("me:home"))
    assert response.status_code == 200
    return response


def file_case(driver, title="抽成过高"):
    case, created = appeals.case_file(
        actor=driver.user,
        driver=driver,
        category="income",
        title=title,
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
    )
    assert created
    return case


def called(city, drivers, m=None):
    """An open mobilisation at the station with `drivers` called through a fleet."""
    m = m or factories.mobilization(city)
    fleet = factories.fleet(city, drivers, name=f"车队{m.pk}")
    mobilization.mobilization_call(actor=city.admin, mobilization=m, fleets=[fleet])
    return m


@pytest.fixture
def other_city(db):
    return testing.city()


# The page ------------------------------------------------------------------------------------


def test_empty_state_for_a_driver_without_membership(client, city):
    driver = city.driver()
    response = home(client, driver.user)
    assert response.context["cards"] == []
    assert EMPTY in response.text
    assert driver.name in response.text and "not declared" in response.text
    # The facts line still says where the driver stands.
    assert "not eligible" in response.text and "no score yet" in response.text


def test_quick_actions_link_to_filing_an_appeal_and_the_membership(client, city):
    driver = city.driver()
    response = home(client, driver.user)
    urls = [a.url for a in response.context["quick_actions"]]
    assert reverse("appeals:my_file") in urls and reverse("me:membership") in urls
    assert f'href="{reverse("appeals:my_file")}"' in response.text
    assert "File an appeal" in response.text


def test_staff_user_has_no_cards_and_no_home(client, city):
    staff = testing.staff(city.committee_a)
    notify_user(user=staff, event="test", title="一条消息")
    driver = city.driver()
    file_case(driver)  # a case in the staff member's scope
    assert attention.cards_for(staff) == []
    assert attention.facts_for(staff) == []
    client.force_login(staff)
    assert client.get(reverse("me:home")).status_code == 404


def test_cards_are_ordered_by_urgency_with_the_urgency_in_words(client, city):
    driver = city.member(verified=False)  # declared: an INFO card
    staff = testing.staff(city.branch_a)
    case = file_case(driver)
    appeals.case_request_info(actor=staff, case=case, question="请提供订单截图。")  # SOON
    called(city, [driver])  # NOW
    response = home(client, driver.user)
    urgencies = [c.urgency for c in response.context["cards"]]
    assert urgencies == sorted(urgencies)
    assert urgencies[0] == attention.NOW and attention.SOON in urgencies
    assert urgencies[-1] == attention.INFO
    text = response.text
    # Each card says its urgency in words, most urgent first on the page.
    now_at, soon_at, info_at = (
        text.index(">Now<"),
        text.index(">Soon<"),
        text.index(">For information<"),
    )
    assert now_at < soon_at < info_at
    assert EMPTY not in text


def test_cards_of_one_urgency_are_ordered_by_due_time(monkeypatch):
    later = timezone.now() + timedelta(hours=5)
    sooner = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(
        attention,
        "_providers",
        {
            "a": lambda user: [
                attention.Card("B later", "/b/", attention.TODAY, due=later),
                attention.Card("A undated", "/a/", attention.TODAY),
            ],
            "b": lambda user: [attention.Card("C sooner", "/c/", attention.TODAY, due=sooner)],
        },
    )
    user = testing.user()
    assert [c.title for c in attention.cards_for(user)] == ["C sooner", "B later", "A undated"]


# Mobilization --------------------------------------------------------------------------------


def test_an_unanswered_emergency_call_is_a_now_card_for_the_called_driver_only(
    client, city, other_city
):
    driver, neighbour = city.driver(), city.driver()
    far = other_city.driver()
    m = called(city, [driver])
    [card] = cards(driver.user, "mobilization")
    assert card.urgency == attention.NOW and m.title in card.title
    assert card.url == reverse("mobilization:my_call", args=[m.pk])
    assert cards(neighbour.user, "mobilization") == []
    assert cards(far.user, "mobilization") == []
    text = home(client, driver.user).text
    assert f'href="{card.url}"' in text and "Answer the call" in text


def test_answering_the_call_turns_it_into_a_today_card_then_nothing(city):
    driver = city.driver()
    m = called(city, [driver])
    mobilization.response_record(actor=driver.user, mobilization=m, status="on_my_way")
    [card] = cards(driver.user, "mobilization")
    assert card.urgency == attention.TODAY and "On my way" in card.body
    mobilization.response_record(actor=driver.user, mobilization=m, status="arrived")
    assert cards(driver.user, "mobilization") == []


def test_a_closed_mobilisation_needs_nobody(city):
    driver = city.driver()
    m = called(city, [driver])
    mobilization.mobilization_cancel(actor=city.admin, mobilization=m, reason="客流已疏散")
    assert cards(driver.user, "mobilization") == []


def test_an_active_alert_is_a_card_until_the_driver_replies(city, other_city):
    driver, elsewhere = city.driver(), city.driver()
    far = other_city.driver()
    factories.position(driver, *factories.EAST_STATION)
    factories.position(elsewhere, 104.5, 31.2)  # far outside the circle
    alert = mobilization.alert_create(
        actor=city.admin,
        unit=city.root,
        kind="missing_person",
        title="寻找走失老人",
        description="身穿蓝色外套。",
        lng=factories.EAST_STATION[0],
        lat=factories.EAST_STATION[1],
        radius_km=3,
        expires_at=timezone.now() + timedelta(hours=6),
    )
    [card] = [c for c in cards(driver.user, "mobilization") if "寻找走失老人" in c.title]
    assert card.urgency == attention.TODAY
    assert card.url == reverse("mobilization:my_alert", args=[alert.pk])
    assert cards(elsewhere.user, "mobilization") == [] and cards(far.user) == []
    mobilization.sighting_report(
        actor=driver.user, alert=alert, lng=104.14, lat=30.63, note="在东广场看到"
    )
    assert cards(driver.user, "mobilization") == []


# Appeals -------------------------------------------------------------------------------------


def test_a_question_on_the_drivers_appeal_is_a_soon_card(city, other_city):
    driver, other = city.driver(), city.driver()
    far = other_city.driver()
    file_case(other)
    case = file_case(driver)
    assert cards(driver.user, "appeals") == [], "a submitted case waits for staff, not for you"
    staff = testing.staff(city.branch_a)
    appeals.case_request_info(actor=staff, case=case, question="请提供订单截图。")
    [card] = cards(driver.user, "appeals")
    assert card.urgency == attention.SOON and case.number in card.title
    assert card.url == reverse("appeals:detail", args=[case.pk])
    assert cards(other.user, "appeals") == [] and cards(far.user, "appeals") == []


def test_an_answered_appeal_asks_for_a_rating_until_rated_or_too_old(city):
    driver = city.driver()
    staff = testing.staff(city.branch_a)
    case = appeals.case_answer(actor=staff, case=file_case(driver), answer="已与平台核实并退还。")
    [card] = cards(driver.user, "appeals")
    assert "has been answered" in card.title and card.urgency == attention.SOON
    with time_machine.travel(timezone.now() + appeals.REOPEN_WINDOW + timedelta(hours=1)):
        assert cards(driver.user, "appeals") == []
    appeals.case_rate(actor=driver.user, case=case, satisfied=True)
    assert cards(driver.user, "appeals") == []


def test_a_contact_member_sees_the_appeals_they_look_after(city):
    member = city.member()
    driver = city.driver()
    contact_pair_create(actor=city.admin, member=member, driver=driver)
    file_case(driver)
    [card] = [c for c in cards(member.user, "appeals") if c.url == reverse("appeals:my_list")]
    assert "1 appeal you look after is open" in card.title
    assert card.due is not None
    assert [c for c in cards(driver.user, "appeals") if c.url == card.url] == []


# Membership and inbox ------------------------------------------------------------------------


def test_a_declaration_waiting_is_info_and_a_decision_is_soon_for_two_weeks(city):
    driver = city.member(verified=False)
    other = city.driver()
    [card] = cards(driver.user, "drivers")
    assert card.urgency == attention.INFO and card.url == reverse("me:membership")
    assert cards(other.user, "drivers") == []
    services.membership_verify(actor=city.admin, membership=driver.membership)
    [card] = cards(driver.user, "drivers")
    assert card.urgency == attention.SOON and "verified" in card.title
    assert "switch on the party-member badge" in card.body
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert cards(driver.user, "drivers") == []


def test_a_rejection_says_why(city):
    driver = city.member(verified=False)
    services.membership_reject(
        actor=city.admin, membership=driver.membership, reason="支部无此党员记录"
    )
    [card] = cards(driver.user, "drivers")
    assert card.urgency == attention.SOON and "支部无此党员记录" in card.body


def test_unread_inbox_messages_are_one_info_card(city):
    driver, other = city.driver(), city.driver()
    notify_user(user=driver.user, event="test", title="第一条")
    notify_user(user=driver.user, event="test", title="第二条")
    [card] = cards(driver.user, "inbox")
    assert card.urgency == attention.INFO and card.url == reverse("core:inbox")
    assert "2 unread messages" in card.title
    assert cards(other.user, "inbox") == []
    notification_mark_all_read(actor=driver.user)
    assert cards(driver.user, "inbox") == []


def test_an_old_unread_message_no_longer_keeps_the_home_busy(city):
    driver = city.driver()
    notify_user(user=driver.user, event="test", title="旧消息")
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert cards(driver.user, "inbox") == []
        notify_user(user=driver.user, event="test", title="新消息")
        [card] = cards(driver.user, "inbox")
        assert "1 unread message" in card.title


# The facts line ------------------------------------------------------------------------------


def test_badge_fact_on_off_and_not_eligible(client, city):
    member, activist = city.member(), city.member(category="activist")

    def badge(user):
        return {f.kind: f for f in attention.facts_for(fresh(user))}["badge"]

    assert badge(activist.user).value == "not eligible"
    assert badge(member.user).value == "off"
    services.badge_consent_set(actor=member.user, driver=member, consented=True)
    fact = badge(member.user)
    assert fact.value == "on" and fact.url == reverse("me:badge")
    text = home(client, member.user).text
    assert f'href="{reverse("me:badge")}"' in text


def test_score_fact_reads_the_latest_snapshot(client, city):
    published_book(city.admin)
    driver = city.member()
    assert "no score yet" in home(client, driver.user).text
    scoring.scores_snapshot(actor=SystemActor.operator("test"), driver_ids=[driver.pk])
    snapshot = driver.score_snapshots.get()
    text = home(client, driver.user).text
    assert f"{snapshot.score:.2f} / 100, credit {snapshot.credit_grade}" in text
    assert "no score yet" not in text


# Cost ----------------------------------------------------------------------------------------


def _home_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("me:home")).status_code == 200
    return len(queries)


def test_the_home_costs_a_bounded_number_of_queries(client, city):
    """However much needs the driver, the home asks the database the same few times."""
    published_book(city.admin)
    staff = testing.staff(city.branch_a)
    driver = city.member()
    scoring.scores_snapshot(actor=SystemActor.operator("test"), driver_ids=[driver.pk])
    hub = factories.hub(city)

    def more():
        called(city, [driver], factories.mobilization(city, the_hub=hub))
        appeals.case_request_info(actor=staff, case=file_case(driver), question="请补充。")
        notify_user(user=driver.user, event="test", title="消息")

    more()
    once = _home_queries(client, driver.user)
    for _ in range(3):
        more()
    thrice = _home_queries(client, driver.user)
    assert len(cards(driver.user, "mobilization")) == 4
    assert thrice == once, "no query per card"
    assert once <= 30
    # Each provider on its own (the party areas too): a handful of queries at most.
    user = fresh(driver.user)
    attention.cards_for(user)  # what one request shares (the driver, the grants) is loaded
    for key, provider in attention.providers().items():
        with CaptureQueriesContext(connection) as queries:
            list(provider(user))
        assert len(queries) <= 8, key
