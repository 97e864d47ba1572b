import hashlib
import json
import re

from django.db import connection
from django.urls import reverse

from redwheel.accounts import services
from redwheel.accounts.models import PlatformToken
from redwheel.core.models import AuditEntry

LOOKUP = "/api/v1/badges:lookup"


def lookup(client, secret, license_ids=()):
    return client.post(
        LOOKUP,
        data=json.dumps({"license_ids": list(license_ids)}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def all_token_columns() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {PlatformToken._meta.db_table}")
        return repr(cursor.fetchall())


def test_the_secret_is_stored_hashed(city):
    token, secret = services.token_create(
        actor=city.admin, platform=city.platform_a, name="dispatch", scopes=["badges:read"]
    )
    assert secret.startswith("rw_")
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in all_token_columns()
    assert secret[10:] not in all_token_columns()  # only a short prefix is kept, to recognise it


def test_a_token_with_the_right_scope_works(client, city):
    driver = city.member()
    _token, secret = services.token_create(
        actor=city.admin, platform=city.platform_a, name="badges", scopes=["badges:read"]
    )
    response = lookup(client, secret, [driver.license_no])
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["known"] is True


def test_a_token_without_the_scope_gets_403_in_the_error_shape(client, city):
    _token, secret = services.token_create(
        actor=city.admin, platform=city.platform_a, name="exchange", scopes=["exchange:write"]
    )
    response = lookup(client, secret, [])
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "missing_scope"


def test_a_revoked_or_unknown_token_gets_401(client, city):
    token, secret = services.token_create(
        actor=city.admin, platform=city.platform_a, name="badges", scopes=["badges:read"]
    )
    services.token_revoke(actor=city.admin, token=token)
    for credential in (secret, "rw_not-a-real-token"):
        response = lookup(client, credential, [])
        assert response.status_code == 401
        body = response.json()
        assert set(body) == {"code", "message", "details"}
        assert body["code"] == "unauthorized"


def test_admin_creates_a_token_through_the_service_and_shows_the_secret_once(client, city):
    client.force_login(city.admin)
    response = client.post(
        reverse("admin:accounts_platformtoken_add"),
        {"platform": city.platform_b.pk, "name": "乙约车调度", "scopes": ["badges:read"]},
        follow=True,
    )
    assert response.status_code == 200
    token = PlatformToken.objects.get(name="乙约车调度")
    shown = [str(m) for m in response.context["messages"]]
    secrets = [found for m in shown for found in re.findall(r"rw_[A-Za-z0-9_-]{30,}", m)]
    assert len(secrets) == 1
    assert token.key_hash == PlatformToken.hash_secret(secrets[0])
    assert AuditEntry.objects.filter(action="token.create", object_id=str(token.pk)).exists()
    assert lookup(client, secrets[0], []).status_code == 200
    # The change page never shows it again.
    page = client.get(reverse("admin:accounts_platformtoken_change", args=[token.pk]))
    assert secrets[0] not in page.content.decode()


def test_admin_tokens_are_read_only_and_revoked_by_action(client, city):
    token, secret = services.token_create(
        actor=city.admin, platform=city.platform_a, name="badges", scopes=["badges:read"]
    )
    client.force_login(city.admin)
    change_url = reverse("admin:accounts_platformtoken_change", args=[token.pk])
    client.post(change_url, {"name": "renamed", "scopes": ["exchange:write"]})
    token.refresh_from_db()
    assert token.name == "badges"
    assert token.scopes == ["badges:read"]
    delete_url = reverse("admin:accounts_platformtoken_delete", args=[token.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403

    response = client.post(
        reverse("admin:accounts_platformtoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="token.revoke", object_id=str(token.pk)).exists()
    assert lookup(client, secret, []).status_code == 401
