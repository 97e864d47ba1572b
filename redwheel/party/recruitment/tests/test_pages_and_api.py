"""Pages (staff and driver), the export and the API, with their scope."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.accounts import services as accounts
from redwheel.core.dates import local_date
from redwheel.party.recruitment import selectors
from redwheel.party.recruitment.models import Case
from redwheel.party.recruitment.tests.helpers import apply, pdf

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


def test_staff_list_shows_overdue_as_text_and_foreign_cities_get_404(client, city):
    case = apply(city, on=local_date() - timedelta(days=60))
    secretary = testing.staff(city.branch_a, "secretary")
    page = _client(client, secretary).get(reverse("recruitment:list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert case.driver.name in body and "overdue" in body
    assert client.get(reverse("recruitment:detail", args=[case.pk])).status_code == 200
    client.force_login(testing.staff(testing.city().root, "staff"))
    assert client.get(reverse("recruitment:detail", args=[case.pk])).status_code == 404
    assert case.driver.name not in client.get(reverse("recruitment:list")).content.decode()


def test_staff_records_a_step_through_the_page(client, city):
    case = apply(city, on=local_date() - timedelta(days=5))
    _client(client, testing.staff(city.branch_a, "secretary"))
    url = reverse("recruitment:complete", args=[case.pk])
    bad = client.post(url, {"done_on": local_date().isoformat()})
    assert bad.status_code == 400 and "required" in bad.content.decode()
    ok = client.post(url, {"done_on": local_date().isoformat(), "v_talker": "王书记"})
    assert ok.status_code == 302
    case.refresh_from_db()
    assert case.current_step == 3


def test_a_viewer_cannot_post_a_step(client, city):
    case = apply(city)
    _client(client, testing.staff(city.root, "viewer"))
    url = reverse("recruitment:complete", args=[case.pk])
    assert client.post(url, {"v_talker": "x"}).status_code == 404


def test_the_driver_applies_on_the_phone_and_sees_the_next_step(client, city):
    driver = city.driver()
    _client(client, driver.user)
    form = client.get(reverse("recruitment:my_apply"))
    assert city.mobile_branch_a.name in form.content.decode()
    response = client.post(
        reverse("recruitment:my_apply"),
        {"branch": city.mobile_branch_a.pk, "letter": pdf()},
    )
    assert response.status_code == 302
    page = client.get(reverse("recruitment:my_case")).content.decode()
    assert "党组织派人谈话" in page
    summary = selectors.me_summary(driver.user)
    assert summary["step"].number == 2 and summary["due_on"] is not None


def test_the_attention_card_shows_an_overdue_step(city):
    from redwheel.party.recruitment.attention import cards

    case = apply(city, on=local_date() - timedelta(days=60))
    [card] = cards(case.driver.user)
    assert "overdue" in card.title and card.urgency == 0
    assert cards(testing.staff(city.root)) == []


def test_registers_export_has_the_four_registers(client, city):
    case = apply(city)
    _client(client, testing.staff(city.branch_a, "secretary"))
    response = client.get(reverse("recruitment:registers_xlsx"))
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["入党申请人", "入党积极分子", "发展对象", "预备党员"]
    assert book["入党申请人"]["A2"].value == case.driver.name


def test_versions_page_is_for_committee_staff_only(client, city):
    apply(city)
    _client(client, testing.staff(city.branch_a, "secretary"))
    assert client.get(reverse("recruitment:versions")).status_code == 404
    client.force_login(testing.staff(city.root, "staff"))
    page = client.get(reverse("recruitment:versions"))
    assert page.status_code == 200
    version = Case.objects.get().version
    detail = client.get(reverse("recruitment:version", args=[version.pk])).content.decode()
    assert "递交入党申请书" in detail and "default, verify" in detail


def test_api_token_with_party_read_sees_its_own_drivers_only(client, city):
    case = apply(city)  # a platform_a driver
    _token, secret = accounts.token_create(
        actor=city.admin, platform=city.platform_a, name="t", scopes=["party:read"]
    )
    url = f"/api/v1/party/recruitment/members/{case.driver_id}"
    answer = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200
    assert answer.json()["current_step"]["number"] == 2
    _t, other = accounts.token_create(
        actor=city.admin, platform=city.platform_b, name="t2", scopes=["party:read"]
    )
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    _t, unscoped = accounts.token_create(
        actor=city.admin, platform=city.platform_a, name="t3", scopes=["badges:read"]
    )
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {unscoped}").status_code == 403


def test_api_for_staff_sessions_is_scoped(client, city):
    case = apply(city)
    url = f"/api/v1/party/recruitment/members/{case.driver_id}"
    _client(client, testing.staff(city.branch_a, "secretary"))
    assert client.get(url).json()["state"] == "active"
    client.force_login(testing.staff(testing.city().root, "staff"))
    assert client.get(url).status_code == 404
