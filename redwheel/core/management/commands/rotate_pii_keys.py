from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from redwheel.core.crypto import EncryptedTextField

# Models keep a setter per encrypted field that also refreshes the blind index and mask.
SETTERS = {"phone": "set_phone", "license_no": "set_license"}


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data with the first key in PII_ENCRYPTION_KEYS; with --reindex also "
        "recompute blind indexes after PII_BLIND_INDEX_KEY changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reindex", action="store_true")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, reindex: bool, batch_size: int, **options):
        for model in apps.get_models():
            fields = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            if not fields:
                continue
            queryset = model._default_manager.order_by("pk")
            for start in tqdm(
                range(0, queryset.count(), batch_size),
                desc=model._meta.label,
                disable=options["verbosity"] == 0,
            ):
                rows = list(queryset[start : start + batch_size])
                with transaction.atomic():
                    for row in rows:
                        if reindex:
                            for name in fields:
                                getattr(row, SETTERS[name])(getattr(row, name))
                        # Saving re-encrypts every field with the current primary key.
                        row.save(update_fields=None if reindex else fields)
        self.stdout.write(self.style.SUCCESS("personal data re-encrypted"))
