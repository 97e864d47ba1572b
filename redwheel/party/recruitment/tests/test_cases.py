"""Cases through the services: apply, steps, people, materials, membership following."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile

from redwheel import testing
from redwheel.core.dates import local_date
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.drivers.services import driver_create
from redwheel.party.recruitment import services
from redwheel.party.recruitment.models import Case, CaseActivity, Material, State
from redwheel.party.recruitment.tests.helpers import OFFSETS, advance, apply, pdf

pytestmark = pytest.mark.django_db


def _membership(driver):
    driver.membership.refresh_from_db()
    return driver.membership


def test_a_driver_applies_to_a_mobile_branch_and_becomes_an_applicant(city):
    driver = city.driver("流动司机")
    case = services.case_apply(
        actor=driver.user, driver=driver, branch=city.mobile_branch_a, letter=pdf()
    )
    assert case.current_step == 2 and case.state == State.ACTIVE
    assert case.branch == city.mobile_branch_a
    membership = _membership(driver)
    assert (membership.category, membership.state) == ("applicant", "verified")
    assert membership.activities.last().action == "pipeline"
    assert Material.objects.filter(case=case, step=1, code="application").count() == 1
    assert case.activities.get().action == CaseActivity.Action.APPLY


def test_a_driver_cannot_apply_to_a_branch_of_another_city(city):
    other = testing.city()
    driver = city.driver()
    with pytest.raises(NotFound):
        services.case_apply(actor=driver.user, driver=driver, branch=other.branch_a, letter=pdf())
    assert not Case.objects.exists()


def test_under_18_is_refused_with_a_clear_error(city):
    born = local_date().replace(year=local_date().year - 17)
    young = driver_create(
        actor=city.admin,
        name="少年",
        license_no=testing.id_number(880001, born=born),
        phone=testing.mobile(880001),
        branch=city.branch_a,
    )
    with pytest.raises(ValidationFailed) as refused:
        apply(city, young)
    assert refused.value.code == "too_young"
    assert "18" in str(refused.value.message)
    assert not Case.objects.exists()


def test_the_application_letter_is_required_and_must_be_a_pdf_or_image(city):
    driver = city.driver()
    with pytest.raises(ValidationFailed) as missing:
        services.case_apply(actor=city.admin, driver=driver, branch=driver.branch)
    assert missing.value.code == "material_missing"
    exe = SimpleUploadedFile("letter.pdf", b"MZ\x90\x00binary", content_type="application/pdf")
    with pytest.raises(ValidationFailed) as wrong:
        services.case_apply(actor=city.admin, driver=driver, branch=driver.branch, letter=exe)
    assert wrong.value.code == "material_type"
    assert not Case.objects.exists() and not Material.objects.exists()


def test_a_refused_material_upload_leaves_no_row(city):
    case = apply(city)
    text = SimpleUploadedFile("talk.txt", b"just text", content_type="text/plain")
    with pytest.raises(ValidationFailed):
        services.material_upload(actor=city.admin, case=case, step=2, uploads={"talk_record": text})
    assert Material.objects.filter(case=case).count() == 1  # the letter only
    services.material_upload(actor=city.admin, case=case, step=2, uploads={"talk_record": pdf()})
    assert Material.objects.filter(case=case).count() == 2


def test_a_second_open_case_is_refused(city):
    case = apply(city)
    with pytest.raises(Conflict):
        apply(city, case.driver)


def test_membership_category_follows_the_pipeline_to_full_member(city):
    start = local_date() - timedelta(days=900)
    case = apply(city, on=start)
    driver = case.driver
    case = advance(city, case, 3)
    assert _membership(driver).category == "activist"
    case = advance(city, case, 7)
    assert _membership(driver).category == "candidate"
    case = advance(city, case, 15)
    membership = _membership(driver)
    assert membership.category == "probationary" and membership.state == "verified"
    meeting = start + timedelta(days=OFFSETS[15])
    assert case.joined_party_on == meeting == membership.joined_party_on
    assert case.probation_ends_on == meeting + relativedelta(years=1)
    assert case.state == State.PROBATION
    case = advance(city, case, 24)
    assert case.state == State.COMPLETED and _membership(driver).category == "full"
    case = advance(city, case, 25)
    assert case.current_step == 26


def test_extension_and_cancellation_at_step_24(city):
    start = local_date() - timedelta(days=900)
    case = advance(city, apply(city, on=start), 24, outcome="extend")
    assert case.state == State.EXTENDED and case.current_step == 21
    meeting = start + timedelta(days=OFFSETS[15])
    assert case.probation_ends_on == meeting + relativedelta(years=1, months=6)
    for _step in (21, 22, 23):  # the extended probation: educated and discussed again
        case = services.case_step_complete(actor=city.admin, case=case, done_on=local_date())
    assert case.current_step == 24
    with pytest.raises(ValidationFailed):  # the outcome is required at step 24
        services.case_step_complete(actor=city.admin, case=case, done_on=local_date())
    with pytest.raises(InvalidTransition):  # extended once only
        services.case_step_complete(
            actor=city.admin, case=case, done_on=local_date(), outcome="extend", extend_months=6
        )
    case = services.case_step_complete(
        actor=city.admin, case=case, done_on=local_date(), outcome="confirm"
    )
    assert case.state == State.COMPLETED and _membership(case.driver).category == "full"
    other = advance(city, apply(city, on=start), 24, outcome="cancel")
    assert other.state == State.CANCELLED
    membership = _membership(other.driver)
    assert membership.state == "lapsed"


def test_an_extension_must_be_6_to_12_months(city):
    start = local_date() - timedelta(days=900)
    case = advance(city, apply(city, on=start), 23)
    with pytest.raises(ValidationFailed) as refused:
        services.case_step_complete(
            actor=city.admin, case=case, done_on=start + timedelta(days=840), outcome="extend",
            extend_months=3,
        )  # fmt: skip
    assert refused.value.code == "extension_months"


def test_step_7_needs_a_year_as_activist(city):
    start = local_date() - timedelta(days=500)
    case = advance(city, apply(city, on=start), 6)
    with pytest.raises(ValidationFailed) as refused:
        services.case_step_complete(
            actor=city.admin, case=case, done_on=start + timedelta(days=OFFSETS[3] + 300)
        )
    assert refused.value.code == "too_early"


def test_training_needs_3_days_or_24_hours(city):
    start = local_date() - timedelta(days=900)
    case = advance(city, apply(city, on=start), 10)
    on = start + timedelta(days=OFFSETS[11])
    with pytest.raises(ValidationFailed) as refused:
        services.case_step_complete(
            actor=city.admin, case=case, done_on=on, values={"days": 2, "hours": 16}
        )
    assert refused.value.code == "training_too_short"
    case = services.case_step_complete(
        actor=city.admin, case=case, done_on=on, values={"hours": 24}
    )
    assert case.current_step == 12


def test_typed_values_are_validated(city):
    case = apply(city, on=local_date() - timedelta(days=5))
    with pytest.raises(ValidationFailed) as refused:
        services.case_step_complete(actor=city.admin, case=case, values={})
    assert refused.value.code == "invalid_values" and "talker" in refused.value.details
    with pytest.raises(ValidationFailed):
        services.case_step_complete(
            actor=city.admin, case=case, values={"talker": "王", "bogus": 1}
        )


def test_mentors_and_sponsors_must_be_verified_full_members_of_the_branch(city):
    start = local_date() - timedelta(days=900)
    case = advance(city, apply(city, on=start), 4)
    with pytest.raises(ValidationFailed):  # step 5 needs a mentor first
        services.case_step_complete(actor=city.admin, case=case, done_on=start + timedelta(55))
    probationary = city.member("预备", category="probationary")
    unverified = city.member("未核", verified=False)
    elsewhere = city.member("乙党员", platform=city.platform_b)  # branch_b
    for wrong in (probationary, unverified, elsewhere, case.driver):
        with pytest.raises(ValidationFailed):
            services.case_people_set(actor=city.admin, case=case, role="mentor", members=[wrong])
    too_many = [city.member("甲"), city.member("乙"), city.member("丙")]
    with pytest.raises(ValidationFailed):
        services.case_people_set(actor=city.admin, case=case, role="mentor", members=too_many)
    services.case_people_set(actor=city.admin, case=case, role="mentor", members=too_many[:2])
    assert case.people.filter(role="mentor").count() == 2
    with pytest.raises(ValidationFailed):
        services.case_people_set(actor=city.admin, case=case, role="sponsor", members=too_many[:1])


def test_secretaries_of_other_branches_and_cities_get_not_found(city):
    case = apply(city)
    other_city_staff = testing.staff(testing.city().root)
    branch_b_secretary = testing.staff(city.branch_b, "secretary")
    viewer = testing.staff(city.root, "viewer")
    for outsider in (other_city_staff, branch_b_secretary, viewer, case.driver.user):
        with pytest.raises(NotFound):
            services.case_step_complete(actor=outsider, case=case, values={"talker": "x"})
        with pytest.raises(NotFound):
            services.case_cancel(actor=outsider, case=case, reason="x")
    secretary = testing.staff(city.branch_a, "secretary")
    services.case_step_complete(actor=secretary, case=case, values={"talker": "王书记"})


def test_restart_only_after_the_six_month_limit(city):
    start = local_date() - timedelta(days=700)
    case = advance(city, apply(city, on=start), 15)
    assert case.current_step == 16
    meeting = start + timedelta(days=OFFSETS[15])
    assert case.limit_on == meeting + relativedelta(months=6)
    case = services.case_restart(actor=city.admin, case=case, reason="超过6个月未审批")
    assert case.state == State.ACTIVE and case.current_step == 10
    assert case.joined_party_on is None
    assert _membership(case.driver).category == "candidate"
