"""Staff pages for the org tree and unit details. Thin: one selector or
service each. Anyone who is not staff (drivers included) gets 404, as for out-of-scope ids."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.forms import domain_errors
from redwheel.core.guards import found_or_404
from redwheel.core.paging import paginate
from redwheel.orgs import selectors, services
from redwheel.orgs.forms import ChildUnitForm
from redwheel.orgs.forms_access import GrantForm
from redwheel.orgs.models import OrgUnit

GRANTS_PER_PAGE = 50


@staff_required
@require_safe
def tree(request):
    return render(request, "orgs/tree.html", {"units": selectors.tree(request.user)})


@staff_required
@require_safe
def unit_detail(request, pk: int):
    return _render_unit(request, pk, ChildUnitForm())


def _render_unit(request, pk, form, status=200, grant_form=None):
    detail = selectors.unit_detail(request.user, pk)
    if form is not None and not form.is_bound:
        form.initial = {"region_code": detail.unit.region_code}
    context = {"d": detail, "form": form}
    if detail.can_grant:
        context["grants"] = paginate(request, detail.grants, GRANTS_PER_PAGE)
        context["grant_form"] = grant_form or GrantForm()
    return render(request, "orgs/unit_detail.html", context, status=status)


@staff_required
@require_POST
def unit_child_create(request, pk: int):
    found_or_404(request.user, "change", OrgUnit.objects.all(), pk=pk)  # before the form
    parent = selectors.unit_detail(request.user, pk).unit
    form = ChildUnitForm(request.POST)
    if not form.is_valid():
        return _render_unit(request, pk, form, status=400)
    with domain_errors(request) as caught:
        child = services.unit_create(
            actor=request.user,
            parent=parent,
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            branch_type=form.cleaned_data["branch_type"],
            region_code=form.cleaned_data["region_code"],
        )
        messages.success(request, _("Unit %(name)s created.") % {"name": child.name})
        return redirect("orgs:unit_detail", pk=child.pk)
    return _render_unit(request, pk, form, status=caught.status)
