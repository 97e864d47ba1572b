"""Write pages ask whether the actor may write there before they read the request.

A read-only role gets 404 (as for an object out of scope) even for an empty or broken form,
while a role that may write still gets the form's errors (400); pages that only read answer
POST with 405. The tenancy matrix walks every URL; these pin the difference per role.
"""

import pytest
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.appeals import services
from redwheel.appeals.models import Case
from redwheel.drivers.models import Membership
from redwheel.mobilization.models import Fleet

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role, unit", [("viewer", "root"), ("instructor", "branch_a")])
def test_read_only_roles_get_404_from_a_create_form_that_writers_get_errors_from(city, role, unit):
    url = reverse("mobilization:fleet_list")
    reader = _signed_in(testing.staff(getattr(city, unit), role))
    writer = _signed_in(testing.staff(city.branch_a, "secretary"))

    assert reader.get(url).status_code == 200  # the list stays readable
    assert reader.post(url, {"name": "应急车队"}).status_code == 404
    assert writer.post(url, {}).status_code == 400  # a writer is told what is missing
    assert not Fleet.objects.exists()


def test_an_action_on_a_driver_needs_the_action_before_the_form_is_read(city):
    member = city.member(verified=False)
    url = reverse("drivers:reject", args=[member.pk])
    viewer = _signed_in(testing.staff(city.root, "viewer"))
    secretary = _signed_in(testing.staff(city.branch_a, "secretary"))

    assert viewer.post(url, {}).status_code == 404
    assert viewer.post(url, {"reject-reason": "查无此人"}).status_code == 404
    assert secretary.post(url, {}).status_code == 400  # the reason is required
    member.membership.refresh_from_db()
    assert member.membership.state == Membership.State.DECLARED


def test_an_appeal_step_is_refused_to_a_viewer_of_the_case(city):
    driver = city.driver()
    case, _created = services.case_file(
        actor=driver.user,
        driver=driver,
        category="income",
        title="抽成过高",
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
    )
    handler = _signed_in(testing.staff(case.unit, "secretary"))
    url = reverse("appeals:act", args=[case.pk, "accept"])
    viewer = _signed_in(testing.staff(city.root, "viewer"))

    assert viewer.get(reverse("appeals:detail", args=[case.pk])).status_code == 200
    assert viewer.post(url).status_code == 404
    case.refresh_from_db()
    assert case.status == "submitted"
    assert handler.post(url).status_code == 302  # the unit's own staff take the step
    case.refresh_from_db()
    assert case.status == "accepted"


@pytest.mark.parametrize(
    "name",
    ["home", "appeals:list", "mobilization:statistics", "scoring:rules", "insights:coverage"],
)
def test_pages_that_only_read_answer_post_with_405(city, name):
    client = _signed_in(testing.staff(city.root, "viewer"))
    response = client.post(reverse(name))
    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_the_api_schema_and_docs_refuse_post(city):
    client = _signed_in(testing.staff(city.root, "viewer"))
    for path in ("/api/v1/openapi.json", "/api/v1/docs"):
        assert client.get(path).status_code == 200
        response = client.post(path)
        assert response.status_code == 405, path
        assert set(response.json()) == {"code", "message", "details"}
