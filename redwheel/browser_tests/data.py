"""What the journeys need in the database, set up through the services (as the conventions
ask), so the browser sees rows made the way the application makes them."""

import io
import re
import struct
import zlib
from datetime import timedelta

from django.utils import timezone

from redwheel import testing
from redwheel.accounts import services as accounts
from redwheel.core.sms import MemorySmsBackend

DRIVER_PASSWORD = "Browser-Drive-2026"
STAFF_PASSWORD = "pw-Secret-2026"  # redwheel.testing.user's default


def activate(driver, password: str = DRIVER_PASSWORD):
    """A driver account gets its password the way a driver does: an SMS code, then the code and
    a new password (accounts services; the SMS backend in tests keeps the message)."""
    accounts.activation_code_send(phone=driver.phone)
    phone, text = MemorySmsBackend.outbox[-1]
    assert phone == driver.phone, "the activation code went to another number"
    code = re.search(r"\b(\d{6})\b", text).group(1)
    accounts.account_activate(phone=driver.phone, code=code, new_password=password)
    driver.refresh_from_db()
    return driver


def driver(city, name: str = "王师傅"):
    """A driver of platform A in branch A with an activated account, no membership yet."""
    return activate(city.driver(name))


def member(city, name: str = "李师傅", *, verified: bool = True):
    """A full party member (declared, and verified unless told otherwise) with an account."""
    return activate(city.member(name, verified=verified))


def staff(unit, role: str = "staff", name: str = "工作人员"):
    return testing.staff(unit, role, name=name)


def open_call(city, the_driver):
    """An open mobilisation at 成都东站 that has called `the_driver` through a pioneer fleet."""
    from redwheel.mobilization import services

    admin = city.admin
    hub = services.hub_create(
        actor=admin, unit=city.root, name="成都东站", kind="railway", lng=104.1414, lat=30.6308
    )
    fleet = services.fleet_create(
        actor=admin,
        unit=city.committee_a,
        name="党员先锋车队",
        kind="pioneer",
        pledge_title="十要十不要",
        pledge_text="要文明服务，不要拒载。",
    )
    services.fleet_member_add(actor=admin, fleet=fleet, driver=the_driver)
    now = timezone.now()
    mobilization = services.mobilization_open(
        actor=admin,
        unit=city.root,
        hub=hub,
        title="夜间滞留旅客疏导",
        reason="列车晚点，东站需要车",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=4),
        expected_passengers=300,
        drivers_needed=50,
    )
    called = services.mobilization_call(actor=admin, mobilization=mobilization, fleets=[fleet])
    assert called == 1
    return mobilization


def published_rule_sets(city):
    """A zero-bonus baseline and an incentive rule set, published, for a sandbox comparison."""
    from redwheel.dispatch import services

    baseline = services.ruleset_create(
        actor=city.admin, name="基准规则", version="1", parameters={"max_pickup_m": 2500}
    )
    incentive = services.ruleset_create(
        actor=city.admin,
        name="党员激励",
        version="1",
        parameters={"max_pickup_m": 2500, "score_weight": 1.0, "bonus_cap_m": 600},
    )
    return [services.ruleset_publish(actor=city.admin, rule_set=r) for r in (baseline, incentive)]


def png(width: int = 64, height: int = 48, rgb=(200, 22, 29)) -> bytes:
    """A small solid-colour PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def roster_csv(city, seqs) -> bytes:
    """A drivers roster (.csv, UTF-8 with BOM as Excel writes it) in the template's columns."""
    import csv

    from redwheel.drivers.imports.parsing import DRIVER_COLUMNS

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in DRIVER_COLUMNS])
    for seq in seqs:
        writer.writerow(
            [
                f"导入司机{seq}",
                testing.id_number(seq),
                testing.mobile(seq),
                city.platform_a.company_id,
                f"川A{seq % 100000:05d}",
                city.branch_a.name,
                "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
