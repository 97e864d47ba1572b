"""The driver home's card for recruitment: the current step when it is due soon or overdue."""

from django.urls import reverse
from django.utils.translation import gettext as _

from redwheel.core import attention
from redwheel.core.dates import LOCAL_TZ, day_bounds, local_date
from redwheel.party.recruitment import selectors


def cards(user) -> list[attention.Card]:
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "driver"):
        return []
    summary = selectors.me_summary(user)
    if summary is None or summary["due_on"] is None or summary["step"] is None:
        return []
    today = local_date()
    due_on = summary["due_on"]
    if due_on > today + selectors.SOON:
        return []
    overdue = due_on < today
    urgency = attention.NOW if overdue else attention.TODAY
    title = (
        _("Party application: step %(n)s is overdue")
        if overdue
        else _("Party application: step %(n)s is due soon")
    ) % {"n": summary["step"].number}
    return [
        attention.Card(
            title=title,
            url=reverse("recruitment:my_case"),
            urgency=urgency,
            body=summary["step"].name,
            due=day_bounds(due_on)[0].astimezone(LOCAL_TZ),
            kind="recruitment",
            action_label=_("See my application"),
        )
    ]
