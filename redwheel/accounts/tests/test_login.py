import re
from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from redwheel import testing
from redwheel.accounts import services
from redwheel.core.models import AuditEntry
from redwheel.core.sms import MemorySmsBackend

PASSWORD = "pw-Secret-2026"


def post_login(client, phone, password, **extra):
    return client.post(
        reverse("accounts:login"), {"username": phone, "password": password, **extra}
    )


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_login_page_asks_for_mobile_number(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    form = response.context["form"]
    with translation.override("en"):
        assert str(form.fields["username"].label) == "Mobile number"
    assert 'inputmode="tel"' in response.content.decode()


def test_staff_login_lands_on_staff_dashboard(client, city):
    person = testing.staff(city.root)
    response = post_login(client, person.phone, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert logged_in_user_id(client) == str(person.pk)
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home.url == reverse("insights:dashboard")
    assert home.url.startswith("/staff/")


def test_driver_login_lands_on_me(client, city):
    driver = city.driver()
    services.activation_code_send(phone=driver.phone)
    code = re.search(r"\b(\d{6})\b", MemorySmsBackend.outbox[-1][1]).group(1)
    services.account_activate(phone=driver.phone, code=code, new_password=PASSWORD)
    response = post_login(client, driver.phone, PASSWORD, next="")
    assert response.status_code == 302
    home = client.get(response.url)
    assert home.status_code == 302
    assert home.url == "/me/"


def test_user_without_role_sees_no_role_page(client, db):
    person = testing.user("无角色")
    post_login(client, person.phone, PASSWORD)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "core/no_role.html" in [t.name for t in response.templates]


def test_phone_may_be_typed_with_spaces_and_country_code(client, db):
    person = testing.user(phone="13712345678")
    response = post_login(client, "+86 137 1234 5678", PASSWORD)
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(person.pk)


def test_login_follows_next(client, db):
    person = testing.user()
    response = post_login(client, person.phone, PASSWORD, next=reverse("core:inbox"))
    assert response.status_code == 302
    assert response.url == reverse("core:inbox")


def test_wrong_password_and_unknown_phone_get_the_same_error(client, db):
    person = testing.user()
    wrong = post_login(client, person.phone, "not-the-password")
    unknown = post_login(client, "13900009999", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert response.context["form"].has_error("__all__", "invalid_login")
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert logged_in_user_id(client) is None


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, db, settings):
    person = testing.user()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(settings.LOGIN_MAX_FAILURES):
            response = post_login(client, person.phone, "wrong-password")
            assert response.context["form"].has_error("__all__", "invalid_login")

        response = post_login(client, person.phone, PASSWORD)
        assert response.status_code == 200  # a form error, not a 500
        form = response.context["form"]
        assert form.has_error("__all__", "account_locked")
        person.refresh_from_db()
        until = timezone.localtime(person.locked_until).strftime("%H:%M")
        assert until in form.non_field_errors()[0]
        assert until in response.content.decode()
        assert logged_in_user_id(client) is None
        assert AuditEntry.objects.filter(action="user.locked", object_id=str(person.pk)).exists()

        traveller.shift(timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1))
        response = post_login(client, person.phone, PASSWORD)
        assert response.status_code == 302
        assert logged_in_user_id(client) == str(person.pk)


def test_logout_needs_post(client, db):
    person = testing.user()
    client.force_login(person)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert logged_in_user_id(client) == str(person.pk)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert logged_in_user_id(client) is None


def test_password_change_needs_login(client, db):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def change_password(client, old, new, again=None):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": again or new},
    )


def test_password_change_rejects_a_wrong_current_password(client, db):
    person = testing.user()
    client.force_login(person)
    response = change_password(client, "wrong-old", "A-new-Secret-77")
    assert response.status_code == 200
    assert response.context["form"].has_error("old_password")
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_password_change_rejects_a_weak_password(client, db):
    person = testing.user()
    client.force_login(person)
    for weak in ("12345678", "password", "short"):
        response = change_password(client, PASSWORD, weak)
        assert response.context["form"].has_error("new_password1"), weak
    response = change_password(client, PASSWORD, "A-new-Secret-77", "A-different-88")
    assert response.context["form"].has_error("new_password2")
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_password_change_keeps_the_session_and_is_audited(client, db):
    person = testing.user()
    post_login(client, person.phone, PASSWORD)
    response = change_password(client, PASSWORD, "A-new-Secret-77")
    assert response.status_code == 302
    assert response.url == reverse("home")
    person.refresh_from_db()
    assert person.check_password("A-new-Secret-77")
    assert client.get(reverse("accounts:password_change")).status_code == 200  # still signed in
    assert AuditEntry.objects.filter(action="user.password_change", actor=person).count() == 1
    client.post(reverse("accounts:logout"))
    assert post_login(client, person.phone, PASSWORD).status_code == 200
    assert post_login(client, person.phone, "A-new-Secret-77").status_code == 302
