"""Pages and the calendar API: staff and member journeys, the QR page, refusals as 404."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from redwheel import testing
from redwheel.accounts import services as accounts
from redwheel.core import attention
from redwheel.party.meetings import selectors, signin
from redwheel.party.meetings.models import Attendance, LeaveRequest, Meeting
from redwheel.party.meetings.tests.helpers import plan, secretary

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def soon(city):
    boss = secretary(city)
    member = city.member("李四")
    meeting = plan(boss, city.branch_a, timezone.now() + timedelta(hours=2), title="支委会议")
    return boss, member, meeting


def test_staff_plan_a_meeting_with_two_sessions(city):
    boss = secretary(city)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = _client(boss).post(
        reverse("meetings:new"),
        {
            "branch": city.branch_a.pk, "type_code": "branch_assembly", "title": "季度党员大会",
            "place": "司机之家", "session1_date": day, "session1_start": "12:00",
            "session1_end": "13:00", "session1_label": "午间", "session2_date": day,
            "session2_start": "19:00", "session2_end": "20:00",
        },
    )  # fmt: skip
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and meeting.sessions.count() == 2
    page = _client(boss).get(reverse("meetings:detail", args=[meeting.pk]))
    assert page.status_code == 200 and "季度党员大会" in page.content.decode()
    assert "more than half" in page.content.decode()


def test_an_invalid_form_is_shown_again(city):
    boss = secretary(city)
    response = _client(boss).post(
        reverse("meetings:new"), {"branch": city.branch_a.pk, "type_code": "branch_committee"}
    )
    assert response.status_code == 400
    assert not Meeting.objects.exists()


def test_read_only_and_foreign_staff_get_404(city, soon):
    _boss, _member, meeting = soon
    viewer = testing.staff(city.branch_a, "viewer")
    other = testing.staff(city.branch_b, "secretary")
    assert _client(viewer).get(reverse("meetings:detail", args=[meeting.pk])).status_code == 200
    for url in ("meetings:edit", "meetings:qr", "meetings:qr_code"):
        assert _client(viewer).get(reverse(url, args=[meeting.pk])).status_code == 404
    assert _client(viewer).post(reverse("meetings:new")).status_code == 404
    assert _client(other).get(reverse("meetings:detail", args=[meeting.pk])).status_code == 404
    assert (
        _client(other).post(reverse("meetings:act", args=[meeting.pk, "cancel"])).status_code == 404
    )


def test_the_qr_page_shows_a_code_only_during_a_session(city, soon):
    boss, _member, meeting = soon
    session = meeting.sessions.first()
    with time_machine.travel(session.starts_at - timedelta(hours=1), tick=False):
        body = _client(boss).get(reverse("meetings:qr_code", args=[meeting.pk])).content.decode()
    assert "<svg" not in body and "No session is open" in body
    with time_machine.travel(session.starts_at, tick=False):
        page = _client(boss).get(reverse("meetings:qr", args=[meeting.pk])).content.decode()
    assert "<svg" in page and 'hx-trigger="every 30s"' in page


def test_the_member_signs_in_through_the_url_of_the_code(city, soon):
    _boss, member, meeting = soon
    session = meeting.sessions.first()
    url = reverse("meetings:sign_in", args=[meeting.pk])
    client = _client(member.user)
    with time_machine.travel(session.starts_at, tick=False):
        code = signin.issue(session)
        opened = client.get(url, {"code": code})
        assert opened.status_code == 200 and "sign me in" in opened.content.decode()
        assert not Attendance.objects.exists()  # opening writes nothing
        response = client.post(url, {"code": code})
        assert response.status_code == 302
        assert Attendance.objects.get(meeting=meeting, driver=member).state == "present"
    later = session.ends_at + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        refused = client.get(url, {"code": code})
    assert refused.status_code == 400 and "expired" in refused.content.decode()


def test_a_non_member_scanning_the_code_gets_a_clear_refusal(city, soon):
    _boss, _member, meeting = soon
    outsider = city.member(platform=city.platform_b)
    session = meeting.sessions.first()
    with time_machine.travel(session.starts_at, tick=False):
        response = _client(outsider.user).post(
            reverse("meetings:sign_in", args=[meeting.pk]), {"code": signin.issue(session)}
        )
    assert response.status_code == 403 and "Only members of" in response.content.decode()
    # Without a code the meeting is simply not there for them.
    plain = _client(outsider.user).get(reverse("meetings:my_detail", args=[meeting.pk]))
    assert plain.status_code == 404


def test_the_member_asks_for_leave_and_sees_the_decision(city, soon):
    boss, member, meeting = soon
    client = _client(member.user)
    assert client.get(reverse("meetings:my_list")).status_code == 200
    response = client.post(reverse("meetings:my_leave", args=[meeting.pk]), {"reason": "送病人"})
    assert response.status_code == 302
    leave = LeaveRequest.objects.get()
    decided = _client(boss).post(
        reverse("meetings:leave_decide", args=[leave.pk]), {"decision": "approve", "note": "好"}
    )
    assert decided.status_code == 302
    page = client.get(reverse("meetings:my_detail", args=[meeting.pk])).content.decode()
    assert "Approved" in page
    cards = [c for c in attention.cards_for(member.user) if c.kind == "meetings"]
    assert [(c.urgency, c.title) for c in cards] == [(attention.SOON, "Leave approved: 支委会议")]
    empty = client.post(reverse("meetings:my_leave", args=[meeting.pk]), {"reason": ""})
    assert empty.status_code == 400


@time_machine.travel(datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_a_meeting_today_is_a_card_for_today(city):
    """Pinned to a morning: a meeting half an hour from a late evening falls on tomorrow."""
    boss = secretary(city)
    member = city.member()
    plan(boss, city.branch_a, timezone.localtime().replace(hour=20, minute=0))
    cards = [c for c in attention.cards_for(member.user) if c.kind == "meetings"]
    assert [c.urgency for c in cards] == [attention.TODAY]
    assert attention.providers()["meetings"](testing.user("路人")) == []
    summary = selectors.me_summary(member.user)
    assert summary["next"] is not None
    assert selectors.me_summary(city.driver().user) is None


def test_compliance_and_types_pages(city, soon):
    boss, _member, _meeting = soon
    committee = testing.staff(city.root)
    assert _client(boss).get(reverse("meetings:compliance")).status_code == 200
    body = _client(committee).get(reverse("meetings:compliance")).content.decode()
    assert "Totals over 3 branches" in body
    page = _client(committee).get(reverse("meetings:compliance"), {"branch": city.branch_a.pk})
    assert page.status_code == 200
    assert _client(committee).get(reverse("meetings:types")).status_code == 200
    other = testing.city()
    assert (
        _client(committee).get(reverse("meetings:compliance"), {"branch": other.branch_a.pk})
    ).status_code == 404


def test_themed_day_pages(city):
    committee = testing.staff(city.root)
    month = (timezone.localdate().replace(day=1) + timedelta(days=40)).strftime("%Y-%m")
    response = _client(committee).post(
        reverse("meetings:theme_new"), {"month": month, "title": "学党章", "materials": "读第一章"}
    )
    assert response.status_code == 302
    theme = selectors.themes(committee).get()
    boss = secretary(city)
    day = (timezone.localdate() + timedelta(days=45)).isoformat()
    adopted = _client(boss).post(
        reverse("meetings:theme_adopt", args=[theme.pk]),
        {"branch": city.branch_a.pk, "place": "驿站", "session1_date": day,
         "session1_start": "14:00", "session1_end": "15:00"},
    )  # fmt: skip
    assert adopted.status_code == 302
    page = _client(committee).get(reverse("meetings:theme_detail", args=[theme.pk]))
    assert "1 of 3 branches" in page.content.decode()
    assert _client(boss).post(reverse("meetings:theme_new")).status_code == 404


def _token(city, platform, scopes=("party:read",)):
    _row, secret = accounts.token_create(
        actor=city.admin, platform=platform, name="app", scopes=list(scopes)
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_calendar_api_for_platform_tokens_and_staff(city, soon):
    _boss, _member, meeting = soon
    url = f"/api/v1/party/branches/{city.branch_a.pk}/meetings"
    answer = _token(city, city.platform_a).get(url)
    assert answer.status_code == 200
    body = answer.json()
    assert body["meetings"][0]["id"] == meeting.pk
    assert body["meetings"][0]["sessions"][0]["label"] == "午间场"
    assert "attendance" not in str(body)
    # Another platform's token, a token without the scope, a missing branch.
    assert _token(city, city.platform_b).get(url).status_code == 404
    assert _token(city, city.platform_a, ["badges:read"]).get(url).status_code == 403
    missing = _token(city, city.platform_a).get("/api/v1/party/branches/987654321/meetings")
    assert missing.status_code == 404
    assert Client().get(url).status_code == 401
    assert _client(secretary(city)).get(url).status_code == 200
    other = testing.staff(city.branch_b, "secretary")
    assert _client(other).get(url).status_code == 404


def test_the_me_summary_template_renders(city, soon):
    from django.template.loader import render_to_string

    _boss, member, meeting = soon
    summary = selectors.me_summary(member.user)
    html = render_to_string("meetings/_me_summary.html", {"summary": summary})
    assert meeting.title in html


def test_lists_show_nothing_of_another_city(city, soon):
    _boss, _member, meeting = soon
    other = testing.city()
    foreign = testing.staff(other.root)
    body = _client(foreign).get(reverse("meetings:list")).content.decode()
    assert meeting.title not in body
    assert not selectors.meeting_list(foreign).exists()
