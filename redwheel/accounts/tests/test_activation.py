import re
from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from redwheel.accounts.models import OneTimeCode
from redwheel.accounts.views import ACTIVATION_SESSION_KEY
from redwheel.core.models import AuditEntry
from redwheel.core.sms import MemorySmsBackend

NEW_PASSWORD = "Drive-Safe-2026"


def send_code(client, phone):
    return client.post(reverse("accounts:activate"), {"phone": phone})


def confirm(client, code, password=NEW_PASSWORD, again=None):
    return client.post(
        reverse("accounts:activate_confirm"),
        {"code": code, "new_password1": password, "new_password2": again or password},
    )


def last_code() -> str:
    _phone, text = MemorySmsBackend.outbox[-1]
    return re.search(r"\b(\d{6})\b", text).group(1)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_driver_activates_with_the_sms_code_and_is_logged_in(client, city):
    driver = city.driver()
    user = driver.user
    assert not user.has_usable_password()

    response = send_code(client, driver.phone)
    assert response.status_code == 302
    assert response.url == reverse("accounts:activate_confirm")
    assert len(MemorySmsBackend.outbox) == 1
    assert MemorySmsBackend.outbox[0][0] == driver.phone

    page = client.get(reverse("accounts:activate_confirm"))
    assert page.status_code == 200
    content = page.content.decode()
    assert driver.phone_masked in content
    assert driver.phone not in content

    response = confirm(client, last_code())
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert ACTIVATION_SESSION_KEY not in client.session
    user.refresh_from_db()
    assert user.activated_at is not None
    assert user.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="user.activate", actor=user).exists()
    assert client.get(reverse("home")).url == "/me/"


def test_the_phone_is_not_kept_in_plaintext_in_the_session(client, city):
    driver = city.driver()
    send_code(client, driver.phone)
    stored = client.session[ACTIVATION_SESSION_KEY]
    assert driver.phone not in stored


def test_a_wrong_code_is_counted_and_too_many_burn_the_code(client, city, settings):
    driver = city.driver()
    send_code(client, driver.phone)
    code = last_code()

    response = confirm(client, other_code(code))
    assert response.status_code == 200
    assert response.context["form"].has_error("code")
    assert OneTimeCode.objects.get(user=driver.user).attempts == 1
    assert "_auth_user_id" not in client.session

    for _ in range(settings.ACTIVATION_CODE_MAX_ATTEMPTS - 1):
        confirm(client, other_code(code))
    response = confirm(client, code)  # right code, but too many wrong ones before it
    assert response.context["form"].has_error("code")
    assert "_auth_user_id" not in client.session
    driver.user.refresh_from_db()
    assert not driver.user.has_usable_password()


def test_an_expired_code_is_rejected(client, city, settings):
    driver = city.driver()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send_code(client, driver.phone)
        code = last_code()
        traveller.shift(timedelta(minutes=settings.ACTIVATION_CODE_TTL_MINUTES, seconds=1))
        response = confirm(client, code)
    assert response.status_code == 200
    assert response.context["form"].has_error("code")
    assert "_auth_user_id" not in client.session


def test_a_new_code_replaces_the_old_one(client, city, settings):
    driver = city.driver()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send_code(client, driver.phone)
        first = last_code()
        traveller.shift(timedelta(seconds=settings.ACTIVATION_CODE_RESEND_SECONDS + 1))
        send_code(client, driver.phone)
        second = last_code()
        assert len(MemorySmsBackend.outbox) == 2
        if first != second:
            assert confirm(client, first).context["form"].has_error("code")
        assert confirm(client, second).status_code == 302


def test_codes_are_sent_at_most_once_a_minute_and_five_times_a_day(client, city, settings):
    driver = city.driver()
    sent = lambda: len(MemorySmsBackend.outbox)  # noqa: E731
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        send_code(client, driver.phone)
        response = send_code(client, driver.phone)  # again at once: nothing is sent
        assert response.status_code == 302 and sent() == 1
        for _ in range(settings.ACTIVATION_CODES_PER_DAY - 1):
            traveller.shift(timedelta(seconds=settings.ACTIVATION_CODE_RESEND_SECONDS + 1))
            send_code(client, driver.phone)
        assert sent() == settings.ACTIVATION_CODES_PER_DAY
        traveller.shift(timedelta(hours=1))
        send_code(client, driver.phone)  # the day's codes are used up
        assert sent() == settings.ACTIVATION_CODES_PER_DAY
        assert OneTimeCode.objects.filter(user=driver.user).count() == sent()
        traveller.shift(timedelta(days=1))
        send_code(client, driver.phone)
        assert sent() == settings.ACTIVATION_CODES_PER_DAY + 1


def test_a_refused_resend_keeps_the_first_code_valid(client, city):
    driver = city.driver()
    send_code(client, driver.phone)
    first = last_code()
    send_code(client, driver.phone)  # too soon: refused
    assert len(MemorySmsBackend.outbox) == 1
    assert confirm(client, first).status_code == 302


def test_a_refused_resend_answers_like_a_sent_code(client, city):
    driver = city.driver()
    send_code(client, driver.phone)
    refused = send_code(client, driver.phone)
    unknown = send_code(client, "13912345678")
    assert refused.status_code == unknown.status_code == 302
    assert refused.url == unknown.url == reverse("accounts:activate_confirm")
    page = client.get(refused.url)
    assert "60" in page.content.decode()  # the page says how often a code can be sent


def test_a_weak_password_does_not_use_up_the_code(client, city):
    driver = city.driver()
    send_code(client, driver.phone)
    code = last_code()
    response = confirm(client, code, password="12345678")
    assert response.context["form"].has_error("new_password1")
    assert not response.context["form"].has_error("code")
    assert confirm(client, code).status_code == 302


def test_an_unknown_phone_gets_the_same_answer_as_a_known_one(client, city):
    driver = city.driver()
    unknown_phone = "13600001111"

    known = send_code(client, driver.phone)
    known_page = client.get(reverse("accounts:activate_confirm"))
    known_wrong = confirm(client, "000000" if last_code() != "000000" else "000001")

    client.logout()
    unknown = send_code(client, unknown_phone)
    unknown_page = client.get(reverse("accounts:activate_confirm"))
    unknown_wrong = confirm(client, "000000")

    assert len(MemorySmsBackend.outbox) == 1  # nothing is sent to the unknown number
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert known_page.status_code == unknown_page.status_code == 200
    assert [t.name for t in known_page.templates] == [t.name for t in unknown_page.templates]
    assert "136****1111" in unknown_page.content.decode()
    assert known_wrong.status_code == unknown_wrong.status_code == 200
    assert known_wrong.context["form"].errors == unknown_wrong.context["form"].errors


def test_a_malformed_phone_is_a_form_error(client, db):
    response = send_code(client, "12345")
    assert response.status_code == 200
    assert response.context["form"].has_error("phone")
    assert MemorySmsBackend.outbox == []


def test_step_two_without_step_one_goes_back(client, db):
    response = client.get(reverse("accounts:activate_confirm"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:activate")
