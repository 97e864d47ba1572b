"""The member's own pages (/me/party/meetings/), phone first: my meetings, a meeting's page,
sign in (the QR code's URL lands here), ask for leave and see the decision."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required
from redwheel.core.errors import NotFound
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.paging import paginate
from redwheel.party.meetings import selectors, services
from redwheel.party.meetings.forms import LeaveForm
from redwheel.party.meetings.views import _file_response


def _mine(request, pk):
    try:
        return selectors.my_meeting(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


@driver_required
@require_safe
def my_list(request):
    now = timezone.now()
    return render(
        request,
        "meetings/me_list.html",
        {
            "upcoming": selectors.my_upcoming(request.user, now)[:20],
            "past": paginate(request, selectors.my_past(request.user, now), 20),
            "is_member": selectors.me_summary(request.user) is not None,
        },
    )


def _detail(request, meeting, *, form=None, status=200, sign_in_error=None):
    leave = selectors.my_leave(meeting)
    return render(
        request,
        "meetings/me_detail.html",
        {
            "meeting": meeting,
            "sessions": list(meeting.sessions.all()),
            "attendance": selectors.my_attendance(meeting),
            "leave": leave,
            "leave_actions": selectors.leave_actions(leave),
            "leave_form": form or LeaveForm(),
            "may_ask_leave": meeting.status in ("planned", "held")
            and meeting.ends_at > timezone.now()
            and (leave is None or leave.state == "withdrawn"),
            "theme_files": meeting.theme.files.all() if meeting.theme_id else [],
            "files": meeting.files.all() if meeting.status == "recorded" else [],
            "sign_in_error": sign_in_error,
        },
        status=status,
    )


@driver_required
@require_safe
def my_detail(request, pk: int):
    return _detail(request, _mine(request, pk))


@driver_required
@require_POST
def my_leave(request, pk: int):
    meeting = _mine(request, pk)
    form = LeaveForm(request.POST)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        services.leave_request(actor=request.user, meeting=meeting, reason=data["reason"])
        messages.success(request, _("Your leave request was sent to the organiser."))
        return redirect("meetings:my_detail", pk=pk)
    return _detail(request, _mine(request, pk), form=form, status=caught.status)


@driver_required
@require_POST
def my_leave_withdraw(request, pk: int):
    meeting = _mine(request, pk)
    leave = selectors.my_leave(meeting)
    if leave is None:
        raise Http404
    with domain_errors(request):
        services.leave_withdraw(actor=request.user, leave=leave)
        messages.success(request, _("Your leave request was withdrawn."))
    return redirect("meetings:my_detail", pk=pk)


@driver_required
def sign_in(request, pk: int):
    """Where the QR code's URL lands. GET checks the code and shows one button; POST signs
    in (a page that only opens writes nothing, so link previews and prefetching record
    nobody). Without a code it is the meeting's own page."""
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()
    if not code:
        return redirect("meetings:my_detail", pk=_mine(request, pk).pk)
    context = {"code": code, "meeting_id": pk}
    status = 200
    with domain_errors() as caught:
        if request.method == "POST":
            _attendance, changed = services.attendance_sign_in(
                actor=request.user, meeting_id=pk, code=code
            )
            if changed:
                messages.success(request, _("You are signed in. Welcome!"))
            else:
                messages.info(request, _("You were already signed in; nothing changed."))
            return redirect("meetings:my_detail", pk=pk)
        context["meeting"] = selectors.sign_in_preview(request.user, pk, code)
    if caught:
        status = caught.status
        context["error"] = caught.message
    return render(request, "meetings/me_sign_in.html", context, status=status)


@driver_required
@require_safe
def my_file(request, pk: int, file_id: int):
    meeting = _mine(request, pk)
    if meeting.status != "recorded":
        raise Http404
    item = meeting.files.filter(pk=file_id).first()
    if item is None:
        raise Http404
    return _file_response(item)


@driver_required
@require_safe
def my_material(request, pk: int, file_id: int):
    meeting = _mine(request, pk)
    item = meeting.theme.files.filter(pk=file_id).first() if meeting.theme_id else None
    if item is None:
        raise Http404
    return _file_response(item)
