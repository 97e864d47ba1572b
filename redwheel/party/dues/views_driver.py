"""The member's own dues pages (/me/party/dues/), phone first: my monthly amount and how it
was worked out, confirming my income (with what the platforms recorded shown beside it), my
payments and arrears, asking for hardship relief."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import found_or_404
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues import selectors, services
from redwheel.party.dues.forms import HardshipForm, IncomeForm, NoteForm
from redwheel.party.dues.models import Basis, HardshipRequest


def _no_member(request):
    return render(request, "dues/me_not_member.html", status=200)


@driver_required
@require_safe
def my_dues(request):
    member = selectors.own_member(request.user)
    if member is None:
        return _no_member(request)
    dues = selectors.member_dues(member)
    rules = selectors.rules_in_force(member.membership.branch)
    return render(
        request,
        "dues/me.html",
        {
            "member": member,
            "dues": dues,
            "lines": list(reversed(dues.lines))[:24],
            "rules": rules,
            "wage_text": dues_rules.bands_text(rules.wage_bands),
            "retired_text": dues_rules.bands_text(rules.retired_bands),
            "needs_confirmation": selectors.needs_confirmation(dues, member),
            "quarter": dues_rules.quarter_label(dues_rules.quarter_start(dues.month)),
            "payments": selectors.payments_of(member)[:50],
            "requests": selectors.hardship_of(member),
            "withdraw_form": NoteForm(),
        },
    )


@driver_required
def my_income(request):
    member = selectors.own_member(request.user)
    if member is None:
        raise Http404
    quarter = dues_rules.quarter_start(selectors.current_month())
    suggestion = selectors.suggestion_for(request.user, member, quarter)
    current = selectors.assessments_of(member).filter(quarter=quarter).first()
    status = 200
    if request.method == "POST":
        form = IncomeForm(request.POST, quarter=quarter)
        with domain_errors(form=form) as caught:
            require_valid(form)
            assessment = services.assessment_save(
                actor=request.user, member=member, **form.service_kwargs()
            )
            messages.success(
                request,
                _("Thank you. Your monthly dues from %(quarter)s are ¥%(amount)s.")
                % {
                    "quarter": dues_rules.quarter_label(quarter),
                    "amount": assessment.monthly_amount,
                },
            )
            return redirect("dues:my_dues")
        status = caught.status
    else:
        initial = {}
        latest = current or selectors.assessments_of(member).order_by("-quarter").first()
        if latest is not None:
            initial = {"basis": latest.basis, "income": latest.income}
        if request.GET.get("use") == "suggestion" and suggestion is not None:
            # Only fills the form in: nothing is saved until the member presses "confirm".
            initial = {"basis": Basis.NO_WAGE}
            for i, value in enumerate(suggestion.month_incomes, start=1):
                initial[f"month_{i}"] = value
        elif current is not None and current.basis == Basis.NO_WAGE:
            for i, value in enumerate(current.month_incomes, start=1):
                initial[f"month_{i}"] = value
        form = IncomeForm(initial=initial or {"basis": Basis.NO_WAGE}, quarter=quarter)
    return render(
        request,
        "dues/me_income.html",
        {
            "form": form,
            "quarter": dues_rules.quarter_label(quarter),
            "suggestion": suggestion,
            "current": current,
            "rules": selectors.rules_in_force(member.membership.branch),
        },
        status=status,
    )


@driver_required
def my_hardship(request):
    member = selectors.own_member(request.user)
    if member is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = HardshipForm(request.POST)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.hardship_request(actor=request.user, member=member, **data)
            messages.success(
                request, _("Your request was sent to your branch. You will hear back here.")
            )
            return redirect("dues:my_dues")
        status = caught.status
    else:
        month = selectors.current_month()
        form = HardshipForm(initial={"months_from": month, "months_to": month})
    return render(request, "dues/me_hardship.html", {"form": form}, status=status)


@driver_required
@require_POST
def my_hardship_withdraw(request, pk: int):
    member = selectors.own_member(request.user)
    if member is None:
        raise Http404
    hardship = found_or_404(
        request.user, "view", HardshipRequest.objects.filter(member=member), pk=pk
    )
    form = NoteForm(request.POST)
    with domain_errors(request, form=form):
        data = require_valid(form)
        services.hardship_withdraw(actor=request.user, request=hardship, note=data["note"])
        messages.success(request, _("Your request was withdrawn."))
    return redirect("dues:my_dues")
