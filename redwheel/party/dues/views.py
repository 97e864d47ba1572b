"""Staff pages for party dues (/staff/party/dues/): members with their monthly amount, paid and
arrears; a member's months, assessments and ledger; recording payments and corrections; the
ledger and its export; assessments; the hardship queue; the city's rules; the reminder log.

Thin: parse, call one service or selector, render. Write views fetch what they act on for
the write's action before they bind a form, so a read-only role gets 404.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.errors import NotFound
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import found_or_404, writable_or_404
from redwheel.core.paging import paginate
from redwheel.core.permissions import scope
from redwheel.orgs.models import OrgUnit
from redwheel.party.dues import exports, selectors, services
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.forms import (
    FilterForm,
    HardshipForm,
    NoteForm,
    PaymentForm,
    ReasonForm,
    RulesForm,
    StaffAssessmentForm,
)
from redwheel.party.dues.models import HardshipRequest, Payment
from redwheel.party.dues.rules import bands_text

PAGE_SIZE = 30


def _filters(request):
    form = FilterForm(request.GET or None, branches=selectors.branch_choices(request.user))
    branch, search = None, ""
    if form.is_valid():
        branch, search = form.cleaned_data.get("branch"), form.cleaned_data.get("q") or ""
    return form, branch, search


@staff_required
@require_safe
def index(request):
    form, branch, search = _filters(request)
    page = paginate(
        request, selectors.members(request.user, branch=branch, search=search), PAGE_SIZE
    )
    dues = selectors.dues_for(page.object_list)
    rows = [(m, dues[m.pk]) for m in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dues/index.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "month": selectors.current_month(),
            "query": query.urlencode(),
            "open_requests": selectors.hardship_queue(request.user).count(),
        },
    )


def _member_context(request, member, **extra):
    dues = selectors.member_dues(member)
    current = dues_rules.quarter_start(dues.month)
    context = {
        "member": member,
        "dues": dues,
        "lines": list(reversed(dues.lines)),
        "assessments": selectors.assessments_of(member),
        "payments": selectors.payments_of(member),
        "requests": selectors.hardship_of(member),
        "may_change": selectors.may_change_member(request.user, member),
        "payment_form": PaymentForm(initial={"period": dues.month, "amount": dues.monthly_amount}),
        "assessment_form": StaffAssessmentForm(current=current),
        "hardship_form": HardshipForm(),
        "reverse_form": ReasonForm(),
    }
    context.update(extra)
    return context


def _member_or_404(user, pk: int, action: str):
    try:
        return selectors.member_get(user, pk, action)
    except NotFound as exc:
        raise Http404 from exc


@staff_required
@require_safe
def member_detail(request, pk: int):
    member = _member_or_404(request.user, pk, "view")
    return render(request, "dues/member.html", _member_context(request, member))


def _member_for_write(request, pk: int):
    member = _member_or_404(request.user, pk, "change")
    if not selectors.may_change_member(request.user, member):
        raise Http404  # the member's own account does not record for themself
    return member


@staff_required
@require_POST
def member_pay(request, pk: int):
    member = _member_for_write(request, pk)
    form = PaymentForm(request.POST)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        rows = services.payment_record(actor=request.user, member=member, **data)
        text = ngettext(
            "Recorded ¥%(amount)s for %(count)s month.",
            "Recorded ¥%(amount)s a month for %(count)s months.",
            len(rows),
        )
        messages.success(request, text % {"amount": data["amount"], "count": len(rows)})
        return redirect("dues:member", pk=member.pk)
    return render(
        request,
        "dues/member.html",
        _member_context(request, member, payment_form=form),
        status=caught.status,
    )


@staff_required
@require_POST
def member_assess(request, pk: int):
    member = _member_for_write(request, pk)
    current = dues_rules.quarter_start(selectors.current_month())
    form = StaffAssessmentForm(request.POST, current=current)
    with domain_errors(form=form) as caught:
        require_valid(form)
        services.assessment_save(actor=request.user, member=member, **form.service_kwargs())
        messages.success(request, _("The assessment was recorded."))
        return redirect("dues:member", pk=member.pk)
    return render(
        request,
        "dues/member.html",
        _member_context(request, member, assessment_form=form),
        status=caught.status,
    )


@staff_required
@require_POST
def member_hardship(request, pk: int):
    member = _member_for_write(request, pk)
    form = HardshipForm(request.POST)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        hardship = services.hardship_request(actor=request.user, member=member, **data)
        messages.success(request, _("The request was filed for the branch to agree."))
        return redirect("dues:hardship", pk=hardship.pk)
    return render(
        request,
        "dues/member.html",
        _member_context(request, member, hardship_form=form),
        status=caught.status,
    )


@staff_required
@require_POST
def payment_reverse(request, pk: int):
    entry = found_or_404(request.user, "change", Payment.objects.select_related("member"), pk=pk)
    if not selectors.may_change_member(request.user, entry.member):
        raise Http404
    form = ReasonForm(request.POST)
    with domain_errors(request, form=form) as caught:
        data = require_valid(form)
        services.payment_reverse(actor=request.user, payment=entry, reason=data["reason"])
        messages.success(request, _("A reversing entry was added."))
    if caught and caught.status == 400:
        return render(
            request,
            "dues/member.html",
            _member_context(request, entry.member, reverse_form=form, reverse_entry=entry.pk),
            status=400,
        )
    return redirect("dues:member", pk=entry.member_id)


# Lists -----------------------------------------------------------------------------------------


def _unit_filter(request):
    branches = selectors.branch_choices(request.user)
    form = FilterForm(request.GET or None, branches=branches)
    branch = form.cleaned_data.get("branch") if form.is_valid() else None
    query = request.GET.copy()
    query.pop("page", None)
    return form, branch, query.urlencode()


@staff_required
@require_safe
def ledger(request):
    form, branch, query = _unit_filter(request)
    entries = selectors.ledger(request.user, branch=branch)
    return render(
        request,
        "dues/ledger.html",
        {"form": form, "page": paginate(request, entries, 50), "query": query},
    )


@staff_required
@require_safe
def ledger_xlsx(request):
    _form, branch, _query = _unit_filter(request)
    entries = selectors.ledger(request.user, branch=branch)
    filename = _("Party dues ledger %(month)s.xlsx") % {
        "month": f"{selectors.current_month():%Y-%m}"
    }
    return exports.ledger_response(entries, filename)


@staff_required
@require_safe
def assessment_list(request):
    form, branch, query = _unit_filter(request)
    rows = selectors.assessments(request.user, branch=branch)
    return render(
        request,
        "dues/assessments.html",
        {"form": form, "page": paginate(request, rows, 50), "query": query},
    )


@staff_required
@require_safe
def hardship_list(request):
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *HardshipRequest.Status.values):
        status = "open"
    rows = selectors.hardship_queue(request.user, status=status)
    return render(
        request,
        "dues/hardship_list.html",
        {
            "page": paginate(request, rows, PAGE_SIZE),
            "status": status,
            "statuses": [("open", _("Open")), *HardshipRequest.Status.choices, ("all", _("All"))],
            "query": f"status={status}",
        },
    )


@staff_required
@require_safe
def hardship_detail(request, pk: int):
    hardship = selectors.hardship_get(request.user, pk)
    return render(request, "dues/hardship.html", _hardship_context(request, hardship))


def _hardship_context(request, hardship, **extra):
    context = {
        "hardship": hardship,
        "timeline": hardship.activities.select_related("actor"),
        "allowed": services.allowed_actions(actor=request.user, request=hardship),
        "note_form": NoteForm(),
        "reason_form": ReasonForm(),
    }
    context.update(extra)
    return context


def _hardship_step(request, pk: int, action: str):
    hardship = found_or_404(request.user, "change", HardshipRequest.objects.all(), pk=pk)
    if not services.may_take(request.user, hardship, action):
        raise Http404
    form = (ReasonForm if action == "refuse" else NoteForm)(request.POST)
    with domain_errors(request, form=form) as caught:
        data = require_valid(form)
        if action == "agree":
            services.hardship_agree(actor=request.user, request=hardship, note=data["note"])
        elif action == "approve":
            services.hardship_approve(actor=request.user, request=hardship, note=data["note"])
        else:
            services.hardship_refuse(actor=request.user, request=hardship, reason=data["reason"])
        messages.success(request, _("Done."))
    if caught and caught.status == 400:
        context = _hardship_context(request, hardship)
        context["reason_form" if action == "refuse" else "note_form"] = form
        return render(request, "dues/hardship.html", context, status=400)
    return redirect("dues:hardship", pk=hardship.pk)


@staff_required
@require_POST
def hardship_agree(request, pk: int):
    return _hardship_step(request, pk, "agree")


@staff_required
@require_POST
def hardship_approve(request, pk: int):
    return _hardship_step(request, pk, "approve")


@staff_required
@require_POST
def hardship_refuse(request, pk: int):
    return _hardship_step(request, pk, "refuse")


# Rules and reminders ---------------------------------------------------------------------------


@staff_required
def rules(request):
    cities = list(selectors.viewer_cities(request.user))
    managed = [c for c in cities if services.may_manage_rules(actor=request.user, city=c)]
    current_quarter = dues_rules.quarter_start(selectors.current_month())
    in_force = [(c, selectors.rules_in_force(c), selectors.rule_versions(c)) for c in cities]
    form, status = None, 200
    if managed:
        shown = selectors.rules_in_force(managed[0])
        form = RulesForm(
            current_quarter=current_quarter,
            initial={
                "wage_bands": bands_text(shown.wage_bands),
                "retired_bands": bands_text(shown.retired_bands),
                "flat_amount": shown.flat_amount,
                "remind_days_before_month_end": shown.remind_days_before_month_end,
                "lapse_reminder_months": shown.lapse_reminder_months,
                "reminder_sms": shown.reminder_sms,
            },
        )
    if request.method == "POST":
        city = writable_or_404(
            scope(request.user, "change", OrgUnit.objects.filter(pk__in=[c.pk for c in managed]))
        ).first()
        form = RulesForm(request.POST, current_quarter=current_quarter)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.rules_publish(actor=request.user, city=city, **data)
            messages.success(request, _("The new version of the rules was saved."))
            return redirect("dues:rules")
        status = caught.status
    return render(
        request,
        "dues/rules.html",
        {"cities": in_force, "form": form},
        status=status,
    )


@staff_required
@require_safe
def reminder_log(request):
    return render(
        request,
        "dues/reminders.html",
        {"page": paginate(request, selectors.reminder_log(request.user), 50)},
    )
