"""Test set-up for mobilization tests, through the services (positions are written directly:
they come from exchange ingestion, which is out of this app's scope)."""

from datetime import timedelta

from django.utils import timezone

from redwheel.exchange.models import LatestPosition
from redwheel.mobilization import services

EAST_STATION = (104.1414, 30.6308)  # 成都东站, WGS-84


def hub(city, actor=None, name="成都东站"):
    return services.hub_create(
        actor=actor or city.admin,
        unit=city.root,
        name=name,
        kind="railway",
        lng=EAST_STATION[0],
        lat=EAST_STATION[1],
    )


def position(driver, lng, lat, *, minutes_ago=1, platform=None):
    platform = platform or driver.affiliations.first().platform
    return LatestPosition.objects.create(
        platform=platform,
        license_index=driver.license_index,
        driver=driver,
        at=timezone.now() - timedelta(minutes=minutes_ago),
        lng=lng,
        lat=lat,
    )


def mobilization(city, the_hub=None, actor=None, unit=None):
    now = timezone.now()
    return services.mobilization_open(
        actor=actor or city.admin,
        unit=unit or city.root,
        hub=the_hub or hub(city),
        title="春运返程大客流",
        reason="列车晚点，旅客滞留",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
        expected_passengers=500,
        drivers_needed=150,
    )


def fleet(city, drivers, actor=None, unit=None, name="党员先锋车队"):
    f = services.fleet_create(
        actor=actor or city.admin,
        unit=unit or city.committee_a,
        name=name,
        kind="pioneer",
        pledge_title="十要十不要",
        pledge_text="要文明服务，不要拒载。",
    )
    for index, driver in enumerate(drivers):
        services.fleet_member_add(
            actor=actor or city.admin,
            fleet=f,
            driver=driver,
            role="leader" if index == 0 else "member",
        )
    return f
