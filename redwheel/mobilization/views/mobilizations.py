"""Staff pages for mobilizations: the list and open form, the detail page with its live board,
calls, the passenger queue, rides, closing, cancelling and the export."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.exports import download
from redwheel.core.paging import paginate
from redwheel.mobilization import exports, forms, selectors, services
from redwheel.mobilization.models import Mobilization
from redwheel.mobilization.views.common import PAGE_SIZE, back_to_detail, run, writable_units


def _mobilization_form(request, data=None):
    viewer = request.user
    return forms.MobilizationForm(
        data, units=selectors.units(viewer, "change"), hubs=selectors.hubs(viewer)
    )


def _mobilization_list(request, form=None, status=200):
    state = request.GET.get("status", "")
    if state not in Mobilization.Status.values:
        state = ""
    return render(
        request,
        "mobilization/mobilization_list.html",
        {
            "page": paginate(
                request, selectors.mobilizations(request.user, status=state), PAGE_SIZE
            ),
            "form": form or _mobilization_form(request),
            "status": state,
            "statuses": Mobilization.Status.choices,
            "query": f"status={state}" if state else "",
        },
        status=status,
    )


@staff_required
def mobilization_list(request):
    if request.method != "POST":
        return _mobilization_list(request)
    writable_units(request)
    form = _mobilization_form(request, request.POST)
    return run(
        request,
        form,
        lambda d: services.mobilization_open(actor=request.user, **d),
        _("Mobilisation opened. Now call the drivers."),
        lambda s: _mobilization_list(request, form, s),
        lambda m: redirect("mobilization:mobilization_detail", pk=m.pk),
    )


def _detail_context(request, mobilization, **forms_):
    viewer = request.user
    board = selectors.board(mobilization)
    return {
        "m": mobilization,
        "board": board,
        "timeline": selectors.timeline(mobilization),
        "can_change": mobilization.is_open
        and selectors.mobilizations(viewer, action="change").filter(pk=mobilization.pk).exists(),
        "call_form": forms_.get("call_form") or forms.CallForm(fleets=selectors.fleets(viewer)),
        "queue_form": forms_.get("queue_form")
        or forms.QueueForm(points=mobilization.hub.pickup_points.all()),
        "ride_form": forms_.get("ride_form")
        or forms.RideForm(drivers=[r.driver for r in board["arrived_drivers"]]),
        "close_form": forms.NoteForm(),
        "cancel_form": forms.ReasonForm(),
    }


def _render_detail(request, pk, status=200, **forms_):
    mobilization = selectors.mobilization_detail(request.user, pk)
    return render(
        request,
        "mobilization/mobilization_detail.html",
        _detail_context(request, mobilization, **forms_),
        status=status,
    )


@staff_required
@require_safe
def mobilization_detail(request, pk: int):
    return _render_detail(request, pk)


@staff_required
@require_safe
def mobilization_board(request, pk: int):
    """The htmx fragment refreshed every 5 s on the detail page."""
    mobilization = selectors.mobilization_detail(request.user, pk)
    return render(
        request,
        "mobilization/_board.html",
        {"m": mobilization, "board": selectors.board(mobilization)},
    )


@staff_required
@require_POST
def mobilization_call(request, pk: int):
    m = selectors.mobilization_detail(request.user, pk, "change")
    form = forms.CallForm(request.POST, fleets=selectors.fleets(request.user))

    def call(d):
        count = services.mobilization_call(
            actor=request.user,
            mobilization=m,
            fleets=list(d["fleets"]),
            radius_km=d["radius_km"],
            position_max_age_minutes=d["max_age_minutes"],
        )
        messages.info(request, _("%(n)s drivers called.") % {"n": count})

    return run(
        request,
        form,
        call,
        _("Call sent."),
        lambda s: _render_detail(request, pk, s, call_form=form),
        back_to_detail(pk),
    )


@staff_required
@require_POST
def queue_add(request, pk: int):
    m = selectors.mobilization_detail(request.user, pk, "change")
    form = forms.QueueForm(request.POST, points=m.hub.pickup_points.all())
    return run(
        request,
        form,
        lambda d: services.passenger_enqueue(actor=request.user, mobilization=m, **d),
        _("Passenger added to the queue."),
        lambda s: _render_detail(request, pk, s, queue_form=form),
        back_to_detail(pk),
    )


@staff_required
@require_POST
def queue_leave(request, pk: int):
    entry = selectors.queue_entry(request.user, pk)
    mpk = entry.mobilization_id
    return run(
        request,
        None,
        lambda d: services.passenger_leave(actor=request.user, entry=entry),
        _("Passenger removed from the queue."),
        lambda s: _render_detail(request, mpk, s),
        back_to_detail(mpk),
    )


@staff_required
@require_POST
def ride_add(request, pk: int):
    m = selectors.mobilization_detail(request.user, pk, "change")
    board = selectors.board(m)
    form = forms.RideForm(request.POST, drivers=[r.driver for r in board["arrived_drivers"]])

    def call(d):
        return services.ride_record(
            actor=request.user,
            mobilization=m,
            driver=selectors.arrived_driver(m, d["driver"]),
            destination_district=d["destination_district"],
            passengers=d["passengers"],
        )

    return run(
        request,
        form,
        call,
        _("Ride recorded."),
        lambda s: _render_detail(request, pk, s, ride_form=form),
        back_to_detail(pk),
    )


@staff_required
@require_POST
def mobilization_close(request, pk: int):
    m = selectors.mobilization_detail(request.user, pk, "change")
    form = forms.NoteForm(request.POST)
    return run(
        request,
        form,
        lambda d: services.mobilization_close(actor=request.user, mobilization=m, note=d["note"]),
        _("Mobilisation closed."),
        lambda s: _render_detail(request, pk, s),
        back_to_detail(pk),
    )


@staff_required
@require_POST
def mobilization_cancel(request, pk: int):
    m = selectors.mobilization_detail(request.user, pk, "change")
    form = forms.ReasonForm(request.POST)
    return run(
        request,
        form,
        lambda d: services.mobilization_cancel(
            actor=request.user, mobilization=m, reason=d["reason"]
        ),
        _("Mobilisation cancelled."),
        lambda s: _render_detail(request, pk, s),
        back_to_detail(pk),
    )


@staff_required
@require_safe
def mobilization_export(request, pk: int):
    m = selectors.mobilization_detail(request.user, pk)
    return download(exports.mobilization_workbook(m), f"mobilisation-{m.pk}.xlsx")
