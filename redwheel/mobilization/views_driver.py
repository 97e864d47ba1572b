"""The driver's own pages (mobile-first): calls and answers, fleets and pledges, volunteer
opportunities, alerts and "seen something", service history. Only the signed-in driver's
records; anyone without a driver record gets 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required
from redwheel.core.errors import ValidationFailed
from redwheel.core.forms import domain_errors, require_valid
from redwheel.mobilization import forms, selectors, services
from redwheel.mobilization.models import ResponseStatus


@driver_required
@require_safe
def home(request):
    driver = selectors.own_driver(request.user)
    calls = selectors.my_calls(request.user, driver)
    return render(
        request,
        "mobilization/me_home.html",
        {
            "driver": driver,
            "open_calls": [c for c in calls if c.mobilization.is_open],
            "alerts": selectors.my_alerts(request.user, driver, active_only=True)[:10],
            "fleets": selectors.my_fleet_memberships(request.user, driver),
        },
    )


def _call_page(request, driver, pk, status=200):
    return render(
        request,
        "mobilization/me_call.html",
        {
            "call": selectors.my_call(request.user, driver, pk),
            "answers": ResponseStatus.choices,
        },
        status=status,
    )


@driver_required
@require_safe
def call_detail(request, pk: int):
    return _call_page(request, selectors.own_driver(request.user), pk)


@driver_required
@require_POST
def respond(request, pk: int):
    driver = selectors.own_driver(request.user)
    call = selectors.my_call(request.user, driver, pk)
    form = forms.RespondForm(request.POST)
    with domain_errors(request) as caught:
        if not form.is_valid():
            raise ValidationFailed(_("Unknown answer."))
        _response, changed = services.response_record(
            actor=request.user, mobilization=call.mobilization, status=form.cleaned_data["status"]
        )
        if changed:
            messages.success(request, _("Thank you, your answer was sent."))
        else:
            messages.info(request, _("Your answer was already recorded."))
        return redirect("mobilization:my_call", pk=pk)
    return _call_page(request, driver, pk, status=caught.status)


@driver_required
@require_POST
def pledge_sign(request, pk: int):
    driver = selectors.own_driver(request.user)
    member = selectors.my_fleet_membership(request.user, driver, pk)
    with domain_errors(request):
        services.fleet_pledge_sign(actor=request.user, member=member)
        messages.success(request, _("You signed the service pledge."))
    return redirect("mobilization:my_fleets")


@driver_required
@require_safe
def fleets(request):
    driver = selectors.own_driver(request.user)
    return render(
        request,
        "mobilization/me_fleets.html",
        {
            "memberships": selectors.my_fleet_memberships(request.user, driver),
        },
    )


@driver_required
@require_safe
def opportunities(request):
    driver = selectors.own_driver(request.user)
    rows = list(selectors.opportunities_for_driver(request.user, driver).filter(status="open")[:50])
    mine = selectors.my_signups(request.user, driver)
    for o in rows:
        o.my_signup = mine.get(o.pk)
    return render(
        request,
        "mobilization/me_opportunities.html",
        {
            "rows": rows,
            "signups": [s for s in mine.values()],
        },
    )


@driver_required
@require_POST
def sign_up(request, pk: int):
    driver = selectors.own_driver(request.user)
    opportunity = selectors.my_opportunity(request.user, driver, pk)
    with domain_errors(request):
        services.signup_create(actor=request.user, opportunity=opportunity)
        messages.success(request, _("You are signed up. Thank you!"))
    return redirect("mobilization:my_opportunities")


SIGNUP_ACTIONS = {
    "cancel": (services.signup_cancel, _("Sign-up cancelled.")),
    "check_in": (services.signup_check_in, _("Checked in.")),
    "check_out": (
        services.signup_check_out,
        _("Checked out. The organiser will confirm your hours."),
    ),
}


@driver_required
@require_POST
def signup_action(request, pk: int, action: str):
    if action not in SIGNUP_ACTIONS:
        raise Http404
    driver = selectors.own_driver(request.user)
    signup = selectors.my_signup(request.user, driver, pk)
    service, message = SIGNUP_ACTIONS[action]
    with domain_errors(request):
        service(actor=request.user, signup=signup)
        messages.success(request, message)
    return redirect("mobilization:my_opportunities")


def _alert_page(request, driver, pk, form=None, status=200):
    return render(
        request,
        "mobilization/me_alert.html",
        {
            "alert": selectors.my_alert(request.user, driver, pk),
            "form": form or forms.SightingForm(),
        },
        status=status,
    )


@driver_required
def alert_detail(request, pk: int):
    driver = selectors.own_driver(request.user)
    if request.method != "POST":
        return _alert_page(request, driver, pk)
    alert = selectors.my_alert(request.user, driver, pk)
    form = forms.SightingForm(request.POST)
    with domain_errors(request) as caught:
        services.sighting_report(actor=request.user, alert=alert, **require_valid(form))
        messages.success(request, _("Thank you. The sender has been told."))
        return redirect("mobilization:my_alert", pk=pk)
    return _alert_page(request, driver, pk, form, status=caught.status)


@driver_required
@require_safe
def history(request):
    driver = selectors.own_driver(request.user)
    return render(
        request,
        "mobilization/driver_history.html",
        {
            "driver": driver,
            "h": selectors.service_history(request.user, driver),
            "staff_view": False,
        },
    )
