"""Staff pages for hubs and their pick-up points."""

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from redwheel.accounts.decorators import staff_required
from redwheel.core.paging import paginate
from redwheel.mobilization import forms, selectors, services
from redwheel.mobilization.views.common import PAGE_SIZE, run, writable_units


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
    form = forms.HubForm(request.POST, units=writable_units(request))
    return run(
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
            "mobilizations": selectors.mobilizations(request.user).filter(hub=hub)[:20],
        },
        status=status,
    )


@staff_required
def hub_detail(request, pk: int):
    if request.method != "POST":
        return _hub_detail(request, pk)
    hub = selectors.hub_detail(request.user, pk, "change")
    form = forms.PickupPointForm(request.POST)
    return run(
        request,
        form,
        lambda d: services.pickup_point_add(actor=request.user, hub=hub, **d),
        _("Pick-up point added."),
        lambda s: _hub_detail(request, pk, s, form),
        lambda _p: redirect("mobilization:hub_detail", pk=pk),
    )
