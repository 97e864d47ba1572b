"""Reads for the scoring pages. Everything about a driver goes through `permissions.scope`."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Max, Q, Sum
from django.http import Http404
from django.utils import timezone

from redwheel.accounts.permissions import scope
from redwheel.drivers.models import Affiliation, Driver
from redwheel.exchange.metrics import LOCAL_TZ
from redwheel.scoring import compute
from redwheel.scoring.models import PointsEntry, RuleBook, ScoreSnapshot
from redwheel.scoring.services import book_in_force

BINS = [(lo, lo + 10) for lo in range(0, 100, 10)]
BIN_LABELS = [f"{lo}–{hi}" for lo, hi in BINS]


def today():
    return timezone.localtime(timezone.now(), LOCAL_TZ).date()


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
    drivers in the viewer's scope."""
    drivers = scope(viewer, "view", Driver.objects.all())
    snapshots = ScoreSnapshot.objects.filter(driver__in=drivers)
    day = snapshots.aggregate(d=Max("day"))["d"]
    if day is None:
        return {"day": None, "platforms": [], "branches": [], "bins": BIN_LABELS, "count": 0}
    rows = list(snapshots.filter(day=day).values_list("driver_id", "score", "driver__branch__name"))
    platforms_of = defaultdict(list)
    for driver_id, name in Affiliation.objects.filter(
        driver_id__in=[r[0] for r in rows], is_active=True
    ).values_list("driver_id", "platform__name"):
        platforms_of[driver_id].append(name)

    def histogram(groups: dict) -> list[dict]:
        out = []
        for name in sorted(groups):
            scores = groups[name]
            counts = [0] * len(BINS)
            for s in scores:
                counts[min(int(s // 10), len(BINS) - 1)] += 1
            out.append(
                {
                    "name": name,
                    "count": len(scores),
                    "counts": counts,
                    "mean": round(sum(scores) / len(scores), 1),
                }
            )
        return out

    by_platform, by_branch = defaultdict(list), defaultdict(list)
    for driver_id, score, branch in rows:
        value = float(score)
        for name in platforms_of.get(driver_id, []):
            by_platform[name].append(value)
        by_branch[branch or "—"].append(value)
    return {
        "day": day,
        "bins": BIN_LABELS,
        "count": len(rows),
        "platforms": histogram(by_platform),
        "branches": histogram(by_branch),
    }
