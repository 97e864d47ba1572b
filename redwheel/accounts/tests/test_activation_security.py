"""Activation codes only for driver accounts never activated; codes stored as a keyed HMAC and
compared in constant time; an SMS failure answers like any other request."""

import hashlib
import hmac
import logging

import pytest
from django.urls import reverse

from redwheel import testing
from redwheel.accounts import services
from redwheel.accounts.models import OneTimeCode, User
from redwheel.accounts.tests.test_activation import NEW_PASSWORD, confirm, last_code, send_code
from redwheel.core import crypto
from redwheel.core.sms import MemorySmsBackend, SmsDeliveryError

UNKNOWN_PHONE = "13600001111"


def make_staff(city):
    driver = city.driver()
    User.objects.filter(pk=driver.user.pk).update(is_staff=True)
    return driver.phone


def make_superuser(city):
    driver = city.driver()
    User.objects.filter(pk=driver.user.pk).update(is_superuser=True)
    return driver.phone


def make_activated(city):
    driver = city.driver()
    services.activation_code_send(phone=driver.phone)
    services.account_activate(phone=driver.phone, code=last_code(), new_password=NEW_PASSWORD)
    MemorySmsBackend.outbox.clear()
    return driver.phone


def make_with_password(city):
    driver = city.driver()
    driver.user.set_password("Already-Set-2026")
    driver.user.save(update_fields=["password"])
    assert driver.user.activated_at is None
    return driver.phone


def make_without_driver(city):
    return User.objects.create_user(testing.mobile(777), None, display_name="无司机").phone


def answers(client, phone):
    """What the two activation steps show for `phone` (a wrong code at step two)."""
    client.logout()
    sent = send_code(client, phone)
    page = client.get(reverse("accounts:activate_confirm"))
    wrong = confirm(client, "000000")
    return (sent.status_code, sent.url, page.status_code, wrong.context["form"].errors)


@pytest.mark.parametrize(
    "make_account",
    [make_staff, make_superuser, make_activated, make_with_password, make_without_driver],
)
def test_only_never_activated_driver_accounts_get_a_code(client, city, make_account):
    phone = make_account(city)
    user = User.objects.get(phone_index=crypto.blind_index(phone))
    password_before = user.password
    codes_before = OneTimeCode.objects.filter(user=user).count()

    assert answers(client, phone) == answers(client, UNKNOWN_PHONE)
    assert MemorySmsBackend.outbox == []
    assert OneTimeCode.objects.filter(user=user).count() == codes_before
    user.refresh_from_db()
    assert user.password == password_before
    assert "_auth_user_id" not in client.session


def test_a_code_stops_working_when_the_account_becomes_staff(client, city):
    driver = city.driver()
    send_code(client, driver.phone)
    code = last_code()
    User.objects.filter(pk=driver.user.pk).update(is_staff=True)

    response = confirm(client, code)
    assert response.status_code == 200
    assert response.context["form"].has_error("code")
    driver.user.refresh_from_db()
    assert not driver.user.has_usable_password()
    assert "_auth_user_id" not in client.session


def test_an_activated_account_cannot_be_reset_with_a_code_it_still_holds(city):
    """Holding a phone must never be enough to reset an activated account's password."""
    driver = city.driver()
    services.activation_code_send(phone=driver.phone)
    code = last_code()
    services.account_activate(phone=driver.phone, code=code, new_password=NEW_PASSWORD)
    # A stale unused code, e.g. from before this rule existed:
    OneTimeCode.objects.filter(user=driver.user).update(used_at=None)

    with pytest.raises(services.ValidationFailed):
        services.account_activate(phone=driver.phone, code=code, new_password="Taken-Over-2026")
    driver.user.refresh_from_db()
    assert driver.user.check_password(NEW_PASSWORD)


def test_the_code_is_stored_as_a_keyed_hmac_not_a_plain_hash(city, settings):
    driver = city.driver()
    services.activation_code_send(phone=driver.phone)
    code = last_code()
    stored = OneTimeCode.objects.get(user=driver.user).code_hash
    pk = driver.user.pk

    plain_hashes = {
        hashlib.sha256(text.encode()).hexdigest()
        for text in (code, f"{pk}:{code}", f"{pk}:activate:{code}", f"activate:{pk}:{code}")
    }
    assert code not in stored
    assert stored not in plain_hashes
    assert len(stored) == 64

    # The key is the server's: under another SECRET_KEY the right code does not verify.
    original_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(services.ValidationFailed):
        services.account_activate(phone=driver.phone, code=code, new_password=NEW_PASSWORD)
    settings.SECRET_KEY = original_key
    assert services.account_activate(phone=driver.phone, code=code, new_password=NEW_PASSWORD)


def test_the_code_is_compared_in_constant_time(city, monkeypatch):
    driver = city.driver()
    services.activation_code_send(phone=driver.phone)
    stored = OneTimeCode.objects.get(user=driver.user).code_hash
    calls = []
    real_compare = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    services.account_activate(phone=driver.phone, code=last_code(), new_password=NEW_PASSWORD)
    assert any(stored.encode() in (a, b) or stored in (a, b) for a, b in calls)


class FailingSmsBackend:
    def send(self, phone, text):
        raise SmsDeliveryError("SMS gateway answered HTTP 503 Service Unavailable")


def test_a_gateway_failure_is_logged_and_answered_like_any_number(client, city, settings, caplog):
    driver = city.driver()
    unknown = answers(client, UNKNOWN_PHONE)
    settings.SMS_BACKEND = f"{__name__}.FailingSmsBackend"
    with caplog.at_level(logging.ERROR, logger="redwheel.accounts.services"):
        failed = answers(client, driver.phone)
    assert failed == unknown
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("not delivered" in message and "503" in message for message in errors)
    assert not any(driver.phone in message for message in errors)
