import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from redwheel.core import crypto
from redwheel.drivers.models import Driver

pytestmark = pytest.mark.django_db


def _raw(driver: Driver, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM drivers_driver WHERE id = %s", [driver.pk])
        return cursor.fetchone()[0]


def test_numbers_are_encrypted_at_rest_and_found_by_blind_index(city):
    driver = city.driver()
    assert driver.phone not in _raw(driver, "phone")
    assert driver.license_no not in _raw(driver, "license_no")
    found = Driver.objects.get(license_index=crypto.blind_index(driver.license_no.lower()))
    assert found.phone == driver.phone


def test_key_rotation_re_encrypts_and_keeps_lookups_working(city, settings):
    driver = city.driver()
    old_key = settings.PII_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.PII_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_pii_keys", verbosity=0)
    settings.PII_ENCRYPTION_KEYS = [new_key]
    driver = Driver.objects.get(pk=driver.pk)
    assert driver.phone.startswith("139")
    assert Driver.objects.filter(phone_index=crypto.blind_index(driver.phone)).exists()


def test_masks():
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_identity("510107199001010012") == "5101**********0012"
