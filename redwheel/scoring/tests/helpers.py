from datetime import timedelta

from django.utils import timezone

from redwheel.scoring import defaults, services


def published_book(actor, days_ago: int = 400):
    """The default rule book, published (back-dated) `days_ago` days ago."""
    book = defaults.draft_default(actor=actor)
    return services.rulebook_publish(
        actor=actor, book=book, now=timezone.now() - timedelta(days=days_ago)
    )
