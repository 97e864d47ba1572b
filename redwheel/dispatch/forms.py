"""Sandbox forms: shape and units at the edge (hours, minutes); the engine's rule-set loader
has the last word on the parameters (see services.parameters_clean)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from redwheel.core.forms import SafeTextMixin
from redwheel.dispatch import engine, services
from redwheel.dispatch.models import FleetSizing, RuleSet, SimulationRun
from redwheel.dispatch.services import runs, sizing
from redwheel.orgs.models import OrgUnit, Platform

DEFAULTS = engine.RuleSet()
FATIGUE = DEFAULTS.fatigue


class RuleSetForm(SafeTextMixin, forms.Form):
    city = forms.ModelChoiceField(label=_("City"), queryset=OrgUnit.objects.none())
    name = forms.CharField(label=_("Name"), max_length=100)
    version = forms.CharField(label=_("Version"), max_length=40, initial="1")
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    score_weight = forms.FloatField(
        label=_("Score weight"),
        min_value=0,
        initial=DEFAULTS.score_weight,
        help_text=_("1 gives a driver with score 100 the whole bonus cap; 0 switches it off."),
    )
    bonus_cap_m = forms.FloatField(
        label=_("Bonus cap (m)"),
        min_value=0,
        initial=DEFAULTS.bonus_cap_m,
        help_text=_(
            "The published promise: no driver is preferred over an idle driver closer by more "
            "than this many metres."
        ),
    )
    max_pickup_m = forms.FloatField(
        label=_("Maximum pickup distance (m)"), min_value=1, initial=DEFAULTS.max_pickup_m
    )
    k_candidates = forms.IntegerField(
        label=_("Candidate drivers per order"),
        min_value=1,
        max_value=50,
        initial=DEFAULTS.k_candidates,
    )
    window_s = forms.FloatField(
        label=_("Matching window (s)"), min_value=0.5, max_value=60, initial=DEFAULTS.window_s
    )
    continuous_limit_h = forms.FloatField(
        label=_("Continuous driving limit (h)"),
        min_value=0.1,
        initial=FATIGUE.continuous_limit_s / 3600,
    )
    continuous_rest_min = forms.FloatField(
        label=_("Rest after the continuous limit (min)"),
        min_value=1,
        initial=FATIGUE.continuous_rest_s / 60,
    )
    daily_limit_h = forms.FloatField(
        label=_("Daily driving limit (h)"), min_value=0.1, initial=FATIGUE.daily_limit_s / 3600
    )
    daily_rest_h = forms.FloatField(
        label=_("Rest after the daily limit (h)"),
        min_value=0.1,
        initial=FATIGUE.daily_rest_s / 3600,
    )

    def __init__(self, *args, cities=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only someone who uses several cities' sandboxes chooses; the service defaults to the
        # one city otherwise, and an existing rule set keeps its city.
        if cities is not None and len(cities) > 1:
            self.fields["city"].queryset = cities
        else:
            del self.fields["city"]

    @classmethod
    def for_rule_set(cls, rule_set: RuleSet, **kwargs):
        p = {**engine.RuleSet().to_dict(), **rule_set.parameters}
        f = {**FATIGUE.__dict__, **(p.get("fatigue") or {})}
        initial = {
            "name": rule_set.name,
            "version": rule_set.version,
            "description": rule_set.description,
            "score_weight": p["score_weight"],
            "bonus_cap_m": p["bonus_cap_m"],
            "max_pickup_m": p["max_pickup_m"],
            "k_candidates": p["k_candidates"],
            "window_s": p["window_s"],
            "continuous_limit_h": f["continuous_limit_s"] / 3600,
            "continuous_rest_min": f["continuous_rest_s"] / 60,
            "daily_limit_h": f["daily_limit_s"] / 3600,
            "daily_rest_h": f["daily_rest_s"] / 3600,
        }
        return cls(initial=initial, **kwargs)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["daily_rest_h"] * 60 < data["continuous_rest_min"]:
            self.add_error(
                "daily_rest_h",
                _("The rest after the daily limit cannot be shorter than the continuous rest."),
            )
        if data["daily_limit_h"] < data["continuous_limit_h"]:
            self.add_error(
                "daily_limit_h",
                _("The daily limit cannot be shorter than the continuous limit."),
            )
        if self.errors:
            return data
        try:
            data["parameters"] = services.parameters_clean(
                data["name"], data["version"], self.parameters(data)
            )
        except services.ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc
        return data

    @staticmethod
    def parameters(data) -> dict:
        return {
            "score_weight": data["score_weight"],
            "bonus_cap_m": data["bonus_cap_m"],
            "max_pickup_m": data["max_pickup_m"],
            "k_candidates": data["k_candidates"],
            "unassigned_penalty_m": max(DEFAULTS.unassigned_penalty_m, data["max_pickup_m"] * 10),
            "window_s": data["window_s"],
            "fatigue": {
                "continuous_limit_s": data["continuous_limit_h"] * 3600,
                "continuous_rest_s": data["continuous_rest_min"] * 60,
                "daily_limit_s": data["daily_limit_h"] * 3600,
                "daily_rest_s": data["daily_rest_h"] * 3600,
            },
        }


IDLE_POLICY_CHOICES = [
    ("observed", _("As drivers were observed between trips: reposition, cruise or park")),
    ("balance", _("Share out by expected demand, sparse areas included")),
    ("demand", _("Move towards where demand is expected")),
    ("cruise", _("Cruise around nearby")),
    ("stay", _("Wait where the last trip ended")),
]
BALANCE_FORECAST_CHOICES = [
    ("profile", _("How busy each area usually is at this hour (time-of-day profile)")),
    ("actual", _("The orders that will actually come (clairvoyant, for comparison)")),
]


class EnvironmentFields(forms.Form):
    """The simulated environment of a run or a fleet sizing: the idle policy, and in the
    "Advanced" section (`_environment_fields.html`) the balancing forecast, the response and
    boarding times and the centroid spread. Empty fields mean the services' defaults;
    `services.runs.sim_params_clean` has the last word."""

    idle_policy = forms.ChoiceField(
        label=_("Idle drivers"),
        choices=IDLE_POLICY_CHOICES,
        initial=runs.DEFAULT_IDLE_POLICY,
        required=False,
    )
    balance_forecast = forms.ChoiceField(
        label=_("Demand forecast for sharing out idle drivers"),
        choices=BALANCE_FORECAST_CHOICES,
        initial=runs.DEFAULT_BALANCE_FORECAST,
        required=False,
        help_text=_(
            "Used only when idle drivers are shared out by expected demand: what the dispatcher "
            "is assumed to know. Keep the profile; the clairvoyant forecast only shows how much "
            "perfect knowledge would add."
        ),
    )
    response_s = forms.FloatField(
        label=_("Driver response time (s)"),
        min_value=0,
        max_value=runs.MAX_RESPONSE_S,
        initial=0,
        required=False,
        help_text=_(
            "Seconds between the match and the driver setting off (accepting the order, turning "
            "round), 0 to 120; counted in the passenger's wait and the driver's busy time. "
            "0 switches it off."
        ),
    )
    boarding_s = forms.FloatField(
        label=_("Boarding time (s)"),
        min_value=0,
        max_value=runs.MAX_BOARDING_S,
        initial=runs.DEFAULT_BOARDING_S,
        required=False,
        help_text=_(
            "Seconds from the driver's arrival until the passenger is aboard, 0 to 300; part of "
            "the driver's busy time, not of the passenger's wait (default 60, as observed). "
            "0 switches it off."
        ),
    )
    centroid_spread = forms.FloatField(
        label=_("Centroid spread"),
        min_value=0,
        max_value=runs.MAX_CENTROID_SPREAD,
        initial=0,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
        help_text=_(
            "For orders whose trip ends are area centroids (public data sets): spread the ends "
            "that share a point over a disc of this fraction of the distance to the nearest "
            "other point, 0 to 2. 0 leaves them where they are."
        ),
    )

    ENVIRONMENT = ("idle_policy", "balance_forecast", "response_s", "boarding_s", "centroid_spread")
    ADVANCED = ENVIRONMENT[1:]

    @staticmethod
    def initial_for(sim_params: dict | None) -> dict:
        """Initial values that simulate what stored simulation parameters simulated."""
        return runs.sim_environment(sim_params)

    def environment(self) -> dict:
        """The services' keyword arguments for the environment (None: the default)."""
        return {name: self.cleaned_data.get(name) for name in self.ENVIRONMENT}

    def advanced_open(self) -> bool:
        """Whether the "Advanced" section starts open: an error in it, or a value other than
        the default (e.g. taken from a run), is not hidden."""
        return any(self[name].errors or self._changed_from_default(name) for name in self.ADVANCED)

    def _changed_from_default(self, name: str) -> bool:
        value, default = self[name].value(), self.fields[name].initial
        if value in (None, ""):
            return False
        try:
            return float(value) != float(default)
        except (TypeError, ValueError):
            return str(value) != str(default)


class DemandFields(SafeTextMixin, forms.Form):
    """The demand of a run or a fleet sizing: synthetic, an uploaded CSV, or a replayed day of
    ingested orders. `clean_demand` turns the fields into the services' demand arguments."""

    demand_source = forms.ChoiceField(
        label=_("Demand"),
        choices=SimulationRun.Demand.choices,
        initial=SimulationRun.Demand.SYNTHETIC,
        widget=forms.RadioSelect,
    )
    orders = forms.IntegerField(
        label=_("Synthetic orders in the period"),
        min_value=1,
        max_value=services.MAX_ORDERS,
        initial=5000,
        required=False,
    )
    start_hour = forms.IntegerField(
        label=_("Period starts at (hour)"), min_value=0, max_value=23, initial=7
    )
    hours = forms.FloatField(
        label=_("Period length (hours)"), min_value=0.1, max_value=24, initial=3
    )
    orders_file = forms.FileField(
        label=_("Orders CSV"),
        required=False,
        help_text=_("Columns: order_id,time,origin_lng,origin_lat,dest_lng,dest_lat"),
    )
    day = forms.DateField(
        label=_("Day of ingested orders"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    platform = forms.ModelChoiceField(
        label=_("Platform"),
        queryset=Platform.objects.none(),
        required=False,
        empty_label=_("All platforms"),
    )

    def __init__(self, *args, platforms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platforms.order_by("name")

    def clean_demand(self, data, *, csv_optional: bool = False) -> None:
        """Set data["demand_params"] and data["orders_csv"] from the demand fields.
        `csv_optional`: a CSV demand may come without a file (it is taken from elsewhere)."""
        source = data["demand_source"]
        data["orders_csv"] = ""
        if source == SimulationRun.Demand.SYNTHETIC:
            if not data.get("orders"):
                self.add_error("orders", _("Enter how many orders to simulate."))
            if data["start_hour"] + data["hours"] > 24:
                self.add_error("hours", _("The period must end by midnight."))
            data["demand_params"] = {
                "orders": data.get("orders"),
                "start_hour": data["start_hour"],
                "hours": data["hours"],
            }
        elif source == SimulationRun.Demand.CSV:
            upload = data.get("orders_file")
            if upload is None:
                if not csv_optional:
                    self.add_error("orders_file", _("Upload a CSV file of orders."))
            elif upload.size > services.MAX_CSV_BYTES:
                self.add_error("orders_file", _("The orders file is too large."))
            else:
                try:
                    data["orders_csv"] = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    self.add_error("orders_file", _("The orders file must be UTF-8 text."))
            data["demand_params"] = {"hours": data["hours"]}
        else:
            if not data.get("day"):
                self.add_error("day", _("Choose the day of ingested orders to replay."))
            platform = data.get("platform")
            data["demand_params"] = {
                "day": data["day"].isoformat() if data.get("day") else None,
                "platform_id": platform.pk if platform else None,
                "hours": data["hours"],
            }


class RunForm(DemandFields, EnvironmentFields):
    title = forms.CharField(label=_("Title"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    baseline = forms.ModelChoiceField(
        label=_("Baseline rule set"),
        queryset=RuleSet.objects.none(),
        help_text=_("Usually the zero-bonus rule set; every other set is compared with it."),
    )
    others = forms.ModelMultipleChoiceField(
        label=_("Rule sets to compare"),
        queryset=RuleSet.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose one to three."),
    )
    fleet_source = forms.ChoiceField(
        label=_("Fleet"),
        choices=SimulationRun.FleetSource.choices,
        initial=SimulationRun.FleetSource.SYNTHETIC,
        widget=forms.RadioSelect,
    )
    drivers = forms.IntegerField(
        label=_("Synthetic drivers"),
        min_value=1,
        max_value=services.MAX_DRIVERS,
        initial=800,
        required=False,
    )
    seed = forms.IntegerField(label=_("Seed"), initial=2026, min_value=0, max_value=2**62)
    seeds = forms.IntegerField(
        label=_("Number of seeds"),
        min_value=services.MIN_SEEDS,
        max_value=services.MAX_SEEDS,
        initial=services.DEFAULT_SEEDS,
        required=False,
        help_text=_(
            "Each seed draws other passengers; results show the mean and its 95% interval. "
            "More seeds give tighter intervals and take longer."
        ),
    )

    def __init__(self, *args, rule_sets, platforms, **kwargs):
        """`rule_sets` and `platforms` are those the viewer may use (selectors)."""
        super().__init__(*args, platforms=platforms, **kwargs)
        self.fields["baseline"].queryset = rule_sets
        self.fields["others"].queryset = rule_sets

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        others = list(data["others"])
        if data["baseline"] in others:
            others.remove(data["baseline"])
        if not 1 <= len(others) <= services.MAX_RULE_SETS - 1:
            self.add_error("others", _("Choose one to three rule sets besides the baseline."))
        data["rule_sets"] = [data["baseline"], *others]
        self.clean_demand(data)
        if data["fleet_source"] == SimulationRun.FleetSource.SYNTHETIC:
            if not data.get("drivers"):
                self.add_error("drivers", _("Enter how many drivers to simulate."))
            data["fleet_params"] = {"drivers": data.get("drivers")}
        else:
            data["fleet_params"] = {}
        return data


class FleetSizingForm(DemandFields, EnvironmentFields):
    """ "How many drivers does this rule set need to serve this share of these orders?" """

    title = forms.CharField(label=_("Title"), max_length=150, required=False)
    rule_set = forms.ModelChoiceField(label=_("Rule set"), queryset=RuleSet.objects.none())
    target = forms.FloatField(
        label=_("Target served share"),
        min_value=sizing.MIN_TARGET,
        max_value=sizing.MAX_TARGET,
        initial=sizing.DEFAULT_TARGET,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text=_("Between 0.50 and 0.99: 0.95 means 95% of the orders served."),
    )
    min_drivers = forms.IntegerField(
        label=_("Fewest drivers"), min_value=1, max_value=services.MAX_DRIVERS - 1, initial=10
    )
    max_drivers = forms.IntegerField(
        label=_("Most drivers"),
        min_value=2,
        max_value=services.MAX_DRIVERS,
        initial=3000,
        help_text=_("The search stays between these bounds."),
    )
    placement = forms.ChoiceField(
        label=_("Where drivers start"),
        choices=FleetSizing.Placement.choices,
        initial=FleetSizing.Placement.DEMAND,
    )
    seed = forms.IntegerField(label=_("Seed"), initial=2026, min_value=0, max_value=2**62)
    seeds = forms.IntegerField(
        label=_("Number of seeds"),
        min_value=services.MIN_SEEDS,
        max_value=services.MAX_SEEDS,
        initial=sizing.DEFAULT_SIZING_SEEDS,
        help_text=_(
            "Every fleet size tried is simulated once per seed; the served share is the mean "
            "over the seeds, shown with its 95% interval."
        ),
    )
    source_run = forms.ModelChoiceField(
        queryset=SimulationRun.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, rule_sets, platforms, runs, **kwargs):
        """`rule_sets`, `platforms` and `runs` are those the viewer may use (selectors)."""
        super().__init__(*args, platforms=platforms, **kwargs)
        self.fields["rule_set"].queryset = rule_sets
        self.fields["source_run"].queryset = runs

    @classmethod
    def initial_from_run(cls, run: SimulationRun) -> dict:
        """The form's initial values for the inputs of `run`: its demand, seeds, whole
        environment and the first rule set compared with the baseline; bounds around the run's
        fleet."""
        p = run.demand_params or {}
        rule_sets = run.ordered_rule_sets()
        initial = {
            "source_run": run.pk,
            "title": _("Fleet for: %(title)s") % {"title": run.title},
            "demand_source": run.demand_source,
            "seed": run.seed,
            "seeds": (run.sim_params or {}).get("seeds", sizing.DEFAULT_SIZING_SEEDS),
            # What the run simulated, e.g. a run stored before idle policies kept drivers in place.
            **EnvironmentFields.initial_for(run.sim_params),
        }
        if rule_sets:
            initial["rule_set"] = rule_sets[min(1, len(rule_sets) - 1)].pk
        for key in ("orders", "start_hour", "hours", "day"):
            if p.get(key) is not None:
                initial[key] = p[key]
        if p.get("platform_id"):
            initial["platform"] = p["platform_id"]
        drivers = (run.results or {}).get("drivers") or (run.fleet_params or {}).get("drivers")
        if drivers:
            initial["max_drivers"] = min(services.MAX_DRIVERS, max(100, 2 * int(drivers)))
        return initial

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["min_drivers"] >= data["max_drivers"]:
            self.add_error("max_drivers", _("The most drivers must exceed the fewest drivers."))
        source_run = data.get("source_run")
        self.clean_demand(
            data,
            csv_optional=source_run is not None
            and source_run.demand_source == SimulationRun.Demand.CSV,
        )
        return data
