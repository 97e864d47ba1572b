"""Staff pages of organisation life (/staff/party/meetings/): the branches' meetings, a
meeting's page with sessions, attendance, leave, minutes and attachments, the QR sign-in
display, compliance, meeting types. Themed days are in views_themes.py, the member's pages in
views_driver.py. Thin: parse, call one service or selector, render."""

import segno
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.dates import local_date, month_start, next_month, previous_month
from redwheel.core.errors import NotFound
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import found_or_404, writable_or_404
from redwheel.core.paging import paginate
from redwheel.core.permissions import can
from redwheel.drivers.models import Driver
from redwheel.party.meetings import selectors, services, signin
from redwheel.party.meetings.forms import (
    AttendanceForm,
    DecideForm,
    FilterForm,
    MeetingForm,
    MinutesForm,
    TextForm,
    TypeForm,
    UploadForm,
)
from redwheel.party.meetings.models import LeaveRequest, Meeting, MeetingFile, MeetingType

PAGE_SIZE = 30


def _get(request, pk, action="view") -> Meeting:
    try:
        return selectors.meeting_get(request.user, pk, action)
    except NotFound as exc:
        raise Http404 from exc


# List and calendar ---------------------------------------------------------------------------


@staff_required
@require_safe
def meeting_list(request):
    branches = selectors.visible_branches(request.user)
    form = FilterForm(request.GET or None, branches=branches)
    filters = form.cleaned_data if form.is_valid() else {}
    month = filters.get("month")
    qs = selectors.meeting_list(
        request.user,
        branch=filters.get("branch"),
        status=filters.get("status", ""),
        month=month_start(month) if month else None,
    )
    query = request.GET.copy()
    query.pop("page", None)
    this_month = month_start(local_date())
    return render(
        request,
        "meetings/list.html",
        {
            "form": form,
            "page": paginate(request, qs, PAGE_SIZE),
            "query": query.urlencode(),
            "month": month_start(month) if month else None,
            "previous": previous_month(month_start(month or this_month)),
            "next": next_month(month_start(month or this_month)),
            "this_month": this_month,
            "may_plan": selectors.organisable_branches(request.user).exists(),
            "now": timezone.now(),
        },
    )


# Create and edit --------------------------------------------------------------------------------


def _types_for(request, branches):
    seen, types = set(), []
    for city in selectors.viewer_cities(request.user):
        for t in selectors.types_of_city(request.user, city):
            if t.code not in seen:
                seen.add(t.code)
                types.append(t)
    return types


@staff_required
def meeting_new(request):
    branches = writable_or_404(selectors.organisable_branches(request.user))
    types = _types_for(request, branches)
    status = 200
    initial = {"branch": request.GET.get("branch")} if request.GET.get("branch") else None
    form = MeetingForm(request.POST or None, initial=initial, branches=branches, types=types)
    if request.method == "POST":
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            meeting = services.meeting_create(
                actor=request.user,
                branch=data["branch"],
                type_code=data["type_code"],
                title=data["title"],
                agenda=data["agenda"],
                place=data["place"],
                online_link=data["online_link"],
                sessions=data["sessions"],
            )
            messages.success(request, _("Meeting planned."))
            return redirect("meetings:detail", pk=meeting.pk)
        status = caught.status
    return render(request, "meetings/form.html", {"form": form}, status=status)


@staff_required
def meeting_edit(request, pk: int):
    meeting = _get(request, pk, "change")
    status = 200
    if request.method == "POST":
        form = MeetingForm(request.POST, editing=True)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.meeting_update(
                actor=request.user,
                meeting=meeting,
                title=data["title"],
                agenda=data["agenda"],
                place=data["place"],
                online_link=data["online_link"],
                sessions=data["sessions"],
            )
            messages.success(request, _("Saved."))
            return redirect("meetings:detail", pk=meeting.pk)
        status = caught.status
    else:
        form = MeetingForm(
            editing=True,
            initial={
                "title": meeting.title,
                "agenda": meeting.agenda,
                "place": meeting.place,
                "online_link": meeting.online_link,
            },
        )
        form.initial_sessions(list(meeting.sessions.all()))
    return render(request, "meetings/form.html", {"form": form, "meeting": meeting}, status=status)


# Detail and steps ---------------------------------------------------------------------------------


@staff_required
@require_safe
def meeting_detail(request, pk: int):
    meeting = _get(request, pk)
    rows = selectors.roster(meeting)
    organiser = selectors.may_organise(request.user, meeting)
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "sessions": list(meeting.sessions.all()),
            "rows": rows,
            "quorum": selectors.quorum(meeting, rows),
            "needs_quorum": meeting.type.quorum == "majority",
            "leaves": meeting.leave_requests.select_related("driver"),
            "files": meeting.files.all(),
            "timeline": selectors.timeline(meeting),
            "organiser": organiser,
            "actions": selectors.meeting_actions(meeting) if organiser else [],
            "open": meeting.status in ("planned", "held"),
            "minutes_form": MinutesForm(initial={"minutes": meeting.minutes}),
            "upload_form": UploadForm(),
            "cancel_form": TextForm(),
            "decide_form": DecideForm(),
            "states": [
                ("present", _("Present")),
                ("leave", _("On leave")),
                ("absent", _("Absent")),
            ],
        },
    )


@staff_required
@require_POST
def meeting_act(request, pk: int, action: str):
    meeting = _get(request, pk, "change")
    if action not in ("hold", "cancel"):
        raise Http404
    with domain_errors(request):
        if action == "hold":
            services.meeting_hold(actor=request.user, meeting=meeting)
            messages.success(request, _("Marked as held."))
        else:
            data = require_valid(TextForm(request.POST))
            services.meeting_cancel(actor=request.user, meeting=meeting, reason=data["text"])
            messages.success(request, _("Meeting cancelled."))
    return redirect("meetings:detail", pk=meeting.pk)


@staff_required
@require_POST
def meeting_record(request, pk: int):
    meeting = _get(request, pk, "change")
    with domain_errors(request) as caught:
        data = require_valid(MinutesForm(request.POST))
        meeting = services.meeting_record(
            actor=request.user, meeting=meeting, minutes=data["minutes"]
        )
    if not caught:
        if meeting.quorate is False:
            messages.warning(
                request,
                _(
                    "Recorded as NOT QUORATE: %(present)s of %(expected)s members were present, "
                    "more than half (%(needed)s) are needed. This 支部党员大会 does not count as "
                    "validly held; hold it again."
                )
                % {
                    "present": meeting.present_count,
                    "expected": meeting.expected_count,
                    "needed": services.quorum_needed(meeting.expected_count or 0),
                },
            )
        else:
            messages.success(request, _("Minutes recorded; the attendance list is confirmed."))
    return redirect("meetings:detail", pk=pk)


@staff_required
@require_POST
def attendance_mark(request, pk: int):
    meeting = _get(request, pk, "change")
    form = AttendanceForm(request.POST)
    with domain_errors(request):
        data = require_valid(form)
        driver = Driver.objects.filter(pk=data["driver"]).first()
        if driver is None:
            raise NotFound()
        services.attendance_mark(
            actor=request.user, meeting=meeting, driver=driver, state=data["state"]
        )
        messages.success(request, _("Attendance saved."))
    return redirect(reverse("meetings:detail", args=[pk]) + "#attendance")


@staff_required
@require_POST
def file_upload(request, pk: int):
    meeting = _get(request, pk, "change")
    with domain_errors(request):
        data = require_valid(UploadForm(request.POST, request.FILES))
        services.meeting_file_add(actor=request.user, meeting=meeting, uploads=data["files"])
        messages.success(request, _("Files attached."))
    return redirect(reverse("meetings:detail", args=[pk]) + "#files")


@staff_required
@require_safe
def file_download(request, pk: int):
    item = found_or_404(request.user, "view", MeetingFile.objects.all(), pk=pk)
    return _file_response(item)


def _file_response(item):
    return FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=not item.content_type.startswith("image/"),
        filename=item.original_name,
    )


@staff_required
@require_POST
def leave_decide(request, pk: int):
    leave = found_or_404(
        request.user, "view", LeaveRequest.objects.select_related("meeting"), pk=pk
    )
    if not selectors.may_organise(request.user, leave.meeting):
        raise Http404
    with domain_errors(request):
        data = require_valid(DecideForm(request.POST))
        services.leave_decide(
            actor=request.user,
            leave=leave,
            approve=data["decision"] == "approve",
            note=data["note"],
        )
        messages.success(request, _("Decision saved; the member is told."))
    return redirect(reverse("meetings:detail", args=[leave.meeting_id]) + "#leave")


# QR sign-in display ------------------------------------------------------------------------------


@staff_required
@require_safe
def qr_page(request, pk: int):
    meeting = _get(request, pk, "change")
    return render(
        request,
        "meetings/qr.html",
        {"meeting": meeting, "refresh": signin.ROTATE_SECONDS, **_qr_context(request, meeting)},
    )


@staff_required
@require_safe
def qr_code(request, pk: int):
    """The htmx fragment the QR page reloads every ROTATE_SECONDS."""
    meeting = _get(request, pk, "change")
    return render(
        request, "meetings/_qr.html", {"meeting": meeting, **_qr_context(request, meeting)}
    )


def _qr_context(request, meeting: Meeting) -> dict:
    now = timezone.now()
    session = (
        selectors.current_session(meeting, now) if meeting.status in ("planned", "held") else None
    )
    if session is None:
        return {"session": None, "svg": "", "sessions": list(meeting.sessions.all())}
    url = request.build_absolute_uri(
        reverse("meetings:sign_in", args=[meeting.pk]) + "?code=" + signin.issue(session)
    )
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff")
    present = meeting.attendances.filter(state="present").count()
    return {"session": session, "svg": svg, "url": url, "present": present, "issued": now}


# Compliance ------------------------------------------------------------------------------------


@staff_required
@require_safe
def compliance_view(request):
    branches = selectors.visible_branches(request.user)
    branch = None
    raw = request.GET.get("branch", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        branch = found_or_404(request.user, "view", branches, pk=int(raw))
    elif branches.count() == 1:
        branch = branches.first()
    today = local_date()
    return render(
        request,
        "meetings/compliance.html",
        {
            "branches": branches,
            "branch": branch,
            "view": selectors.compliance_for(request.user, branch, today) if branch else None,
            "totals": None if branch else selectors.compliance_totals(request.user, today),
            "today": today,
        },
    )


# Meeting types -------------------------------------------------------------------------------


@staff_required
@require_safe
def type_list(request):
    cities = [
        (city, selectors.types_of_city(request.user, city), _may_change_city(request, city))
        for city in selectors.viewer_cities(request.user)
    ]
    return render(request, "meetings/types.html", {"cities": cities})


def _may_change_city(request, city) -> bool:
    return can(request.user, "change", city)


@staff_required
@require_POST
def type_seed(request):
    cities = [c for c in selectors.viewer_cities(request.user) if _may_change_city(request, c)]
    if not cities:
        raise Http404
    city = next((c for c in cities if str(c.pk) == request.POST.get("city", "")), None)
    if city is None:
        raise Http404
    services.meeting_types_seed(actor=request.user, city=city)
    messages.success(request, _("The default meeting types are set up."))
    return redirect("meetings:types")


@staff_required
@require_POST
def type_edit(request, pk: int):
    meeting_type = found_or_404(request.user, "change", MeetingType.objects.all(), pk=pk)
    with domain_errors(request):
        data = require_valid(TypeForm(request.POST))
        services.meeting_type_update(actor=request.user, meeting_type=meeting_type, **data)
        messages.success(request, _("Saved."))
    return redirect("meetings:types")
