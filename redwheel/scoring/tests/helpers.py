import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from redwheel.scoring import defaults, services


def published_book(actor, days_ago: int = 400):
    """The default rule book, published (back-dated) `days_ago` days ago."""
    book = defaults.draft_default(actor=actor)
    return services.rulebook_publish(
        actor=actor, book=book, now=timezone.now() - timedelta(days=days_ago)
    )


def lookup_post(secret, path="badges:lookup", ids=("X1",), **headers):
    """POST a batch of LicenseIds to a platform look-up endpoint with a bearer token."""
    return Client().post(
        f"/api/v1/{path}",
        json.dumps({"license_ids": list(ids)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        **headers,
    )
