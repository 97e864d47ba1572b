"""The staff home and the coverage page: counts of drivers and party members in the viewer's
scope (the selectors are in drivers.coverage). Anyone who is not staff gets 404."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.drivers import coverage as selectors


@staff_required
@require_safe
def dashboard(request):
    return render(
        request, "insights/dashboard.html", {"stats": selectors.dashboard_stats(request.user)}
    )


@staff_required
@require_safe
def coverage(request):
    return render(request, "insights/coverage.html", {"c": selectors.coverage(request.user)})
