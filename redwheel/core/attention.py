"""What needs a driver's attention now: the cards of the driver home (`/me/`).

Each capability registers, from its AppConfig.ready(), one provider: a function that takes the
signed-in user and returns the cards it has for them (an open emergency call, a reply on an
appeal, a step due in an application, a meeting today, a decision on a declaration). The home
asks every provider and shows their cards by urgency, then by due time. A provider reads
through its own selectors, which take the viewer, so it shows only the user's own rows.

Providers are asked on every visit to the home, so each must be cheap: a fixed, small number
of queries whatever the driver's history (never one per row), and none at all beyond the
first for a user without a driver record. A provider returns [] when nothing needs the user.

Besides the cards, the home shows one line of facts about the driver (the badge switched on or
off, the current score): capabilities add theirs with `register_fact(key, provider, order=…)`,
whose provider returns one `Fact` or None. The kernel knows no capability; it only orders what
the capabilities report.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext_lazy as _

# Urgency, most urgent first. A card says how soon the driver should look at it.
NOW = 0  # act now: an emergency call, a deadline today or passed
TODAY = 10  # today: a meeting today, a step due within days
SOON = 20  # soon: a reply to read, a decision made, something due this month
INFO = 30  # for information

URGENCIES = (NOW, TODAY, SOON, INFO)
# Shown on every card in words, so that colour is never the only cue (domain-rules §8), and
# used as the card's CSS class.
URGENCY_LABELS = {NOW: _("Now"), TODAY: _("Today"), SOON: _("Soon"), INFO: _("For information")}
URGENCY_KEYS = {NOW: "now", TODAY: "today", SOON: "soon", INFO: "info"}

_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Card:
    title: str
    url: str
    urgency: int = INFO
    body: str = ""
    due: datetime | None = None  # shown as "by …" and used to order cards of one urgency
    kind: str = ""  # which capability it comes from (for styling and tests), e.g. "appeals"
    action_label: str = ""  # the link's text; the title is the link when empty

    def __post_init__(self):
        if self.urgency not in URGENCIES:
            raise ValueError(f"unknown urgency {self.urgency!r}")

    @property
    def urgency_label(self) -> str:
        return str(URGENCY_LABELS[self.urgency])

    @property
    def urgency_key(self) -> str:
        return URGENCY_KEYS[self.urgency]


def _sort_key(card: Card):
    due = card.due
    if due is not None and due.tzinfo is None:  # a naive time from a careless provider
        due = due.replace(tzinfo=UTC)
    return (card.urgency, due is None, due or _LATEST, str(card.title))


Provider = Callable[[object], Iterable[Card]]
_providers: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    """Add (or, for the same key, replace) one capability's provider."""
    _providers[key] = provider


def providers() -> dict[str, Provider]:
    return dict(_providers)


def cards_for(user) -> list[Card]:
    """Every provider's cards for `user`, most urgent first, then soonest due, then by title.
    Nothing for an anonymous user."""
    if not getattr(user, "is_authenticated", False):
        return []
    cards = [card for provider in _providers.values() for card in provider(user)]
    return sorted(cards, key=_sort_key)


# The facts line ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One short fact on the home's status line, e.g. label "Badge", value "On", linking to
    the page that explains or changes it."""

    label: str
    value: str
    url: str
    kind: str = ""
    order: int = 0


FactProvider = Callable[[object], Fact | None]
_facts: dict[str, tuple[int, FactProvider]] = {}


def register_fact(key: str, provider: FactProvider, *, order: int) -> None:
    """Add (or, for the same key, replace) one capability's fact provider."""
    _facts[key] = (order, provider)


def facts_for(user) -> list[Fact]:
    """The facts line of `user`, in registration order; providers returning None are left out."""
    if not getattr(user, "is_authenticated", False):
        return []
    found = []
    for key, (order, provider) in sorted(_facts.items(), key=lambda item: (item[1][0], item[0])):
        fact = provider(user)
        if fact is not None:
            found.append(Fact(fact.label, fact.value, fact.url, fact.kind or key, order))
    return found
