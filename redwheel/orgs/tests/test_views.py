import pytest
from django.urls import reverse

from redwheel import testing
from redwheel.orgs import services
from redwheel.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_staff(city):
    return testing.staff(city.root, "staff", name="行业党委干部")


@pytest.fixture
def staff_b(city):
    return testing.staff(city.committee_b, "staff", name="乙党委干部")


@pytest.mark.parametrize("name", ["insights:dashboard", "orgs:tree", "insights:coverage"])
def test_staff_pages_render(client, city, root_staff, name):
    city.member()
    client.force_login(root_staff)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert city.platform_a.name in response.text or name == "insights:dashboard"


def test_dashboard_counts_only_the_viewers_scope(client, city, staff_b):
    city.member(platform=city.platform_a)
    city.driver(platform=city.platform_b)
    driver = city.driver(platform=city.platform_b)
    from redwheel.drivers.services import membership_declare

    membership_declare(actor=city.admin, driver=driver, category="full", branch=city.branch_b)
    client.force_login(staff_b)
    stats = client.get(reverse("insights:dashboard")).context["stats"]
    assert stats["drivers"] == 2
    assert stats["verified"] == 0
    assert stats["declared"] == 1
    assert stats["pending"] == 1
    assert stats["platforms"] == 1
    assert stats["units"] == 2  # committee_b and branch_b


def test_tree_lists_only_units_in_scope_with_counts(
    client, city, staff_b, django_assert_max_num_queries
):
    city.member(platform=city.platform_b)
    city.driver(platform=city.platform_b)
    client.force_login(staff_b)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orgs:tree"))
    units = response.context["units"]
    assert [u.name for u in units] == [city.committee_b.name, city.branch_b.name]
    assert units[0].level == 0 and units[1].level == 1
    branch = units[1]
    assert (branch.counts["drivers"], branch.counts["verified"]) == (2, 1)
    assert city.branch_a.name not in response.text


def test_tree_query_count_does_not_grow_with_units(
    client, city, root_staff, django_assert_max_num_queries
):
    for i in range(15):
        services.unit_create(
            actor=city.admin,
            name=f"支部{i}",
            kind="branch",
            parent=city.committee_a,
            region_code="510107",
        )
    client.force_login(root_staff)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("orgs:tree")).status_code == 200


def test_unit_detail_shows_region_children_instructors_and_agreements(client, city, root_staff):
    instructor = testing.staff(city.committee_a, "instructor", name="指导员老王")
    services.agreement_create(
        actor=city.admin,
        name="甲乙联建协议",
        lead_unit=city.committee_a,
        partner_units=[city.committee_b],
        signed_on=__import__("datetime").date(2026, 1, 5),
    )
    client.force_login(root_staff)
    response = client.get(reverse("orgs:unit_detail", args=[city.committee_a.pk]))
    assert response.status_code == 200
    text = response.text
    assert "四川省武侯区" in text
    assert city.branch_a.name in text and city.mobile_branch_a.name in text
    assert instructor.display_name in text
    assert "甲乙联建协议" in text
    # The partner side lists the agreement too.
    response = client.get(reverse("orgs:unit_detail", args=[city.committee_b.pk]))
    assert "甲乙联建协议" in response.text


def test_create_child_unit_through_the_page(client, city, staff_b):
    client.force_login(staff_b)
    url = reverse("orgs:unit_child_create", args=[city.committee_b.pk])
    response = client.post(
        url,
        {
            "name": "乙约车流动党员支部",
            "kind": "branch",
            "branch_type": "mobile",
            "region_code": "510104",
        },
    )
    child = OrgUnit.objects.get(name="乙约车流动党员支部")
    assert response.status_code == 302
    assert response.url == reverse("orgs:unit_detail", args=[child.pk])
    assert child.parent == city.committee_b and child.branch_type == "mobile"
    assert child.platform == city.platform_b


def test_create_child_unit_bad_input_changes_nothing(client, city, staff_b):
    client.force_login(staff_b)
    before = OrgUnit.objects.count()
    url = reverse("orgs:unit_child_create", args=[city.branch_b.pk])
    # A party committee cannot sit under a branch.
    response = client.post(
        url, {"name": "错误", "kind": "enterprise_committee", "region_code": "510104"}
    )
    assert response.status_code == 400
    assert OrgUnit.objects.count() == before
    response = client.post(url, {"name": "错误", "kind": "group", "region_code": "999999"})
    assert response.status_code == 400
    assert OrgUnit.objects.count() == before


def test_viewer_role_sees_no_create_form(client, city):
    viewer = testing.staff(city.committee_b, "viewer")
    client.force_login(viewer)
    response = client.get(reverse("orgs:unit_detail", args=[city.committee_b.pk]))
    assert response.status_code == 200
    assert reverse("orgs:unit_child_create", args=[city.committee_b.pk]) not in response.text
    response = client.post(
        reverse("orgs:unit_child_create", args=[city.committee_b.pk]),
        {"name": "x", "kind": "branch", "region_code": "510104"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("unit_attr", ["committee_a", "branch_a", "mobile_branch_a"])
def test_other_platforms_units_are_not_found(client, city, staff_b, unit_attr):
    unit = getattr(city, unit_attr)
    client.force_login(staff_b)
    assert client.get(reverse("orgs:unit_detail", args=[unit.pk])).status_code == 404
    response = client.post(
        reverse("orgs:unit_child_create", args=[unit.pk]),
        {"name": "x", "kind": "branch", "region_code": "510107"},
    )
    assert response.status_code == 404


def test_committee_root_staff_sees_both_platforms_units(client, city, root_staff):
    client.force_login(root_staff)
    for unit in (city.committee_a, city.committee_b, city.branch_a, city.branch_b):
        assert client.get(reverse("orgs:unit_detail", args=[unit.pk])).status_code == 200


@pytest.mark.parametrize("name", ["insights:dashboard", "orgs:tree", "insights:coverage"])
def test_drivers_get_404_on_staff_pages(client, city, name):
    driver = city.driver()
    client.force_login(driver.user)
    assert client.get(reverse(name)).status_code == 404
    assert client.get(reverse("orgs:unit_detail", args=[city.branch_a.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, city):
    response = client.get(reverse("insights:dashboard"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_dashboard_links_lead_to_lists_with_the_same_numbers(client, city, root_staff):
    from redwheel.drivers.services import membership_check_in

    city.member()
    checked = city.member(category="probationary", platform=city.platform_a)
    membership_check_in(
        actor=city.admin, membership=checked.membership, mobile_branch=city.mobile_branch_a
    )
    city.member(verified=False, platform=city.platform_b)
    city.member(category="activist")
    city.member(category="applicant", verified=False)
    city.driver()
    client.force_login(root_staff)
    stats = client.get(reverse("insights:dashboard")).context["stats"]
    links = {
        "drivers": "",
        "declared": "?state=declared&party=1",
        "verified": "?state=verified&party=1",
        "checked_in": "?state=checked_in",
        "activists_applicants": "?category=prospective&state=active",
    }
    for key, query in links.items():
        page = client.get(reverse("drivers:list") + query).context["page"]
        assert page.paginator.count == stats[key], key
    assert (stats["drivers"], stats["verified"], stats["declared"]) == (6, 2, 1)
    assert (stats["checked_in"], stats["activists_applicants"], stats["pending"]) == (1, 2, 2)
