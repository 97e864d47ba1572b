"""Staff pages for public alerts: send, read the sightings, withdraw."""

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.paging import paginate
from redwheel.mobilization import forms, selectors, services
from redwheel.mobilization.views.common import PAGE_SIZE, run, writable_units


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
    form = forms.AlertForm(request.POST, request.FILES, units=writable_units(request))

    def call(d):
        return services.alert_create(actor=request.user, photo=d.pop("photo") or None, **d)

    return run(
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
    return run(
        request,
        None,
        lambda d: services.alert_withdraw(actor=request.user, alert=alert),
        _("Alert withdrawn."),
        lambda s: _alert_detail(request, pk, s),
        lambda _a: redirect("mobilization:alert_detail", pk=pk),
    )
