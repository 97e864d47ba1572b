"""`manage.py demo_city`: build the demo city once, then print the demo logins."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from redwheel.core.demo.city import URL, DemoCityConflict, build_demo_city, print_logins


class Command(BaseCommand):
    help = "Build a fictional but realistic demo city (成都市) and print one login per role."

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
            help="Fraction of the full size (about 3,200 drivers).",
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="Only print the demo logins."
        )
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="Build without printing the logins (`make demo` prints them once, at the end).",
        )
        parser.add_argument("--url", default=URL, help="The address the logins are printed for.")

    def handle(self, *args, seed: int, scale: float, **options):
        if not options["print_logins"]:
            if scale <= 0:
                raise CommandError(_("--scale must be positive."))
            started = time.monotonic()
            try:
                built = build_demo_city(seed=seed, stdout=self.stdout, scale=scale)
            except DemoCityConflict as exc:
                raise CommandError(str(exc)) from exc
            if built:
                self.stdout.write(
                    _("Built in %(seconds).1f s.") % {"seconds": time.monotonic() - started}
                )
            else:
                self.stdout.write(_("demo city already built"))
            self.stdout.write("")
        if options["print_logins"] or not options["no_logins"]:
            print_logins(self.stdout, url=options["url"])
