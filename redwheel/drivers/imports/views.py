"""Roster import pages: list + upload, preview with problems, progress polling, commit."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from redwheel.core.errors import DomainError, NotFound
from redwheel.core.exports import CSV, download
from redwheel.core.guards import writable_or_404
from redwheel.core.paging import paginate
from redwheel.drivers.imports import parsing, selectors, services
from redwheel.drivers.models import ImportJob


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Roster kind"), choices=ImportJob.Kind.choices)
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Importing for"), queryset=None, empty_label=None
    )
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


def _job(request, pk: int) -> ImportJob:
    try:
        return selectors.import_job(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def job_list(request):
    units = selectors.import_units(request.user)
    if request.method == "POST":
        writable_or_404(units)  # before the upload is read
    form = UploadForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                unit=form.cleaned_data["unit"],
                uploaded_file=form.cleaned_data["file"],
            )
        except DomainError as exc:
            form.add_error("file", str(exc.message))
        else:
            return redirect("imports:detail", pk=job.pk)
    page = paginate(request, selectors.import_jobs(request.user), 25)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "drivers/imports/list.html",
        {"form": form, "page": page, "can_import": units.exists(), "kinds": ImportJob.Kind.choices},
        status=status,
    )


@login_required
@require_GET
def job_detail(request, pk: int):
    job = _job(request, pk)
    page = paginate(request, selectors.import_errors(job), 50)
    return render(
        request,
        "drivers/imports/detail.html",
        {"job": job, "page": page, "progress": selectors.import_progress(job)},
    )


@login_required
@require_GET
def job_progress(request, pk: int):
    job = _job(request, pk)
    response = render(
        request,
        "drivers/imports/_progress.html",
        {"job": job, "progress": selectors.import_progress(job)},
    )
    if not job.is_running:
        response["HX-Refresh"] = "true"  # show the finished preview or result
    return response


@login_required
@require_POST
def job_commit(request, pk: int):
    job = _job(request, pk)
    try:
        services.import_commit_request(actor=request.user, job=job)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_GET
def template_download(request, kind: str, fmt: str):
    if kind not in parsing.COLUMNS or fmt not in ("xlsx", "csv"):
        raise Http404
    filename = f"redwheel-{kind}-template.{fmt}"
    if fmt == "xlsx":
        return download(parsing.template_xlsx(kind), filename)
    return download(parsing.template_csv(kind), filename, CSV)
