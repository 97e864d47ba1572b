"""The driver's party index /me/party/: one card per area that has something for the driver."""

from django.test import Client

from redwheel import testing
from redwheel.party.recruitment.tests.helpers import apply


def _page(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client.get("/me/party/")


def test_a_driver_with_nothing_in_party_life_sees_how_to_start(db):
    city = testing.city()
    driver = city.driver("新司机")
    page = _page(driver.user)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Nothing here yet" in text and "/me/party/recruitment/apply/" in text


def test_an_applicant_sees_their_step_and_another_driver_does_not(db):
    city = testing.city()
    applicant, other = city.driver("申请人"), city.driver("旁人")
    apply(city, applicant)
    mine = _page(applicant.user).content.decode()
    assert "Nothing here yet" not in mine and "/me/party/recruitment/" in mine
    assert "Nothing here yet" in _page(other.user).content.decode()


def test_staff_have_no_driver_party_index(db):
    city = testing.city()
    assert _page(testing.staff(city.branch_a, "secretary")).status_code == 404
