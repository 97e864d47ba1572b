"""Appeals' part of the driver home (`/me/`, core.attention).

- The driver's own cases that wait for them: the handler asked for information (the clock is
  paused until they answer), or the case was answered and the driver may rate it (or reopen
  it) within the reopen window.
- For a contact party member (who may be a driver): the open cases assigned to them, as one
  card with the nearest deadline, "today" once a deadline is less than a day away.

Two queries at most, through the appeals selectors (scoped to the user), whatever the
number of cases.
"""

from datetime import timedelta

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from redwheel.appeals import selectors
from redwheel.appeals.models import Status
from redwheel.appeals.services import REOPEN_WINDOW
from redwheel.core import attention

# At most this many of the driver's own cases get a card each; more are rare and the list of
# "my appeals" shows them all.
MAX_OWN_CARDS = 5


def own_case_cards(user) -> list[attention.Card]:
    if not getattr(user, "is_authenticated", False):
        return []
    now = timezone.now()
    cases = (
        selectors.own_cases(user)
        .filter(status__in=(Status.WAITING, Status.ANSWERED))
        .exclude(status=Status.ANSWERED, answered_at__lt=now - REOPEN_WINDOW)
        .order_by("-updated_at", "-id")[:MAX_OWN_CARDS]
    )
    cards = []
    for case in cases:
        url = reverse("appeals:detail", args=[case.pk])
        if case.status == Status.WAITING:
            cards.append(
                attention.Card(
                    title=_("Your appeal %(number)s: you are asked for more information")
                    % {"number": case.number},
                    body=case.title,
                    url=url,
                    urgency=attention.SOON,
                    kind="appeals",
                    action_label=_("Answer the question"),
                )
            )
        else:
            cards.append(
                attention.Card(
                    title=_("Your appeal %(number)s has been answered") % {"number": case.number},
                    body=case.title,
                    url=url,
                    urgency=attention.SOON,
                    due=case.answered_at + REOPEN_WINDOW if case.answered_at else None,
                    kind="appeals",
                    action_label=_("Read the answer and rate it"),
                )
            )
    return cards


def assigned_cards(user) -> list[attention.Card]:
    """Open cases a contact party member looks after: one card, the nearest deadline."""
    if not getattr(user, "is_authenticated", False):
        return []
    # The deadline that runs now: the response's until someone responded, then the answer's.
    running = models.Case(
        models.When(responded_at__isnull=True, then=models.F("response_due_at")),
        default=models.F("resolution_due_at"),
    )
    summary = selectors.assigned_cases(user).aggregate(
        n=models.Count("id"), due=models.Min(running)
    )
    count = summary["n"]
    if not count:
        return []
    due = summary["due"]
    soon = due is not None and due <= timezone.now() + timedelta(days=1)
    return [
        attention.Card(
            title=ngettext(
                "%(count)d appeal you look after is open",
                "%(count)d appeals you look after are open",
                count,
            )
            % {"count": count},
            body=_("As a contact party member you answer these drivers first."),
            url=reverse("appeals:my_list"),
            urgency=attention.TODAY if soon else attention.SOON,
            due=due,
            kind="appeals",
            action_label=_("See the appeals"),
        )
    ]


def register() -> None:
    attention.register("appeals", own_case_cards)
    attention.register("appeals_assigned", assigned_cards)
