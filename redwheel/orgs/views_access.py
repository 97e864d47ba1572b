"""Staff pages for access management: role grants on a unit, unit settings, platforms (settings,
partners, API tokens) and joint-building agreements.

These used to be admin-only tasks; the admin is now reserved to superusers, so every staff task
has a page here. Each write is a POST that parses one form, calls one service and redirects (or
re-renders with the form's errors). Every object is fetched with `get_or_404` for the action
the write needs, so anything out of scope answers 404 before any input is looked at.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts import services as accounts
from redwheel.accounts.decorators import staff_required
from redwheel.accounts.models import Grant, PlatformToken
from redwheel.core.forms import domain_errors, submit
from redwheel.core.guards import found_or_404
from redwheel.core.paging import paginate
from redwheel.core.permissions import can
from redwheel.orgs import selectors, services
from redwheel.orgs.forms import ChildUnitForm
from redwheel.orgs.forms_access import (
    AgreementForm,
    GrantForm,
    PartnersForm,
    PlatformCreateForm,
    PlatformSettingsForm,
    TokenForm,
    UnitEditForm,
)
from redwheel.orgs.models import OrgUnit, Platform
from redwheel.orgs.permissions import committee_cities
from redwheel.orgs.views import _render_unit

PER_PAGE = 50


def _found(request, action: str, queryset, **lookup):
    return found_or_404(request.user, action, queryset, **lookup)


# Role grants -----------------------------------------------------------------------------------


@staff_required
@require_POST
def grant_add(request, pk: int):
    unit = _found(request, "grant", OrgUnit.objects.all(), pk=pk)
    form = GrantForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        grant = submit(
            form,
            lambda: accounts.staff_account_grant(
                actor=request.user,
                phone=data["phone"],
                display_name=data["display_name"],
                unit=unit,
                role=data["role"],
                password=data["password"] or None,
            ),
        )
        if grant is not None:
            messages.success(
                request,
                _("%(person)s now holds the role %(role)s on %(unit)s.")
                % {
                    "person": grant.user.phone_masked,
                    "role": grant.get_role_display(),
                    "unit": unit.name,
                },
            )
            return redirect("orgs:unit_detail", pk=unit.pk)
    return _render_unit(request, unit.pk, ChildUnitForm(), status=400, grant_form=form)


@staff_required
@require_POST
def grant_revoke(request, pk: int):
    grant = _found(request, "grant", Grant.objects.select_related("unit", "user"), pk=pk)
    with domain_errors(request):
        accounts.grant_revoke(actor=request.user, grant=grant)
        messages.success(
            request,
            _("The role %(role)s of %(person)s on %(unit)s was revoked.")
            % {
                "role": grant.get_role_display(),
                "person": grant.user.phone_masked,
                "unit": grant.unit.name,
            },
        )
    return redirect("orgs:unit_detail", pk=grant.unit_id)


# Unit settings ---------------------------------------------------------------------------------


@staff_required
def unit_edit(request, pk: int):
    unit = _found(request, "change", OrgUnit.objects.all(), pk=pk)
    status = 200
    if request.method == "POST":
        form = UnitEditForm(request.POST)
        if form.is_valid():
            result = submit(
                form,
                lambda: services.unit_update(actor=request.user, unit=unit, **form.cleaned_data),
            )
            if result is None:
                unit.refresh_from_db()
            else:
                messages.success(request, _("Unit %(name)s saved.") % {"name": unit.name})
                return redirect("orgs:unit_detail", pk=unit.pk)
        status = 400
    else:
        form = UnitEditForm(
            initial={
                "name": unit.name,
                "region_code": unit.region_code,
                "is_active": unit.is_active,
            }
        )
    return render(request, "orgs/unit_edit.html", {"unit": unit, "form": form}, status=status)


# Platforms -------------------------------------------------------------------------------------


def _creatable_cities(request):
    return committee_cities(request.user, "grant").order_by("name")


def _render_platform_list(request, create_form=None, status=200):
    cities = _creatable_cities(request)
    if create_form is None and cities.exists():
        create_form = PlatformCreateForm(cities=cities)
    page = paginate(request, selectors.platform_list(request.user), PER_PAGE)
    return render(
        request,
        "orgs/platform_list.html",
        {"page": page, "create_form": create_form},
        status=status,
    )


@staff_required
@require_safe
def platform_list(request):
    return _render_platform_list(request)


@staff_required
@require_POST
def platform_create(request):
    cities = _creatable_cities(request)
    if not cities.exists():
        raise Http404
    form = PlatformCreateForm(request.POST, cities=cities)
    if form.is_valid():
        platform = submit(
            form, lambda: services.platform_create(actor=request.user, **form.cleaned_data)
        )
        if platform is not None:
            messages.success(request, _("Platform %(name)s registered.") % {"name": platform.name})
            return redirect("orgs:platform_detail", pk=platform.pk)
    return _render_platform_list(request, create_form=form, status=400)


def _render_platform(request, pk: int, status=200, **forms):
    """The platform page; sections appear for the actions the viewer may do."""
    platform = _found(request, "view", Platform.objects.select_related("city"), pk=pk)
    viewer = request.user
    context = {
        "platform": platform,
        "partners": list(platform.partners.filter(pk__in=selectors.platforms(viewer))),
        "can_change": can(viewer, "change", platform),
        "can_grant": can(viewer, "grant", platform),
        "is_aggregator": platform.kind == Platform.Kind.AGGREGATOR,
        **forms,
    }
    if context["can_change"]:
        context.setdefault(
            "settings_form",
            PlatformSettingsForm(
                initial={
                    "name": platform.name,
                    "kind": platform.kind,
                    "commission_cap_percent": platform.commission_cap_percent,
                    "webhook_url": platform.webhook_url,
                }
            ),
        )
        if context["is_aggregator"]:
            context.setdefault(
                "partners_form",
                PartnersForm(
                    platforms=_partner_choices(request, platform),
                    initial={"partners": context["partners"]},
                ),
            )
    if context["can_grant"]:
        context["tokens"] = paginate(request, selectors.platform_tokens(viewer, platform), PER_PAGE)
        context.setdefault("token_form", TokenForm())
    response = render(request, "orgs/platform_detail.html", context, status=status)
    if "new_secret" in forms:
        response["Cache-Control"] = "no-store"  # the secret must not linger in any cache
    return response


def _partner_choices(request, platform):
    return selectors.platforms(request.user).exclude(pk=platform.pk).order_by("name")


@staff_required
@require_safe
def platform_detail(request, pk: int):
    return _render_platform(request, pk)


@staff_required
@require_POST
def platform_settings(request, pk: int):
    platform = _found(request, "change", Platform.objects.all(), pk=pk)
    form = PlatformSettingsForm(request.POST)
    if form.is_valid():
        result = submit(
            form,
            lambda: services.platform_update(
                actor=request.user, platform=platform, **form.service_fields()
            ),
        )
        if result is not None:
            messages.success(request, _("Platform settings saved."))
            return redirect("orgs:platform_detail", pk=platform.pk)
    return _render_platform(request, pk, status=400, settings_form=form)


@staff_required
@require_POST
def platform_partners(request, pk: int):
    platform = _found(request, "change", Platform.objects.all(), pk=pk)
    form = PartnersForm(request.POST, platforms=_partner_choices(request, platform))
    if form.is_valid():
        result = submit(
            form,
            lambda: services.platform_set_partners(
                actor=request.user,
                aggregator=platform,
                partners=list(form.cleaned_data["partners"]),
            ),
        )
        if result is not None:
            messages.success(request, _("Partner platforms saved."))
            return redirect("orgs:platform_detail", pk=platform.pk)
    return _render_platform(request, pk, status=400, partners_form=form)


@staff_required
@require_POST
def token_create(request, pk: int):
    platform = _found(request, "grant", Platform.objects.all(), pk=pk)
    form = TokenForm(request.POST)
    if form.is_valid():
        result = submit(
            form,
            lambda: accounts.token_create(
                actor=request.user,
                platform=platform,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            ),
        )
        if result is not None:
            token, secret = result
            # Rendered, not redirected: the secret must never pass through the session.
            return _render_platform(request, pk, new_token=token, new_secret=secret)
    return _render_platform(request, pk, status=400, token_form=form)


@staff_required
@require_POST
def token_revoke(request, pk: int):
    token = _found(request, "grant", PlatformToken.objects.select_related("platform"), pk=pk)
    with domain_errors(request):
        if token.revoked_at is None:
            accounts.token_revoke(actor=request.user, token=token)
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("orgs:platform_detail", pk=token.platform_id)


# Joint-building agreements ---------------------------------------------------------------------


def _agreement_form(request, data=None):
    viewer = request.user
    return AgreementForm(
        data,
        lead_units=selectors.units(viewer, "change").order_by("path"),
        partner_units=selectors.units(viewer).order_by("path"),
    )


def _render_agreements(request, form=None, status=200):
    if form is None and selectors.units(request.user, "change").exists():
        form = _agreement_form(request)
    page = paginate(request, selectors.agreements(request.user), PER_PAGE)
    return render(request, "orgs/agreements.html", {"page": page, "form": form}, status=status)


@staff_required
@require_safe
def agreement_list(request):
    return _render_agreements(request)


@staff_required
@require_POST
def agreement_create(request):
    if not selectors.units(request.user, "change").exists():
        raise Http404
    form = _agreement_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        agreement = submit(
            form,
            lambda: services.agreement_create(
                actor=request.user,
                name=data["name"],
                lead_unit=data["lead_unit"],
                partner_units=list(data["partner_units"]),
                signed_on=data["signed_on"],
                ends_on=data["ends_on"],
                scope=data["scope"],
            ),
        )
        if agreement is not None:
            messages.success(request, _("Agreement %(name)s recorded.") % {"name": agreement.name})
            return redirect("orgs:agreements")
    return _render_agreements(request, form=form, status=400)
