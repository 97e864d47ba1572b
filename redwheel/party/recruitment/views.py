"""Staff pages of recruitment (/staff/party/recruitment/): cases, a case, pipeline versions.

Thin: parse, call one service or selector, render. Writes fetch their object for `change`
(or check committee staff) before reading any input, so a read-only role gets 404."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.dates import local_date
from redwheel.core.exports import download
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.paging import paginate
from redwheel.core.permissions import can, scope
from redwheel.orgs.models import OrgUnit
from redwheel.party.recruitment import exports, selectors, services
from redwheel.party.recruitment.forms import (
    DraftForm,
    FilterForm,
    PeopleForm,
    ReasonForm,
    StepEditForm,
    StepForm,
)
from redwheel.party.recruitment.models import Material, PipelineVersion
from redwheel.party.recruitment.services.common import steps_of

PAGE_SIZE = 30


@staff_required
@require_safe
def case_list(request):
    branches = selectors.branch_choices(request.user)
    form = FilterForm(request.GET or None, branches=branches)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.case_list(
        request.user,
        q=filters.get("q", ""),
        branch=filters.get("branch"),
        state=filters.get("state", ""),
        stage=filters.get("stage"),
        overdue=filters.get("overdue", False),
    )
    query = request.GET.copy()
    query.pop("page", None)
    page = paginate(request, qs, PAGE_SIZE)
    for case in page:
        case.step_def = steps_of(case.version).get(case.current_step)
    return render(
        request,
        "recruitment/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": local_date(),
            "committee": bool(selectors.city_roots(request.user)),
        },
    )


@staff_required
@require_safe
def registers_xlsx(request):
    branch = None
    if request.GET.get("branch", "").isdigit():
        branch = selectors.branch_choices(request.user).filter(pk=request.GET["branch"]).first()
        if branch is None:
            raise Http404
    content = exports.registers_xlsx(selectors.registers(request.user, branch))
    return download(content, f"recruitment-registers-{local_date():%Y-%m-%d}.xlsx")


@staff_required
@require_safe
def case_detail(request, pk: int):
    case = selectors.case_detail(request.user, pk)
    return _detail(request, case)


def _detail(request, case, *, step_form=None, status=200):
    steps = steps_of(case.version)
    step = steps.get(case.current_step)
    writable = can(request.user, "change", case)
    context = {
        "case": case,
        "step": step,
        "steps": [steps[n] for n in sorted(steps)],
        "done": {c.step: c for c in selectors.completions(case)},
        "timeline": selectors.timeline(case),
        "overdue": selectors.is_overdue(case),
        "writable": writable,
        "allowed": services.CASE.allowed_actions(case) if writable else [],
        "mentors": [p for p in case.people.all() if p.role == "mentor"],
        "sponsors": [p for p in case.people.all() if p.role == "sponsor"],
    }
    if writable and (case.is_open or case.current_step == 25):
        if step is not None:
            context["step_form"] = step_form or StepForm(
                step=step, initial={"done_on": local_date()}
            )
        context["people_form"] = PeopleForm(members=selectors.member_choices(case))
        context["reason_form"] = ReasonForm()
    return render(request, "recruitment/detail.html", context, status=status)


@staff_required
@require_POST
def step_complete(request, pk: int):
    case = selectors.case_detail(request.user, pk, "change")
    step = steps_of(case.version).get(case.current_step)
    if step is None:
        raise Http404
    form = StepForm(request.POST, request.FILES, step=step)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        services.case_step_complete(
            actor=request.user,
            case=case,
            done_on=data["done_on"],
            values=form.values(),
            uploads=form.uploads(),
            note=data["note"],
            outcome=data.get("outcome", ""),
            extend_months=data.get("extend_months") or 0,
        )
        messages.success(request, _("Step %(n)s recorded.") % {"n": step.number})
        return redirect("recruitment:detail", pk=case.pk)
    case = selectors.case_detail(request.user, pk)
    return _detail(request, case, step_form=form, status=caught.status)


@staff_required
@require_POST
def people_set(request, pk: int):
    case = selectors.case_detail(request.user, pk, "change")
    form = PeopleForm(request.POST, members=selectors.member_choices(case))
    with domain_errors(request):
        data = require_valid(form)
        services.case_people_set(
            actor=request.user, case=case, role=data["role"], members=list(data["members"])
        )
        messages.success(request, _("Saved."))
    return redirect("recruitment:detail", pk=case.pk)


@staff_required
@require_POST
def case_restart(request, pk: int):
    return _with_reason(request, pk, services.case_restart)


@staff_required
@require_POST
def case_cancel(request, pk: int):
    return _with_reason(request, pk, services.case_cancel)


def _with_reason(request, pk, service):
    case = selectors.case_detail(request.user, pk, "change")
    with domain_errors(request):
        data = require_valid(ReasonForm(request.POST))
        service(actor=request.user, case=case, reason=data["reason"])
        messages.success(request, _("Saved."))
    return redirect("recruitment:detail", pk=case.pk)


@staff_required
@require_safe
def material(request, pk: int):
    item = scope(request.user, "view", Material.objects.all()).filter(pk=pk).first()
    if item is None:
        raise Http404
    return _file(item)


def _file(item: Material):
    return FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=item.content_type == "application/pdf",
        filename=item.original_name,
    )


# Pipeline versions (committee staff) ----------------------------------------------------------


def _committee_or_404(request) -> list[OrgUnit]:
    cities = selectors.committee_cities(request.user)
    if not cities:
        raise Http404
    return cities


@staff_required
@require_safe
def version_list(request):
    if not selectors.city_roots(request.user):
        raise Http404
    cities = selectors.committee_cities(request.user)
    rows = list(selectors.versions(request.user))
    seeded = {v.city_id for v in rows}
    return render(
        request,
        "recruitment/versions.html",
        {"versions": rows, "unseeded": [c for c in cities if c.pk not in seeded]},
    )


@staff_required
@require_POST
def version_seed(request):
    cities = {c.pk: c for c in _committee_or_404(request)}
    city = cities.get(int(request.POST["city"])) if request.POST.get("city", "").isdigit() else None
    if city is None:
        raise Http404
    with domain_errors(request):
        services.pipeline_seed_default(actor=request.user, city=city)
        messages.success(request, _("The default pipeline is in force."))
    return redirect("recruitment:versions")


@staff_required
@require_safe
def version_detail(request, pk: int):
    version = selectors.version_detail(request.user, pk)
    has_draft = PipelineVersion.objects.filter(
        city=version.city, state=PipelineVersion.State.DRAFT
    ).exists()
    return render(
        request,
        "recruitment/version_detail.html",
        {
            "version": version,
            "steps": version.steps.order_by("number"),
            "draft_form": DraftForm(),
            "has_draft": has_draft,
            "cases": version.cases.count(),
            "editable": services.is_committee_staff(request.user, version.city),
        },
    )


@staff_required
@require_POST
def version_draft(request, pk: int):
    _committee_or_404(request)
    version = selectors.version_detail(request.user, pk)
    with domain_errors(request):
        data = require_valid(DraftForm(request.POST))
        draft = services.version_draft(actor=request.user, version=version, note=data["note"])
        messages.success(request, _("Draft version %(n)s created.") % {"n": draft.number})
        return redirect("recruitment:version", pk=draft.pk)
    return redirect("recruitment:version", pk=version.pk)


@staff_required
@require_POST
def version_publish(request, pk: int):
    _committee_or_404(request)
    version = selectors.version_detail(request.user, pk)
    with domain_errors(request):
        services.version_publish(actor=request.user, version=version)
        messages.success(request, _("Version %(n)s is in force.") % {"n": version.number})
    return redirect("recruitment:version", pk=version.pk)


@staff_required
def step_edit(request, pk: int):
    _committee_or_404(request)
    step = selectors.step_for_edit(request.user, pk)
    status = 200
    if request.method == "POST":
        form = StepEditForm(request.POST)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.version_step_update(
                actor=request.user,
                step=step,
                name=data["name"],
                responsible=data["responsible"],
                materials=data["materials"],
                fields=data["fields_"],
                rules_=data["rules"],
                guidance=data["guidance"],
            )
            messages.success(request, _("Step %(n)s saved.") % {"n": step.number})
            return redirect("recruitment:version", pk=step.version_id)
        status = caught.status
    else:
        form = StepEditForm(
            initial={
                "name": step.name,
                "responsible": step.responsible,
                "guidance": step.guidance,
                "rules": step.rules,
                "fields_": step.fields,
                "materials": step.materials,
            }
        )
    return render(
        request, "recruitment/step_edit.html", {"step": step, "form": form}, status=status
    )
