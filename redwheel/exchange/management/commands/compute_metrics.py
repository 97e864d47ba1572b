"""`manage.py compute_metrics`: recompute the driver-metric snapshots of a month."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.exchange import metrics
from redwheel.orgs.models import Platform


class Command(BaseCommand):
    help = (
        "Recompute the DriverMonthMetric snapshots of a month (default: the current and "
        "the previous month) from the exchange facts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM")
        parser.add_argument("--platform", help="CompanyId of one platform (default: all)")

    def handle(self, *args, month, platform, **options):
        if platform:
            found = Platform.objects.filter(company_id=platform).first()
            if found is None:
                raise CommandError(_("No platform with CompanyId %(id)s.") % {"id": platform})
            platform = found
        if month:
            try:
                month = metrics.parse_month(month)
            except ValueError as exc:
                raise CommandError(_("--month must look like 2026-10.")) from exc
            done = {month: metrics.recompute_month(month, platform)}
        elif platform:
            current = metrics.month_start()
            done = {
                m: metrics.recompute_month(m, platform)
                for m in (metrics.previous_month(current), current)
            }
        else:
            done = metrics.recompute_recent()
        for m, rows in done.items():
            self.stdout.write(
                _("%(month)s: %(rows)s driver rows") % {"month": f"{m:%Y-%m}", "rows": rows}
            )
