"""The staff overview of the capability, per-unit statistics and a driver's service history."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.exports import download
from redwheel.mobilization import exports, selectors


@staff_required
@require_safe
def index(request):
    viewer = request.user
    return render(
        request,
        "mobilization/index.html",
        {
            "open_mobilizations": selectors.mobilizations(viewer, status="open")[:10],
            "recent_closed": selectors.mobilizations(viewer, status="closed")[:5],
            "fleets": selectors.fleets(viewer)[:10],
            "hubs": selectors.hubs(viewer)[:10],
            "opportunities": selectors.opportunities(viewer).filter(status="open")[:5],
            "alerts": selectors.alerts(viewer)[:5],
        },
    )


@staff_required
@require_safe
def statistics(request):
    rows = selectors.unit_statistics(request.user)
    if request.GET.get("format") == "xlsx":
        return download(exports.statistics_workbook(rows), "service-statistics.xlsx")
    return render(request, "mobilization/statistics.html", {"rows": rows})


@staff_required
@require_safe
def driver_history(request, pk: int):
    driver = selectors.driver_for_history(request.user, pk)
    history = selectors.service_history(request.user, driver)
    if request.GET.get("format") == "xlsx":
        return download(exports.history_workbook(driver, history), f"service-{driver.pk}.xlsx")
    return render(
        request,
        "mobilization/driver_history.html",
        {"driver": driver, "h": history, "staff_view": True},
    )
