"""The drivers app's part of the driver home (`/me/`, core.attention): a decision on the
driver's membership declaration, a declaration still waiting, unread inbox messages, and the
badge fact of the status line.

Everything here works on the signed-in user's own driver record (`user.driver`, which Django
keeps on the user once loaded, so the providers share one query) and returns nothing for a
user without one.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from redwheel.core import attention
from redwheel.core import selectors as core_selectors
from redwheel.drivers import selectors, services
from redwheel.drivers.models import Driver, Membership

# How long a decision on a declaration stays on the home.
DECISION_DAYS = 14
# How long an unread inbox message counts on the home.
INBOX_DAYS = 7


def own_driver(user) -> Driver | None:
    """The user's own driver record, or None (staff, anonymous)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "driver", None)


def membership_cards(user) -> list[attention.Card]:
    driver = own_driver(user)
    membership = selectors.membership_of(driver) if driver is not None else None
    if membership is None:
        return []
    url = reverse("me:membership")
    State = Membership.State
    if membership.state == State.DECLARED:
        return [
            attention.Card(
                title=_("Your membership declaration is waiting for verification"),
                body=_("Your branch checks it; you will get a message when it is decided."),
                url=url,
                urgency=attention.INFO,
                kind="drivers",
                action_label=_("See my declaration"),
            )
        ]
    if membership.state_changed_at < timezone.now() - timedelta(days=DECISION_DAYS):
        return []
    if membership.state == State.VERIFIED:
        body = (
            _("You can switch on the party-member badge.")
            if membership.is_party_member and not driver.badge_consent
            else ""
        )
        title = _("Your party membership is verified")
    elif membership.state == State.REJECTED:
        title = _("Your membership declaration was not accepted")
        body = _("Reason: %(reason)s") % {"reason": membership.rejection_reason}
    elif membership.state == State.LAPSED:
        title = _("Your party membership has lapsed")
        body = _("Ask your branch if you think this is wrong.")
    else:
        return []
    return [
        attention.Card(
            title=title,
            body=body,
            url=url,
            urgency=attention.SOON,
            kind="drivers",
            action_label=_("See my membership"),
        )
    ]


def inbox_cards(user) -> list[attention.Card]:
    """Unread inbox messages of the last week, for drivers only (staff read their inbox from
    their own home). Older unread messages stay counted on the messages tab but no longer
    keep the home from saying that all is well."""
    if own_driver(user) is None:
        return []
    since = timezone.now() - timedelta(days=INBOX_DAYS)
    unread = core_selectors.inbox(user).filter(read_at__isnull=True, created_at__gte=since).count()
    if not unread:
        return []
    return [
        attention.Card(
            title=ngettext(
                "You have %(count)d unread message",
                "You have %(count)d unread messages",
                unread,
            )
            % {"count": unread},
            url=reverse("core:inbox"),
            urgency=attention.INFO,
            kind="inbox",
            action_label=_("Open the inbox"),
        )
    ]


def badge_fact(user) -> attention.Fact | None:
    driver = own_driver(user)
    if driver is None:
        return None
    if services.badge_visible(driver):
        value = _("on")
    elif selectors.is_verified_member(driver):
        value = _("off")
    else:
        value = _("not eligible")
    return attention.Fact(label=_("Badge"), value=value, url=reverse("me:badge"), kind="badge")


def register() -> None:
    attention.register("drivers", membership_cards)
    attention.register("inbox", inbox_cards)
    attention.register_fact("badge", badge_fact, order=10)
