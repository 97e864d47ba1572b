from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from redwheel import testing
from redwheel.core import audit
from redwheel.core.models import AuditEntry

URL = reverse("core:audit_log")


def shown(response) -> list[AuditEntry]:
    return list(response.context["page"].object_list)


@pytest.mark.parametrize("who", ["driver", "secretary", "no_role"])
def test_people_without_audit_rights_get_404(client, city, who):
    viewer = {
        "driver": lambda: city.driver().user,
        "secretary": lambda: testing.staff(city.branch_a, "secretary"),
        "no_role": lambda: testing.user(),
    }[who]()
    client.force_login(viewer)
    assert client.get(URL).status_code == 404


def test_platform_staff_read_only_their_own_platforms_entries(client, city):
    """Entries carry the owners of their object, so a platform's staff read their subtree's
    activity and never another platform's (nor entries that belong to no unit)."""
    mine, theirs = city.driver(), city.driver(platform=city.platform_b)
    audit.record(actor=None, action="ownerless.test")
    client.force_login(testing.staff(city.committee_a, "staff"))
    entries = shown(client.get(URL, {"action": "driver.create"}))
    assert {e.object_id for e in entries} == {str(mine.pk)}
    assert not shown(client.get(URL, {"action": "ownerless."}))
    about_drivers = {
        e.object_id for e in shown(client.get(URL)) if e.object_type == "drivers.driver"
    }
    assert str(theirs.pk) not in about_drivers and str(mine.pk) in about_drivers


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["staff", "regulator"])
def test_committee_staff_see_entries_with_masked_data_only(
    client, city, role, django_assert_max_num_queries
):
    driver = city.driver("张师傅")
    viewer = testing.staff(city.root, role)
    client.force_login(viewer)
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    assert response.status_code == 200
    actions = {entry.action for entry in shown(response)}
    assert {"driver.create", "unit.create", "platform.create"} <= actions
    content = response.content.decode()
    assert "driver.create" in content
    assert driver.phone not in content
    assert driver.license_no not in content
    assert city.admin.phone not in content
    assert city.admin.phone_masked in content  # actors appear with masked phones


def test_superusers_see_the_log(client, city):
    client.force_login(city.admin)
    assert client.get(URL).status_code == 200


def test_filters_by_action_actor_and_dates(client, city):
    viewer = testing.staff(city.root, name="审计员")
    secretary = testing.user("李书记")
    base = timezone.make_aware(datetime(2026, 3, 10, 9, 0))
    with time_machine.travel(base, tick=False) as traveller:
        unit = city.branch_a
        audit.record(actor=secretary, action="membership.verify", obj=unit, summary="早")
        traveller.shift(timedelta(days=2))
        audit.record(actor=secretary, action="membership.reject", obj=unit, summary="中")
        traveller.shift(timedelta(days=2))
        audit.record(actor=None, action="driver.update", obj=unit, summary="晚")
    client.force_login(viewer)

    by_action = shown(client.get(URL, {"action": "membership."}))
    assert {e.summary for e in by_action} == {"早", "中"}

    by_actor = shown(client.get(URL, {"actor": "李书记"}))
    assert {e.summary for e in by_actor} == {"早", "中"}

    by_dates = shown(client.get(URL, {"date_from": "2026-03-11", "date_to": "2026-03-12"}))
    assert [e.summary for e in by_dates] == ["中"]

    one_day = shown(client.get(URL, {"date_from": "2026-03-14", "date_to": "2026-03-14"}))
    assert [e.summary for e in one_day] == ["晚"]

    bad = client.get(URL, {"date_from": "2026-03-14", "date_to": "2026-03-01"})
    assert bad.status_code == 200
    assert bad.context["form"].errors


def test_fifty_entries_per_page_newest_first_and_filters_kept(client, city):
    viewer = testing.staff(city.root)
    for i in range(120):
        audit.record(actor=None, action="bulk.test", obj=city.root, summary=f"n{i:03d}")
    client.force_login(viewer)
    first = client.get(URL, {"action": "bulk."})
    assert len(shown(first)) == 50
    assert shown(first)[0].summary == "n119"
    assert "action=bulk." in first.content.decode()  # the pager link keeps the filter
    third = client.get(URL, {"action": "bulk.", "page": 3})
    assert [e.summary for e in shown(third)][-1] == "n000"
    assert len(shown(third)) == 20


def test_audit_entries_cannot_be_changed_or_deleted(city):
    entry = AuditEntry.objects.filter(action="unit.create").first()
    assert entry is not None
    entry.summary = "tampered"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(summary="tampered")
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.summary != "tampered"


def test_the_admin_shows_the_audit_log_read_only(client, city):
    entry = AuditEntry.objects.first()
    client.force_login(city.admin)
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    page = client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (
        client.post(
            reverse("admin:core_auditentry_change", args=[entry.pk]), {"summary": "tampered"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.summary != "tampered"
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
