"""Roster import pages: list + upload, preview with problems, progress polling, commit."""

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from redwheel.accounts.decorators import staff_required
from redwheel.core.exports import CSV, download
from redwheel.core.forms import domain_errors
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


@staff_required
def job_list(request):
    units = selectors.import_units(request.user)
    if request.method == "POST":
        writable_or_404(units)  # before the upload is read
    form = UploadForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        with domain_errors() as caught:
            job = services.import_upload(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                unit=form.cleaned_data["unit"],
                uploaded_file=form.cleaned_data["file"],
            )
            return redirect("imports:detail", pk=job.pk)
        form.add_error("file", str(caught.message))  # whatever an upload is refused for
    page = paginate(request, selectors.import_jobs(request.user), 25)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "drivers/imports/list.html",
        {"form": form, "page": page, "can_import": units.exists(), "kinds": ImportJob.Kind.choices},
        status=status,
    )


@staff_required
@require_GET
def job_detail(request, pk: int):
    job = selectors.import_job(request.user, pk)
    page = paginate(request, selectors.import_errors(job), 50)
    return render(
        request,
        "drivers/imports/detail.html",
        {"job": job, "page": page, "progress": selectors.import_progress(job)},
    )


@staff_required
@require_GET
def job_progress(request, pk: int):
    job = selectors.import_job(request.user, pk)
    response = render(
        request,
        "drivers/imports/_progress.html",
        {"job": job, "progress": selectors.import_progress(job)},
    )
    if not job.is_running:
        response["HX-Refresh"] = "true"  # show the finished preview or result
    return response


@staff_required
@require_POST
def job_commit(request, pk: int):
    job = selectors.import_job(request.user, pk)
    with domain_errors(request):
        services.import_commit_request(actor=request.user, job=job)
    return redirect("imports:detail", pk=job.pk)


@staff_required
@require_GET
def template_download(request, kind: str, fmt: str):
    if kind not in parsing.COLUMNS or fmt not in ("xlsx", "csv"):
        raise Http404
    filename = f"redwheel-{kind}-template.{fmt}"
    if fmt == "xlsx":
        return download(parsing.template_xlsx(kind), filename)
    return download(parsing.template_csv(kind), filename, CSV)
