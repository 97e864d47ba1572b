"""Data for the fault tests, created through the project's services inside the *private*
database: run as `manage.py shell -c "from redwheel.tests.faults.seed import main; main()"`
(see `conftest.seeded`). Prints one JSON line: the token secrets, the platform's company id,
the staff login and the member drivers' LicenseIds."""

import json

from django.contrib.auth.hashers import make_password

from redwheel import testing
from redwheel.accounts.services import token_create

STAFF_PASSWORD = "pw-Faults-2026"


def main(members: int = 3) -> None:
    city = testing.city()
    _token, secret = token_create(
        actor=city.admin,
        platform=city.platform_a,
        name="faults feed",
        scopes=["exchange:write", "badges:read", "scores:read"],
    )
    staff = testing.staff(city.root, name="故障测试员")
    # A cheap hash for the login the tests make: Argon2 is deliberately slow.
    staff.password = make_password(STAFF_PASSWORD, hasher="pbkdf2_sha256")
    staff.save(update_fields=["password"])
    licenses = []
    for _ in range(members):
        driver = city.member()
        driver.badge_consent = True
        driver.save(update_fields=["badge_consent"])
        licenses.append(driver.license_no)
    print(
        json.dumps(
            {
                "secret": secret,
                "company_id": city.platform_a.company_id,
                "staff_phone": staff.phone,
                "staff_password": STAFF_PASSWORD,
                "licenses": licenses,
            }
        )
    )
