from django.core.management.base import BaseCommand

from redwheel.scoring.demo import build_demo_scoring


class Command(BaseCommand):
    help = "Publish the demo rule book, grant demo points and store score snapshots (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed, **options):
        build_demo_scoring(seed=seed, stdout=self.stdout)
