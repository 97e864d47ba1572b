"""Mobilization's part of the driver home (`/me/`, core.attention).

- An emergency call the driver has not answered, while its mobilisation is open: "now", with
  the link to the answer page.
- A call they answered "received" or "on my way" while it is still open: "today", to tell the
  organisers when they arrive (or that they cannot come after all).
- A public alert they received that is still active and that they have not replied to.

Two queries, scoped to the user through the permission mechanism, whatever the driver's
history: only open mobilisations and active alerts are read, a few at most.
"""

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import attention
from redwheel.core.permissions import scope
from redwheel.mobilization import selectors
from redwheel.mobilization.models import Call, Mobilization, Response, ResponseStatus

MAX_CALL_CARDS = 5
MAX_ALERT_CARDS = 3
STILL_COMING = (ResponseStatus.RECEIVED, ResponseStatus.ON_MY_WAY)


def call_cards(user) -> list[attention.Card]:
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return []
    now = timezone.now()
    answer = Response.objects.filter(
        mobilization_id=OuterRef("mobilization_id"), driver_id=OuterRef("driver_id")
    ).values("status")[:1]
    calls = (
        scope(user, "view", Call.objects.filter(driver__user_id=user.pk))
        .filter(mobilization__status=Mobilization.Status.OPEN, mobilization__ends_at__gt=now)
        .select_related("mobilization", "mobilization__hub")
        .annotate(answer=Subquery(answer))
        .order_by("mobilization__ends_at", "id")[:MAX_CALL_CARDS]
    )
    cards = []
    for call in calls:
        m = call.mobilization
        url = reverse("mobilization:my_call", args=[m.pk])
        if call.answer is None:
            cards.append(
                attention.Card(
                    title=_("Emergency call: %(title)s") % {"title": m.title},
                    body=_("Drivers are needed at %(hub)s.") % {"hub": m.hub.name},
                    url=url,
                    urgency=attention.NOW,
                    due=m.ends_at,
                    kind="mobilization",
                    action_label=_("Answer the call"),
                )
            )
        elif call.answer in STILL_COMING:
            cards.append(
                attention.Card(
                    title=_("Mobilisation under way: %(title)s") % {"title": m.title},
                    body=_("Your answer: %(answer)s. Tell the organisers when you arrive.")
                    % {"answer": ResponseStatus(call.answer).label},
                    url=url,
                    urgency=attention.TODAY,
                    due=m.ends_at,
                    kind="mobilization",
                    action_label=_("Update my answer"),
                )
            )
    return cards


def alert_cards(user) -> list[attention.Card]:
    driver = getattr(user, "driver", None) if getattr(user, "is_authenticated", False) else None
    if driver is None:
        return []
    alerts = (
        selectors.my_alerts(user, driver, active_only=True)
        .exclude(sightings__driver=driver)
        .only("id", "title", "kind", "expires_at")[:MAX_ALERT_CARDS]
    )
    return [
        attention.Card(
            title=_("Public alert: %(title)s") % {"title": alert.title},
            body=alert.get_kind_display(),
            url=reverse("mobilization:my_alert", args=[alert.pk]),
            urgency=attention.TODAY,
            due=alert.expires_at,
            kind="mobilization",
            action_label=_("Read the alert"),
        )
        for alert in alerts
    ]


def register() -> None:
    attention.register("mobilization", call_cards)
    attention.register("mobilization_alerts", alert_cards)
