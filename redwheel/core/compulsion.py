"""No compulsion (domain-rules §1): nothing counts logins, check-ins, time, clicks, likes or
shares toward a score, a ranking or an assessment of a person or a branch.

Every input of a score, points rule or assessment is declared here by the capability that
owns it (from its AppConfig.ready()), with the confirmed outcome it counts and the activity
signals it reads. With `settings.NO_COMPULSION` on (the default) an input that reads any
activity signal is a configuration error: the system check `redwheel.E010` fails and the
servers, `migrate` and the worker refuse to start (core/checks.py). `activity_words_in()`
lets the services that take free text (the points rule book) refuse a rule that would count
such a signal. The public page /scoring/no-compulsion/ lists the declarations, so anyone can
see what counts.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# The signals of mere activity. Points and scores come only from confirmed outcomes
# (attendance confirmed by an officer, a quiz passed, a shift served, a case closed).
ACTIVITY_SIGNALS = {
    "login": _("logins and visits"),
    "check_in": _("self check-ins and sign-ins not confirmed by an officer"),
    "time": _("time spent, online time, learning time"),
    "click": _("clicks and page views"),
    "like": _("likes"),
    "share": _("shares and forwards"),
}

# Words that, in a rule's code, name or evidence, describe one of those signals. Chinese first:
# the rule book is written in Chinese.
_ACTIVITY_WORDS = {
    "login": ("登录", "登陆", "打卡", "连续签到", "每日签到", "login", "logins", "log in"),
    "check_in": ("自助签到", "扫码签到", "self sign-in", "self check-in", "daily check-in"),
    "time": (
        "在线时长", "学习时长", "停留时长", "观看时长", "浏览时长", "阅读时长",
        "online time", "time online", "time spent", "dwell time", "learning time", "watch time",
    ),
    "click": ("点击", "浏览量", "阅读量", "访问量", "click", "clicks", "page view", "page views"),
    "like": ("点赞", "likes"),
    "share": ("转发", "分享", "shares", "sharing", "forwards"),
}  # fmt: skip
_PATTERNS = {
    signal: re.compile(
        "|".join(re.escape(w) if not w.isascii() else rf"\b{re.escape(w)}\b" for w in words),
        re.IGNORECASE,
    )
    for signal, words in _ACTIVITY_WORDS.items()
}


@dataclass(frozen=True)
class Input:
    """One thing that feeds a score, points or an assessment."""

    key: str  # "<app>.<name>", e.g. "scoring.complaints"
    feeds: str  # what it feeds, e.g. "composite score: service"
    evidence: str  # the confirmed outcome it counts
    signals: frozenset[str] = field(default_factory=frozenset)  # activity signals it reads

    def __post_init__(self):
        unknown = set(self.signals) - set(ACTIVITY_SIGNALS)
        if unknown:
            raise ValueError(f"{self.key}: unknown activity signals {sorted(unknown)}")


_inputs: dict[str, Input] = {}


def register_input(key: str, *, feeds: str, evidence: str, signals: tuple[str, ...] = ()) -> None:
    """Declare an input. The same key again replaces it (a ready() that runs twice)."""
    _inputs[key] = Input(key, feeds, evidence, frozenset(signals))


def unregister_input(key: str) -> None:
    _inputs.pop(key, None)


def inputs() -> list[Input]:
    return sorted(_inputs.values(), key=lambda i: i.key)


def enforced() -> bool:
    return bool(getattr(settings, "NO_COMPULSION", True))


def violations() -> list[Input]:
    """Declared inputs that read an activity signal (they may not exist while enforced)."""
    return [i for i in inputs() if i.signals]


def activity_words_in(*texts: str) -> list[str]:
    """The activity signals that free text (a rule's code, name, evidence) describes."""
    joined = " ".join(t for t in texts if t)
    return [signal for signal, pattern in _PATTERNS.items() if pattern.search(joined)]
