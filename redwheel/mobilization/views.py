"""Staff pages: fleets, hubs, mobilisations with the live board, volunteer opportunities,
alerts, per-unit statistics and exports. Each POST parses one form and calls one service; a
DomainError re-renders the page with its message and status. Out-of-scope ids answer 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.errors import DomainError, ValidationFailed
from redwheel.core.exports import download
from redwheel.core.guards import writable_or_404
from redwheel.core.paging import paginate
from redwheel.drivers import selectors as driver_selectors
from redwheel.mobilization import exports, forms, selectors, services
from redwheel.mobilization.models import Mobilisation

PAGE_SIZE = 30


def _invalid(form) -> ValidationFailed:
    first = next(iter(form.errors.values()))[0] if form.errors else None
    return ValidationFailed(first, details=form.errors.get_json_data())


def _writable_units(request):
    """The units a create form may pick; 404 before the form is read if there is none."""
    return writable_or_404(selectors.units(request.user, "change"))


def _run(request, form, call, success, on_error, redirect_to):
    """Validate `form` (or None), run `call(data)`; errors re-render via `on_error(status)`."""
    try:
        if form is not None and not form.is_valid():
            raise _invalid(form)
        result = call(form.cleaned_data if form is not None else {})
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return on_error(exc.status)
    messages.success(request, success)
    return redirect_to(result) if callable(redirect_to) else redirect(redirect_to)


@staff_required
@require_safe
def index(request):
    viewer = request.user
    return render(
        request,
        "mobilization/index.html",
        {
            "open_mobilisations": selectors.mobilisations(viewer, status="open")[:10],
            "recent_closed": selectors.mobilisations(viewer, status="closed")[:5],
            "fleets": selectors.fleets(viewer)[:10],
            "hubs": selectors.hubs(viewer)[:10],
            "opportunities": selectors.opportunities(viewer).filter(status="open")[:5],
            "alerts": selectors.alerts(viewer)[:5],
        },
    )


# Fleets --------------------------------------------------------------------------------------


def _fleet_list(request, form=None, status=200):
    viewer = request.user
    return render(
        request,
        "mobilization/fleet_list.html",
        {
            "page": paginate(request, selectors.fleets(viewer), PAGE_SIZE),
            "form": form or forms.FleetForm(units=selectors.units(viewer, "change")),
        },
        status=status,
    )


@staff_required
def fleet_list(request):
    if request.method != "POST":
        return _fleet_list(request)
    form = forms.FleetForm(request.POST, units=_writable_units(request))
    return _run(
        request,
        form,
        lambda d: services.fleet_create(actor=request.user, **d),
        _("Fleet created."),
        lambda s: _fleet_list(request, form, s),
        lambda fleet: redirect("mobilization:fleet_detail", pk=fleet.pk),
    )


def _fleet_detail(request, pk, status=200, member_form=None):
    fleet = selectors.fleet_detail(request.user, pk)
    return render(
        request,
        "mobilization/fleet_detail.html",
        {
            "fleet": fleet,
            "member_form": member_form or forms.DriverLookupForm(),
        },
        status=status,
    )


@staff_required
@require_safe
def fleet_detail(request, pk: int):
    return _fleet_detail(request, pk)


def _lookup_driver(viewer, text: str):
    matches = list(driver_selectors.driver_list(viewer, q=text)[:2])
    if len(matches) != 1:
        raise ValidationFailed(_("No single driver matches “%(q)s”.") % {"q": text})
    return matches[0]


@staff_required
@require_POST
def fleet_member_add(request, pk: int):
    fleet = selectors.fleet_detail(request.user, pk, "change")
    form = forms.DriverLookupForm(request.POST)
    return _run(
        request,
        form,
        lambda d: services.fleet_member_add(
            actor=request.user,
            fleet=fleet,
            driver=_lookup_driver(request.user, d["driver"]),
            role=d["role"],
        ),
        _("Driver added to the fleet."),
        lambda s: _fleet_detail(request, pk, s, form),
        lambda _m: redirect("mobilization:fleet_detail", pk=pk),
    )


@staff_required
@require_POST
def fleet_member_remove(request, pk: int):
    member = selectors.fleet_member(request.user, pk)
    return _run(
        request,
        None,
        lambda d: services.fleet_member_remove(actor=request.user, member=member),
        _("Driver removed from the fleet."),
        lambda s: _fleet_detail(request, member.fleet_id, s),
        lambda _m: redirect("mobilization:fleet_detail", pk=member.fleet_id),
    )


@staff_required
@require_POST
def fleet_markers(request, pk: int):
    member = selectors.fleet_member(request.user, pk)
    form = forms.MarkersForm(request.POST)
    return _run(
        request,
        form,
        lambda d: services.fleet_markers_set(actor=request.user, member=member, **d),
        _("Markers recorded."),
        lambda s: _fleet_detail(request, member.fleet_id, s),
        lambda _m: redirect("mobilization:fleet_detail", pk=member.fleet_id),
    )


# Hubs ----------------------------------------------------------------------------------------


def _hub_list(request, form=None, status=200):
    viewer = request.user
    return render(
        request,
        "mobilization/hub_list.html",
        {
            "page": paginate(request, selectors.hubs(viewer), PAGE_SIZE),
            "form": form or forms.HubForm(units=selectors.units(viewer, "change")),
        },
        status=status,
    )


@staff_required
def hub_list(request):
    if request.method != "POST":
        return _hub_list(request)
    form = forms.HubForm(request.POST, units=_writable_units(request))
    return _run(
        request,
        form,
        lambda d: services.hub_create(actor=request.user, **d),
        _("Hub created."),
        lambda s: _hub_list(request, form, s),
        lambda hub: redirect("mobilization:hub_detail", pk=hub.pk),
    )


def _hub_detail(request, pk, status=200, form=None):
    hub = selectors.hub_detail(request.user, pk)
    return render(
        request,
        "mobilization/hub_detail.html",
        {
            "hub": hub,
            "form": form or forms.PickupPointForm(),
            "mobilisations": selectors.mobilisations(request.user).filter(hub=hub)[:20],
        },
        status=status,
    )


@staff_required
def hub_detail(request, pk: int):
    if request.method != "POST":
        return _hub_detail(request, pk)
    hub = selectors.hub_detail(request.user, pk, "change")
    form = forms.PickupPointForm(request.POST)
    return _run(
        request,
        form,
        lambda d: services.pickup_point_add(actor=request.user, hub=hub, **d),
        _("Pick-up point added."),
        lambda s: _hub_detail(request, pk, s, form),
        lambda _p: redirect("mobilization:hub_detail", pk=pk),
    )


# Mobilisations -------------------------------------------------------------------------------


def _mobilisation_form(request, data=None):
    viewer = request.user
    return forms.MobilisationForm(
        data, units=selectors.units(viewer, "change"), hubs=selectors.hubs(viewer)
    )


def _mobilisation_list(request, form=None, status=200):
    state = request.GET.get("status", "")
    if state not in Mobilisation.Status.values:
        state = ""
    return render(
        request,
        "mobilization/mobilisation_list.html",
        {
            "page": paginate(
                request, selectors.mobilisations(request.user, status=state), PAGE_SIZE
            ),
            "form": form or _mobilisation_form(request),
            "status": state,
            "statuses": Mobilisation.Status.choices,
            "query": f"status={state}" if state else "",
        },
        status=status,
    )


@staff_required
def mobilisation_list(request):
    if request.method != "POST":
        return _mobilisation_list(request)
    _writable_units(request)
    form = _mobilisation_form(request, request.POST)
    return _run(
        request,
        form,
        lambda d: services.mobilisation_open(actor=request.user, **d),
        _("Mobilisation opened. Now call the drivers."),
        lambda s: _mobilisation_list(request, form, s),
        lambda m: redirect("mobilization:mobilisation_detail", pk=m.pk),
    )


def _detail_context(request, mobilisation, **forms_):
    viewer = request.user
    board = selectors.board(mobilisation)
    return {
        "m": mobilisation,
        "board": board,
        "timeline": selectors.timeline(mobilisation),
        "can_change": mobilisation.is_open
        and selectors.mobilisations(viewer, action="change").filter(pk=mobilisation.pk).exists(),
        "call_form": forms_.get("call_form") or forms.CallForm(fleets=selectors.fleets(viewer)),
        "queue_form": forms_.get("queue_form")
        or forms.QueueForm(points=mobilisation.hub.pickup_points.all()),
        "ride_form": forms_.get("ride_form")
        or forms.RideForm(drivers=[r.driver for r in board["arrived_drivers"]]),
        "close_form": forms.NoteForm(),
        "cancel_form": forms.ReasonForm(),
    }


def _render_detail(request, pk, status=200, **forms_):
    mobilisation = selectors.mobilisation_detail(request.user, pk)
    return render(
        request,
        "mobilization/mobilisation_detail.html",
        _detail_context(request, mobilisation, **forms_),
        status=status,
    )


@staff_required
@require_safe
def mobilisation_detail(request, pk: int):
    return _render_detail(request, pk)


@staff_required
@require_safe
def mobilisation_board(request, pk: int):
    """The htmx fragment refreshed every 5 s on the detail page."""
    mobilisation = selectors.mobilisation_detail(request.user, pk)
    return render(
        request,
        "mobilization/_board.html",
        {"m": mobilisation, "board": selectors.board(mobilisation)},
    )


def _back(pk):
    return lambda _r: redirect("mobilization:mobilisation_detail", pk=pk)


@staff_required
@require_POST
def mobilisation_call(request, pk: int):
    m = selectors.mobilisation_detail(request.user, pk, "change")
    form = forms.CallForm(request.POST, fleets=selectors.fleets(request.user))

    def call(d):
        count = services.mobilisation_call(
            actor=request.user,
            mobilisation=m,
            fleets=list(d["fleets"]),
            radius_km=d["radius_km"],
            position_max_age_minutes=d["max_age_minutes"],
        )
        messages.info(request, _("%(n)s drivers called.") % {"n": count})

    return _run(
        request,
        form,
        call,
        _("Call sent."),
        lambda s: _render_detail(request, pk, s, call_form=form),
        _back(pk),
    )


@staff_required
@require_POST
def queue_add(request, pk: int):
    m = selectors.mobilisation_detail(request.user, pk, "change")
    form = forms.QueueForm(request.POST, points=m.hub.pickup_points.all())
    return _run(
        request,
        form,
        lambda d: services.passenger_enqueue(actor=request.user, mobilisation=m, **d),
        _("Passenger added to the queue."),
        lambda s: _render_detail(request, pk, s, queue_form=form),
        _back(pk),
    )


@staff_required
@require_POST
def queue_leave(request, pk: int):
    entry = selectors.queue_entry(request.user, pk)
    mpk = entry.mobilisation_id
    return _run(
        request,
        None,
        lambda d: services.passenger_leave(actor=request.user, entry=entry),
        _("Passenger removed from the queue."),
        lambda s: _render_detail(request, mpk, s),
        _back(mpk),
    )


@staff_required
@require_POST
def ride_add(request, pk: int):
    m = selectors.mobilisation_detail(request.user, pk, "change")
    board = selectors.board(m)
    form = forms.RideForm(request.POST, drivers=[r.driver for r in board["arrived_drivers"]])

    def call(d):
        return services.ride_record(
            actor=request.user,
            mobilisation=m,
            driver=selectors.arrived_driver(m, d["driver"]),
            destination_district=d["destination_district"],
            passengers=d["passengers"],
        )

    return _run(
        request,
        form,
        call,
        _("Ride recorded."),
        lambda s: _render_detail(request, pk, s, ride_form=form),
        _back(pk),
    )


@staff_required
@require_POST
def mobilisation_close(request, pk: int):
    m = selectors.mobilisation_detail(request.user, pk, "change")
    form = forms.NoteForm(request.POST)
    return _run(
        request,
        form,
        lambda d: services.mobilisation_close(actor=request.user, mobilisation=m, note=d["note"]),
        _("Mobilisation closed."),
        lambda s: _render_detail(request, pk, s),
        _back(pk),
    )


@staff_required
@require_POST
def mobilisation_cancel(request, pk: int):
    m = selectors.mobilisation_detail(request.user, pk, "change")
    form = forms.ReasonForm(request.POST)
    return _run(
        request,
        form,
        lambda d: services.mobilisation_cancel(
            actor=request.user, mobilisation=m, reason=d["reason"]
        ),
        _("Mobilisation cancelled."),
        lambda s: _render_detail(request, pk, s),
        _back(pk),
    )


@staff_required
@require_safe
def mobilisation_export(request, pk: int):
    m = selectors.mobilisation_detail(request.user, pk)
    return download(exports.mobilisation_workbook(m), f"mobilisation-{m.pk}.xlsx")


# Volunteer service ---------------------------------------------------------------------------


def _opportunity_form(request, data=None):
    viewer = request.user
    return forms.OpportunityForm(
        data, units=selectors.units(viewer, "change"), fleets=selectors.fleets(viewer)
    )


def _opportunity_list(request, form=None, status=200):
    return render(
        request,
        "mobilization/opportunity_list.html",
        {
            "page": paginate(request, selectors.opportunities(request.user), PAGE_SIZE),
            "form": form or _opportunity_form(request),
        },
        status=status,
    )


@staff_required
def opportunity_list(request):
    if request.method != "POST":
        return _opportunity_list(request)
    _writable_units(request)
    form = _opportunity_form(request, request.POST)
    return _run(
        request,
        form,
        lambda d: services.opportunity_create(actor=request.user, **d),
        _("Opportunity published."),
        lambda s: _opportunity_list(request, form, s),
        lambda o: redirect("mobilization:opportunity_detail", pk=o.pk),
    )


def _opportunity_detail(request, pk, status=200):
    return render(
        request,
        "mobilization/opportunity_detail.html",
        {
            "o": selectors.opportunity_detail(request.user, pk),
            "confirm_form": forms.ConfirmForm(),
        },
        status=status,
    )


@staff_required
@require_safe
def opportunity_detail(request, pk: int):
    return _opportunity_detail(request, pk)


@staff_required
@require_POST
def opportunity_close(request, pk: int):
    o = selectors.opportunity_detail(request.user, pk, "change")
    return _run(
        request,
        None,
        lambda d: services.opportunity_close(actor=request.user, opportunity=o),
        _("Sign-up closed."),
        lambda s: _opportunity_detail(request, pk, s),
        lambda _o: redirect("mobilization:opportunity_detail", pk=pk),
    )


@staff_required
@require_POST
def signup_confirm(request, pk: int):
    signup = selectors.signup_for_staff(request.user, pk)
    form = forms.ConfirmForm(request.POST)
    opk = signup.opportunity_id
    return _run(
        request,
        form,
        lambda d: services.signup_confirm(actor=request.user, signup=signup, hours=d["hours"]),
        _("Hours confirmed."),
        lambda s: _opportunity_detail(request, opk, s),
        lambda _r: redirect("mobilization:opportunity_detail", pk=opk),
    )


# Alerts --------------------------------------------------------------------------------------


def _alert_list(request, form=None, status=200):
    return render(
        request,
        "mobilization/alert_list.html",
        {
            "page": paginate(request, selectors.alerts(request.user), PAGE_SIZE),
            "form": form or forms.AlertForm(units=selectors.units(request.user, "change")),
        },
        status=status,
    )


@staff_required
def alert_list(request):
    if request.method != "POST":
        return _alert_list(request)
    form = forms.AlertForm(request.POST, request.FILES, units=_writable_units(request))

    def call(d):
        return services.alert_create(actor=request.user, photo=d.pop("photo") or None, **d)

    return _run(
        request,
        form,
        call,
        _("Alert sent."),
        lambda s: _alert_list(request, form, s),
        lambda a: redirect("mobilization:alert_detail", pk=a.pk),
    )


def _alert_detail(request, pk, status=200):
    return render(
        request,
        "mobilization/alert_detail.html",
        {"alert": selectors.alert_detail(request.user, pk)},
        status=status,
    )


@staff_required
@require_safe
def alert_detail(request, pk: int):
    return _alert_detail(request, pk)


@staff_required
@require_POST
def alert_withdraw(request, pk: int):
    alert = selectors.alert_detail(request.user, pk, "change")
    return _run(
        request,
        None,
        lambda d: services.alert_withdraw(actor=request.user, alert=alert),
        _("Alert withdrawn."),
        lambda s: _alert_detail(request, pk, s),
        lambda _a: redirect("mobilization:alert_detail", pk=pk),
    )


# Records -------------------------------------------------------------------------------------


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
