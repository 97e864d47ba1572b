"""The driver home's cards for mobile members: numbers not yet recorded for the current
check-in, and six months away (the relationship should now be transferred)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from redwheel.core.attention import INFO, SOON, Card
from redwheel.party.mobile import selectors


def cards(user) -> list[Card]:
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "driver"):
        return []
    summary = selectors.me_summary(user)
    if summary is None:
        return []
    row, url = summary["row"], reverse("mobile_members:me")
    if row.over_six_months and row.transfer is None:
        return [
            Card(
                title=_("Six months away: transfer your party relationship"),
                url=url,
                urgency=SOON,
                body=_("Away since %(since)s. The secretary of %(branch)s can help.")
                % {"since": row.away_since.isoformat(), "branch": summary["branch"].name},
                kind="mobile",
            )
        ]
    if summary["needs_numbers"]:
        return [
            Card(
                title=_("Add your 报到 numbers"),
                url=url,
                urgency=INFO,
                body=_(
                    "Your national system reference and activity card number, if you have them."
                ),
                kind="mobile",
            )
        ]
    return []
