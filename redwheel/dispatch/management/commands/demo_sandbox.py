from django.core.management.base import BaseCommand

from redwheel.dispatch.demo import build_demo_sandbox


class Command(BaseCommand):
    help = (
        "Publish the demo dispatch rule sets and store two sandbox runs comparing them, on "
        "synthetic demand and on a day of ingested orders (idempotent; run after demo_city, "
        "demo_operations and demo_scoring)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        build_demo_sandbox(seed=options["seed"], stdout=self.stdout)
