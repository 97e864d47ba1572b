import pytest
from django.urls import reverse

from redwheel import testing
from redwheel.drivers import coverage
from redwheel.drivers import services as driver_services
from redwheel.orgs import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_city(city):
    """Platform A: 8 drivers, B: 3 drivers, C (no party organisation): 2 drivers, one of them
    also on A; D is an aggregator with partners A and C."""
    admin = city.admin
    city.platform_c = services.platform_create(
        actor=admin, company_id=f"PC{city.root.pk}", name="丙快车", city=city.root
    )
    city.platform_d = services.platform_create(
        actor=admin,
        company_id=f"PD{city.root.pk}",
        name="丁聚合",
        kind="aggregator",
        city=city.root,
    )
    services.platform_set_partners(
        actor=admin, aggregator=city.platform_d, partners=[city.platform_a, city.platform_c]
    )

    city.member("甲全")  # A verified full
    checked = city.member("甲预", category="probationary")  # A verified probationary
    driver_services.membership_check_in(
        actor=admin, membership=checked.membership, mobile_branch=city.mobile_branch_a
    )
    city.member("甲报", verified=False)  # A declared full
    city.member("甲积", category="activist")  # A activist (verified)
    city.member("甲申", category="applicant", verified=False)  # A applicant (declared)
    rejected = city.member("甲拒", verified=False)
    driver_services.membership_reject(actor=admin, membership=rejected.membership, reason="不符")
    city.driver("甲普")  # A plain driver
    both = city.driver("甲丙")  # A and C
    driver_services.affiliation_add(actor=admin, driver=both, platform=city.platform_c)

    city.member("乙全", platform=city.platform_b)  # B verified full
    city.driver("乙普", platform=city.platform_b)
    city.driver("乙普", platform=city.platform_b)

    # A driver working only for C, looked after by branch B for now.
    only_c = city.driver("丙普", platform=city.platform_b)
    driver_services.affiliation_add(actor=admin, driver=only_c, platform=city.platform_c)
    return city


def _row(rows, platform):
    return next(r for r in rows if r["platform"] == platform)


def _nums(row):
    return tuple(
        row[k] for k in ("drivers", "declared", "verified", "checked_in", "activists", "applicants")
    )


def test_coverage_for_committee_staff(small_city):
    city = small_city
    viewer = testing.staff(city.root, "staff")
    cov = coverage.coverage(viewer)

    assert _nums(_row(cov.platforms, city.platform_a)) == (8, 1, 2, 1, 1, 1)
    assert _nums(_row(cov.platforms, city.platform_b)) == (4, 0, 1, 0, 0, 0)
    assert _nums(_row(cov.platforms, city.platform_c)) == (2, 0, 0, 0, 0, 0)
    assert _nums(_row(cov.platforms, city.platform_d)) == (0, 0, 0, 0, 0, 0)
    assert [p.name for p in _row(cov.platforms, city.platform_d)["partners"]] == [
        "丙快车",
        "甲出行",
    ]
    assert {p.pk for p in cov.gaps} == {city.platform_c.pk, city.platform_d.pk}
    assert not _row(cov.platforms, city.platform_c)["has_unit"]
    assert _row(cov.platforms, city.platform_a)["has_unit"]

    branches = {r["unit"].pk: r for r in cov.branches}
    assert _nums(branches[city.branch_a.pk]) == (8, 1, 2, 0, 1, 1)
    assert _nums(branches[city.mobile_branch_a.pk]) == (0, 0, 0, 1, 0, 0)
    assert _nums(branches[city.branch_b.pk]) == (4, 0, 1, 0, 0, 0)
    assert city.root.pk not in branches  # the industry committee itself holds no members

    # 12 distinct drivers: the A+C driver counts once.
    assert cov.totals == {
        "drivers": 12,
        "declared": 1,
        "verified": 3,
        "checked_in": 1,
        "activists": 1,
        "applicants": 1,
    }


def test_coverage_for_a_platform_committee_is_scoped(small_city):
    city = small_city
    viewer = testing.staff(city.committee_b, "staff")
    cov = coverage.coverage(viewer)
    assert [r["platform"] for r in cov.platforms] == [city.platform_b]
    assert _nums(cov.platforms[0]) == (4, 0, 1, 0, 0, 0)
    assert cov.gaps == []
    assert [r["unit"] for r in cov.branches] == [city.committee_b, city.branch_b]
    assert cov.totals["drivers"] == 4 and cov.totals["verified"] == 1


def test_coverage_page_shows_gaps_and_partners(client, small_city, django_assert_max_num_queries):
    city = small_city
    viewer = testing.staff(city.root, "staff")
    client.force_login(viewer)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("insights:coverage"))
    assert response.status_code == 200
    text = response.text
    assert "丙快车" in text and "丁聚合" in text
    assert response.context["c"].gaps


def test_query_count_does_not_grow_with_platforms(client, city, django_assert_max_num_queries):
    for i in range(10):
        services.platform_create(
            actor=city.admin, company_id=f"X{i}x{city.root.pk}", name=f"平台{i}", city=city.root
        )
    viewer = testing.staff(city.root, "staff")
    client.force_login(viewer)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("insights:coverage")).status_code == 200
