"""Staff journeys on a desktop (and on a phone), each also in elderly mode: verify a member in
the verification queue, import a roster, run a sandbox comparison, size a fleet. axe-core on
every page.

Staff switch elderly mode through the account's preference (accounts services): the "长辈版"
switch is on the driver pages; staff pages honour the same per-account setting."""

import pytest
from django.urls import reverse

from redwheel.accounts import services as accounts
from redwheel.browser_tests import data
from redwheel.browser_tests.ui import DESKTOP, DESKTOP_ELDERLY, PHONE, T, label
from redwheel.dispatch.models import FleetSizing, SimulationRun
from redwheel.drivers.models import Driver, ImportJob, Membership

pytestmark = pytest.mark.browser


def _start(open_ui, variant, user):
    if variant.elderly:
        accounts.user_preferences_set(actor=user, user=user, elderly_mode=True)
    ui = open_ui(variant, audience="staff")
    ui.login(user, data.STAFF_PASSWORD)
    assert "/staff/" in ui.path or ui.path == "/", f"staff land on the staff home, not {ui.path}"
    if variant.elderly:
        assert ui.page.locator("body").get_attribute("data-elderly") == "on"
    return ui


@pytest.mark.parametrize("variant", [DESKTOP, PHONE, DESKTOP_ELDERLY], ids=lambda v: v.id)
def test_staff_verify_a_member_in_the_queue(city, open_ui, variant):
    staff = data.staff(city.root, "staff", name="组织员")
    waiting = city.member("周师傅", verified=False)
    ui = _start(open_ui, variant, staff)
    page = ui.page
    if variant == DESKTOP:
        groups = page.locator("header.topbar details.navgroup > summary")
        if groups.count():
            groups.first.click()  # the staff menu, grouped by task
        ui.check("staff home", key="staff-nav-desktop")
    else:
        ui.check("staff home")

    ui.goto(reverse("drivers:verification_queue"))
    ui.check("queue")
    row = page.locator(f"#queue-{waiting.pk}")
    assert waiting.name in row.inner_text()
    row.get_by_role("button", name=T("Verify"), exact=True).click()
    # htmx swaps the row in place; without JavaScript the form posts and the page reloads.
    page.locator(f"#queue-{waiting.pk} .flash-success").wait_for()
    ui.check("verified")
    waiting.membership.refresh_from_db()
    assert waiting.membership.state == Membership.State.VERIFIED

    ui.submit(page.locator(f"#queue-{waiting.pk} a[href]").first)
    ui.check("driver detail")
    assert ui.path == reverse("drivers:detail", args=[waiting.pk])
    ui.finish()


@pytest.mark.parametrize("variant", [DESKTOP, PHONE, DESKTOP_ELDERLY], ids=lambda v: v.id)
def test_staff_import_a_roster(city, open_ui, variant):
    staff = data.staff(city.root, "staff", name="组织员")
    before = Driver.objects.count()
    ui = _start(open_ui, variant, staff)
    page = ui.page
    ui.goto(reverse("imports:list"))
    ui.check("imports")
    page.get_by_label(label("Roster kind")).select_option("drivers")
    page.get_by_label(label("Importing for")).select_option(str(city.root.pk))
    page.get_by_label(label("File (.xlsx or .csv)")).set_input_files(
        {
            "name": "司机名册.csv",
            "mimeType": "text/csv",
            "buffer": data.roster_csv(city, [880001, 880002, 880003]),
        }
    )
    ui.submit(page.get_by_role("button", name=T("Upload and check"), exact=True))
    ui.check("preview")
    job = ImportJob.objects.get()
    assert ui.path == reverse("imports:detail", args=[job.pk])
    assert (job.status, job.total_rows, job.error_count) == (ImportJob.Status.PREVIEWED, 3, 0)
    assert Driver.objects.count() == before, "nothing is written before the import is pressed"

    ui.submit(page.get_by_role("button", name=T("Import"), exact=True))
    ui.check("imported")
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.COMMITTED, 3)
    assert Driver.objects.count() == before + 3
    assert set(
        Driver.objects.filter(name__startswith="导入司机").values_list("name", flat=True)
    ) == {
        "导入司机880001",
        "导入司机880002",
        "导入司机880003",
    }
    ui.finish()


@pytest.mark.parametrize("variant", [DESKTOP, DESKTOP_ELDERLY], ids=lambda v: v.id)
def test_staff_run_a_sandbox_comparison(city, open_ui, variant):
    regulator = data.staff(city.root, "regulator", name="监管员")
    baseline, incentive = data.published_rule_sets(city)
    ui = _start(open_ui, variant, regulator)
    page = ui.page
    ui.goto(reverse("dispatch:run_create"))
    ui.check("new run")
    page.get_by_label(label("Title")).fill("早高峰激励对比")
    page.get_by_label(label("Baseline rule set")).select_option(str(baseline.pk))
    page.locator(f"input[name=others][value='{incentive.pk}']").check()
    page.locator("input[name=demand_source][value=synthetic]").check()
    page.get_by_label(label("Synthetic orders in the period")).fill("120")
    page.get_by_label(label("Period starts at (hour)")).fill("8")
    page.get_by_label(label("Period length (hours)")).fill("1")
    page.locator("input[name=fleet_source][value=synthetic]").check()
    page.get_by_label(label("Synthetic drivers")).fill("60")
    page.get_by_label(label("Seed")).fill("7")
    ui.submit(page.get_by_role("button", name=T("Start the run"), exact=True))

    run = SimulationRun.objects.get()
    assert ui.path == reverse("dispatch:run_detail", args=[run.pk])
    assert run.status == SimulationRun.Status.SUCCEEDED, run.status
    page.locator("main table.sandbox-table").wait_for()
    ui.check("comparison", key="sandbox-comparison" if variant == DESKTOP else None)
    text = page.locator("main").inner_text()
    assert baseline.name in text and incentive.name in text
    ui.finish()


@pytest.mark.parametrize("variant", [DESKTOP, PHONE], ids=lambda v: v.id)
def test_staff_size_a_fleet_for_a_target(city, open_ui, variant):
    """From the list's empty state to the answer: the form, the background search (run at once
    by the test task backend), the fleet found and every step of the search."""
    regulator = data.staff(city.root, "regulator", name="监管员")
    baseline, _incentive = data.published_rule_sets(city)
    ui = _start(open_ui, variant, regulator)
    page = ui.page
    ui.goto(reverse("dispatch:sizing_list"))
    ui.check("no sizings yet")
    ui.goto(reverse("dispatch:sizing_create"))
    ui.check("new sizing")
    page.get_by_label(label("Title")).fill("早高峰车队规模")
    page.get_by_label(label("Rule set")).select_option(str(baseline.pk))
    page.get_by_label(label("Target served share")).fill("0.8")
    page.get_by_label(label("Fewest drivers")).fill("5")
    page.get_by_label(label("Most drivers")).fill("120")
    page.locator("input[name=demand_source][value=synthetic]").check()
    page.get_by_label(label("Synthetic orders in the period")).fill("120")
    page.get_by_label(label("Period starts at (hour)")).fill("8")
    page.get_by_label(label("Period length (hours)")).fill("1")
    # One seed: the search runs inside the request here, and the journey, not its noise, is
    # what this test is about.
    page.get_by_label(label("Number of seeds")).fill("1")
    ui.submit(page.get_by_role("button", name=T("Start the fleet sizing"), exact=True))

    sizing = FleetSizing.objects.get()
    assert ui.path == reverse("dispatch:sizing_detail", args=[sizing.pk])
    assert sizing.status == FleetSizing.Status.SUCCEEDED, sizing.error
    page.locator("#sizing-result").wait_for()
    ui.check("fleet found")
    found = str(sizing.result["n_drivers"])
    assert found in page.locator("#sizing-result").inner_text()
    steps = page.locator("main table").last.locator("tbody tr")
    assert steps.count() == len(sizing.result["steps"]) >= 2
    assert page.locator("tr[aria-current=true]").count() == 1  # the fleet found is marked
    ui.finish()
