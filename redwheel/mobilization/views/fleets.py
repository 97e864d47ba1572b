"""Staff pages for fleets: the list with its create form, the roster and 三亮 markers."""

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.errors import ValidationFailed
from redwheel.core.paging import paginate
from redwheel.drivers import selectors as driver_selectors
from redwheel.mobilization import forms, selectors, services
from redwheel.mobilization.views.common import PAGE_SIZE, run, writable_units


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
    form = forms.FleetForm(request.POST, units=writable_units(request))
    return run(
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
    return run(
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
    return run(
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
    return run(
        request,
        form,
        lambda d: services.fleet_markers_set(actor=request.user, member=member, **d),
        _("Markers recorded."),
        lambda s: _fleet_detail(request, member.fleet_id, s),
        lambda _m: redirect("mobilization:fleet_detail", pk=member.fleet_id),
    )
