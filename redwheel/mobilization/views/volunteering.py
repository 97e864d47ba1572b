"""Staff pages for volunteer service: opportunities, closing sign-up, confirming hours."""

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.paging import paginate
from redwheel.mobilization import forms, selectors, services
from redwheel.mobilization.views.common import PAGE_SIZE, run, writable_units


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
    writable_units(request)
    form = _opportunity_form(request, request.POST)
    return run(
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
    return run(
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
    return run(
        request,
        form,
        lambda d: services.signup_confirm(actor=request.user, signup=signup, hours=d["hours"]),
        _("Hours confirmed."),
        lambda s: _opportunity_detail(request, opk, s),
        lambda _r: redirect("mobilization:opportunity_detail", pk=opk),
    )
