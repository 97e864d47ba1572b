"""The driver's own recruitment pages (/me/party/recruitment/), phone first: my case, what
comes next and by when, my materials; apply (step 1) at a branch of the city, mobile-member
branches included."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required
from redwheel.core.forms import domain_errors, require_valid
from redwheel.drivers.selectors import own_driver
from redwheel.party.recruitment import selectors, services
from redwheel.party.recruitment.forms import ApplyForm, UploadForm
from redwheel.party.recruitment.models import Material, Responsible
from redwheel.party.recruitment.services.common import steps_of
from redwheel.party.recruitment.views import _file


@driver_required
@require_safe
def my_case(request):
    case = selectors.own_case(request.user)
    context = {"case": case}
    if case is not None:
        steps = steps_of(case.version)
        context.update(
            step=steps.get(case.current_step),
            next_steps=selectors.next_steps(case),
            overdue=selectors.is_overdue(case),
            materials=list(case.materials.all()),
            mentors=[p for p in case.people.all() if p.role == "mentor"],
            sponsors=[p for p in case.people.all() if p.role == "sponsor"],
            done=list(case.completions.order_by("step", "id")),
            own_uploads=[
                s for n, s in sorted(steps.items())
                if n <= case.current_step and s.responsible == Responsible.APPLICANT and s.materials
            ],
        )  # fmt: skip
    return render(request, "recruitment/me_case.html", context)


@driver_required
def apply(request):
    driver = own_driver(request.user)
    branches = selectors.apply_branches(driver)
    status = 200
    if request.method == "POST":
        form = ApplyForm(request.POST, request.FILES, branches=branches)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.case_apply(
                actor=request.user,
                driver=driver,
                branch=data["branch"],
                applied_on=data["applied_on"],
                letter=data["letter"],
            )
            messages.success(request, _("Your application was received."))
            return redirect("recruitment:my_case")
        status = caught.status
    else:
        form = ApplyForm(branches=branches)
    return render(
        request, "recruitment/me_apply.html", {"form": form, "driver": driver}, status=status
    )


@driver_required
@require_POST
def my_upload(request):
    case = selectors.own_case(request.user)
    if case is None:
        raise Http404
    form = UploadForm(request.POST, request.FILES)
    with domain_errors(request):
        data = require_valid(form)
        services.material_upload(
            actor=request.user, case=case, step=data["step"], uploads={data["code"]: data["file"]}
        )
        messages.success(request, _("File added."))
    return redirect("recruitment:my_case")


@driver_required
@require_safe
def my_material(request, pk: int):
    item = Material.objects.filter(pk=pk, case__driver__user=request.user).first()
    if item is None:
        raise Http404
    return _file(item)
