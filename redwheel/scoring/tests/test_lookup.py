import pytest
from django.core.cache import cache
from django.test import Client

from redwheel import testing
from redwheel.accounts.services import token_create, token_revoke
from redwheel.core import crypto
from redwheel.scoring.lookup import blind_indexes
from redwheel.scoring.tests.helpers import lookup_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_batch_blind_indexes_equal_the_crypto_blind_index(settings):
    ids = [testing.id_number(n) for n in range(50)] + [" x1 ", "", "abc", "510107199001010011"]
    assert blind_indexes(ids) == [crypto.blind_index(i) for i in ids]
    for key in ("another-key", "k" * 64, "a key longer than one SHA-256 block, " * 3, "密钥"):
        settings.PII_BLIND_INDEX_KEY = key
        assert blind_indexes(ids) == [crypto.blind_index(i) for i in ids]


def test_a_revoked_token_is_refused_even_when_its_authentication_was_cached(city):
    token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="app", scopes=["badges:read"]
    )
    assert lookup_post(secret).status_code == 200
    assert lookup_post(secret).status_code == 200  # from the token cache
    assert lookup_post(secret, "scores:lookup").status_code == 403  # cached scopes are checked
    token_revoke(actor=city.admin, token=token)
    assert lookup_post(secret).status_code == 401


def test_ping_needs_no_authentication():
    response = Client().get("/api/v1/ping")
    assert response.status_code == 200 and response.json() == {"ok": True}
