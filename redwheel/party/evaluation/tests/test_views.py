"""Evaluation pages: the branch runs the round, the tally only after closing, the member's
self-assessment and ballot on the phone, tenancy (another city, another platform → 404)."""

import pytest
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.core.attention import cards_for
from redwheel.core.dates import local_date
from redwheel.party.evaluation import selectors, services
from redwheel.party.evaluation.models import Round, VoteReceipt

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def setup(city):
    members = [city.member(f"党员{n}") for n in range(3)]
    secretary = testing.staff(city.branch_a, "secretary")
    return city, members, secretary


def _round(city, secretary, voting=False):
    rnd = services.round_open(actor=secretary, branch=city.branch_a, year=local_date().year)
    if voting:
        services.round_start_voting(actor=secretary, round=rnd)
    return rnd


def test_the_secretary_opens_a_round_from_the_list(setup):
    city, _members, secretary = setup
    client = _client(secretary)
    page = client.get(reverse("evaluation:rounds"))
    assert page.status_code == 200
    assert "Open a round" in page.content.decode()
    response = client.post(
        reverse("evaluation:open"), {"branch": city.branch_a.pk, "year": local_date().year}
    )
    rnd = Round.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:round", args=[rnd.pk])
    again = client.post(
        reverse("evaluation:open"), {"branch": city.branch_a.pk, "year": local_date().year}
    )
    assert again.status_code == 409
    assert "already has an evaluation round" in again.content.decode()


def test_read_only_roles_cannot_open_or_advance(setup):
    city, _members, secretary = setup
    rnd = _round(city, secretary)
    viewer = _client(testing.staff(city.root, "viewer"))
    assert viewer.get(reverse("evaluation:round", args=[rnd.pk])).status_code == 200
    assert viewer.post(reverse("evaluation:open"), {}).status_code == 404
    assert viewer.post(reverse("evaluation:start_voting", args=[rnd.pk])).status_code == 404
    rnd.refresh_from_db()
    assert rnd.state == Round.State.OPEN


def test_tally_hidden_on_the_page_until_the_vote_closes(setup):
    city, members, secretary = setup
    rnd = _round(city, secretary, voting=True)
    for m in members:
        own = rnd.participants.get(driver=m)
        services.ballot_cast(
            actor=m.user,
            round=rnd,
            choices={p.pk: "excellent" for p in rnd.participants.exclude(pk=own.pk)},
        )
    client = _client(secretary)
    url = reverse("evaluation:round", args=[rnd.pk])
    before = client.get(url).content.decode()
    assert "3 of 3 members have voted" in before
    assert "Excellent (优秀)" not in before
    assert "The tally is shown only after the vote has closed." in before
    assert client.post(reverse("evaluation:close", args=[rnd.pk])).status_code == 302
    after = client.get(url).content.decode()
    assert "Excellent (优秀)" in after
    assert after.count('<td class="num">2</td>') == 3  # each member: two votes "excellent"


def test_the_committee_records_and_the_branch_cannot(setup):
    city, _members, secretary = setup
    rnd = _round(city, secretary, voting=True)
    services.round_close(actor=secretary, round=rnd)
    client = _client(secretary)
    for p in rnd.participants.all():
        response = client.post(
            reverse("evaluation:conclusion", args=[p.pk]),
            {f"c{p.pk}-grade": "qualified", f"c{p.pk}-note": "合格"},
        )
        assert response.status_code == 302
    url = reverse("evaluation:record", args=[rnd.pk])
    assert (
        "Record the round"
        not in client.get(reverse("evaluation:round", args=[rnd.pk])).content.decode()
    )
    assert client.post(url, {"note": "自己备案"}).status_code == 404
    committee = _client(testing.staff(city.committee_a, "staff"))
    assert committee.post(url, {"note": "同意"}).status_code == 302
    rnd.refresh_from_db()
    assert (rnd.state, rnd.committee_note) == (Round.State.RECORDED, "同意")


def test_another_city_and_another_platform_get_404(setup):
    city, _members, secretary = setup
    rnd = _round(city, secretary, voting=True)
    other_city = testing.city()
    strangers = [
        testing.staff(other_city.root, "staff"),
        testing.staff(city.committee_b, "staff"),
    ]
    for user in strangers:
        client = _client(user)
        assert client.get(reverse("evaluation:round", args=[rnd.pk])).status_code == 404
        assert client.post(reverse("evaluation:close", args=[rnd.pk])).status_code == 404
        assert (
            "No evaluation rounds yet." in client.get(reverse("evaluation:rounds")).content.decode()
        )
    foreign_member = other_city.member()
    client = _client(foreign_member.user)
    assert client.get(reverse("evaluation:ballot", args=[rnd.pk])).status_code == 404
    assert client.post(reverse("evaluation:ballot", args=[rnd.pk]), {}).status_code == 404
    assert not VoteReceipt.objects.exists()


def test_a_non_member_of_the_branch_gets_404_from_the_ballot(setup):
    city, _members, secretary = setup
    rnd = _round(city, secretary, voting=True)
    for driver in (city.driver("群众"), city.member("乙", platform=city.platform_b)):
        client = _client(driver.user)
        assert client.get(reverse("evaluation:ballot", args=[rnd.pk])).status_code == 404
        assert client.get(reverse("evaluation:me")).status_code == 200


def test_the_member_writes_a_self_assessment_then_votes_once(setup):
    city, members, secretary = setup
    rnd = _round(city, secretary)
    client = _client(members[0].user)
    me = client.get(reverse("evaluation:me")).content.decode()
    assert "Save my self-assessment" in me
    url = reverse("evaluation:self_assessment", args=[rnd.pk])
    assert client.post(url, {"text": ""}).status_code == 400
    assert client.post(url, {"text": "认真学习，热情服务"}).status_code == 302
    assert rnd.participants.get(driver=members[0]).self_assessment == "认真学习，热情服务"
    assert client.get(reverse("evaluation:ballot", args=[rnd.pk])).status_code == 200  # not open

    services.round_start_voting(actor=secretary, round=rnd)
    ballot = reverse("evaluation:ballot", args=[rnd.pk])
    others = rnd.participants.exclude(driver=members[0])
    incomplete = client.post(ballot, {f"m{others[0].pk}": "qualified"})
    assert incomplete.status_code == 400
    assert "Choose a grade for this member." in incomplete.content.decode()
    assert not VoteReceipt.objects.exists()
    done = client.post(ballot, {f"m{p.pk}": "qualified" for p in others})
    assert done.status_code == 302
    assert "You have voted." in client.get(ballot).content.decode()
    again = client.post(ballot, {f"m{p.pk}": "unqualified" for p in others}, follow=True)
    assert "You have already voted in this round." in again.content.decode()
    assert VoteReceipt.objects.count() == 1


def test_the_driver_home_card_and_the_party_index_summary(setup):
    city, members, secretary = setup
    rnd = _round(city, secretary, voting=True)
    user = members[0].user
    assert [c.title for c in cards_for(user) if c.kind == "evaluation"] == [
        "Your evaluation ballot is open"
    ]
    summary = selectors.me_summary(user)
    assert summary["needs_vote"] and not summary["voted"]
    own = rnd.participants.get(driver=members[0])
    services.ballot_cast(
        actor=user,
        round=rnd,
        choices={p.pk: "qualified" for p in rnd.participants.exclude(pk=own.pk)},
    )
    assert [c for c in cards_for(user) if c.kind == "evaluation"] == []
    assert selectors.me_summary(user)["voted"]
    assert selectors.me_summary(city.driver().user) is None
    assert [c for c in cards_for(secretary) if c.kind == "evaluation"] == []
