"""Staff pages for the exchange data (ingestion status, rejections, unknown drivers, the
party-member comparison with its .xlsx export, the monthly driver-metrics table) and the
driver's own metrics page. Thin: parse the filters, call one selector, render."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from redwheel.accounts.decorators import driver_required, staff_required
from redwheel.core.exports import download
from redwheel.core.forms import domain_errors
from redwheel.core.paging import paginate
from redwheel.core.permissions import get_or_404
from redwheel.drivers.models import Driver
from redwheel.drivers.selectors import MEMBER_UNIT_KINDS
from redwheel.exchange import exports, feed_ownership, metrics, selectors, services
from redwheel.exchange.exports import round_or_none
from redwheel.exchange.forms import (
    MetricFilterForm,
    RejectionFilterForm,
    ReportFilterForm,
    UnknownDriverFilterForm,
)

PAGE_SIZE = 50


def _scoped_form(request, form_class, **kwargs):
    viewer = request.user
    form = form_class(
        request.GET or None,
        platforms=selectors.platforms(viewer),
        units=selectors.units(viewer).filter(kind__in=MEMBER_UNIT_KINDS),
        **kwargs,
    )
    if form.is_bound and not form.is_valid() and form.out_of_scope():
        raise Http404
    filters = (
        {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
        if form.is_bound
        else {}
    )
    return form, filters


def _month(viewer, filters) -> tuple:
    months = selectors.available_months(viewer)
    month = filters.get("month") or (
        months[0] if months else metrics.previous_month(metrics.month_start())
    )
    return month, months


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_required
@require_safe
def status(request):
    statuses = selectors.ingestion_status(request.user)
    chart = {
        "days": [day.strftime("%m-%d") for day, _n in statuses[0].days] if statuses else [],
        "series": [
            {"name": s.platform.name, "data": [n for _d, n in s.days]}
            for s in statuses
            if s.received
        ],
    }
    return render(
        request,
        "exchange/status.html",
        {
            "statuses": statuses,
            "chart": chart,
            "any_data": any(s.last_by_type for s in statuses),
            "days": selectors.STATUS_DAYS,
        },
    )


@staff_required
@require_safe
def rejections(request):
    record_types, codes = selectors.rejection_choices(request.user)
    form, filters = _scoped_form(
        request, RejectionFilterForm, record_types=record_types, codes=codes
    )
    rows = selectors.rejections(
        request.user,
        platform=filters.get("platform"),
        record_type=filters.get("record_type", ""),
        code=filters.get("code", ""),
    )
    page = paginate(request, rows, PAGE_SIZE)
    return render(
        request, "exchange/rejections.html", {"form": form, "page": page, "query": _query(request)}
    )


@staff_required
@require_safe
def unknown_drivers(request):
    form, filters = _scoped_form(request, UnknownDriverFilterForm)
    rows = selectors.unknown_drivers(
        request.user,
        platform=filters.get("platform"),
        include_resolved=filters.get("resolved", False),
    )
    page = paginate(request, rows, PAGE_SIZE)
    return render(
        request,
        "exchange/unknown_drivers.html",
        {"form": form, "page": page, "query": _query(request)},
    )


def _report(request):
    form, filters = _scoped_form(request, ReportFilterForm)
    month, months = _month(request.user, filters)
    if not filters.get("month") and months:
        month = selectors.default_comparison_month(
            request.user, months, platform=filters.get("platform"), branch=filters.get("branch")
        )
    report = selectors.comparison_report(
        request.user, month=month, platform=filters.get("platform"), branch=filters.get("branch")
    )
    return form, filters, report, months


@staff_required
@require_safe
def comparison(request):
    form, _filters, report, months = _report(request)
    c = report.comparison
    chart = {
        "groups": [_("Verified party members"), _("All drivers")],
        "orders": [
            round_or_none(c.members.orders_per_active),
            round_or_none(c.everyone.orders_per_active),
        ],
        "complaints": [
            round_or_none(c.members.complaints_per_10k),
            round_or_none(c.everyone.complaints_per_10k),
        ],
        "bins": c.rating_bins,
        "rating_members": c.rating_members,
        "rating_everyone": c.rating_everyone,
    }
    return render(
        request,
        "exchange/comparison.html",
        {
            "form": form,
            "r": report,
            "c": c,
            "months": months,
            "chart": chart,
            "query": request.GET.urlencode(),
        },
    )


@staff_required
@require_safe
def comparison_export(request):
    _form, filters, report, _months = _report(request)
    rows = selectors.metric_table(
        request.user,
        month=report.month,
        platform=filters.get("platform"),
        branch=filters.get("branch"),
    )
    return download(
        exports.comparison_workbook(report, rows), f"member-comparison-{report.month:%Y-%m}.xlsx"
    )


@staff_required
@require_safe
def metric_list(request):
    form, filters = _scoped_form(request, MetricFilterForm)
    month, months = _month(request.user, filters)
    rows = selectors.metric_table(
        request.user,
        month=month,
        platform=filters.get("platform"),
        branch=filters.get("branch"),
        members_only=filters.get("members", False),
    )
    page = paginate(request, rows, PAGE_SIZE)
    page.object_list = selectors.with_rates(page.object_list)
    return render(
        request,
        "exchange/metrics.html",
        {
            "form": form,
            "page": page,
            "query": _query(request),
            "month": month,
            "months": months,
        },
    )


@driver_required
@require_safe
def my_metrics(request):
    rows = selectors.my_metrics(request.user)
    if not rows and not hasattr(request.user, "driver"):
        raise Http404
    return render(request, "exchange/my_metrics.html", {"rows": rows})


# Feed conflicts (docs/exchange.md, "Feed ownership") ----------------------------------------


@staff_required
@require_safe
def conflict_list(request):
    """Drivers whose platforms report other names or phones than the driver holds. Only a
    city committee resolves them; other staff see an empty list."""
    rows = feed_ownership.conflict_drivers(request.user).select_related("branch")
    page = paginate(request, rows.order_by("name", "id"), PAGE_SIZE)
    return render(request, "exchange/conflicts.html", {"page": page, "query": _query(request)})


@staff_required
@require_http_methods(["GET", "POST"])
def conflict_detail(request, driver_id: int):
    """Each platform's report next to the driver's values; POST `accept` (a platform id, or
    empty to keep the driver's values) resolves the conflict."""
    if request.method == "POST":
        return _conflict_resolve(request, driver_id)
    driver = get_or_404(
        request.user, "change", feed_ownership.conflict_drivers(request.user), pk=driver_id
    )
    reports = feed_ownership.reports_of(request.user, driver)
    return render(request, "exchange/conflict_detail.html", {"driver": driver, "reports": reports})


def _conflict_resolve(request, driver_id: int):
    driver = get_or_404(request.user, "change", Driver.objects.all(), pk=driver_id)
    choice = request.POST.get("accept", "").strip()
    if choice and not choice.isdigit():
        raise Http404
    with domain_errors(request):
        services.feed_conflict_resolve(
            actor=request.user,
            driver=driver,
            platform_id=int(choice) if choice else None,
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("The conflict is resolved."))
        return redirect("exchange:conflicts")
    return redirect("exchange:conflict_detail", driver_id=driver.pk)
