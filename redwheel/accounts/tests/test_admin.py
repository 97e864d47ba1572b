from django.contrib.auth.models import Permission
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.models import Grant, User
from redwheel.core import notifications
from redwheel.core.models import AuditEntry, Notification


def test_user_list_shows_masked_phones_and_finds_users_by_full_number(client, city):
    person = testing.user("王师傅", phone="13755556666")
    testing.user("李师傅")
    client.force_login(city.admin)
    url = reverse("admin:accounts_user_changelist")

    page = client.get(url)
    content = page.content.decode()
    assert "137****6666" in content
    assert "13755556666" not in content

    for term in ("13755556666", "137 5555 6666", "+8613755556666"):
        found = client.get(url, {"q": term}).context["cl"].result_list
        assert [u.pk for u in found] == [person.pk], term
    by_name = client.get(url, {"q": "王师傅"}).context["cl"].result_list
    assert [u.pk for u in by_name] == [person.pk]
    assert not client.get(url, {"q": "5555"}).context["cl"].result_list  # no partial matches


def test_adding_a_user_in_the_admin_goes_through_the_service(client, city):
    client.force_login(city.admin)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"display_name": "新司机", "phone": "138 0000 1234", "password": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(display_name="新司机")
    assert user.phone == "13800001234"
    assert not user.has_usable_password()
    assert AuditEntry.objects.filter(action="user.create", object_id=str(user.pk)).exists()

    duplicate = client.post(
        reverse("admin:accounts_user_add"),
        {"display_name": "重复", "phone": "13800001234", "password": ""},
    )
    assert duplicate.status_code == 200
    assert duplicate.context["adminform"].form.has_error("phone")


def test_changing_a_user_in_the_admin_is_audited(client, city):
    person = testing.user("旧名")
    client.force_login(city.admin)
    response = client.post(
        reverse("admin:accounts_user_change", args=[person.pk]),
        {"display_name": "新名", "is_active": "on"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.display_name == "新名"
    entry = AuditEntry.objects.get(action="user.update", object_id=str(person.pk))
    assert entry.data == {"fields": ["display_name"]}


def test_grants_are_created_and_revoked_through_the_services(client, city):
    person = testing.user("组织委员")
    client.force_login(city.admin)
    response = client.post(
        reverse("admin:accounts_grant_add"),
        {"user": person.pk, "unit": city.branch_a.pk, "role": "organiser"},
    )
    assert response.status_code == 302
    grant = Grant.objects.get(user=person)
    assert grant.granted_by == city.admin
    assert AuditEntry.objects.filter(action="grant.create", object_id=str(grant.pk)).exists()

    response = client.post(reverse("admin:accounts_grant_delete", args=[grant.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Grant.objects.filter(pk=grant.pk).exists()
    assert AuditEntry.objects.filter(action="grant.revoke", object_id=str(grant.pk)).exists()


def test_the_admin_is_reserved_to_superusers(client, city):
    """Staff with Django model permissions still get 404: the admin is not a second
    permission system (defect 3 of issue 12: platform staff read other platforms' entries)."""
    platform_staff = testing.staff(city.committee_b)
    platform_staff.is_staff = True
    platform_staff.save()
    platform_staff.user_permissions.add(*Permission.objects.all())
    client.force_login(platform_staff)
    person = testing.user()
    for url in (
        reverse("admin:index"),
        reverse("admin:core_auditentry_changelist"),
        reverse("admin:drivers_driver_changelist"),
        reverse("admin:accounts_grant_add"),
        reverse("admin:login"),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("admin:accounts_grant_add"),
        {"user": person.pk, "unit": city.branch_a.pk, "role": "viewer"},
    )
    assert response.status_code == 404
    assert not Grant.objects.filter(user=person).exists()


def test_signed_out_visitors_are_sent_to_the_one_login(client, city):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(city.admin)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:login")).status_code == 302


def test_notification_retry_action_calls_delivery(client, city, settings):
    settings.SMS_BACKEND = "redwheel.core.sms.MemorySmsBackend"
    person = testing.user()
    inbox_row, sms_row = notifications.notify_user(user=person, event="e", title="t", sms=True)
    Notification.objects.filter(pk=sms_row.pk).update(status=Notification.Status.FAILED)
    client.force_login(city.admin)
    response = client.post(
        reverse("admin:core_notification_changelist"),
        {"action": "retry", "_selected_action": [sms_row.pk, inbox_row.pk]},
        follow=True,
    )
    assert response.status_code == 200
    sms_row.refresh_from_db()
    assert sms_row.status == Notification.Status.SENT
    assert sms_row.attempts == 2
    inbox_row.refresh_from_db()
    assert inbox_row.attempts == 0  # already delivered: skipped, not sent again
    assert len(list(response.context["messages"])) == 1
    assert (
        client.post(
            reverse("admin:core_notification_delete", args=[sms_row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
