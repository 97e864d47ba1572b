"""The driver's own pages (mobile-first). Each works only on the signed-in driver's record;
anyone without a driver record gets 404."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from redwheel.accounts.decorators import driver_required
from redwheel.core import attention, menus
from redwheel.core.errors import InvalidTransition, ValidationFailed
from redwheel.core.forms import domain_errors, require_valid
from redwheel.drivers import selectors, services
from redwheel.drivers.forms import BadgeForm, CheckInForm, DeclareForm


@driver_required
def home(request):
    """The driver home: what needs the driver now (the cards every capability registers in
    core.attention, by urgency), the facts line (badge, score), the quick actions
    (core.menus.quick) and a short profile."""
    driver = selectors.own_driver(request.user)
    return render(
        request,
        "drivers/me_home.html",
        {
            "driver": driver,
            "membership": selectors.membership_of(driver),
            "badge_on": services.badge_visible(driver),
            "cards": attention.cards_for(request.user),
            "facts": attention.facts_for(request.user),
            "quick_actions": menus.quick_actions(request.user),
        },
    )


def _membership_page(request, driver, status=200, declare_form=None, check_in_form=None):
    membership = selectors.membership_of(driver)
    allowed = set(services.allowed_actions(membership))
    search = request.GET.get("bq", "").strip()
    checked_in = membership is not None and membership.mobile_branch_id is not None
    return render(
        request,
        "drivers/me_membership.html",
        {
            "driver": driver,
            "membership": membership,
            "timeline": selectors.timeline(membership),
            "can_declare": "declare" in allowed,
            "can_check_in": "check_in" in allowed and not checked_in,
            "can_check_out": "check_out" in allowed and checked_in,
            "search": search,
            "declare_form": declare_form
            or DeclareForm(branches=selectors.declarable_branches(driver, search)),
            "check_in_form": check_in_form
            or CheckInForm(branches=selectors.city_mobile_branches(driver)),
        },
        status=status,
    )


@driver_required
def membership(request):
    return _membership_page(request, selectors.own_driver(request.user))


@driver_required
@require_POST
def declare(request):
    driver = selectors.own_driver(request.user)
    form = DeclareForm(request.POST, branches=selectors.declarable_branches(driver))
    with domain_errors(request) as caught:
        data = require_valid(form)
        services.membership_declare(
            actor=request.user,
            driver=driver,
            category=data["category"],
            branch=data["branch"],
            joined_party_on=data["joined_party_on"],
            home_organisation=data["home_organisation"],
        )
        messages.success(request, _("Thank you. Your branch will check your declaration."))
        return redirect("me:membership")
    return _membership_page(request, driver, status=caught.status, declare_form=form)


@driver_required
@require_POST
def check_in(request):
    driver = selectors.own_driver(request.user)
    form = CheckInForm(request.POST, branches=selectors.city_mobile_branches(driver))
    with domain_errors(request) as caught:
        data = require_valid(form)
        membership = selectors.membership_of(driver)
        if membership is None:
            raise InvalidTransition(_("Declare your membership first."))
        services.membership_check_in(
            actor=request.user,
            membership=membership,
            mobile_branch=data["mobile_branch"],
            home_organisation=data["home_organisation"],
        )
        messages.success(request, _("You are checked in to the mobile-member branch."))
        return redirect("me:membership")
    return _membership_page(request, driver, status=caught.status, check_in_form=form)


@driver_required
@require_POST
def check_out(request):
    driver = selectors.own_driver(request.user)
    with domain_errors(request) as caught:
        membership = selectors.membership_of(driver)
        if membership is None:
            raise InvalidTransition(_("Declare your membership first."))
        services.membership_check_out(actor=request.user, membership=membership)
        messages.success(request, _("You have left the mobile-member branch."))
        return redirect("me:membership")
    return _membership_page(request, driver, status=caught.status)


@driver_required
def badge(request):
    driver = selectors.own_driver(request.user)
    status = 200
    if request.method == "POST":
        form = BadgeForm(request.POST)
        with domain_errors(request) as caught:
            if not form.is_valid():
                raise ValidationFailed(_("Choose whether to show the badge."))
            driver = services.badge_consent_set(
                actor=request.user, driver=driver, consented=form.cleaned_data["consented"]
            )
            if driver.badge_consent:
                messages.success(request, _("The badge is switched on."))
            else:
                messages.success(
                    request, _("The badge is switched off. Passengers no longer see it.")
                )
            return redirect("me:badge")
        status = caught.status
    driver = selectors.own_driver(request.user)
    return render(
        request,
        "drivers/me_badge.html",
        {
            "driver": driver,
            "membership": selectors.membership_of(driver),
            "is_member": selectors.is_verified_member(driver),
            "badge_on": services.badge_visible(driver),
            "history": selectors.consent_history(driver),
        },
        status=status,
    )
