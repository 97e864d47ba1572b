import pytest
from django.urls import reverse

from redwheel import testing
from redwheel.core.models import AuditEntry, Notification
from redwheel.drivers import services
from redwheel.drivers.models import ContactPair, Membership, MembershipActivity

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_staff(city):
    return testing.staff(city.root, "staff", name="行业党委干部")


@pytest.fixture
def staff_a(city):
    return testing.staff(city.committee_a, "staff", name="甲党委干部")


@pytest.fixture
def staff_b(city):
    return testing.staff(city.committee_b, "staff", name="乙党委干部")


def _declared(city, name="申报人", category="full"):
    driver = city.driver(name)
    services.membership_declare(
        actor=city.admin, driver=driver, category=category, branch=city.branch_a
    )
    driver.refresh_from_db()
    return driver


# Pages render --------------------------------------------------------------------------------


def test_list_detail_and_queue_render_for_allowed_staff(client, city, staff_a):
    member = city.member()
    declared = _declared(city)
    client.force_login(staff_a)
    response = client.get(reverse("drivers:list"))
    assert response.status_code == 200
    assert member.name in response.text and member.phone_masked in response.text
    response = client.get(reverse("drivers:detail", args=[member.pk]))
    assert response.status_code == 200
    assert member.license_masked in response.text
    response = client.get(reverse("drivers:verification_queue"))
    assert response.status_code == 200
    assert declared.name in response.text and member.name not in response.text


def test_queue_empty_state(client, city, staff_b):
    _declared(city)  # on platform A: not B's business
    client.force_login(staff_b)
    response = client.get(reverse("drivers:verification_queue"))
    assert response.status_code == 200
    assert not response.context["page"].object_list


def test_queue_is_oldest_first(client, city, staff_a):
    first = _declared(city, "先")
    second = _declared(city, "后")
    client.force_login(staff_a)
    page = client.get(reverse("drivers:verification_queue")).context["page"]
    assert [m.driver_id for m in page] == [first.pk, second.pk]


# Tenant isolation ------------------------------------------------------------------------------

ACTIONS = [
    ("drivers:detail", "get", {}),
    ("drivers:reveal", "post", {"field": "phone", "reason": "核实身份"}),
    ("drivers:verify", "post", {}),
    ("drivers:reject", "post", {"reject-reason": "不符"}),
    ("drivers:lapse", "post", {"lapse-reason": "失联"}),
    ("drivers:transfer", "post", {"to_branch": "BRANCH_B"}),
    ("drivers:check_in", "post", {"mobile_branch": "MOBILE_A"}),
    ("drivers:check_out", "post", {}),
    ("drivers:declare", "post", {"category": "full", "branch": "BRANCH_B"}),
    ("drivers:contact_pair_add", "post", {"number": "OTHER_PHONE"}),
]


def _fill(data, city, other):
    values = {
        "BRANCH_B": city.branch_b.pk,
        "MOBILE_A": city.mobile_branch_a.pk,
        "OTHER_PHONE": other.phone,
    }
    return {k: values.get(v, v) for k, v in data.items()}


@pytest.mark.parametrize(("name", "method", "data"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize("target", ["member", "declared", "plain"])
def test_other_platform_gets_404_and_nothing_changes(
    client, city, staff_b, name, method, data, target
):
    driver = {"member": city.member, "declared": lambda: _declared(city), "plain": city.driver}[
        target
    ]()
    other = city.driver("乙司机", platform=city.platform_b)
    audit_before = AuditEntry.objects.count()
    client.force_login(staff_b)
    url = reverse(name, args=[driver.pk])
    response = getattr(client, method)(url, _fill(data, city, other))
    assert response.status_code == 404
    assert AuditEntry.objects.count() == audit_before
    assert driver.phone not in response.text


@pytest.mark.parametrize(("name", "method", "data"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_a_driver_gets_404_for_staff_pages_of_anyone(client, city, name, method, data):
    me = city.member("我")
    other = city.member("他")
    client.force_login(me.user)
    for target in (me, other):
        response = getattr(client, method)(
            reverse(name, args=[target.pk]), _fill(data, city, other)
        )
        assert response.status_code == 404


@pytest.mark.parametrize("name", ["drivers:list", "drivers:verification_queue"])
def test_a_driver_gets_404_for_staff_lists(client, city, name):
    me = city.driver()
    client.force_login(me.user)
    assert client.get(reverse(name)).status_code == 404


def test_other_platform_list_and_queue_do_not_show_platform_a(client, city, staff_b):
    a_driver = _declared(city, "甲司机")
    b_driver = city.driver("乙司机", platform=city.platform_b)
    client.force_login(staff_b)
    text = client.get(reverse("drivers:list")).text
    assert b_driver.name in text and a_driver.name not in text
    assert a_driver.name not in client.get(reverse("drivers:verification_queue")).text


def test_committee_root_staff_sees_both_platforms(client, city, root_staff):
    a_driver = city.driver("甲司机")
    b_driver = city.driver("乙司机", platform=city.platform_b)
    client.force_login(root_staff)
    for d in (a_driver, b_driver):
        assert client.get(reverse("drivers:detail", args=[d.pk])).status_code == 200
    text = client.get(reverse("drivers:list")).text
    assert a_driver.name in text and b_driver.name in text


# Actions through HTTP ------------------------------------------------------------------------


def test_verify_through_http(client, city, staff_a):
    driver = _declared(city)
    client.force_login(staff_a)
    response = client.post(reverse("drivers:verify", args=[driver.pk]))
    assert response.status_code == 302
    membership = Membership.objects.get(driver=driver)
    assert membership.state == "verified"
    assert membership.activities.filter(action="verify", actor=staff_a).exists()
    assert Notification.objects.filter(
        recipient=driver.user, channel="inbox", event="membership.verified"
    ).exists()
    page = client.get(response.url)
    assert "Membership verified" in page.text or "verified" in page.text.lower()


def test_verify_inline_from_the_queue_with_htmx(client, city, staff_a):
    driver = _declared(city)
    client.force_login(staff_a)
    response = client.post(
        reverse("drivers:verify", args=[driver.pk]), {"from": "queue"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="queue-{driver.pk}"' in response.text
    assert Membership.objects.get(driver=driver).state == "verified"


def test_reject_with_empty_reason_is_refused_and_changes_nothing(client, city, staff_a):
    driver = _declared(city)
    client.force_login(staff_a)
    activities = MembershipActivity.objects.count()
    response = client.post(reverse("drivers:reject", args=[driver.pk]), {"reject-reason": "  "})
    assert response.status_code == 400
    assert Membership.objects.get(driver=driver).state == "declared"
    assert MembershipActivity.objects.count() == activities
    assert 'class="flash flash-error"' in response.text
    # Inline from the queue the error comes back in the row.
    response = client.post(
        reverse("drivers:reject", args=[driver.pk]),
        {"from": "queue", "reject-reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert f'id="queue-{driver.pk}"' in response.text and "flash-error" in response.text
    assert Membership.objects.get(driver=driver).state == "declared"


def test_reject_with_reason(client, city, staff_a):
    driver = _declared(city)
    client.force_login(staff_a)
    client.post(reverse("drivers:reject", args=[driver.pk]), {"reject-reason": "查无此人"})
    membership = Membership.objects.get(driver=driver)
    assert (membership.state, membership.rejection_reason) == ("rejected", "查无此人")


def test_verifying_twice_is_a_409(client, city, staff_a):
    driver = city.member()
    client.force_login(staff_a)
    response = client.post(reverse("drivers:verify", args=[driver.pk]))
    assert response.status_code == 409
    assert "flash-error" in response.text


def test_transfer_to_out_of_scope_branch_is_refused(client, city, staff_a):
    driver = city.member()
    client.force_login(staff_a)
    response = client.post(
        reverse("drivers:transfer", args=[driver.pk]), {"to_branch": city.branch_b.pk}
    )
    assert response.status_code == 400
    assert "flash-error" in response.text
    membership = Membership.objects.get(driver=driver)
    assert membership.branch == city.branch_a
    assert not membership.activities.filter(action="transfer").exists()


def test_transfer_within_scope(client, city, staff_a):
    from redwheel.orgs.services import unit_create

    second = unit_create(
        actor=city.admin,
        name="甲出行第二支部",
        kind="branch",
        parent=city.committee_a,
        region_code="510107",
    )
    driver = city.member()
    client.force_login(staff_a)
    response = client.post(
        reverse("drivers:transfer", args=[driver.pk]), {"to_branch": second.pk, "note": "搬家"}
    )
    assert response.status_code == 302
    driver.refresh_from_db()
    assert driver.membership.branch == second and driver.branch == second


def test_lapse_needs_reason(client, city, staff_a):
    driver = city.member()
    client.force_login(staff_a)
    assert (
        client.post(reverse("drivers:lapse", args=[driver.pk]), {"lapse-reason": ""}).status_code
        == 400
    )
    assert Membership.objects.get(driver=driver).state == "verified"
    client.post(reverse("drivers:lapse", args=[driver.pk]), {"lapse-reason": "长期失联"})
    assert Membership.objects.get(driver=driver).state == "lapsed"


def test_check_in_and_out(client, city, staff_a):
    driver = city.member()
    client.force_login(staff_a)
    response = client.post(
        reverse("drivers:check_in", args=[driver.pk]),
        {"mobile_branch": city.mobile_branch_a.pk, "home_organisation": "老家村党支部"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(driver=driver)
    assert membership.mobile_branch == city.mobile_branch_a
    assert membership.home_organisation == "老家村党支部"
    # A regular branch is not a mobile branch: refused by the form.
    response = client.post(
        reverse("drivers:check_in", args=[driver.pk]), {"mobile_branch": city.branch_a.pk}
    )
    assert response.status_code == 400
    client.post(reverse("drivers:check_out", args=[driver.pk]))
    assert Membership.objects.get(driver=driver).mobile_branch is None


def test_declare_on_behalf(client, city, staff_a):
    driver = city.driver()
    client.force_login(staff_a)
    response = client.post(
        reverse("drivers:declare", args=[driver.pk]),
        {"category": "activist", "branch": city.branch_a.pk},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(driver=driver)
    assert (membership.category, membership.state) == ("activist", "declared")
    assert membership.activities.get().actor == staff_a


def test_contact_pair_by_number_both_ways(client, city, staff_a):
    member = city.member()
    plain = city.driver()
    another = city.driver()
    client.force_login(staff_a)
    response = client.post(
        reverse("drivers:contact_pair_add", args=[member.pk]), {"number": plain.license_no}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("drivers:contact_pair_add", args=[another.pk]), {"number": member.phone}
    )
    assert response.status_code == 302
    assert set(ContactPair.objects.values_list("member_id", "driver_id")) == {
        (member.pk, plain.pk),
        (member.pk, another.pk),
    }
    page = client.get(reverse("drivers:detail", args=[member.pk]))
    assert plain.name in page.text and another.name in page.text


def test_contact_pair_with_unknown_or_out_of_scope_number(client, city, staff_a):
    member = city.member()
    b_driver = city.driver(platform=city.platform_b)
    client.force_login(staff_a)
    for number in ("13900000000", b_driver.phone):
        response = client.post(
            reverse("drivers:contact_pair_add", args=[member.pk]), {"number": number}
        )
        assert response.status_code == 400
    assert not ContactPair.objects.exists()


def test_viewer_role_sees_no_action_forms_and_cannot_act(client, city):
    viewer = testing.staff(city.committee_a, "viewer")
    driver = _declared(city)
    client.force_login(viewer)
    page = client.get(reverse("drivers:detail", args=[driver.pk]))
    assert page.status_code == 200
    assert reverse("drivers:verify", args=[driver.pk]) not in page.text
    assert reverse("drivers:reveal", args=[driver.pk]) not in page.text
    assert client.post(reverse("drivers:verify", args=[driver.pk])).status_code == 404
    assert Membership.objects.get(driver=driver).state == "declared"


def test_detail_shows_timeline_and_consent_events(client, city, staff_a):
    driver = city.member()
    services.badge_consent_set(actor=driver.user, driver=driver, consented=True)
    client.force_login(staff_a)
    response = client.get(reverse("drivers:detail", args=[driver.pk]))
    timeline = response.context["timeline"]
    assert [a.action for a in timeline] == ["declare", "verify"]
    assert response.context["badge_on"]
    assert len(response.context["driver"].consent_events.all()) == 1


# List: search, filters, pagination, query bound ----------------------------------------------


def test_search_by_name_full_number_and_masked_tail(client, city, staff_a):
    target = city.driver("张三")
    others = [city.driver("李四") for _ in range(3)]
    client.force_login(staff_a)

    def found(q):
        page = client.get(reverse("drivers:list"), {"q": q}).context["page"]
        return {d.pk for d in page}

    assert found("张") == {target.pk}
    assert found(target.phone) == {target.pk}
    assert found(target.license_no) == {target.pk}
    assert target.pk in found(target.phone[-4:])
    assert target.pk in found(target.license_no[-4:])
    assert found(target.phone[-4:]) <= {target.pk, *(o.pk for o in others)}
    assert found("13800000000") == set()


def test_filters(client, city, staff_a):
    member = city.member()
    declared = _declared(city, category="activist")
    plain = city.driver()
    checked = city.member()
    services.membership_check_in(
        actor=city.admin, membership=checked.membership, mobile_branch=city.mobile_branch_a
    )
    client.force_login(root := testing.staff(city.root, "staff"))
    b_driver = city.driver(platform=city.platform_b)

    def found(**params):
        page = client.get(reverse("drivers:list"), params).context["page"]
        return {d.pk for d in page}

    assert found(platform=city.platform_b.pk) == {b_driver.pk}
    assert found(branch=city.committee_a.pk) == {member.pk, declared.pk, plain.pk, checked.pk}
    assert found(category="activist") == {declared.pk}
    assert found(state="verified") == {member.pk, checked.pk}
    assert found(state="none") == {plain.pk, b_driver.pk}
    assert found(state="checked_in") == {checked.pk}
    assert found(category="prospective", state="active") == {declared.pk}
    assert found(state="active", party=1) == {member.pk, checked.pk}
    assert root.pk


def test_list_paginates_50_per_page(client, city, staff_a):
    for _ in range(53):
        city.driver(account=False)
    client.force_login(staff_a)
    page = client.get(reverse("drivers:list")).context["page"]
    assert len(page.object_list) == 50 and page.paginator.num_pages == 2
    page2 = client.get(reverse("drivers:list"), {"page": 2}).context["page"]
    assert len(page2.object_list) == 3


def test_list_query_count_is_bounded(client, city, django_assert_max_num_queries):
    for i in range(60):
        if i % 5 == 0:
            city.member(platform=city.platform_a if i % 2 else city.platform_b)
        else:
            city.driver(platform=city.platform_a if i % 2 else city.platform_b, account=False)
    viewer = testing.staff(city.root, "staff")
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("drivers:list"))
    assert len(response.context["page"].object_list) == 50
    with django_assert_max_num_queries(12):
        client.get(
            reverse("drivers:list"),
            {"q": "司机", "state": "verified", "platform": city.platform_a.pk},
        )


def test_queue_query_count_is_bounded(client, city, staff_a, django_assert_max_num_queries):
    for _ in range(20):
        _declared(city)
    client.force_login(staff_a)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("drivers:verification_queue"))
    assert len(response.context["page"].object_list) == 20
