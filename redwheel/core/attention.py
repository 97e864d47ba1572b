"""What needs a driver's attention now: the cards of the driver home (`/me/`).

Each capability registers, from its AppConfig.ready(), one provider: a function that takes the
signed-in user and returns the cards it has for them (an open emergency call, a reply on an
appeal, a step due in an application, a meeting today, a decision on a declaration). The home
asks every provider and shows their cards by urgency, then by due time. A provider reads
through its own selectors, which take the viewer, so it shows only the user's own rows.

The kernel knows no capability; it only orders what the capabilities report.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

# Urgency, most urgent first. A card says how soon the driver should look at it.
NOW = 0  # act now: an emergency call, a deadline today or passed
TODAY = 10  # today: a meeting today, a step due within days
SOON = 20  # soon: a reply to read, a decision made, something due this month
INFO = 30  # for information

URGENCIES = (NOW, TODAY, SOON, INFO)


@dataclass(frozen=True)
class Card:
    title: str
    url: str
    urgency: int = INFO
    body: str = ""
    due: datetime | None = None  # shown as "due …" and used to order cards of one urgency
    kind: str = ""  # which capability it comes from (for styling and tests), e.g. "appeals"
    action_label: str = ""  # the link's text; the title is the link when empty

    def __post_init__(self):
        if self.urgency not in URGENCIES:
            raise ValueError(f"unknown urgency {self.urgency!r}")


Provider = Callable[[object], Iterable[Card]]
_providers: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    """Add (or, for the same key, replace) one capability's provider."""
    _providers[key] = provider


def providers() -> dict[str, Provider]:
    return dict(_providers)


def cards_for(user) -> list[Card]:
    cards = [card for provider in _providers.values() for card in provider(user)]
    return sorted(cards, key=lambda c: (c.urgency, c.due is None, c.due or datetime.max, c.title))
