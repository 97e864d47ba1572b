"""Pages: the public rule book, the driver's points/credit/score, and staff pages (grant and
reverse points, score distribution, a driver's score history). Thin: one selector or service."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required, staff_required
from redwheel.core.forms import domain_errors
from redwheel.core.paging import paginate
from redwheel.scoring import selectors, services
from redwheel.scoring.forms import GrantForm, ReverseForm
from redwheel.scoring.models import COMMUNITY_WEIGHT_MAX, PointsEntry

PAGE_SIZE = 30


@require_safe
def rules(request):
    current, upcoming, history = selectors.published_books()
    return render(
        request,
        "scoring/rules.html",
        {
            "current": current,
            "upcoming": upcoming,
            "history": history,
            "community_weight_max": COMMUNITY_WEIGHT_MAX,
        },
    )


@require_safe
def no_compulsion(request):
    return render(request, "scoring/no_compulsion.html", selectors.no_compulsion_register())


@driver_required
@require_safe
def my_score(request):
    driver = selectors.own_driver(request.user)
    return render(
        request,
        "scoring/my_score.html",
        {
            "driver": driver,
            "explanation": selectors.latest_explanation(driver),
            "balances": selectors.balances(driver),
        },
    )


@driver_required
@require_safe
def my_points(request):
    driver = selectors.own_driver(request.user)
    page = paginate(request, selectors.ledger(driver), PAGE_SIZE)
    return render(
        request,
        "scoring/my_points.html",
        {
            "driver": driver,
            "page": page,
            "balances": selectors.balances(driver),
        },
    )


@staff_required
@require_safe
def staff_index(request):
    q = request.GET.get("q", "")
    page = paginate(request, selectors.drivers_search(request.user, q), PAGE_SIZE)
    return render(
        request,
        "scoring/staff_index.html",
        {
            "q": q,
            "page": page,
            "distribution": selectors.distribution(request.user),
        },
    )


def _driver_page(request, driver, grant_form=None, status=200):
    page = paginate(request, selectors.ledger(driver), PAGE_SIZE)
    history = selectors.score_history(driver)
    return render(
        request,
        "scoring/staff_driver.html",
        {
            "driver": driver,
            "page": page,
            "balances": selectors.balances(driver),
            "explanation": selectors.latest_explanation(driver),
            "history": [
                {
                    "day": h["day"].isoformat(),
                    "score": float(h["score"]),
                    "grade": h["credit_grade"],
                }
                for h in history
            ],
            "may_grant": services.may_grant(request.user, driver),
            "grant_form": grant_form or GrantForm(rules=selectors.grantable_rules()),
            "reverse_form": ReverseForm(),
        },
        status=status,
    )


@staff_required
@require_safe
def staff_driver(request, pk: int):
    return _driver_page(request, selectors.staff_driver(request.user, pk))


def _grantable_driver(request, pk: int):
    """The driver whose points the actor may grant or reverse; 404 before any input is read
    (out of scope, or in view only)."""
    driver = selectors.staff_driver(request.user, pk)
    if not services.may_grant(request.user, driver):
        raise Http404
    return driver


@staff_required
@require_POST
def staff_grant(request, pk: int):
    driver = _grantable_driver(request, pk)
    form = GrantForm(request.POST, rules=selectors.grantable_rules())
    if not form.is_valid():
        return _driver_page(request, driver, grant_form=form, status=400)
    with domain_errors(form=form):
        entry = services.points_grant(
            actor=request.user,
            driver=driver,
            rule_code=form.cleaned_data["rule_code"],
            occurred_at=form.cleaned_data["occurred_at"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Granted %(points)s points.") % {"points": entry.amount})
        return redirect("scoring:staff_driver", pk=driver.pk)
    return _driver_page(request, driver, grant_form=form, status=400)


@staff_required
@require_POST
def staff_reverse(request, pk: int):
    entry = get_object_or_404(PointsEntry.objects.select_related("driver"), pk=pk)
    driver = _grantable_driver(request, entry.driver_id)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A reason is required."))
        return redirect("scoring:staff_driver", pk=driver.pk)
    with domain_errors(request):
        services.points_reverse(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
        messages.success(request, _("The entry was reversed."))
    return redirect("scoring:staff_driver", pk=driver.pk)
