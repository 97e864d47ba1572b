"""Scoring's part of the driver home (`/me/`, core.attention): the score fact of the status
line, from the driver's latest daily snapshot (one query, scoped to the user; nothing is
computed on the home page). Before the first snapshot the line says "no score yet"; the score
page computes today's figures on demand."""

from django.urls import reverse
from django.utils.translation import gettext as _

from redwheel.core import attention
from redwheel.core.permissions import scope
from redwheel.scoring.models import ScoreSnapshot


def score_fact(user) -> attention.Fact | None:
    driver = getattr(user, "driver", None) if getattr(user, "is_authenticated", False) else None
    if driver is None:
        return None
    snapshot = (
        scope(user, "view", ScoreSnapshot.objects.filter(driver=driver))
        .order_by("-day")
        .only("score", "credit_grade", "day")
        .first()
    )
    if snapshot is None:
        value = _("no score yet")
    else:
        value = _("%(score)s / 100, credit %(grade)s") % {
            "score": f"{snapshot.score:.2f}",
            "grade": snapshot.credit_grade,
        }
    return attention.Fact(
        label=_("Score"), value=value, url=reverse("scoring:my_score"), kind="score"
    )


def register() -> None:
    attention.register_fact("score", score_fact, order=20)
