from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from redwheel.mobilization.demo import build_demo_mobilization


class Command(BaseCommand):
    help = (
        "Add demo fleets, hubs, a closed mobilisation, volunteer opportunities and an alert to "
        "the demo city (run manage.py demo_city first). Does nothing if they exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *, seed, **options):
        if not build_demo_mobilization(seed=seed, stdout=self.stdout):
            self.stdout.write(_("Nothing to do: the demo mobilisation data exists already."))
