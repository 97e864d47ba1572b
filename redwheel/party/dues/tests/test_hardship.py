"""Hardship relief: request → branch agreement (secretary) → committee approval, the bad
paths, and what an approved request does to the months it names."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from redwheel import testing
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import AuditEntry, Notification
from redwheel.party.dues import selectors, services
from redwheel.party.dues.models import HardshipRequest
from redwheel.party.dues.tests.factories import member

SH = ZoneInfo("Asia/Shanghai")
D = Decimal
Status = HardshipRequest.Status


@pytest.fixture
def people(city):
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=SH), tick=False):
        m = member(city)
        branch_secretary = testing.staff(city.branch_a, "secretary", name="支部书记")
        services.assessment_save(
            actor=branch_secretary, member=m, basis="wage", income="4000",
            quarter=date(2026, 1, 1),
        )  # fmt: skip
        yield {
            "member": m,
            "secretary": branch_secretary,
            "organiser": testing.staff(city.branch_a, "organiser"),
            "committee": testing.staff(city.committee_a, "staff", name="企业党委"),
            "city committee": testing.staff(city.root, "staff"),
        }


def ask(people, kind="exempt", first=date(2026, 2, 1), last=date(2026, 3, 1), **extra):
    m = people["member"]
    return services.hardship_request(
        actor=m.user, member=m, kind=kind, months_from=first, months_to=last,
        reason="生病住院两个月", **extra,
    )  # fmt: skip


def test_an_approved_exemption_applies_to_its_months_only(people):
    m = people["member"]
    request = ask(people)
    assert request.status == Status.REQUESTED
    services.hardship_agree(actor=people["secretary"], request=request, note="情况属实")
    request.refresh_from_db()
    assert request.status == Status.AGREED and request.agreed_by == people["secretary"]
    assert selectors.member_dues(m).arrears == D("160.00")  # agreed is not yet approved
    services.hardship_approve(actor=people["committee"], request=request)
    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.decided_by == people["committee"]
    dues = selectors.member_dues(m)
    assert dues.line(date(2026, 2, 1)).due == 0 and dues.line(date(2026, 3, 1)).due == 0
    assert dues.line(date(2026, 1, 1)).due == D("40.00")
    assert dues.line(date(2026, 4, 1)).due == D("40.00")
    assert dues.arrears == D("80.00")
    assert [a.action for a in request.activities.all()] == ["request", "agree", "approve"]
    assert [(a.from_status, a.to_status) for a in request.activities.all()] == [
        ("", "requested"), ("requested", "agreed"), ("agreed", "approved"),
    ]  # fmt: skip
    assert Notification.objects.filter(recipient=m.user, event="dues.hardship_decided").exists()
    entries = AuditEntry.objects.filter(action__startswith="dues.hardship").values_list(
        "action", "reason"
    )
    assert sorted(a for a, _r in entries) == [
        "dues.hardship.agree", "dues.hardship.approve", "dues.hardship.request",
    ]  # fmt: skip
    assert all("住院" not in r for _a, r in entries)  # the reason stays off the audit log


def test_a_reduction_lowers_the_amount_but_never_raises_it(people):
    m = people["member"]
    request = ask(people, kind="reduce", reduced_amount="10.00")
    services.hardship_agree(actor=people["secretary"], request=request)
    services.hardship_approve(actor=people["city committee"], request=request)
    assert selectors.member_dues(m).line(date(2026, 2, 1)).due == D("10.00")
    more = ask(people, kind="reduce", reduced_amount="99.00", first=date(2026, 4, 1),
               last=date(2026, 4, 1))  # fmt: skip
    services.hardship_agree(actor=people["secretary"], request=more)
    services.hardship_approve(actor=people["committee"], request=more)
    assert selectors.member_dues(m).line(date(2026, 4, 1)).due == D("40.00")


def test_the_committee_cannot_approve_before_the_branch_agrees(people):
    request = ask(people)
    with pytest.raises(InvalidTransition) as exc:
        services.hardship_approve(actor=people["committee"], request=request)
    assert "awaiting the branch" in str(exc.value.message)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


@pytest.mark.parametrize("who", ["member", "organiser", "committee", "city committee"])
def test_only_a_secretary_of_the_branch_agrees(people, who):
    request = ask(people)
    with pytest.raises(NotFound):
        services.hardship_agree(actor=people[who].user if who == "member" else people[who],
                                request=request)  # fmt: skip
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


def test_the_branch_secretary_cannot_also_approve(people, city):
    request = ask(people)
    services.hardship_agree(actor=people["secretary"], request=request)
    for actor in (people["secretary"], people["organiser"], people["member"].user):
        with pytest.raises(NotFound):
            services.hardship_approve(actor=actor, request=request)
    # Someone with grants on both levels still cannot approve what they agreed to.
    testing_grant = people["secretary"].grants.model
    testing_grant.objects.create(user=people["secretary"], unit=city.committee_a, role="staff")
    people["secretary"].__dict__.pop("_granted_paths", None)
    with pytest.raises(NotFound):
        services.hardship_approve(actor=people["secretary"], request=request)
    request.refresh_from_db()
    assert request.status == Status.AGREED


def test_another_citys_committee_and_another_branch_see_nothing(people, city):
    request = ask(people)
    for outsider in (testing.staff(testing.city().root), testing.staff(city.branch_b, "secretary")):
        with pytest.raises(NotFound):
            services.hardship_agree(actor=outsider, request=request)
        with pytest.raises(NotFound):
            selectors.hardship_get(outsider, request.pk)


def test_refusal_by_the_branch_or_by_the_committee(people):
    first = ask(people)
    with pytest.raises(ValidationFailed):
        services.hardship_refuse(actor=people["secretary"], request=first, reason="")
    services.hardship_refuse(actor=people["secretary"], request=first, reason="材料不全")
    first.refresh_from_db()
    assert first.status == Status.REFUSED
    second = ask(people)  # a refused request no longer blocks the months
    services.hardship_agree(actor=people["secretary"], request=second)
    with pytest.raises(NotFound):  # after agreeing, refusing is the committee's
        services.hardship_refuse(actor=people["secretary"], request=second, reason="改主意")
    services.hardship_refuse(actor=people["committee"], request=second, reason="不符合条件")
    second.refresh_from_db()
    assert second.status == Status.REFUSED
    assert selectors.member_dues(people["member"]).arrears == D("160.00")
    with pytest.raises(InvalidTransition):
        services.hardship_agree(actor=people["secretary"], request=second)


def test_the_member_withdraws_and_overlaps_are_refused(people):
    request = ask(people)
    with pytest.raises(Conflict):
        ask(people, first=date(2026, 3, 1), last=date(2026, 4, 1))
    services.hardship_withdraw(actor=people["member"].user, request=request)
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert ask(people, first=date(2026, 3, 1), last=date(2026, 4, 1)).status == Status.REQUESTED


def test_the_branch_asks_on_the_members_behalf(people):
    m = people["member"]
    request = services.hardship_request(
        actor=people["organiser"], member=m, kind="exempt", months_from=date(2026, 1, 1),
        months_to=date(2026, 1, 1), reason="家中变故",
    )  # fmt: skip
    assert request.requested_by == people["organiser"]
    assert request.branch == m.membership.branch


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"months_from": date(2026, 5, 1), "months_to": date(2026, 4, 1)}, "months_to"),
     ({"months_from": date(2025, 1, 1), "months_to": date(2026, 1, 1)}, "months_to"),
     ({"kind": "reduce"}, "reduced_amount"), ({"reason": "  "}, "reason"),
     ({"kind": "forgive"}, "kind")],
)  # fmt: skip
def test_bad_requests_are_refused(people, kwargs, field):
    m = people["member"]
    values = {"kind": "exempt", "months_from": date(2026, 1, 1), "months_to": date(2026, 2, 1),
              "reason": "困难", **kwargs}  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        services.hardship_request(actor=m.user, member=m, **values)
    assert field in exc.value.details
    assert not HardshipRequest.objects.exists()


def test_allowed_actions_follow_role_and_state(people):
    request = ask(people)
    assert services.allowed_actions(actor=people["secretary"], request=request) == [
        "agree", "refuse",
    ]  # fmt: skip
    assert services.allowed_actions(actor=people["committee"], request=request) == []
    assert services.allowed_actions(actor=people["member"].user, request=request) == ["withdraw"]
    services.hardship_agree(actor=people["secretary"], request=request)
    request.refresh_from_db()
    assert services.allowed_actions(actor=people["committee"], request=request) == [
        "approve", "refuse",
    ]  # fmt: skip
