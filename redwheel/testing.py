"""Test helpers shared by every app's tests: valid Chinese identifiers and a small city.

Data is set up through the services, as the conventions ask, so tests exercise real paths.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from cryptography.fernet import Fernet
from stdnum.cn import ric

from redwheel.accounts.models import Grant, User


def id_number(seq: int, region: str = "510107", born: date = date(1990, 1, 1)) -> str:
    """A checksum-valid 18-digit resident ID number, unique per `seq` (up to 999 per day)."""
    birth = born + timedelta(days=seq // 999)
    body = f"{region}{birth:%Y%m%d}{seq % 999 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


def mobile(seq: int) -> str:
    return f"139{seq:08d}"


def plate(seq: int, new_energy: bool = False) -> str:
    return f"川AD{seq % 100000:05d}" if new_energy else f"川A{seq % 100000:05d}"


_user_seq = iter(range(10_000_000, 99_999_999))
_driver_seq = iter(range(1, 99_999_999))  # unique licences and phones across test cities


def user(
    name: str = "测试用户", password: str = "pw-Secret-2026", phone: str | None = None, **extra
) -> User:
    return User.objects.create_user(
        phone or f"137{next(_user_seq):08d}", password, display_name=name, **extra
    )


def superuser() -> User:
    return user("超级管理员", is_superuser=True, is_staff=True)


def staff(unit, role: str = "staff", name: str = "工作人员") -> User:
    person = user(name)
    Grant.objects.create(user=person, unit=unit, role=role)
    return person


@dataclass
class City:
    """A committee with two platforms, each with an enterprise committee and branches."""

    admin: User
    root: object
    platform_a: object
    platform_b: object
    committee_a: object
    committee_b: object
    branch_a: object
    branch_b: object
    mobile_branch_a: object
    drivers: dict = field(default_factory=dict)
    _seq: int = 0

    def driver(self, name: str = "司机", *, platform=None, branch=None, account: bool = True):
        from redwheel.drivers.services import driver_create

        self._seq += 1
        platform = platform or self.platform_a
        branch = branch or (self.branch_a if platform == self.platform_a else self.branch_b)
        seq = next(_driver_seq)
        return driver_create(
            actor=self.admin,
            name=f"{name}{self._seq}",
            license_no=id_number(seq),
            phone=mobile(seq),
            branch=branch,
            platforms=[platform],
            create_account=account,
        )

    def member(
        self, name: str = "党员", *, category: str = "full", verified: bool = True, platform=None
    ):
        from redwheel.drivers import services

        driver = self.driver(name, platform=platform)
        membership = services.membership_declare(
            actor=self.admin, driver=driver, category=category, branch=driver.branch
        )
        if verified:
            services.membership_verify(actor=self.admin, membership=membership)
        driver.refresh_from_db()
        return driver


def city() -> City:
    from redwheel.orgs import services

    admin = superuser()
    root = services.unit_create(
        actor=admin,
        name="成都市网约车行业党委",
        kind="committee",
        parent=None,
        region_code="510100",
    )
    platform_a = services.platform_create(
        actor=admin, company_id=f"PA{root.pk}", name="甲出行", city=root
    )
    platform_b = services.platform_create(
        actor=admin, company_id=f"PB{root.pk}", name="乙约车", city=root
    )
    committee_a = services.unit_create(
        actor=admin,
        name="甲出行党委",
        kind="enterprise_committee",
        parent=root,
        region_code="510107",
        platform=platform_a,
    )
    committee_b = services.unit_create(
        actor=admin,
        name="乙约车党委",
        kind="enterprise_committee",
        parent=root,
        region_code="510104",
        platform=platform_b,
    )
    branch_a = services.unit_create(
        actor=admin, name="甲出行第一支部", kind="branch", parent=committee_a, region_code="510107"
    )
    branch_b = services.unit_create(
        actor=admin, name="乙约车第一支部", kind="branch", parent=committee_b, region_code="510104"
    )
    mobile_branch_a = services.unit_create(
        actor=admin,
        name="甲出行流动党员支部",
        kind="branch",
        branch_type="mobile",
        parent=committee_a,
        region_code="510107",
    )
    return City(
        admin,
        root,
        platform_a,
        platform_b,
        committee_a,
        committee_b,
        branch_a,
        branch_b,
        mobile_branch_a,
    )


def production_secrets() -> dict[str, str]:
    """Fresh secrets that pass the deploy checks (redwheel/core/checks.py), as environment
    variables, for tests that run manage.py in a subprocess with DEBUG off."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PII_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "SMS_BACKEND": "redwheel.core.sms.HttpSmsBackend",
        "SMS_GATEWAY_URL": "https://sms.example.invalid/send",
        "SMS_GATEWAY_KEY": "test-gateway-key",
        "SMS_GATEWAY_SECRET": secrets.token_urlsafe(32),
    }
