"""Staff pages for drivers: list, detail with action forms, reveal, verification queue.

Each action view parses one form, calls one service and redirects; a DomainError is shown on
the page with its status (400/409) and nothing is changed. Out-of-scope ids answer 404.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.errors import DomainError, InvalidTransition, ValidationFailed
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import reads_by_post
from redwheel.core.paging import paginate
from redwheel.drivers import selectors, services
from redwheel.drivers.forms import (
    CheckInForm,
    ContactPairForm,
    DeclareForm,
    DriverFilterForm,
    NoteForm,
    ReasonForm,
    RevealForm,
    TransferForm,
)
from redwheel.orgs import selectors as org_selectors

PAGE_SIZE = 50


@reads_by_post
@staff_required
def driver_list(request):
    if request.method == "POST":
        # Searching by a full phone or licence number must not put it in URLs or access logs:
        # the form posts, and the redirect carries only the number's blind index.
        query = request.POST.copy()
        query.pop("csrfmiddlewaretoken", None)
        query["q"] = selectors.search_token(query.get("q", ""))
        return redirect(f"{request.path}?{query.urlencode()}")
    viewer = request.user
    form = DriverFilterForm(
        request.GET or None,
        platforms=org_selectors.platforms(viewer).order_by("name"),
        units=org_selectors.units(viewer)
        .filter(kind__in=selectors.MEMBER_UNIT_KINDS)
        .order_by("path"),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    drivers = selectors.driver_list(
        viewer,
        q=filters.get("q", ""),
        platform=filters.get("platform"),
        branch=filters.get("branch"),
        category=filters.get("category", ""),
        state=filters.get("state", ""),
        party_only=filters.get("party", False),
    )
    page = paginate(request, drivers, PAGE_SIZE)
    for driver in page:
        driver.badge_on = services.badge_visible(driver)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "drivers/list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


# Detail ----------------------------------------------------------------------------------------


def _detail_context(request, driver, **extra) -> dict:
    viewer = request.user
    membership = selectors.membership_of(driver)
    allowed = set(services.allowed_actions(membership))
    perms = selectors.permissions_on(viewer, driver)
    checked_in = membership is not None and membership.mobile_branch_id is not None
    show = {
        "verify": "verify" in allowed and perms["verify"],
        "reject": "reject" in allowed and perms["verify"],
        "lapse": "lapse" in allowed and perms["verify"],
        "transfer": "transfer" in allowed and perms["change_membership"],
        "check_in": "check_in" in allowed and perms["change_membership"] and not checked_in,
        "check_out": "check_out" in allowed and perms["change_membership"] and checked_in,
        "declare": "declare" in allowed and perms["change"],
        "contact_pair": perms["change"],
        "reveal": perms["reveal"],
    }
    forms = {
        "reject_form": ReasonForm(prefix="reject"),
        "lapse_form": ReasonForm(prefix="lapse"),
        "transfer_form": TransferForm(branches=selectors.branch_choices(viewer)),
        "check_in_form": CheckInForm(branches=selectors.mobile_branch_choices(viewer)),
        "declare_form": DeclareForm(
            branches=selectors.branch_choices(viewer), initial={"branch": driver.branch_id}
        ),
        "contact_form": ContactPairForm(),
        "reveal_form": RevealForm(),
        "note_form": NoteForm(),
    }
    is_member = selectors.is_verified_member(driver)
    return {
        "driver": driver,
        "membership": membership,
        "timeline": selectors.timeline(membership),
        "badge_on": services.badge_visible(driver),
        "is_member": is_member,
        "show": show,
        "any_action": any(v for k, v in show.items() if k not in ("reveal",)),
        **forms,
        **extra,
    }


def _render_detail(request, pk, status=200, **extra):
    driver = selectors.driver_detail(request.user, pk)
    return render(
        request, "drivers/detail.html", _detail_context(request, driver, **extra), status=status
    )


@staff_required
@require_safe
def driver_detail(request, pk: int):
    return _render_detail(request, pk)


def _failed(request, pk, exc: DomainError, **forms):
    if request.htmx and request.POST.get("from") == "queue":
        return _queue_row(request, pk, error=exc.message, status=exc.status)
    messages.error(request, exc.message)
    return _render_detail(request, pk, status=exc.status, **forms)


def _done(request, driver, message: str):
    if request.htmx and request.POST.get("from") == "queue":
        return _queue_row(request, driver.pk, done=message)
    messages.success(request, message)
    return redirect("drivers:detail", pk=driver.pk)


def _membership(driver):
    membership = selectors.membership_of(driver)
    if membership is None:
        raise InvalidTransition(_("This driver has no membership record."))
    return membership


def _action(request, pk, action, form_class, call, success, form_key=None, **form_kwargs):
    """404 unless the actor may `action` the driver; only then bind and validate the form
    and run `call(driver, cleaned_data)`. Errors re-render the page."""
    driver = selectors.driver_for_action(request.user, pk, action)
    form = form_class(request.POST, **form_kwargs)
    extra = {form_key: form} if form_key else {}
    with domain_errors() as caught:  # shown by _failed: in the queue row or on the page
        call(driver, require_valid(form))
    if caught:
        return _failed(request, pk, caught.error, **extra)
    driver.refresh_from_db()
    return _done(request, driver, success)


@staff_required
@require_POST
def membership_verify(request, pk: int):
    return _action(
        request,
        pk,
        "verify",
        NoteForm,
        lambda d, data: services.membership_verify(
            actor=request.user, membership=_membership(d), note=data["note"]
        ),
        _("Membership verified."),
    )


@staff_required
@require_POST
def membership_reject(request, pk: int):
    return _action(
        request,
        pk,
        "verify",
        ReasonForm,
        lambda d, data: services.membership_reject(
            actor=request.user, membership=_membership(d), reason=data["reason"]
        ),
        _("Declaration rejected."),
        "reject_form",
        prefix="reject",
    )


@staff_required
@require_POST
def membership_lapse(request, pk: int):
    return _action(
        request,
        pk,
        "verify",
        ReasonForm,
        lambda d, data: services.membership_lapse(
            actor=request.user, membership=_membership(d), reason=data["reason"]
        ),
        _("Membership marked as lapsed."),
        "lapse_form",
        prefix="lapse",
    )


@staff_required
@require_POST
def membership_transfer(request, pk: int):
    return _action(
        request,
        pk,
        "change",
        TransferForm,
        lambda d, data: services.membership_transfer(
            actor=request.user,
            membership=_membership(d),
            to_branch=data["to_branch"],
            note=data["note"],
        ),
        _("Member transferred."),
        "transfer_form",
        branches=selectors.branch_choices(request.user),
    )


@staff_required
@require_POST
def membership_check_in(request, pk: int):
    return _action(
        request,
        pk,
        "change",
        CheckInForm,
        lambda d, data: services.membership_check_in(
            actor=request.user,
            membership=_membership(d),
            mobile_branch=data["mobile_branch"],
            home_organisation=data["home_organisation"],
        ),
        _("Checked in to the mobile branch."),
        "check_in_form",
        branches=selectors.mobile_branch_choices(request.user),
    )


@staff_required
@require_POST
def membership_check_out(request, pk: int):
    return _action(
        request,
        pk,
        "change",
        NoteForm,
        lambda d, data: services.membership_check_out(
            actor=request.user, membership=_membership(d), note=data["note"]
        ),
        _("Checked out of the mobile branch."),
    )


@staff_required
@require_POST
def membership_declare(request, pk: int):
    return _action(
        request,
        pk,
        "change",
        DeclareForm,
        lambda d, data: services.membership_declare(
            actor=request.user,
            driver=d,
            category=data["category"],
            branch=data["branch"],
            joined_party_on=data["joined_party_on"],
            home_organisation=data["home_organisation"],
            note=_("Declared by staff on the driver's behalf."),
        ),
        _("Membership declared on the driver's behalf."),
        "declare_form",
        branches=selectors.branch_choices(request.user),
    )


@staff_required
@require_POST
def contact_pair_add(request, pk: int):
    def call(driver, data):
        other = selectors.find_driver_by_number(request.user, data["number"])
        if other is None:
            raise ValidationFailed(_("No driver with this number in your scope."))
        if selectors.is_verified_member(driver):
            member, looked_after = driver, other
        else:
            member, looked_after = other, driver
        services.contact_pair_create(actor=request.user, member=member, driver=looked_after)

    return _action(
        request, pk, "change", ContactPairForm, call, _("Contact pair added."), "contact_form"
    )


@staff_required
@require_POST
def pii_reveal(request, pk: int):
    """Show one plaintext number once, after recording who asked and why."""
    driver = selectors.driver_for_action(request.user, pk, "reveal")
    form = RevealForm(request.POST)
    with domain_errors() as caught:  # shown below: in the htmx fragment or on the page
        data = require_valid(form)
        value = services.pii_reveal(
            actor=request.user, driver=driver, field=data["field"], reason=data["reason"]
        )
    if caught:
        if request.htmx:
            return render(
                request,
                "drivers/_reveal.html",
                {"driver": driver, "reveal_form": form, "error": caught.message},
                status=caught.status,
            )
        messages.error(request, caught.message)
        return _render_detail(request, pk, status=caught.status, reveal_form=form)
    revealed = {"field": form.cleaned_data["field"], "value": value}
    if request.htmx:
        return render(
            request,
            "drivers/_reveal.html",
            {"driver": driver, "revealed": revealed, "reveal_form": RevealForm()},
        )
    return _render_detail(request, pk, revealed=revealed)


# Verification queue ------------------------------------------------------------------------------


@staff_required
@require_safe
def verification_queue(request):
    page = paginate(request, selectors.verification_queue(request.user), PAGE_SIZE)
    return render(
        request,
        "drivers/verification_queue.html",
        {"page": page, "reject_form": ReasonForm(prefix="reject")},
    )


def _queue_row(request, driver_pk, *, done="", error="", status=200):
    membership = selectors.queue_membership(request.user, driver_pk)
    return render(
        request,
        "drivers/_queue_row.html",
        {"m": membership, "done": done, "error": error, "reject_form": ReasonForm(prefix="reject")},
        status=status,
    )
