from django.test import override_settings

import config.settings as project_settings
from redwheel import testing


def test_password_hashing_is_argon2_by_default():
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_passwords_are_stored_as_argon2(db):
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        person = testing.user(password="pw-Secret-2026")
        assert person.password.startswith("argon2$")
        assert person.check_password("pw-Secret-2026")
