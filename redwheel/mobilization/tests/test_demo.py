import pytest

from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.mobilization.demo import build_demo
from redwheel.mobilization.models import (
    Fleet,
    Hub,
    Mobilization,
    Opportunity,
    Ride,
    ServiceRecord,
)
from redwheel.mobilization.services import summary_compute

pytestmark = pytest.mark.django_db


def test_demo_mobilization_is_believable_and_idempotent():
    import io as _io

    build_demo_city(scale=0.05, stdout=_io.StringIO())
    demo = DemoContext(out=_io.StringIO())
    assert build_demo(demo) is True
    assert build_demo(demo) is False
    assert Fleet.objects.count() == 2
    assert set(Hub.objects.values_list("name", flat=True)) >= {
        "成都东站",
        "成都站",
        "双流国际机场",
        "天府国际机场",
        "城北客运中心",
    }
    m = Mobilization.objects.get(status="closed")
    s = m.summary
    assert s == summary_compute(m)  # the frozen summary equals a recomputation from the rows
    assert s["drivers_arrived"] > 0 and s["members_arrived"] > 0
    assert s["passengers"] == sum(
        Ride.objects.filter(mobilization=m).values_list("passengers", flat=True)
    )
    assert 2 < float(s["driver_hours"]) / s["drivers_arrived"] < 6
    assert Opportunity.objects.filter(status="open", kind="exam").exists()
    assert ServiceRecord.objects.filter(kind="volunteer").exists()
