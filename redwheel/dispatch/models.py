"""Stored dispatch rule sets and sandbox simulation runs.

A rule set's parameters are the engine's `RuleSet` JSON (without name and version, which are
columns). Published rule sets never change: a change is a new version. A run records everything
needed to replay it (rule sets in order, demand and fleet sources with their parameters, seed),
so re-running it gives identical metrics.

Rule sets and runs belong to one city (a root org unit): see `redwheel.dispatch.permissions`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, StatusActivity
from redwheel.dispatch import engine


class RuleSet(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    # The city (root org unit) whose committee owns it; two cities never see each other's.
    city = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("city"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": True},
    )
    name = models.CharField(_("name"), max_length=100)
    version = models.CharField(_("version"), max_length=40)
    description = models.TextField(_("description"), blank=True)
    parameters = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name", "-created_at"]
        verbose_name = _("dispatch rule set")
        verbose_name_plural = _("dispatch rule sets")
        constraints = [
            models.UniqueConstraint(
                fields=["city", "name", "version"], name="dispatch_ruleset_city_version"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="dispatch_ruleset_published_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def engine_rules(self, name: str | None = None) -> engine.RuleSet:
        """The engine's rule set; raises ValueError if the stored parameters are invalid."""
        return engine.RuleSet.from_dict(
            {**self.parameters, "name": name or self.name, "version": self.version}
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True)
            if stored and stored[0] == self.Status.PUBLISHED:
                raise TypeError("a published rule set is immutable; create a new version")
        super().save(*args, **kwargs)


class SandboxJob(BaseModel):
    """What a simulation run and a fleet sizing share: a titled job that a task runs in the
    background (services.runs.background_job_machine), with its progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    title = models.CharField(_("title"), max_length=150)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class SimulationRun(SandboxJob):
    class Demand(models.TextChoices):
        SYNTHETIC = "synthetic", _("Synthetic demand (seeded)")
        CSV = "csv", _("Uploaded CSV of orders")
        EXCHANGE = "exchange", _("Ingested orders (orderCreate) of one day")

    class FleetSource(models.TextChoices):
        SYNTHETIC = "synthetic", _("Synthetic fleet (seeded)")
        DRIVERS = "drivers", _("The city's drivers with their composite scores")

    # The city (root org unit) whose committee owns it; two cities never see each other's.
    city = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("city"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": True},
    )
    description = models.TextField(_("description"), blank=True)
    rule_sets = models.ManyToManyField(
        RuleSet, through="RunRuleSet", related_name="runs", verbose_name=_("rule sets")
    )
    demand_source = models.CharField(_("demand"), max_length=16, choices=Demand.choices)
    demand_params = models.JSONField(_("demand parameters"), default=dict, blank=True)
    orders_csv = models.TextField(_("orders CSV"), blank=True)
    fleet_source = models.CharField(_("fleet"), max_length=16, choices=FleetSource.choices)
    fleet_params = models.JSONField(_("fleet parameters"), default=dict, blank=True)
    seed = models.BigIntegerField(_("seed"), default=0)
    # {"seeds": n, "idle_policy": "..."}; empty for runs stored before both existed, which
    # replay as one seed with idle drivers staying put.
    sim_params = models.JSONField(_("simulation parameters"), default=dict, blank=True)
    results = models.JSONField(_("results"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("simulation run")
        verbose_name_plural = _("simulation runs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="dispatch_run_progress_pct"
            ),
        ]

    def ordered_rule_sets(self) -> list[RuleSet]:
        """Rule sets in comparison order; the first is the baseline."""
        return [
            link.rule_set for link in self.links.select_related("rule_set").order_by("position")
        ]


class RunRuleSet(models.Model):
    run = models.ForeignKey(SimulationRun, on_delete=models.CASCADE, related_name="links")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["run", "position"]
        verbose_name = _("rule set in a run")
        verbose_name_plural = _("rule sets in a run")
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="dispatch_run_position"),
            models.UniqueConstraint(fields=["run", "rule_set"], name="dispatch_run_ruleset"),
        ]

    def __str__(self):
        return f"{self.run_id}#{self.position}: {self.rule_set_id}"


class RuleSetActivity(StatusActivity):
    """One row per step of a rule set: created (or copied as a new version), edited,
    published."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        NEW_VERSION = "new_version", _("Created as a new version")
        UPDATE = "update", _("Edited")
        PUBLISH = "publish", _("Published")

    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("rule set activity")
        verbose_name_plural = _("rule set activities")


class SimulationRunActivity(StatusActivity):
    """One row per step of a simulation run: queued, started, finished or failed."""

    class Action(models.TextChoices):
        CREATE = "create", _("Queued")
        START = "start", _("Started")
        SUCCEED = "succeed", _("Succeeded")
        FAIL = "fail", _("Failed")

    run = models.ForeignKey(SimulationRun, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("simulation run activity")
        verbose_name_plural = _("simulation run activities")


class FleetSizing(SandboxJob):
    """ "How many drivers does this rule set need to serve a target share of this demand?"

    Asked in the sandbox, answered in the background by bisection over simulated fleets
    (`services.sizing.sizing_execute`). The request (rule set, demand, bounds, seeds) is stored
    with the answer so it can be replayed exactly; fleets are always synthetic, placed after the
    demand or at random, because the question is how many drivers, not which ones."""

    Demand = SimulationRun.Demand

    class Placement(models.TextChoices):
        DEMAND = "demand", _("Placed and shifted after the demand")
        RANDOM = "random", _("At random hotspots with random shifts")

    city = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("city"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": True},
    )
    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="sizings"
    )
    # The run whose inputs were copied, if any; the sizing keeps its own copy of them.
    source_run = models.ForeignKey(
        SimulationRun,
        verbose_name=_("inputs of run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sizings",
    )
    demand_source = models.CharField(_("demand"), max_length=16, choices=Demand.choices)
    demand_params = models.JSONField(_("demand parameters"), default=dict, blank=True)
    orders_csv = models.TextField(_("orders CSV"), blank=True)
    placement = models.CharField(
        _("fleet placement"), max_length=16, choices=Placement.choices, default=Placement.DEMAND
    )
    target = models.FloatField(_("target served share"))
    min_drivers = models.PositiveIntegerField(_("fewest drivers"))
    max_drivers = models.PositiveIntegerField(_("most drivers"))
    seed = models.BigIntegerField(_("seed"), default=0)
    seeds = models.PositiveSmallIntegerField(_("number of seeds"))
    idle_policy = models.CharField(_("idle drivers"), max_length=16)
    # The rest of the simulated environment, in a run's `sim_params` keys (balance_forecast,
    # response_s, boarding_s, centroid_spread, pickup_patience_s); never seeds or idle_policy,
    # whose columns stay their one source. Empty for sizings stored before it existed: they
    # replay as they ran.
    sim_params = models.JSONField(_("simulation parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("fleet sizing")
        verbose_name_plural = _("fleet sizings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="dispatch_sizing_progress_pct"
            ),
            models.CheckConstraint(
                condition=models.Q(target__gte=0.5, target__lte=0.99),
                name="dispatch_sizing_target_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_drivers__gte=1, max_drivers__gt=models.F("min_drivers")),
                name="dispatch_sizing_bounds",
            ),
            models.CheckConstraint(
                condition=models.Q(seeds__gte=1), name="dispatch_sizing_seeds_positive"
            ),
        ]

    def as_run(self) -> SimulationRun:
        """An unsaved run with this sizing's demand and environment, so the run's demand
        builders and `services.runs.sim_config` replay it."""
        return SimulationRun(
            city=self.city,
            title=self.title,
            demand_source=self.demand_source,
            demand_params=self.demand_params,
            orders_csv=self.orders_csv,
            fleet_source=SimulationRun.FleetSource.SYNTHETIC,
            fleet_params={"drivers": self.max_drivers},
            seed=self.seed,
            sim_params={
                **(self.sim_params or {}),
                "seeds": self.seeds,
                "idle_policy": self.idle_policy,
            },
        )


class FleetSizingActivity(StatusActivity):
    """One row per step of a fleet sizing: queued, started, finished or failed."""

    Action = SimulationRunActivity.Action

    sizing = models.ForeignKey(FleetSizing, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("fleet sizing activity")
        verbose_name_plural = _("fleet sizing activities")
