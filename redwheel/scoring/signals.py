"""Invalidate cached badge/score answers when what they depend on changes.

Consent and verification changes go through `redwheel.drivers.services`, which save `Driver`
and `Membership` rows; affiliations decide which platform may see a driver. Any save or delete
of these bumps the driver's cache version (see `redwheel.scoring.cache`).
"""

from django.db.models.signals import post_delete, post_save

from redwheel.drivers.models import Affiliation, Driver, Membership
from redwheel.scoring import cache


def _driver_changed(sender, instance: Driver, **kwargs):
    cache.bump_now_and_on_commit([instance.license_index])


def _related_changed(sender, instance, **kwargs):
    driver = instance._state.fields_cache.get("driver")
    if driver is not None:
        index = driver.license_index
    else:
        index = (
            Driver.objects.filter(pk=instance.driver_id)
            .values_list("license_index", flat=True)
            .first()
        )
    cache.bump_now_and_on_commit([index])


def connect() -> None:
    post_save.connect(_driver_changed, sender=Driver, dispatch_uid="scoring.driver.save")
    post_delete.connect(_driver_changed, sender=Driver, dispatch_uid="scoring.driver.delete")
    for model in (Membership, Affiliation):
        post_save.connect(_related_changed, sender=model, dispatch_uid=f"scoring.{model}.save")
        post_delete.connect(_related_changed, sender=model, dispatch_uid=f"scoring.{model}.delete")
