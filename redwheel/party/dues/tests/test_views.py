"""The staff and driver pages: what they show, what they record, and 404 outside scope."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.core.errors import NotFound
from redwheel.exchange.models import DriverMonthMetric
from redwheel.party.dues import services
from redwheel.party.dues.models import Assessment, HardshipRequest, Payment, RuleSet
from redwheel.party.dues.tests.factories import member

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


@pytest.fixture(autouse=True)
def may():
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=SH), tick=False):
        yield


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def setup(city):
    m = member(city, "张三")
    secretary = testing.staff(city.branch_a, "secretary")
    services.assessment_save(
        actor=secretary, member=m, basis="wage", income="4000", quarter=date(2026, 1, 1)
    )
    services.payment_record(
        actor=secretary, member=m, period=date(2026, 1, 1), amount="40", method="cash"
    )
    return m, secretary


def test_staff_list_shows_amount_paid_and_arrears(city, setup):
    _m, secretary = setup
    response = signed_in(secretary).get(reverse("dues:index"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "张三" in text and "¥40.00" in text and "¥120.00" in text  # Feb–Apr in arrears


def test_staff_list_query_count_does_not_grow_with_members(
    city, setup, django_assert_max_num_queries
):
    _m, secretary = setup
    for i in range(8):
        extra = member(city, f"党员{i}")
        services.assessment_save(actor=secretary, member=extra, basis="student")
    client = signed_in(secretary)
    client.get(reverse("dues:index"))  # warm the session and caches
    with django_assert_max_num_queries(25):
        assert client.get(reverse("dues:index")).status_code == 200


def test_recording_a_payment_from_the_member_page(city, setup):
    m, secretary = setup
    client = signed_in(secretary)
    assert client.get(reverse("dues:member", args=[m.pk])).status_code == 200
    response = client.post(
        reverse("dues:member_pay", args=[m.pk]),
        {"period": "2026-02", "months": "3", "amount": "40.00", "method": "alipay",
         "receipt_no": "NO-9", "paid_by_name": "儿子"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Payment.objects.filter(member=m, method="alipay", paid_by_name="儿子").count() == 3
    bad = client.post(reverse("dues:member_pay", args=[m.pk]), {"period": "2026-02"})
    assert bad.status_code == 400


def test_read_only_roles_get_404_before_the_form_is_read(city, setup):
    m, _secretary = setup
    viewer = signed_in(testing.staff(city.root, "viewer"))
    assert viewer.get(reverse("dues:member", args=[m.pk])).status_code == 200
    for name in ("dues:member_pay", "dues:member_assess", "dues:member_hardship"):
        assert viewer.post(reverse(name, args=[m.pk]), {}).status_code == 404
    assert viewer.post(reverse("dues:rules"), {}).status_code == 404
    assert Payment.objects.count() == 1


def test_reversing_from_the_page(city, setup):
    _m, secretary = setup
    entry = Payment.objects.get()
    client = signed_in(secretary)
    assert client.post(reverse("dues:payment_reverse", args=[entry.pk]), {}).status_code == 400
    response = client.post(reverse("dues:payment_reverse", args=[entry.pk]), {"reason": "记错人"})
    assert response.status_code == 302
    assert Payment.objects.filter(reverses=entry).exists()


def test_another_citys_staff_get_404_everywhere(city, setup):
    m, _secretary = setup
    outsider = signed_in(testing.staff(testing.city().root))
    request = services.hardship_request(
        actor=m.user, member=m, kind="exempt", months_from=date(2026, 2, 1),
        months_to=date(2026, 2, 1), reason="困难",
    )  # fmt: skip
    entry = Payment.objects.get()
    for url in (
        reverse("dues:member", args=[m.pk]),
        reverse("dues:hardship", args=[request.pk]),
    ):
        assert outsider.get(url).status_code == 404
    for url in (
        reverse("dues:member_pay", args=[m.pk]),
        reverse("dues:payment_reverse", args=[entry.pk]),
        reverse("dues:hardship_agree", args=[request.pk]),
    ):
        assert outsider.post(url, {"reason": "x"}).status_code == 404
    assert "张三" not in outsider.get(reverse("dues:index")).content.decode()
    assert outsider.get(f"/api/v1/party/dues/members/{m.pk}").status_code == 404
    xlsx = outsider.get(reverse("dues:ledger_xlsx"))
    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet.max_row == 1  # the header only


def test_ledger_export(city, setup):
    _m, secretary = setup
    response = signed_in(secretary).get(reverse("dues:ledger_xlsx"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == "2026-01" and rows[1][2].startswith("张三") and rows[1][5] == 40


def test_hardship_pages_take_the_steps(city, setup):
    m, secretary = setup
    request = services.hardship_request(
        actor=m.user, member=m, kind="exempt", months_from=date(2026, 2, 1),
        months_to=date(2026, 3, 1), reason="困难",
    )  # fmt: skip
    client = signed_in(secretary)
    assert m.name in client.get(reverse("dues:hardship_list")).content.decode()
    assert client.post(reverse("dues:hardship_approve", args=[request.pk])).status_code == 404
    assert client.post(reverse("dues:hardship_agree", args=[request.pk])).status_code == 302
    committee = signed_in(testing.staff(city.committee_a, "staff"))
    assert committee.post(reverse("dues:hardship_approve", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert request.status == HardshipRequest.Status.APPROVED


def test_the_committee_publishes_rules_from_the_page(city):
    committee = signed_in(testing.staff(city.root, "staff"))
    page = committee.get(reverse("dues:rules"))
    assert page.status_code == 200 and "3000:0.5, 5000:1, 10000:1.5, *:2" in page.content.decode()
    data = {
        "effective_from": "2026-07-01", "wage_bands": "3000:0.5, 5000:1, 10000:1.5, *:2",
        "retired_bands": "5000:0.5, *:1", "flat_amount": "0.20",
        "remind_days_before_month_end": "5", "lapse_reminder_months": "2",
    }  # fmt: skip
    assert committee.post(reverse("dues:rules"), data).status_code == 302
    latest = RuleSet.objects.filter(city=city.root).order_by("-version").first()
    assert (latest.version, latest.effective_from, latest.lapse_reminder_months) == (
        2, date(2026, 7, 1), 2,
    )  # fmt: skip
    bad = committee.post(reverse("dues:rules"), {**data, "wage_bands": "5000:1, 3000:2"})
    assert bad.status_code == 400
    # A branch secretary reads the rules but cannot change them.
    secretary = signed_in(testing.staff(city.branch_a, "secretary"))
    assert secretary.get(reverse("dues:rules")).status_code == 200
    assert secretary.post(reverse("dues:rules"), data).status_code == 404


# The member's own pages --------------------------------------------------------------------------


def test_my_dues_page(city, setup):
    m, _secretary = setup
    response = signed_in(m.user).get(reverse("dues:my_dues"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "¥40.00" in text and "¥120.00" in text and "narrow" in text


def test_confirming_income_with_the_suggestion_shown(city):
    m = member(city)
    for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
        DriverMonthMetric.objects.create(
            platform=city.platform_a, license_index=m.license_index, driver=m, month=month,
            completed_orders=300, revenue_yuan=D("12000.00"),
        )  # fmt: skip
    client = signed_in(m.user)
    page = client.get(reverse("dues:my_income"))
    assert "Turnover recorded by platforms" in page.content.decode()
    assert "12000.00" in page.content.decode()
    filled = client.get(reverse("dues:my_income") + "?use=suggestion")
    assert 'value="12000.00"' in filled.content.decode()
    assert not Assessment.objects.exists()  # filling the form in saves nothing
    response = client.post(
        reverse("dues:my_income"),
        {"basis": "no_wage", "month_1": "5000", "month_2": "5200", "month_3": "4800"},
    )
    assert response.status_code == 302
    a = Assessment.objects.get()
    assert (a.income, a.monthly_amount, a.used_suggestion) == (D("5000.00"), D("50.00"), False)
    missing = client.post(reverse("dues:my_income"), {"basis": "no_wage", "month_1": "5000"})
    assert missing.status_code == 400


def test_asking_for_relief_and_withdrawing(city, setup):
    m, _secretary = setup
    client = signed_in(m.user)
    assert client.get(reverse("dues:my_hardship")).status_code == 200
    response = client.post(
        reverse("dues:my_hardship"),
        {"kind": "reduce", "months_from": "2026-02", "months_to": "2026-04",
         "reduced_amount": "5", "reason": "收入下降"},
    )  # fmt: skip
    assert response.status_code == 302
    request = HardshipRequest.objects.get()
    other = member(city, "李四")
    assert (
        signed_in(other.user)
        .post(reverse("dues:my_hardship_withdraw", args=[request.pk]))
        .status_code
        == 404
    )
    assert client.post(reverse("dues:my_hardship_withdraw", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert request.status == HardshipRequest.Status.WITHDRAWN


def test_drivers_who_are_not_members(city):
    driver = city.driver("普通司机")
    client = signed_in(driver.user)
    assert client.get(reverse("dues:my_dues")).status_code == 200
    assert client.get(reverse("dues:my_income")).status_code == 404
    assert client.post(reverse("dues:my_hardship"), {}).status_code == 404


def test_me_summary_and_attention_cards(city, setup):
    from redwheel.party.dues import selectors

    m, _secretary = setup
    summary = selectors.me_summary(m.user)
    assert summary["arrears"] == D("120.00") and summary["months_in_arrears"] == 3
    cards = selectors.attention_cards(m.user)
    assert [c.kind for c in cards] == ["dues"]  # a wage carries over: no income to confirm
    assert "120.00" in cards[0].title and cards[0].urgency == 10  # TODAY: 3 months
    assert selectors.attention_cards(city.driver("非党员").user) == []
    assert selectors.attention_cards(testing.staff(city.root)) == []
    fresh = member(city, "新党员")
    titles = [c.title for c in selectors.attention_cards(fresh.user)]
    assert titles == ["Confirm your income for the party dues of 2026 Q2"]
    html = Client()
    html.force_login(m.user)
    from django.template.loader import render_to_string

    assert "¥120.00" in render_to_string("dues/_me_summary.html", {"summary": summary})


def test_api_status_for_staff_and_the_member(city, setup):
    m, secretary = setup
    url = f"/api/v1/party/dues/members/{m.pk}"
    body = signed_in(secretary).get(url).json()
    assert body["monthly_amount"] == "40.00" and body["arrears"] == "120.00"
    assert body["arrears_months"] == ["2026-02-01", "2026-03-01", "2026-04-01"]
    assert body["basis"] == "wage" and body["carried_over"] is True
    assert signed_in(m.user).get(url).status_code == 200
    assert signed_in(member(city, "李四").user).get(url).status_code == 404
    assert Client().get(url).status_code == 401


def test_another_platforms_committee_sees_the_driver_but_not_the_dues(city, setup):
    from redwheel.drivers import services as drivers

    m, _secretary = setup
    drivers.affiliation_add(actor=city.admin, driver=m, platform=city.platform_b)
    other_platform = testing.staff(city.committee_b, "staff")
    from redwheel.core.permissions import can

    assert can(other_platform, "view", m)  # the driver also drives for platform B
    client = signed_in(other_platform)
    assert client.get(reverse("dues:member", args=[m.pk])).status_code == 404
    assert m.name not in client.get(reverse("dues:index")).content.decode()
    assert client.get(f"/api/v1/party/dues/members/{m.pk}").status_code == 404
    with pytest.raises(NotFound):
        services.payment_record(
            actor=other_platform, member=m, period=date(2026, 1, 1), amount="1", method="cash"
        )
