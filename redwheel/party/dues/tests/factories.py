"""Members for the dues tests, made through the drivers services."""

from datetime import date

from redwheel.drivers import services as drivers


def member(city, name: str = "党员", *, category: str = "full", joined: date | None = None):
    """A verified party member with an account, in branch A (optionally with an 入党时间)."""
    driver = city.driver(name)
    membership = drivers.membership_declare(
        actor=city.admin,
        driver=driver,
        category=category,
        branch=driver.branch,
        joined_party_on=joined,
    )
    drivers.membership_verify(actor=city.admin, membership=membership)
    driver.refresh_from_db()
    return driver
