from django.core.management.base import BaseCommand

from redwheel.appeals.demo import build_demo_appeals


class Command(BaseCommand):
    help = "Create demo appeal cases on the demo city (does nothing if they exist)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed, **options):
        build_demo_appeals(seed=seed, stdout=self.stdout)
