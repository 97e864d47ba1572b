from django.core.management.base import BaseCommand

from redwheel.dispatch.demo import build_demo_sandbox


class Command(BaseCommand):
    help = (
        "Publish the demo dispatch rule sets and store one sandbox run comparing them "
        "(idempotent; run after demo_city and demo_scoring)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        build_demo_sandbox(seed=options["seed"], stdout=self.stdout)
