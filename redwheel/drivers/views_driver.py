"""The driver's own pages (mobile-first). Each works only on the signed-in driver's record;
anyone without a driver record gets 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from redwheel.core.errors import DomainError, InvalidTransition, ValidationFailed
from redwheel.drivers import selectors, services
from redwheel.drivers.forms import BadgeForm, CheckInForm, DeclareForm


@login_required
def home(request):
    driver = selectors.own_driver(request.user)
    return render(
        request,
        "drivers/me_home.html",
        {
            "driver": driver,
            "membership": selectors.membership_of(driver),
            "badge_on": services.badge_visible(driver),
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


@login_required
def membership(request):
    return _membership_page(request, selectors.own_driver(request.user))


def _form_error(form) -> ValidationFailed:
    first = next(iter(form.errors.values()))[0] if form.errors else None
    return ValidationFailed(first)


@login_required
@require_POST
def declare(request):
    driver = selectors.own_driver(request.user)
    form = DeclareForm(request.POST, branches=selectors.declarable_branches(driver))
    try:
        if not form.is_valid():
            raise _form_error(form)
        services.membership_declare(
            actor=request.user,
            driver=driver,
            category=form.cleaned_data["category"],
            branch=form.cleaned_data["branch"],
            joined_party_on=form.cleaned_data["joined_party_on"],
            home_organisation=form.cleaned_data["home_organisation"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _membership_page(request, driver, status=exc.status, declare_form=form)
    messages.success(request, _("Thank you. Your branch will check your declaration."))
    return redirect("me:membership")


@login_required
@require_POST
def check_in(request):
    driver = selectors.own_driver(request.user)
    form = CheckInForm(request.POST, branches=selectors.city_mobile_branches(driver))
    try:
        if not form.is_valid():
            raise _form_error(form)
        membership = selectors.membership_of(driver)
        if membership is None:
            raise InvalidTransition(_("Declare your membership first."))
        services.membership_check_in(
            actor=request.user,
            membership=membership,
            mobile_branch=form.cleaned_data["mobile_branch"],
            home_organisation=form.cleaned_data["home_organisation"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _membership_page(request, driver, status=exc.status, check_in_form=form)
    messages.success(request, _("You are checked in to the mobile-member branch."))
    return redirect("me:membership")


@login_required
@require_POST
def check_out(request):
    driver = selectors.own_driver(request.user)
    try:
        membership = selectors.membership_of(driver)
        if membership is None:
            raise InvalidTransition(_("Declare your membership first."))
        services.membership_check_out(actor=request.user, membership=membership)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _membership_page(request, driver, status=exc.status)
    messages.success(request, _("You have left the mobile-member branch."))
    return redirect("me:membership")


@login_required
def badge(request):
    driver = selectors.own_driver(request.user)
    status = 200
    if request.method == "POST":
        form = BadgeForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationFailed(_("Choose whether to show the badge."))
            driver = services.badge_consent_set(
                actor=request.user, driver=driver, consented=form.cleaned_data["consented"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            if driver.badge_consent:
                messages.success(request, _("The badge is switched on."))
            else:
                messages.success(
                    request, _("The badge is switched off. Passengers no longer see it.")
                )
            return redirect("me:badge")
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
