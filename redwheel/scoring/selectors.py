"""Reads for the scoring pages. Everything about a driver goes through `permissions.scope`."""

from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, Max, Q, Sum
from django.db.models.functions import Cast, Floor, Least
from django.http import Http404
from django.utils import timezone

from redwheel.core.dates import local_date
from redwheel.core.permissions import scope
from redwheel.drivers.models import Affiliation, Driver
from redwheel.scoring import compute
from redwheel.scoring.models import PointsEntry, RuleBook, ScoreSnapshot
from redwheel.scoring.services import book_in_force

BINS = [(lo, lo + 10) for lo in range(0, 100, 10)]
BIN_LABELS = [f"{lo}–{hi}" for lo, hi in BINS]


def today():
    return local_date()


# Rule books (public) -------------------------------------------------------------------------


@dataclass
class BookView:
    book: RuleBook
    rules: list
    deductions: list
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    weights_changed: bool = False


def _view(book: RuleBook, previous: RuleBook | None) -> BookView:
    rules = list(book.rules.all())
    view = BookView(book=book, rules=rules, deductions=list(book.deductions.all()))
    if previous is None:
        return view
    old = {r.code: r for r in previous.rules.all()}
    new = {r.code: r for r in rules}
    view.added = [new[c] for c in new if c not in old]
    view.removed = [old[c] for c in old if c not in new]
    view.changed = [
        (old[c], new[c])
        for c in new
        if c in old
        and (old[c].points, old[c].daily_cap, old[c].monthly_cap, old[c].name)
        != (new[c].points, new[c].daily_cap, new[c].monthly_cap, new[c].name)
    ]
    view.weights_changed = any(
        getattr(book, n) != getattr(previous, n)
        for n in (
            "weight_service",
            "weight_safety",
            "weight_credit",
            "weight_community",
            "community_points_cap",
            "credit_bonus_step",
        )
    )
    return view


def published_books():
    """(current, upcoming list, history list) — history newest first, each with its changes."""
    now = timezone.now()
    books = list(
        RuleBook.objects.filter(status=RuleBook.Status.PUBLISHED)
        .prefetch_related("rules", "deductions")
        .order_by("effective_from", "version")
    )
    views, previous = [], None
    for book in books:
        views.append(_view(book, previous))
        previous = book
    current = None
    for v in views:
        if v.book.effective_from <= now:
            current = v
    upcoming = [v for v in views if v.book.effective_from > now]
    return current, upcoming, list(reversed(views))


# Drivers ------------------------------------------------------------------------------------


def own_driver(user) -> Driver:
    driver = Driver.objects.filter(user=user).select_related("membership", "branch").first()
    if driver is None or not user.is_authenticated:
        raise Http404
    return driver


def staff_driver(viewer, pk: int) -> Driver:
    driver = scope(viewer, "view", Driver.objects.select_related("branch")).filter(pk=pk).first()
    if driver is None:
        raise Http404
    return driver


def drivers_search(viewer, q: str):
    drivers = scope(viewer, "view", Driver.objects.select_related("branch")).order_by("name", "id")
    q = (q or "").strip()
    if q:
        from redwheel.core import crypto

        drivers = drivers.filter(Q(name__icontains=q) | Q(license_index=crypto.blind_index(q)))
    return drivers


def ledger(driver: Driver):
    return (
        PointsEntry.objects.filter(driver=driver)
        .select_related("rule__book", "reverses")
        .prefetch_related("reversed_by")
        .order_by("-occurred_at", "-id")
    )


def balances(driver: Driver) -> dict:
    """Balances derived from the ledger: total, this month, the last 12 months, per month."""
    day = today()
    entries = PointsEntry.objects.filter(driver=driver)
    per_month = list(entries.values("month").annotate(points=Sum("amount")).order_by("-month")[:12])
    since = compute.COMMUNITY_DAYS - 1
    return {
        "total": entries.aggregate(n=Sum("amount"))["n"] or 0,
        "this_month": entries.filter(month=day.replace(day=1)).aggregate(n=Sum("amount"))["n"] or 0,
        "last_12_months": entries.filter(day__gte=day - timezone.timedelta(days=since)).aggregate(
            n=Sum("amount")
        )["n"]
        or 0,
        "per_month": per_month,
    }


def latest_explanation(driver: Driver) -> dict | None:
    """The latest snapshot's explanation, or today's score computed now if none exists."""
    snapshot = ScoreSnapshot.objects.filter(driver=driver).order_by("-day").first()
    if snapshot is not None:
        return {**snapshot.explanation, "stored": True}
    result = compute.for_driver(driver, today())
    return {**result.explanation(), "stored": False} if result else None


def score_history(driver: Driver, limit: int = 180):
    return list(
        ScoreSnapshot.objects.filter(driver=driver)
        .order_by("-day")
        .values("day", "score", "credit_grade", "credit_points", "book__version")[:limit]
    )[::-1]


def grantable_rules():
    book = book_in_force()
    return list(book.rules.all()) if book else []


# Distribution --------------------------------------------------------------------------------


def distribution(viewer) -> dict:
    """Score histogram (10-point bins) per platform and per branch, latest snapshot day, over
    drivers in the viewer's scope. Counted by the database (a handful of rows per group), so
    the page costs the same for a city of 3,000 drivers or 100,000."""
    drivers = scope(viewer, "view", Driver.objects.all())
    snapshots = ScoreSnapshot.objects.filter(driver__in=drivers)
    day = snapshots.aggregate(d=Max("day"))["d"]
    if day is None:
        return {"day": None, "platforms": [], "branches": [], "bins": BIN_LABELS, "count": 0}
    latest = snapshots.filter(day=day)
    by_branch = latest.values(name=F("driver__branch__name"), bin=_score_bin("score"))
    # One row per active affiliation, so a driver who works for two platforms counts in both.
    by_platform = Affiliation.objects.filter(
        is_active=True, driver__in=drivers, driver__score_snapshots__day=day
    ).values(name=F("platform__name"), bin=_score_bin("driver__score_snapshots__score"))
    branches = _histograms(by_branch, "score")
    return {
        "day": day,
        "bins": BIN_LABELS,
        "count": sum(branch["count"] for branch in branches),  # every snapshot has one branch
        "platforms": _histograms(by_platform, "driver__score_snapshots__score"),
        "branches": branches,
    }


def _score_bin(score: str):
    """The 10-point bin of a 0–100 score; 100 falls into the last bin (90–100)."""
    return Cast(Least(Floor(F(score) / 10), len(BINS) - 1), IntegerField())


def _histograms(grouped, score: str) -> list[dict]:
    """[{name, count, counts per bin, mean}] by name, from rows grouped by (name, bin)."""
    groups: dict[str, dict] = {}
    for row in grouped.annotate(n=Count("*"), total=Sum(score)).order_by():
        group = groups.setdefault(
            row["name"] or "—", {"counts": [0] * len(BINS), "count": 0, "total": 0}
        )
        group["counts"][row["bin"]] += row["n"]
        group["count"] += row["n"]
        group["total"] += row["total"]
    return [
        {
            "name": name,
            "count": group["count"],
            "counts": group["counts"],
            "mean": round(float(group["total"]) / group["count"], 1),
        }
        for name, group in sorted(groups.items())
    ]


def no_compulsion_register():
    """What counts toward scores, points and assessments, for the public no-compulsion page:
    every declared input and every rule of the rule book in force, each with the activity
    signals it would read (none while NO_COMPULSION holds)."""
    from redwheel.core import compulsion

    current, _upcoming, _history = published_books()
    rules = [
        (rule, compulsion.activity_words_in(rule.code, rule.name, rule.evidence))
        for rule in (current.book.rules.all() if current else [])
    ]
    return {
        "enforced": compulsion.enforced(),
        "signals": list(compulsion.ACTIVITY_SIGNALS.values()),
        "inputs": compulsion.inputs(),
        "rules": rules,
        "holds": not compulsion.violations() and not any(found for _rule, found in rules),
    }
