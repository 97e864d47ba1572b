"""Ledger pages: the mobile branch's ledger and member page, the member's own 报到 page (check
in with the numbers in one step), tenancy (another city, the wrong branch → 404)."""

from datetime import date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.core.attention import cards_for
from redwheel.core.dates import LOCAL_TZ
from redwheel.drivers import services as drivers
from redwheel.drivers.models import Membership
from redwheel.party.mobile import selectors, services
from redwheel.party.mobile.models import LedgerEntry, Transfer

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def checked_in(city):
    member = city.member("流动")
    drivers.membership_check_in(
        actor=member.user, membership=member.membership, mobile_branch=city.mobile_branch_a
    )
    member.membership.refresh_from_db()
    secretary = testing.staff(city.mobile_branch_a, "secretary")
    return city, member, secretary


def test_the_member_checks_in_with_the_numbers_in_one_step(city):
    member = city.member("流动")
    client = _client(member.user)
    page = client.get(reverse("mobile_members:me")).content.decode()
    assert city.mobile_branch_a.name in page
    response = client.post(
        reverse("mobile_members:me_check_in"),
        {
            "mobile_branch": city.mobile_branch_a.pk,
            "home_organisation": "江西省鹰潭市某镇党委",
            "national_ref": "DY2025000001",
            "activity_card_no": "LD0001",
            "expected_return": "2099-01-01",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(pk=member.membership.pk)
    assert membership.mobile_branch == city.mobile_branch_a
    assert membership.home_organisation == "江西省鹰潭市某镇党委"
    entry = LedgerEntry.objects.get()
    assert (entry.national_ref, entry.checked_in_at) == ("DY2025000001", membership.checked_in_at)


def test_a_bad_number_at_check_in_checks_nothing_in(city):
    member = city.member("流动")
    response = _client(member.user).post(
        reverse("mobile_members:me_check_in"),
        {"mobile_branch": city.mobile_branch_a.pk, "national_ref": "12"},
    )
    assert response.status_code == 400
    assert "6–32 letters, digits or hyphens" in response.content.decode()
    assert Membership.objects.get(pk=member.membership.pk).mobile_branch is None
    assert not LedgerEntry.objects.exists()


def test_the_member_edits_their_numbers_and_return(checked_in):
    _city, member, _secretary = checked_in
    client = _client(member.user)
    assert "Add your 报到 numbers" in [c.title for c in cards_for(member.user)]
    url = reverse("mobile_members:me")
    assert (
        client.post(url, {"national_ref": "ABC-123", "expected_return": "2099-12-31"}).status_code
        == 302
    )
    entry = LedgerEntry.objects.get()
    assert (entry.national_ref, entry.expected_return) == ("ABC-123", date(2099, 12, 31))
    assert "ABC-123" in client.get(url).content.decode()
    assert "Add your 报到 numbers" not in [c.title for c in cards_for(member.user)]


def test_a_driver_who_is_not_a_member_is_told_so(city):
    driver = city.driver()
    page = _client(driver.user).get(reverse("mobile_members:me"))
    assert page.status_code == 200
    assert "Verified party members check in here" in page.content.decode()
    assert _client(driver.user).post(reverse("mobile_members:me"), {}).status_code == 404
    assert selectors.me_summary(driver.user) is None


def test_the_ledger_lists_my_mobile_branches_members(checked_in):
    city, member, secretary = checked_in
    page = _client(secretary).get(reverse("mobile_members:ledger")).content.decode()
    assert member.name in page
    assert "not recorded" in page
    other_branch = _client(testing.staff(city.committee_b, "staff"))
    assert member.name not in other_branch.get(reverse("mobile_members:ledger")).content.decode()


def test_the_secretary_records_the_entry_and_a_transfer(checked_in):
    _city, member, secretary = checked_in
    client = _client(secretary)
    pk = member.membership.pk
    assert client.get(reverse("mobile_members:member", args=[pk])).status_code == 200
    transfer_url = reverse("mobile_members:transfer", args=[pk])
    early = client.post(transfer_url, {"to_organisation": "某", "transferred_on": "2020-01-01"})
    assert early.status_code == 302 and not Transfer.objects.exists()  # no entry yet
    entry_url = reverse("mobile_members:entry_save", args=[pk])
    assert client.post(entry_url, {"national_ref": "bad!"}).status_code == 400
    assert client.post(entry_url, {"activity_card_no": "LD-0002"}).status_code == 302
    bad = client.post(transfer_url, {"to_organisation": "某", "transferred_on": "2999-01-01"})
    assert bad.status_code == 400
    ok = client.post(
        transfer_url,
        {"to_organisation": "深圳市某党工委", "transferred_on": date.today().isoformat()},
    )
    assert ok.status_code == 302
    assert Transfer.objects.get().to_organisation == "深圳市某党工委"
    page = client.get(reverse("mobile_members:member", args=[pk])).content.decode()
    assert "深圳市某党工委" in page


def test_read_only_roles_and_other_units_get_404_before_the_form(checked_in):
    city, member, _secretary = checked_in
    pk = member.membership.pk
    readers = [
        testing.staff(city.mobile_branch_a, "viewer"),
        testing.staff(city.branch_a, "secretary"),  # the member's home branch: not the ledger
    ]
    for user in readers:
        client = _client(user)
        assert client.post(reverse("mobile_members:entry_save", args=[pk]), {}).status_code == 404
        assert client.post(reverse("mobile_members:transfer", args=[pk]), {}).status_code == 404
    assert not LedgerEntry.objects.exists()


def test_another_city_gets_404(checked_in):
    _city, member, _secretary = checked_in
    other = testing.city()
    client = _client(testing.staff(other.root, "staff"))
    pk = member.membership.pk
    assert client.get(reverse("mobile_members:member", args=[pk])).status_code == 404
    assert client.post(reverse("mobile_members:entry_save", args=[pk]), {}).status_code == 404
    assert member.name not in client.get(reverse("mobile_members:ledger")).content.decode()


def test_six_months_away_is_flagged_everywhere(city):
    member = city.member("流动")
    secretary = testing.staff(city.mobile_branch_a, "secretary")
    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=LOCAL_TZ), tick=False):
        drivers.membership_check_in(
            actor=member.user, membership=member.membership, mobile_branch=city.mobile_branch_a
        )
    with time_machine.travel(datetime(2025, 7, 11, 9, tzinfo=LOCAL_TZ), tick=False):
        services.remind_due()
        ledger = _client(secretary).get(reverse("mobile_members:ledger")).content.decode()
        assert "6 months or more" in ledger
        assert "sent 2025-07-11" in ledger
        titles = [c.title for c in cards_for(member.user)]
        assert "Six months away: transfer your party relationship" in titles
        summary = selectors.me_summary(member.user)
        assert summary["row"].months_away == 6 and summary["row"].over_six_months
