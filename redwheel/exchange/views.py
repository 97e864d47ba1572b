"""Staff pages for the exchange data (ingestion status, rejections, unknown drivers, the
party-member comparison with its .xlsx export, the monthly driver-metrics table) and the
driver's own metrics page. Thin: parse the filters, call one selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.errors import DomainError, NotFound
from redwheel.core.exports import Column, Sheet, xlsx_response
from redwheel.core.paging import paginate
from redwheel.core.permissions import get_or_404
from redwheel.drivers.models import Driver
from redwheel.drivers.selectors import MEMBER_UNIT_KINDS
from redwheel.exchange import feed_ownership, metrics, selectors, services
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
        "orders": [_round(c.members.orders_per_active), _round(c.everyone.orders_per_active)],
        "complaints": [_round(c.members.complaints_per_10k), _round(c.everyone.complaints_per_10k)],
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


def _round(value, digits=2):
    return None if value is None else round(value, digits)


@staff_required
@require_safe
def comparison_export(request):
    _form, filters, report, _months = _report(request)
    c = report.comparison
    measures = [
        [_("Month"), report.month.strftime("%Y-%m")],
        [_("Active drivers"), c.members.active, c.everyone.active, None],
        [_("Completed orders"), c.members.orders, c.everyone.orders, None],
        [
            _("Orders per active driver"),
            _round(c.members.orders_per_active),
            _round(c.everyone.orders_per_active),
            _round(c.order_ratio, 3),
        ],
        [
            _("Complaints per 10,000 orders"),
            _round(c.members.complaints_per_10k),
            _round(c.everyone.complaints_per_10k),
            _round(c.complaint_ratio, 3),
        ],
        [
            _("Average rating"),
            _round(c.members.rating, 3),
            _round(c.everyone.rating, 3),
            _round(c.rating_difference, 3),
        ],
        [
            _("Revenue per online hour (yuan)"),
            _round(c.members.revenue_per_hour),
            _round(c.everyone.revenue_per_hour),
            _round(c.revenue_per_hour_ratio, 3),
        ],
    ]
    if c.too_few:
        measures += [
            [],
            [
                _(
                    "Too few verified party members to compare (minimum %(d)s drivers and "
                    "%(o)s orders)."
                )
                % {"d": c.min_drivers, "o": c.min_orders}
            ],
        ]
    sheets = [
        Sheet(
            _("Comparison"),
            [
                Column(_("Measure"), width=32),
                _("Verified party members"),
                _("All drivers"),
                _("Ratio"),
            ],
            measures,
        )
    ]
    group_columns = [
        Column(_("Name"), width=32),
        _("Active drivers"),
        _("Completed orders"),
        _("Revenue (yuan)"),
        _("Online hours"),
        _("Average rating"),
        _("Complaints per 10,000 orders"),
        _("Punishments"),
        _("Training minutes"),
    ]
    for title, groups in (
        (_("By platform"), report.by_platform),
        (_("By party unit"), report.by_branch),
    ):
        sheets.append(
            Sheet(
                title,
                group_columns,
                (
                    [
                        t.label,
                        t.active,
                        t.orders,
                        float(t.revenue),
                        round(t.online_hours, 1),
                        _round(t.rating, 3),
                        _round(t.complaints_per_10k),
                        t.punishments,
                        t.training_minutes,
                    ]
                    for t in groups
                ),
            )
        )
    rows = selectors.metric_table(
        request.user,
        month=report.month,
        platform=filters.get("platform"),
        branch=filters.get("branch"),
    )
    member_ids = set(rows.filter(metrics.MEMBER_Q).values_list("id", flat=True))
    sheets.append(
        Sheet(
            _("Drivers"),
            [
                Column(_("Name"), width=20),
                _("Licence (masked)"),
                _("Platform"),
                Column(_("Party unit"), width=32),
                _("Verified party member"),
                _("Completed orders"),
                _("Revenue (yuan)"),
                _("Online hours"),
                _("Ratings"),
                _("Average rating"),
                _("Complaints"),
                _("Punishments"),
                _("Training minutes"),
            ],
            (_driver_row(m, member_ids) for m in rows.iterator(2000)),
        )
    )
    return xlsx_response(f"member-comparison-{report.month:%Y-%m}.xlsx", sheets)


def _driver_row(m, member_ids) -> list:
    d = m.driver
    return [
        d.name if d else _("Unknown driver"),
        d.license_masked if d else "",
        m.platform.name,
        d.branch.name if d and d.branch else "",
        _("yes") if m.id in member_ids else _("no"),
        m.completed_orders,
        float(m.revenue_yuan),
        round(m.online_seconds / 3600, 1),
        m.rating_count,
        round(m.rating_sum / m.rating_count, 3) if m.rating_count else None,
        m.complaints,
        m.punishments,
        m.training_minutes,
    ]


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


@login_required
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
    try:
        if request.method == "POST":
            return _conflict_resolve(request, driver_id)
        driver = get_or_404(
            request.user, "change", feed_ownership.conflict_drivers(request.user), pk=driver_id
        )
    except NotFound as exc:
        raise Http404 from exc
    reports = feed_ownership.reports_of(request.user, driver)
    return render(request, "exchange/conflict_detail.html", {"driver": driver, "reports": reports})


def _conflict_resolve(request, driver_id: int):
    driver = get_or_404(request.user, "change", Driver.objects.all(), pk=driver_id)
    choice = request.POST.get("accept", "").strip()
    if choice and not choice.isdigit():
        raise Http404
    try:
        services.feed_conflict_resolve(
            actor=request.user,
            driver=driver,
            platform_id=int(choice) if choice else None,
            note=request.POST.get("note", ""),
        )
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("exchange:conflict_detail", driver_id=driver.pk)
    messages.success(request, _("The conflict is resolved."))
    return redirect("exchange:conflicts")
