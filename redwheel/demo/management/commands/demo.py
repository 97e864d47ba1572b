"""`manage.py demo`: build the whole demo city, every capability's part included, once."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.demo import operations, runner
from redwheel.demo.city import DemoCityConflict
from redwheel.demo.context import DemoContext
from redwheel.demo.logins import print_logins
from redwheel.demo.specs import URL
from redwheel.exchange import metrics


class Command(BaseCommand):
    help = (
        "Build a fictional but realistic demo city (成都市) with a part of every capability, "
        "step by step; steps already built are left as they are. Prints one login per role."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed; the same seed always builds the same city.",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Fraction of the full size (about 3,200 drivers), and of the drivers who "
            "drive in the month of operating data.",
        )
        parser.add_argument(
            "--month",
            help="YYYY-MM of the operating data; default: the previous calendar month.",
        )
        parser.add_argument(
            "--fresh",
            action="store_true",
            help="Delete the demo city's data first (the whole database, which must hold no "
            "other city) and build it again.",
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="Only print the demo logins."
        )
        parser.add_argument(
            "--no-logins", action="store_true", help="Build without printing the logins."
        )
        parser.add_argument("--url", default=URL, help="The address the logins are printed for.")

    def handle(self, *args, seed: int, scale: float, month, fresh: bool, **options):
        if options["print_logins"]:
            if fresh:
                raise CommandError(_("--print-logins only prints; it cannot be used with --fresh."))
            print_logins(self.stdout, url=options["url"])
            return
        if scale <= 0:
            raise CommandError(_("--scale must be positive."))
        try:
            month = metrics.parse_month(month) if month else operations.default_month()
        except ValueError as exc:
            raise CommandError(_("--month must look like 2026-10.")) from exc
        if fresh:
            try:
                runner.empty_database()
            except runner.OtherCitiesPresent as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(_("Emptied the database: building the demo city afresh."))
        started = time.monotonic()
        demo = DemoContext(seed=seed, scale=scale, month=month, out=self.stdout)
        try:
            results = runner.run(demo)
        except DemoCityConflict as exc:
            raise CommandError(str(exc)) from exc
        if any(result.built for result in results):
            self.stdout.write(
                _("Built in %(seconds).1f s.") % {"seconds": time.monotonic() - started}
            )
        else:
            self.stdout.write(_("The demo city is complete already: nothing to do."))
        if not options["no_logins"]:
            self.stdout.write("")
            print_logins(self.stdout, url=options["url"])
