"""Appeal pages: the driver's (mobile-first) and the staff's. Thin: parse, call, render.

Anything outside the viewer's scope answers 404. A DomainError is shown on the page with
its status and nothing changes.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required, staff_required
from redwheel.appeals import exports, routing, selectors, services
from redwheel.appeals.forms import (
    FileForm,
    FilterForm,
    InfoForm,
    IntakeForm,
    MediationForm,
    MergeForm,
    MonthForm,
    OptionalTextForm,
    RateForm,
    TextForm,
)
from redwheel.appeals.models import Case
from redwheel.core.errors import ValidationFailed
from redwheel.core.exports import download
from redwheel.core.forms import FormInvalid, domain_errors, require_valid
from redwheel.core.guards import writable_or_404
from redwheel.core.paging import paginate
from redwheel.drivers.selectors import own_driver

PAGE_SIZE = 30


# Driver pages ----------------------------------------------------------------------------------


@driver_required
@require_safe
def my_list(request):
    driver = own_driver(request.user)
    return render(
        request,
        "appeals/me_list.html",
        {
            "driver": driver,
            "page": paginate(request, selectors.own_cases(request.user), PAGE_SIZE),
            "assigned": selectors.assigned_cases(request.user)[:50],
        },
    )


@driver_required
def my_file(request):
    driver = own_driver(request.user)
    punishments = list(selectors.punishments_of(driver))
    status = 200
    if request.method == "POST":
        form = FileForm(request.POST, request.FILES, punishments=punishments)
        with domain_errors(request) as caught:
            data = require_valid(form)
            case, created = services.case_file(
                actor=request.user,
                driver=driver,
                category=data["category"],
                title=data["title"],
                description=data["description"],
                channel=Case.Channel.APP,
                attachments=data["attachments"],
                punishment=data.get("punishment"),
                idempotency_key=data["idempotency_key"],
            )
            if created:
                messages.success(
                    request, _("Your appeal %(number)s was filed.") % {"number": case.number}
                )
            return redirect("appeals:detail", pk=case.pk)
        status = caught.status
    else:
        form = FileForm(punishments=punishments)
    return render(request, "appeals/me_file.html", {"form": form}, status=status)


# Shared detail and actions ------------------------------------------------------------------------


@login_required
@require_safe
def detail(request, pk: int):
    case = selectors.case_get(request.user, pk)
    roles = services.case_roles(request.user, case)
    handler, own, allowed = roles.handler, roles.own, set(roles.allowed)
    context = {
        "case": case,
        "allowed": allowed,
        "timeline": selectors.timeline(case, for_driver=own and not handler),
        "attachments": case.attachments.all(),
        "mediation": getattr(case, "mediation", None) if case.kind == "mediation" else None,
        "now": timezone.now(),
        "text_form": TextForm(),
        "info_form": InfoForm(),
        "rate_form": RateForm(),
        "note_form": OptionalTextForm(),
    }
    if own and not handler:
        return render(request, "appeals/me_detail.html", context)
    if "merge" in allowed:
        context["merge_form"] = MergeForm(targets=selectors.merge_targets(request.user, case))
    if context["mediation"] is not None and handler:
        m = context["mediation"]
        context["mediation_form"] = MediationForm(
            initial={
                "outcome": m.outcome,
                "outcome_note": m.outcome_note,
                "proposed_settlement": m.proposed_settlement,
                "compensate_first": m.compensate_first,
                "amount": m.amount,
            }
        )
    return render(request, "appeals/detail.html", context)


def _do(request, case, action):
    user = request.user
    if action == "accept":
        form = OptionalTextForm(request.POST)
        form.is_valid()
        return services.case_accept(actor=user, case=case, note=form.cleaned_data.get("text", ""))
    if action in ("request_info", "answer", "escalate", "reopen", "withdraw", "close"):
        form = (
            TextForm
            if action in ("request_info", "answer", "escalate", "reopen")
            else OptionalTextForm
        )(request.POST)
        if not form.is_valid():
            raise FormInvalid(form)
        text = form.cleaned_data["text"]
        if action == "request_info":
            return services.case_request_info(actor=user, case=case, question=text)
        if action == "answer":
            return services.case_answer(actor=user, case=case, answer=text)
        if action == "escalate":
            return services.case_escalate(actor=user, case=case, reason=text)
        if action == "reopen":
            return services.case_reopen(actor=user, case=case, reason=text)
        if action == "close":
            return services.case_close(actor=user, case=case, note=text)
        return services.case_withdraw(actor=user, case=case, reason=text)
    if action == "provide_info":
        form = InfoForm(request.POST, request.FILES)
        if not form.is_valid():
            raise FormInvalid(form)
        return services.case_provide_info(
            actor=user,
            case=case,
            text=form.cleaned_data["text"],
            attachments=form.cleaned_data["attachments"],
        )
    if action == "rate":
        form = RateForm(request.POST)
        if not form.is_valid():
            raise FormInvalid(form)
        return services.case_rate(
            actor=user,
            case=case,
            satisfied=form.cleaned_data["satisfied"],
            comment=form.cleaned_data["text"],
        )
    if action == "merge":
        form = MergeForm(request.POST, targets=selectors.merge_targets(user, case))
        if not form.is_valid():
            raise FormInvalid(form)
        return services.case_merge(actor=user, case=case, into=form.cleaned_data["into"])
    if action == "mediation":
        form = MediationForm(request.POST)
        if not form.is_valid():
            raise FormInvalid(form)
        data = form.cleaned_data
        services.mediation_update(
            actor=user,
            case=case,
            outcome=data["outcome"],
            outcome_note=data["outcome_note"],
            proposed_settlement=data["proposed_settlement"],
            compensate_first=data["compensate_first"],
            amount=data["amount"],
            payer=case.platform if data["compensate_first"] else None,
        )
        return case
    raise Http404


@login_required
@require_POST
def act(request, pk: int, action: str):
    case = selectors.case_get(request.user, pk)
    if not services.may_take(request.user, case, action):
        raise Http404  # before any input is read: a viewer with no part in the step
    with domain_errors(request):
        _do(request, case, action)
        messages.success(request, _("Saved."))
    return redirect("appeals:detail", pk=case.pk)


@login_required
@require_safe
def attachment(request, pk: int):
    item = selectors.attachment_get(request.user, pk)
    return FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=item.content_type == "application/pdf",
        filename=item.original_name,
    )


# Staff pages -----------------------------------------------------------------------------------


@staff_required
@require_safe
def case_list(request):
    form = FilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.case_list(
        request.user,
        status=filters.get("status", ""),
        level=filters.get("level"),
        category=filters.get("category", ""),
        overdue=filters.get("overdue", False),
        q=filters.get("q", ""),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "appeals/list.html",
        {
            "form": form,
            "page": paginate(request, qs, PAGE_SIZE),
            "query": query.urlencode(),
            "counts": selectors.status_counts(request.user),
            "now": timezone.now(),
        },
    )


@staff_required
def intake(request):
    status = 200
    if request.method == "POST":
        writable_or_404(selectors.intake_units(request.user))
        form = IntakeForm(request.POST, request.FILES)
        with domain_errors(request) as caught:
            data = require_valid(form)
            driver = selectors.driver_for_intake(request.user, data["driver_number"])
            if driver is None:
                raise ValidationFailed(_("No driver you may act for has this number."))
            mediation = None
            if data["mediation"]:
                mediation = {
                    "passenger": data["passenger"],
                    "order_ref": data["order_ref"],
                    "facts": data["facts"],
                    "proposed_settlement": data["proposed_settlement"],
                    "compensate_first": data["compensate_first"],
                    "amount": data["amount"],
                    "payer": routing.platform_of(driver) if data["compensate_first"] else None,
                }
            case, _created = services.case_file(
                actor=request.user,
                driver=driver,
                category=data["category"],
                title=data["title"],
                description=data["description"],
                channel=Case.Channel.INTAKE,
                attachments=data["attachments"],
                idempotency_key=data["idempotency_key"],
                mediation=mediation,
            )
            messages.success(request, _("Appeal %(number)s recorded.") % {"number": case.number})
            return redirect("appeals:detail", pk=case.pk)
        status = caught.status
    else:
        form = IntakeForm()
    return render(request, "appeals/intake.html", {"form": form}, status=status)


def _month(request) -> date:
    form = MonthForm(request.GET or None)
    if form.is_valid() and form.cleaned_data.get("month"):
        return form.cleaned_data["month"].replace(day=1)
    return timezone.localdate().replace(day=1)


@staff_required
@require_safe
def accountability(request):
    month = _month(request)
    return render(
        request,
        "appeals/accountability.html",
        {
            "month": month,
            "rows": selectors.accountability(request.user, month),
            "form": MonthForm(initial={"month": month}),
        },
    )


@staff_required
@require_safe
def accountability_xlsx(request):
    month = _month(request)
    content = exports.accountability_xlsx(selectors.accountability(request.user, month), month)
    return download(content, f"appeals-{month:%Y-%m}.xlsx")
