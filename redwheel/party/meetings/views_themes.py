"""Staff pages of the themed party day (主题党日): the committee publishes each month's
topic; a branch secretary adopts it in one step; who adopted it is shown as a list."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from redwheel.accounts.decorators import staff_required
from redwheel.core.dates import local_date, month_start, next_month
from redwheel.core.errors import NotFound
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import found_or_404
from redwheel.core.paging import paginate
from redwheel.core.permissions import can
from redwheel.party.meetings import selectors, services
from redwheel.party.meetings.forms import AdoptForm, ThemeForm
from redwheel.party.meetings.models import ThemeFile
from redwheel.party.meetings.views import _file_response


def _committee_cities(request):
    return [c for c in selectors.viewer_cities(request.user) if can(request.user, "change", c)]


def _theme(request, pk, action="view"):
    try:
        return selectors.theme_get(request.user, pk, action)
    except NotFound as exc:
        raise Http404 from exc


@staff_required
@require_safe
def theme_list(request):
    return render(
        request,
        "meetings/themes.html",
        {
            "page": paginate(request, selectors.themes(request.user), 24),
            "may_publish": bool(_committee_cities(request)),
        },
    )


@staff_required
def theme_new(request):
    cities = _committee_cities(request)
    if not cities:
        raise Http404
    status = 200
    if request.method == "POST":
        form = ThemeForm(request.POST, request.FILES)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            theme = services.themed_day_publish(
                actor=request.user,
                city=cities[0],
                month=data["month"],
                title=data["title"],
                materials=data["materials"],
                uploads=data["files"],
            )
            messages.success(request, _("Themed party day published to every branch."))
            return redirect("meetings:theme_detail", pk=theme.pk)
        status = caught.status
    else:
        form = ThemeForm(initial={"month": next_month(month_start(local_date()))})
    return render(request, "meetings/theme_form.html", {"form": form}, status=status)


@staff_required
def theme_edit(request, pk: int):
    theme = _theme(request, pk, "change")
    status = 200
    if request.method == "POST":
        form = ThemeForm(request.POST, request.FILES, editing=True)
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            services.themed_day_update(
                actor=request.user,
                theme=theme,
                title=data["title"],
                materials=data["materials"],
                uploads=data["files"],
            )
            messages.success(request, _("Saved."))
            return redirect("meetings:theme_detail", pk=theme.pk)
        status = caught.status
    else:
        form = ThemeForm(editing=True, initial={"title": theme.title, "materials": theme.materials})
    return render(
        request, "meetings/theme_form.html", {"form": form, "theme": theme}, status=status
    )


@staff_required
@require_safe
def theme_detail(request, pk: int):
    theme = _theme(request, pk)
    adoption = selectors.theme_adoption(request.user, theme)
    return render(
        request,
        "meetings/theme_detail.html",
        {
            "theme": theme,
            "files": theme.files.all(),
            "adoption": adoption,
            "adopted": sum(1 for _b, m in adoption if m is not None),
            "may_edit": can(request.user, "change", theme),
            "may_adopt": selectors.adoptable_branches(request.user, theme).exists(),
        },
    )


@staff_required
def theme_adopt(request, pk: int):
    theme = _theme(request, pk)
    branches = selectors.adoptable_branches(request.user, theme)
    if not branches.exists():
        raise Http404
    status = 200
    form = AdoptForm(request.POST or None, branches=branches)
    if request.method == "POST":
        with domain_errors(form=form) as caught:
            data = require_valid(form)
            meeting = services.themed_day_adopt(
                actor=request.user,
                theme=theme,
                branch=data["branch"],
                sessions=data["sessions"],
                place=data["place"],
                online_link=data["online_link"],
            )
            messages.success(request, _("Adopted as a meeting of your branch."))
            return redirect("meetings:detail", pk=meeting.pk)
        status = caught.status
    return render(
        request, "meetings/theme_adopt.html", {"form": form, "theme": theme}, status=status
    )


@staff_required
@require_safe
def theme_file(request, pk: int):
    return _file_response(found_or_404(request.user, "view", ThemeFile.objects.all(), pk=pk))
