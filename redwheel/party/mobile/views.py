"""Ledger pages: the mobile branches' (staff) and the member's own (phone first).

Thin: parse, call one service or selector, render. Out of scope answers 404; a write is
checked (the mobile branch's `change`) before its form is read.
"""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required, staff_required
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.paging import paginate
from redwheel.drivers import services as drivers
from redwheel.party.mobile import selectors, services
from redwheel.party.mobile.forms import CheckInForm, EntryForm, TransferForm

PAGE_SIZE = 50


# Staff -----------------------------------------------------------------------------------------


@staff_required
@require_safe
def ledger(request):
    page = paginate(request, selectors.current_check_ins(request.user), PAGE_SIZE)
    return render(
        request,
        "mobile/ledger.html",
        {"page": page, "rows": selectors.rows_for(page.object_list)},
    )


def _member_page(request, membership, status=200, entry_form=None, transfer_form=None):
    may_record = selectors.may_record(request.user, membership)
    current = selectors.current_entry(membership)
    row = selectors.rows_for([membership])[0] if membership.mobile_branch_id else None
    return render(
        request,
        "mobile/member.html",
        {
            "membership": membership,
            "row": row,
            "may_record": may_record,
            "entry_form": entry_form or (EntryForm.for_entry(current) if may_record else None),
            "transfer_form": transfer_form or (TransferForm() if may_record and current else None),
            "entries": selectors.entries_of(request.user, membership),
        },
        status=status,
    )


@staff_required
@require_safe
def member(request, pk: int):
    return _member_page(request, selectors.membership_get(request.user, pk))


def _writable(request, pk: int):
    membership = selectors.membership_get(request.user, pk)
    if not selectors.may_record(request.user, membership):
        raise Http404
    return membership


@staff_required
@require_POST
def entry_save(request, pk: int):
    membership = _writable(request, pk)
    form = EntryForm(request.POST)
    with domain_errors(form=form) as caught:
        require_valid(form)
        services.ledger_entry_save(actor=request.user, membership=membership, **form.entry_data())
        messages.success(request, _("The 报到 entry is saved."))
        return redirect("mobile_members:member", pk=membership.pk)
    return _member_page(request, membership, status=caught.status, entry_form=form)


@staff_required
@require_POST
def transfer(request, pk: int):
    membership = _writable(request, pk)
    entry = selectors.current_entry(membership)
    if entry is None:
        messages.error(request, _("Record the 报到 entry first."))
        return redirect("mobile_members:member", pk=membership.pk)
    form = TransferForm(request.POST)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        services.transfer_record(actor=request.user, entry=entry, **data)
        messages.success(request, _("The transfer is recorded."))
        return redirect("mobile_members:member", pk=membership.pk)
    return _member_page(request, membership, status=caught.status, transfer_form=form)


# The member's own ------------------------------------------------------------------------------


def _my_page(request, status=200, entry_form=None, check_in_form=None):
    context = selectors.own_status(request.user)
    row = context["row"]
    if row is not None:
        context["entry_form"] = entry_form or EntryForm.for_entry(row.entry)
    elif context["branches"] is not None and context["branches"].exists():
        context["check_in_form"] = check_in_form or CheckInForm(
            branches=context["branches"],
            initial={"home_organisation": context["membership"].home_organisation},
        )
    return render(request, "mobile/me.html", context, status=status)


@driver_required
def me(request):
    if request.method != "POST":
        return _my_page(request)
    context = selectors.own_status(request.user)
    if context["row"] is None:
        raise Http404
    form = EntryForm(request.POST)
    with domain_errors(form=form) as caught:
        require_valid(form)
        services.ledger_entry_save(
            actor=request.user, membership=context["membership"], **form.entry_data()
        )
        messages.success(request, _("Your 报到 entry is saved."))
        return redirect("mobile_members:me")
    return _my_page(request, status=caught.status, entry_form=form)


@driver_required
@require_POST
def me_check_in(request):
    """流动党员报到 on the phone: the check-in (drivers' service) and its ledger entry together."""
    context = selectors.own_status(request.user)
    if context["branches"] is None:
        raise Http404
    form = CheckInForm(request.POST, branches=context["branches"])
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        with transaction.atomic():
            membership = drivers.membership_check_in(
                actor=request.user,
                membership=context["membership"],
                mobile_branch=data["mobile_branch"],
                home_organisation=data["home_organisation"],
            )
            services.ledger_entry_save(
                actor=request.user, membership=membership, **form.entry_data()
            )
        messages.success(request, _("You are checked in; your 报到 entry is saved."))
        return redirect("mobile_members:me")
    return _my_page(request, status=caught.status, check_in_form=form)
