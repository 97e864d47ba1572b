"""A city with one object of every kind, built through the services, for the tenancy tests.

`build_world()` makes a whole city (committee, two platforms, branches, drivers, members,
cases, fleets, hubs, mobilisations, volunteering, alerts, rule sets, runs, points, tokens,
imports, exchange rows). The tenancy matrix builds two: one the roles belong to, and a
foreign one whose ids they must never reach. Every name in a world carries its `marker`, so
a page that leaks the foreign city is caught by searching for that marker.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from redwheel import testing
from redwheel.accounts import services as accounts


@dataclass
class World:
    city: testing.City
    marker: str
    objects: list = field(default_factory=list)  # every object built, of every model
    token_secret: str = ""
    driver: object = None  # a driver with an account, a verified member with a case etc.
    member: object = None

    def add(self, *objs):
        self.objects.extend(o for o in objs if o is not None)
        return objs[0] if len(objs) == 1 else objs


def build_world(marker: str) -> World:
    city = testing.city()
    operator = city.admin  # a superuser: unscoped, and a user for created_by columns
    world = World(city=city, marker=marker)
    world.add(
        city.root, city.platform_a, city.platform_b, city.committee_a, city.committee_b,
        city.branch_a, city.branch_b, city.mobile_branch_a,
    )  # fmt: skip
    driver = world.driver = city.driver(f"{marker}司机")
    member = world.member = city.member(f"{marker}党员")
    world.add(driver, member, member.membership, *driver.affiliations.all())
    from redwheel.drivers import services as drivers

    plate = testing.plate(int(driver.phone[-8:]))  # the test-wide driver sequence
    world.add(drivers.vehicle_add(actor=operator, driver=driver, plate=plate))
    world.add(drivers.contact_pair_create(actor=operator, member=member, driver=driver))
    applicant = city.driver(f"{marker}申请人")
    world.add(
        applicant,
        drivers.membership_declare(
            actor=operator, driver=applicant, category="full", branch=applicant.branch
        ),
    )
    secretary = testing.staff(city.branch_a, "secretary", name=f"{marker}书记")
    world.add(secretary, *secretary.grants.all())
    token, world.token_secret = accounts.token_create(
        actor=city.admin,
        platform=city.platform_a,
        name=f"{marker}令牌",
        scopes=["exchange:write", "badges:read", "scores:read", "appeals:write", "party:read"],
    )
    world.add(token)
    _imports(world, operator)
    _appeals(world, driver)
    _mobilization(world, operator, driver, member)
    _dispatch_and_scoring(world, operator, member)
    _party(world, operator)
    return world


def _party(world: World, operator) -> None:
    """One object of every party-life model, each area through its own services."""
    from redwheel.party.dues.tests import world_part as dues
    from redwheel.party.evaluation.tests import world_part as evaluation
    from redwheel.party.meetings.tests import world_part as meetings
    from redwheel.party.mobile.tests import world_part as mobile
    from redwheel.party.recruitment.tests import world_part as recruitment

    for area in (evaluation, mobile, meetings, dues, recruitment):
        area.build(world, operator)


def _imports(world: World, actor) -> None:
    from redwheel.drivers.imports import services as imports

    content = "姓名,身份证号,手机号,平台\n".encode()
    job = imports.import_upload(
        actor=world.city.admin,
        kind="drivers",
        unit=world.city.branch_a,
        uploaded_file=SimpleUploadedFile("roster.csv", content, content_type="text/csv"),
    )
    world.add(job, *job.row_errors.all(), *job.activities.all())


def _appeals(world: World, driver) -> None:
    from redwheel.appeals import services as appeals
    from redwheel.appeals.models import Case

    case, _created = appeals.case_file(
        actor=driver.user,
        driver=driver,
        category="income",
        title=f"{world.marker}抽成过高",
        description="本月抽成超过平台公布的上限。",
        channel=Case.Channel.APP,
    )
    world.add(case, *case.assignments.all(), *case.activities.all())


def _mobilization(world: World, actor, driver, member) -> None:
    from redwheel.exchange.models import LatestPosition
    from redwheel.mobilization import services as mob

    city, now = world.city, timezone.now()
    LatestPosition.objects.create(
        platform=city.platform_a,
        license_index=member.license_index,
        driver=member,
        at=now - timedelta(minutes=1),
        lng=104.07,
        lat=30.66,
    )
    hub = mob.hub_create(
        actor=actor, unit=city.root, name=f"{world.marker}东站", kind="railway",
        lng=104.1414, lat=30.6308,
    )  # fmt: skip
    point = mob.pickup_point_add(actor=actor, hub=hub, name="P1", lng=104.1415, lat=30.6309)
    fleet = mob.fleet_create(
        actor=actor, unit=city.committee_a, name=f"{world.marker}车队", kind="pioneer",
        pledge_title="十要十不要", pledge_text="要文明服务。",
    )  # fmt: skip
    fleet_member = mob.fleet_member_add(actor=actor, fleet=fleet, driver=member)
    mobilization = mob.mobilization_open(
        actor=actor, unit=city.root, hub=hub, title=f"{world.marker}大客流", reason="晚点",
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=5),
        expected_passengers=50, drivers_needed=5,
    )  # fmt: skip
    mob.mobilization_call(actor=actor, mobilization=mobilization, fleets=[fleet])
    entry = mob.passenger_enqueue(
        actor=actor, mobilization=mobilization, pickup_point=point, destination_district="锦江区"
    )
    response, _changed = mob.response_record(
        actor=member.user, mobilization=mobilization, status="arrived"
    )
    ride = mob.ride_record(actor=actor, mobilization=mobilization, driver=member)
    opportunity = mob.opportunity_create(
        actor=actor, unit=city.committee_a, title=f"{world.marker}送考", kind="exam",
        role="送考司机", place="七中", starts_at=now, ends_at=now + timedelta(hours=4), places=3,
    )  # fmt: skip
    signup = mob.signup_create(actor=driver.user, opportunity=opportunity)
    committee = testing.staff(city.root)  # an alert reaches the sender's own drivers only
    alert = mob.alert_create(
        actor=committee, unit=city.root, kind="missing_person", title=f"{world.marker}寻人",
        description="蓝色外套", lng=104.066, lat=30.657, radius_km=5,
        expires_at=now + timedelta(hours=6),
    )  # fmt: skip
    sighting = mob.sighting_report(
        actor=member.user, alert=alert, lng=104.07, lat=30.66, note="看到"
    )
    world.add(hub, point, fleet, fleet_member, mobilization, entry, response, ride)
    world.add(*mobilization.calls.all(), *mobilization.activities.all(), *response.events.all())
    world.add(*entry.activities.all(), *opportunity.activities.all(), *signup.activities.all())
    world.add(opportunity, signup, alert, sighting, *alert.recipients.all())


def _dispatch_and_scoring(world: World, actor, member) -> None:
    from redwheel.dispatch import services as dispatch
    from redwheel.scoring import defaults
    from redwheel.scoring import services as scoring

    city = world.city
    rule_sets = [
        dispatch.ruleset_publish(
            actor=actor,
            rule_set=dispatch.ruleset_create(
                actor=actor, city=city.root, name=f"{world.marker}规则{n}", version="1",
                parameters={},
            ),
        )
        for n in (1, 2)
    ]  # fmt: skip
    run = dispatch.run_create(
        actor=actor, city=city.root, title=f"{world.marker}推演", rule_sets=rule_sets,
        demand_source="synthetic", fleet_source="synthetic", seed=1,
        demand_params={"orders": 20, "hours": 1}, fleet_params={"drivers": 10}, enqueue=False,
    )  # fmt: skip
    world.add(*rule_sets, run, *run.links.all(), *run.activities.all())
    world.add(*(activity for r in rule_sets for activity in r.activities.all()))
    book = scoring.book_in_force(timezone.now())
    if book is None:  # one rule book for the deployment
        book = defaults.draft_default(actor=actor)
        scoring.rulebook_publish(actor=actor, book=book, now=timezone.now() - timedelta(days=400))
    world.add(book)
    entry = scoring.points_grant(
        actor=actor, driver=member, rule_code="volunteer_hour", occurred_at=timezone.now()
    )
    world.add(entry)
