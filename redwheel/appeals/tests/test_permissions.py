"""Who sees and acts on appeal cases, through the one permission mechanism.

Two cities share the database; each test asserts what one kind of user (committee staff,
a branch secretary, a platform token, a driver, a contact member, a stranger) can and
cannot reach through pages, exports, the API and the services.
"""

import inspect
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.appeals import selectors, services
from redwheel.appeals.models import Activity, Case, DeadlinePolicy, Status
from redwheel.core import permissions
from redwheel.core.errors import NotFound
from redwheel.core.permissions import SystemActor
from redwheel.drivers.services import contact_pair_create, driver_create

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def other_city(city):
    return testing.city()


def file(driver, *, attachments=(), now=MONDAY):
    case, created = services.case_file(
        actor=driver.user,
        driver=driver,
        category="income",
        title="抽成过高",
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
        attachments=attachments,
        now=now,
    )
    assert created
    return case


def escalate(case, times=1):
    for _ in range(times):
        case = services.case_escalate(
            actor=SystemActor.operator("test"), case=case, reason="上报", now=MONDAY
        )
    return case


def bearer(city, platform):
    _token, secret = token_create(
        actor=city.admin, platform=platform, name="t", scopes=["appeals:write"]
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_every_appeals_model_is_registered():
    for model in apps.get_app_config("appeals").get_models():
        permissions.registered(model)  # raises TypeError when a model is missing


def test_two_cities_in_one_database_are_apart(city, other_city):
    assert city.root.pk != other_city.root.pk
    assert city.platform_a.company_id != other_city.platform_a.company_id
    assert city.root.parent_id is None and other_city.root.parent_id is None
    assert not other_city.branch_a.path.startswith(city.root.path)


def test_committee_of_one_city_sees_nothing_of_the_other(city, other_city, client):
    ours = file(city.driver())
    theirs = file(
        other_city.driver(),
        attachments=[SimpleUploadedFile("a.png", PNG, content_type="image/png")],
    )
    theirs_b = file(other_city.driver(platform=other_city.platform_b))
    escalate(theirs, times=3)  # up to the other city's committee
    committee = testing.staff(city.root)
    client.force_login(committee)

    listing = client.get(reverse("appeals:list")).content.decode()
    assert ours.number in listing
    assert theirs.number not in listing and theirs_b.number not in listing
    for case in (theirs, theirs_b):
        assert client.get(reverse("appeals:detail", args=[case.pk])).status_code == 404
        response = client.post(reverse("appeals:act", args=[case.pk, "accept"]))
        assert response.status_code == 404
    attachment = theirs.attachments.get()
    assert client.get(reverse("appeals:attachment", args=[attachment.pk])).status_code == 404
    assert client.get(reverse("appeals:detail", args=[ours.pk])).status_code == 200

    # The ledger and its export hold only this city's units (unit names repeat across
    # cities, so count rows: one unit here, three over there).
    month = "?month=2026-03"
    assert [r.unit for r in selectors.accountability(committee, MONDAY.date())] == [city.branch_a]
    export = client.get(reverse("appeals:accountability_xlsx") + month)
    assert export.status_code == 200
    assert load_workbook(BytesIO(export.content)).active.max_row == 2
    assert selectors.status_counts(committee) == {Status.SUBMITTED: 1}

    # Not even the other city's level-4 case can be touched through the services.
    theirs.refresh_from_db()
    assert theirs.level == 4 and theirs.unit == other_city.root
    with pytest.raises(NotFound):
        services.case_answer(actor=committee, case=theirs, answer="越权答复")
    theirs.refresh_from_db()
    assert theirs.status == Status.SUBMITTED and theirs.answer == ""


def test_platform_token_of_another_city_gets_404_on_the_api(city, other_city, client):
    ours = file(city.driver())
    url = f"/api/v1/appeals/{ours.number}"
    assert client.get(url, **bearer(city, city.platform_a)).status_code == 200
    assert client.get(url, **bearer(other_city, other_city.platform_a)).status_code == 404
    assert client.get(url, **bearer(city, city.platform_b)).status_code == 404


def test_branch_secretary_sees_only_cases_their_subtree_held(city, client):
    mine = file(city.driver())
    other_branch = file(city.driver(platform=city.platform_b))
    secretary = testing.staff(city.branch_a, role="secretary")
    mobile_secretary = testing.staff(city.mobile_branch_a, role="secretary")
    assert set(selectors.case_list(secretary)) == {mine}
    assert set(selectors.case_list(mobile_secretary)) == set()  # not held there yet

    mine = escalate(mine)  # level 2: the mobile branch
    assert mine.unit == city.mobile_branch_a
    assert set(selectors.case_list(mobile_secretary)) == {mine}
    mine = escalate(mine)  # level 3: the platform's committee
    # Both branches held it, so both still see it; only the current holder may act.
    assert set(selectors.case_list(secretary)) == {mine}
    assert set(selectors.case_list(mobile_secretary)) == {mine}
    with pytest.raises(NotFound):
        services.case_answer(actor=secretary, case=mine, answer="已处理")
    assert services.allowed_actions(secretary, mine) == []

    client.force_login(secretary)
    assert client.get(reverse("appeals:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("appeals:detail", args=[other_branch.pk])).status_code == 404
    listing = client.get(reverse("appeals:list")).content.decode()
    assert mine.number in listing and other_branch.number not in listing


def test_level_four_is_the_city_committee_only(city):
    case = escalate(file(city.driver()), times=3)
    assert (case.level, case.unit) == (4, city.root)
    platform_committee = testing.staff(city.committee_a)
    assert case in selectors.case_list(platform_committee)  # it held the case at level 3
    with pytest.raises(NotFound):
        services.case_answer(actor=platform_committee, case=case, answer="已处理")
    city_committee = testing.staff(city.root, role="secretary")
    assert "answer" in services.allowed_actions(city_committee, case)
    case = services.case_answer(actor=city_committee, case=case, answer="行业党委已协调")
    assert case.status == Status.ANSWERED


def test_platform_token_of_platform_b_cannot_read_or_act_on_platform_a(city, client):
    driver_a = city.driver()
    case = file(driver_a)
    assert case.platform == city.platform_a
    headers_a, headers_b = bearer(city, city.platform_a), bearer(city, city.platform_b)
    url = f"/api/v1/appeals/{case.number}"
    assert client.get(url, **headers_a).status_code == 200
    assert client.get(url, **headers_b).status_code == 404
    body = {
        "license_id": driver_a.license_no,
        "category": "income",
        "title": "抽成",
        "description": "过高",
    }
    response = client.post("/api/v1/appeals", body, content_type="application/json", **headers_b)
    assert response.status_code == 404
    assert Case.objects.count() == 1

    feed_b = SystemActor.for_platform(city.platform_b.pk, "platform:b")
    feed_a = SystemActor.for_platform(city.platform_a.pk, "platform:a")
    assert list(selectors.case_list(feed_b)) == []
    assert list(selectors.case_list(feed_a)) == [case]
    with pytest.raises(NotFound):
        services.case_file(
            actor=feed_b,
            driver=driver_a,
            category="income",
            title="代提交",
            description="代司机提交",
            channel=Case.Channel.API,
        )
    # A platform reads its cases; handling them is the party organisations' work.
    for feed in (feed_a, feed_b):
        with pytest.raises(NotFound):
            services.case_accept(actor=feed, case=case)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


def test_platform_files_for_its_own_driver_through_its_principal(city):
    driver = city.driver()
    feed = SystemActor.for_platform(city.platform_a.pk, "platform:a")
    case, created = services.case_file(
        actor=feed,
        driver=driver,
        category="dispatch",
        title="派单不公",
        description="连续三天派远单。",
        channel=Case.Channel.API,
        idempotency_key="T-9",
    )
    assert created and case.platform == city.platform_a and case.channel == "api"
    again, created = services.case_file(
        actor=feed,
        driver=driver,
        category="dispatch",
        title="派单不公",
        description="连续三天派远单。",
        channel=Case.Channel.API,
        idempotency_key="T-9",
    )
    assert not created and again.pk == case.pk


def test_a_driver_sees_and_acts_only_on_their_own(city, client):
    me, other = city.driver(), city.driver()
    mine, theirs = file(me), file(other)
    assert list(selectors.own_cases(me.user)) == [mine]
    assert list(selectors.case_list(me.user)) == [mine]
    client.force_login(me.user)
    page = client.get(reverse("appeals:my_list")).content.decode()
    assert mine.number in page and theirs.number not in page
    assert client.get(reverse("appeals:detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("appeals:act", args=[theirs.pk, "withdraw"])).status_code == 404
    with pytest.raises(NotFound):
        services.case_withdraw(actor=me.user, case=theirs, reason="不是我的")
    with pytest.raises(NotFound):  # filing "for" another driver from the phone
        services.case_file(
            actor=me.user,
            driver=other,
            category="income",
            title="代填",
            description="替别人提交",
            channel=Case.Channel.APP,
        )
    theirs.refresh_from_db()
    assert theirs.status == Status.SUBMITTED
    services.case_withdraw(actor=me.user, case=mine, reason="已解决")
    mine.refresh_from_db()
    assert mine.status == Status.WITHDRAWN


def test_contact_member_sees_and_handles_only_the_case_assigned_to_them(city, client):
    member, bystander = city.member(), city.member()
    driver = city.driver()
    contact_pair_create(actor=city.admin, member=member, driver=driver)
    case = file(driver)
    assert case.assignee == member.user
    assert list(selectors.assigned_cases(member.user)) == [case]
    assert list(selectors.assigned_cases(bystander.user)) == []
    client.force_login(bystander.user)
    assert client.get(reverse("appeals:detail", args=[case.pk])).status_code == 404
    client.force_login(member.user)
    assert client.get(reverse("appeals:detail", args=[case.pk])).status_code == 200
    services.case_accept(actor=member.user, case=case)
    # Once the case goes up to a unit the member has no grant on, it is out of their sight.
    case = escalate(case)
    assert case.assignee != member.user
    assert client.get(reverse("appeals:detail", args=[case.pk])).status_code == 404


def test_routing_never_leaves_the_case_city(city, other_city):
    far_member = other_city.member()
    driver = city.driver()
    contact_pair_create(actor=city.admin, member=far_member, driver=driver)
    case = file(driver)
    assert (case.unit, case.assignee) == (city.branch_a, None)  # not the other city's member
    case = escalate(case, times=3)
    assert (case.level, case.unit) == (4, city.root)
    # A driver with no branch goes to the committee of the city licensing their platform.
    branchless = driver_create(
        actor=other_city.admin,
        name="无支部司机",
        license_no=testing.id_number(990_001),
        phone=testing.mobile(990_001),
        platforms=[other_city.platform_b],
    )
    far = file(branchless)
    assert far.unit == other_city.committee_b
    assert escalate(far).unit == other_city.root


def test_deadline_policies_are_kept_by_operators_only(city):
    policy = DeadlinePolicy(
        level=1, category="", basis="calendar", response_minutes=30, resolution_minutes=60
    )
    committee = testing.staff(city.root)
    with pytest.raises(NotFound):
        services.deadline_policy_save(actor=committee, policy=policy)
    assert DeadlinePolicy.objects.count() == 0
    services.deadline_policy_save(actor=city.admin, policy=policy)  # a superuser
    assert permissions.scope(committee, "view", DeadlinePolicy.objects.all()).count() == 0
    assert permissions.scope(city.admin, "view", DeadlinePolicy.objects.all()).count() == 1


def _public_services_taking_an_actor():
    for name, function in inspect.getmembers(services, inspect.isfunction):
        # Defined in one of the package's modules (not imported there from elsewhere).
        if not function.__module__.startswith(f"{services.__name__}.") or name.startswith("_"):
            continue
        if "actor" in inspect.signature(function).parameters:
            yield name, function


def test_every_public_service_refuses_strangers_and_other_cities(city, other_city):
    driver = city.driver()
    case, into = file(driver), file(driver)
    arguments = {
        "case": case,
        "action": "accept",
        "into": into,
        "driver": driver,
        "category": "income",
        "title": "标题",
        "description": "内容",
        "note": "备注",
        "question": "请补充",
        "text": "补充",
        "answer": "答复",
        "reason": "理由",
        "satisfied": True,
        "outcome": "agreed",
        "policy": DeadlinePolicy(
            level=1, category="", basis="working", response_minutes=1, resolution_minutes=2
        ),
    }
    strangers = {
        "no grants, no driver": testing.user("路人"),
        "other city's committee": testing.staff(other_city.root),
        "other city's driver": other_city.driver().user,
    }
    walked = set()
    before = (Case.objects.count(), Activity.objects.count())
    for name, function in _public_services_taking_an_actor():
        walked.add(name)
        signature = inspect.signature(function)
        needed = [
            p
            for p in signature.parameters.values()
            if p.name != "actor" and p.default is inspect.Parameter.empty
        ]
        channels = list(Case.Channel.values) if "channel" in signature.parameters else [None]
        for label, actor in strangers.items():
            for channel in channels:
                kwargs = {p.name: arguments[p.name] for p in needed if p.name != "channel"}
                if channel is not None:
                    kwargs["channel"] = channel
                with pytest.raises(NotFound):
                    function(actor=actor, **kwargs)
                    pytest.fail(f"{name} let {label} through")
    assert {
        "case_file",
        "case_accept",
        "case_request_info",
        "case_provide_info",
        "case_answer",
        "case_escalate",
        "case_rate",
        "case_close",
        "case_reopen",
        "case_merge",
        "case_withdraw",
        "mediation_update",
        "deadline_policy_save",
        "case_roles",
        "allowed_actions",
        "may_take",
    } <= walked
    assert (Case.objects.count(), Activity.objects.count()) == before
    assert DeadlinePolicy.objects.count() == 0
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


def test_escalation_job_runs_as_an_operator_across_cities(city, other_city):
    ours, theirs = file(city.driver()), file(other_city.driver())
    assert services.JOB_ACTOR.is_operator
    counts = services.escalate_due(now=ours.response_due_at)
    assert counts["escalated"] == 2
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.unit == city.mobile_branch_a and theirs.unit == other_city.mobile_branch_a
