"""Sandbox pages: rule sets (list, create, edit draft, publish, new version), runs (create, list,
report with progress polling), fleet sizings (create, list, result with progress polling) and
exports. Only sandbox users (selectors.may_use_sandbox) get
anything, and only of their own city; everyone else gets 404. Each POST parses one form and
calls one service."""

import json
from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from redwheel.accounts.decorators import staff_required
from redwheel.core.exports import download, json_response
from redwheel.core.forms import domain_errors
from redwheel.core.paging import paginate
from redwheel.dispatch import exports, forms, selectors, services, sizing_selectors
from redwheel.dispatch.models import RuleSet
from redwheel.dispatch.services import runs as run_services
from redwheel.dispatch.services import sizing as sizing_services

PAGE_SIZE = 25


def sandbox_required(view):
    """A staff page that also needs the sandbox of some city (the `audit` action on a root)."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not selectors.may_use_sandbox(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


# Rule sets -----------------------------------------------------------------------------------


@sandbox_required
def rule_set_list(request):
    status = request.GET.get("status") or ""
    if status not in RuleSet.Status.values:
        status = ""
    return render(
        request,
        "dispatch/rule_set_list.html",
        {
            "page": paginate(request, selectors.rule_sets(request.user, status or None), PAGE_SIZE),
            "status": status,
            "statuses": RuleSet.Status.choices,
            "query": f"status={status}" if status else "",
        },
    )


@sandbox_required
def rule_set_create(request):
    cities = selectors.sandbox_cities(request.user)
    form = forms.RuleSetForm(request.POST or None, cities=cities)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        with domain_errors(form=form):
            rule_set = services.ruleset_create(
                actor=request.user,
                city=d.get("city"),
                name=d["name"],
                version=d["version"],
                parameters=d["parameters"],
                description=d["description"],
            )
            messages.success(request, _("Rule set saved as a draft."))
            return redirect("dispatch:rule_set_detail", rule_set.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "dispatch/rule_set_form.html", {"form": form, "rule_set": None}, status=status
    )


@sandbox_required
def rule_set_detail(request, pk):
    rule_set = selectors.rule_set(request.user, pk)
    rules = rule_set.engine_rules()
    return render(
        request,
        "dispatch/rule_set_detail.html",
        {
            "rule_set": rule_set,
            "rules": rules,
            "fatigue": {
                "cl": rules.fatigue.continuous_limit_s / 3600,
                "cr": rules.fatigue.continuous_rest_s / 60,
                "dl": rules.fatigue.daily_limit_s / 3600,
                "dr": rules.fatigue.daily_rest_s / 3600,
            },
            "json": json.dumps(rules.to_dict(), indent=2, ensure_ascii=False),
            "runs": selectors.rule_set_runs(request.user, rule_set),
        },
    )


@sandbox_required
def rule_set_edit(request, pk):
    rule_set = selectors.rule_set(request.user, pk)
    if rule_set.is_published:
        messages.error(
            request, _("A published rule set cannot be changed; create a new version instead.")
        )
        return redirect("dispatch:rule_set_detail", pk)
    if request.method == "POST":
        form = forms.RuleSetForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            with domain_errors(form=form):
                services.ruleset_update(
                    actor=request.user,
                    rule_set=rule_set,
                    name=d["name"],
                    version=d["version"],
                    parameters=d["parameters"],
                    description=d["description"],
                )
                messages.success(request, _("Draft saved."))
                return redirect("dispatch:rule_set_detail", pk)
        return render(
            request,
            "dispatch/rule_set_form.html",
            {"form": form, "rule_set": rule_set},
            status=400,
        )
    form = forms.RuleSetForm.for_rule_set(rule_set)
    return render(request, "dispatch/rule_set_form.html", {"form": form, "rule_set": rule_set})


@sandbox_required
@require_POST
def rule_set_publish(request, pk):
    rule_set = selectors.rule_set(request.user, pk)
    with domain_errors(request):
        services.ruleset_publish(actor=request.user, rule_set=rule_set)
        messages.success(request, _("Rule set published. It can no longer be changed."))
    return redirect("dispatch:rule_set_detail", pk)


@sandbox_required
@require_POST
def rule_set_new_version(request, pk):
    rule_set = selectors.rule_set(request.user, pk)
    copy = services.ruleset_new_version(actor=request.user, rule_set=rule_set)
    messages.success(request, _("New draft version created; edit it and publish it."))
    return redirect("dispatch:rule_set_edit", copy.pk)


@sandbox_required
def rule_set_json(request, pk):
    rule_set = selectors.rule_set(request.user, pk)
    return json_response(
        f"rules-{rule_set.pk}-v{rule_set.version}.json", rule_set.engine_rules().to_dict()
    )


# Runs ----------------------------------------------------------------------------------------


@sandbox_required
def run_list(request):
    return render(
        request,
        "dispatch/run_list.html",
        {"page": paginate(request, selectors.runs(request.user), PAGE_SIZE)},
    )


@sandbox_required
def run_create(request):
    rule_sets = selectors.rule_sets(request.user)
    form = forms.RunForm(
        request.POST or None,
        request.FILES or None,
        rule_sets=rule_sets,
        platforms=selectors.replay_platforms(request.user),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        with domain_errors(form=form):
            run = services.run_create(
                actor=request.user,
                title=d["title"],
                description=d["description"],
                rule_sets=d["rule_sets"],
                demand_source=d["demand_source"],
                demand_params=d["demand_params"],
                orders_csv=d["orders_csv"],
                fleet_source=d["fleet_source"],
                fleet_params=d["fleet_params"],
                seed=d["seed"],
                seeds=d["seeds"],
                **form.environment(),
            )
            messages.success(request, _("The run is queued; this page shows its progress."))
            return redirect("dispatch:run_detail", run.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "dispatch/run_form.html",
        {"form": form, "has_rule_sets": rule_sets.exists()},
        status=status,
    )


def _environment(sim_params: dict | None) -> dict:
    """What a run or sizing simulated (idle policy, forecast, response and boarding time,
    centroid spread, pickup patience), with labels."""
    env = run_services.sim_environment(sim_params)
    idle, forecast = env["idle_policy"], env["balance_forecast"]
    return {
        **env,
        "idle_label": dict(forms.IDLE_POLICY_CHOICES).get(idle, idle),
        "forecast_label": dict(forms.BALANCE_FORECAST_CHOICES).get(forecast, forecast),
    }


@sandbox_required
def run_detail(request, pk):
    run = selectors.run(request.user, pk)
    return render(
        request,
        "dispatch/run_detail.html",
        {
            "run": run,
            "report": selectors.report(run),
            "rule_sets": run.ordered_rule_sets(),
            "environment": _environment(run.sim_params),
        },
    )


def _progress(request, template: str, name: str, job):
    """The htmx-polled progress block of a run or sizing; once it has finished, the page
    reloads."""
    response = render(request, template, {name: job})
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@sandbox_required
def run_progress(request, pk):
    return _progress(request, "dispatch/_progress.html", "run", selectors.run(request.user, pk))


@sandbox_required
def run_export_json(request, pk):
    run = selectors.run(request.user, pk)
    return json_response(f"sandbox-run-{run.pk}.json", exports.run_json(request.user, run))


@sandbox_required
def run_export_xlsx(request, pk):
    run = selectors.run(request.user, pk)
    if not run.results:
        raise Http404
    return download(exports.run_workbook(request.user, run), f"sandbox-run-{run.pk}.xlsx")


# Fleet sizing --------------------------------------------------------------------------------


@sandbox_required
def sizing_list(request):
    return render(
        request,
        "dispatch/sizing_list.html",
        {"page": paginate(request, sizing_selectors.fleet_sizings(request.user), PAGE_SIZE)},
    )


def _source_run(request):
    """The run whose inputs prefill a new sizing (`?run=`), 404 unless the viewer's."""
    value = request.GET.get("run")
    if not value:
        return None
    try:
        return selectors.run(request.user, int(value))
    except (TypeError, ValueError):
        raise Http404 from None


@sandbox_required
def sizing_create(request):
    rule_sets = selectors.rule_sets(request.user)
    source = None if request.method == "POST" else _source_run(request)
    form = forms.FleetSizingForm(
        request.POST or None,
        request.FILES or None,
        initial=forms.FleetSizingForm.initial_from_run(source) if source else None,
        rule_sets=rule_sets,
        platforms=selectors.replay_platforms(request.user),
        runs=selectors.runs(request.user),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        source = d.get("source_run")
        with domain_errors(form=form):
            sizing = sizing_services.sizing_create(
                actor=request.user,
                title=d["title"],
                rule_set=d["rule_set"],
                target=d["target"],
                min_drivers=d["min_drivers"],
                max_drivers=d["max_drivers"],
                demand_source=d["demand_source"],
                demand_params=d["demand_params"],
                orders_csv=d["orders_csv"],
                placement=d["placement"],
                seed=d["seed"],
                seeds=d["seeds"],
                **form.environment(),
                source_run=source,
            )
            messages.success(
                request, _("The fleet sizing is queued; this page shows its progress.")
            )
            return redirect("dispatch:sizing_detail", sizing.pk)
    if form.is_bound:
        source = form.cleaned_data.get("source_run")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "dispatch/sizing_form.html",
        {"form": form, "has_rule_sets": rule_sets.exists(), "source_run": source},
        status=status,
    )


@sandbox_required
def sizing_detail(request, pk):
    sizing = sizing_selectors.fleet_sizing(request.user, pk)
    return render(
        request,
        "dispatch/sizing_detail.html",
        {
            "sizing": sizing,
            "report": sizing_selectors.sizing_report(sizing),
            "environment": _environment(sizing.as_run().sim_params),
        },
    )


@sandbox_required
def sizing_progress(request, pk):
    sizing = sizing_selectors.fleet_sizing(request.user, pk)
    return _progress(request, "dispatch/_sizing_progress.html", "sizing", sizing)


@sandbox_required
def sizing_export_json(request, pk):
    sizing = sizing_selectors.fleet_sizing(request.user, pk)
    return json_response(
        f"sandbox-sizing-{sizing.pk}.json", exports.sizing_json(request.user, sizing)
    )
