"""The driver home's cards for evaluation: a ballot waiting for the member's vote, and a
self-assessment not yet written while the round is open. Nothing else, and no reminders
of how long a member took (domain-rules §1)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from redwheel.core.attention import INFO, SOON, Card
from redwheel.party.evaluation import selectors
from redwheel.party.evaluation.models import Round


def cards(user) -> list[Card]:
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "driver"):
        return []
    found = []
    for p in selectors.own_participations(user).filter(
        round__state__in=(Round.State.OPEN, Round.State.VOTING)
    )[:5]:
        rnd = p.round
        if rnd.state == Round.State.VOTING and not p.voted:
            found.append(
                Card(
                    title=_("Your evaluation ballot is open"),
                    url=reverse("evaluation:ballot", args=[rnd.pk]),
                    urgency=SOON,
                    body=_("%(year)s · %(branch)s: one secret vote per member.")
                    % {"year": rnd.year, "branch": rnd.branch.name},
                    kind="evaluation",
                    action_label=_("Vote"),
                )
            )
        elif rnd.state == Round.State.OPEN and not p.self_assessment:
            found.append(
                Card(
                    title=_("Write your self-assessment"),
                    url=reverse("evaluation:me"),
                    urgency=INFO,
                    body=_("%(year)s member evaluation · %(branch)s")
                    % {"year": rnd.year, "branch": rnd.branch.name},
                    kind="evaluation",
                )
            )
    return found
