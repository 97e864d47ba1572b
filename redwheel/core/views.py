from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.core import selectors, services
from redwheel.core.errors import NotFound
from redwheel.core.forms import AuditFilterForm
from redwheel.core.paging import paginate

INBOX_PAGE_SIZE = 20
AUDIT_PAGE_SIZE = 50


@login_required
@require_safe
def inbox(request):
    page = paginate(request, selectors.inbox(request.user), INBOX_PAGE_SIZE)
    return render(
        request,
        "core/inbox.html",
        {
            "page": page,
            "unread": selectors.inbox_unread_count(request.user),
        },
    )


@login_required
@require_POST
def inbox_read(request, pk: int):
    try:
        notification = services.notification_mark_read(actor=request.user, notification_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    if request.htmx:
        return render(request, "core/_notification.html", {"n": notification})
    return redirect(_inbox_url(request))


@login_required
@require_POST
def inbox_read_all(request):
    count = services.notification_mark_all_read(actor=request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect(_inbox_url(request))


def _inbox_url(request) -> str:
    url = reverse("core:inbox")
    page = request.POST.get("page", "")
    return f"{url}?page={page}" if page.isdigit() else url


def audit_readers_only(view):
    """The audit log's audience: those with the `audit` action somewhere (a narrower set than
    accounts' staff_required, which the kernel may not import). Others get 404, any method."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not selectors.can_read_audit_log(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@audit_readers_only
@require_safe
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    try:
        entries = selectors.audit_log(request.user, **filters)
    except NotFound as exc:
        raise Http404 from exc
    page = paginate(request, entries, AUDIT_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )
