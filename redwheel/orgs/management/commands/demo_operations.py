"""`manage.py demo_operations`: load a month of the demo city's operating data, once."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.core.demo import operations
from redwheel.exchange import metrics


class Command(BaseCommand):
    help = (
        "Generate a month of exchange-format operating data for every platform's drivers, "
        "load it through the ingestion service and compute the driver metrics."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: the previous calendar month.")
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed; the same seed and month give the same data.",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Fraction of drivers who drive in the generated month.",
        )

    def handle(self, *args, month, seed: int, scale: float, **options):
        try:
            month = metrics.parse_month(month) if month else operations.default_month()
        except ValueError as exc:
            raise CommandError(_("--month must look like 2026-10.")) from exc
        if scale <= 0:
            raise CommandError(_("--scale must be positive."))
        if operations.already_loaded(month):
            self.stdout.write(
                _("Operating data for %(month)s already loaded.") % {"month": f"{month:%Y-%m}"}
            )
            return
        summary = operations.generate_month(
            seed=seed, month_start=month, stdout=self.stdout, scale=scale
        )
        if not summary.platforms:
            self.stdout.write(_("No platform has drivers yet: run manage.py demo_city first."))
            return
        self.stdout.write(
            _("%(month)s loaded in %(seconds).1f s: %(trips)s completed trips.")
            % {"month": f"{month:%Y-%m}", "seconds": summary.seconds, "trips": summary.trips}
        )
