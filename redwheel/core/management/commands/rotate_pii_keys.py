"""Re-encrypt personal data with the current key and, with --reindex, move every blind index to
the current PII_BLIND_INDEX_KEY.

Columns are found by type, in every installed app: `EncryptedTextField` for the ciphertext,
`BlindIndexField` for the indexes, so a new table cannot be forgotten. An index with a `source`
is recomputed from the decrypted plaintext next to it. An index-only column (exchange facts keep
a licence's index, not the licence) is mapped old → new: every stored plaintext of its `kind`
gives one pair (old key, new key), applied in batched UPDATEs. Each step skips what is already
done, so the command can be re-run after an interruption.
"""

from collections import defaultdict

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Case, CharField, F, Value, When
from tqdm import tqdm

from redwheel.core.crypto import BlindIndexField, EncryptedTextField, blind_index


def blind_index_fields(model) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def blind_indexed_models() -> list:
    """Every concrete model with a blind-index column, in every installed app."""
    return [m for m in apps.get_models() if blind_index_fields(m)]


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data with the first key in PII_ENCRYPTION_KEYS; with --reindex also "
        "recompute every blind index after PII_BLIND_INDEX_KEY changed (needs the old key)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="Move every blind index from the old key to PII_BLIND_INDEX_KEY.",
        )
        parser.add_argument(
            "--old-blind-index-key",
            default=None,
            help=(
                "The key the indexes were made with (default: PII_OLD_BLIND_INDEX_KEY). Prefer "
                "the environment variable: a command line ends up in shell history."
            ),
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, reindex: bool, old_blind_index_key, batch_size: int, **options):
        self.batch_size = batch_size
        self.quiet = options["verbosity"] == 0
        mapping = None
        if reindex:
            old_key = old_blind_index_key or settings.PII_OLD_BLIND_INDEX_KEY
            if not old_key:
                raise CommandError(
                    "--reindex needs the previous blind-index key: set PII_OLD_BLIND_INDEX_KEY "
                    "or pass --old-blind-index-key."
                )
            mapping = self._mapping(old_key)
        for model in apps.get_models():
            if encrypted_fields(model):
                self._rewrite(model, reindex=reindex)
        if mapping is not None:
            for model in blind_indexed_models():
                for field in blind_index_fields(model):
                    self._apply(model, field, mapping.get(field.kind, {}))
        done = "re-encrypted and re-indexed" if reindex else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"personal data {done}"))

    def _progress(self, iterable, desc: str, total: int):
        return tqdm(iterable, desc=desc, total=total, disable=self.quiet, unit="rows")

    def _rows(self, model, names: list[str]):
        """All rows of `model` (base manager: no filtering), `names` loaded, in pk batches."""
        queryset = model._base_manager.order_by("pk").only("pk", *names)
        last = None
        while True:
            page = queryset if last is None else queryset.filter(pk__gt=last)
            batch = list(page[: self.batch_size])
            if not batch:
                return
            yield batch
            last = batch[-1].pk

    def _mapping(self, old_key: str) -> dict[str, dict[str, str]]:
        """{kind: {old index: new index}} from every stored plaintext, checking the old key.

        A stored index that matches neither key means the old key is wrong (or the data was
        changed by hand): nothing is written then, because mapping with a wrong key would
        strand every index-only row."""
        mapping: dict[str, dict[str, str]] = defaultdict(dict)
        wrong = 0
        for model in blind_indexed_models():
            sourced = [f for f in blind_index_fields(model) if f.source]
            if not sourced:
                continue
            names = [n for f in sourced for n in (f.source, f.attname)]
            total = model._base_manager.count()
            progress = self._progress(None, f"{model._meta.label} (reading)", total)
            for batch in self._rows(model, names):
                for row in batch:
                    for field in sourced:
                        plaintext = getattr(row, field.source)
                        if not plaintext:
                            continue
                        old, new = blind_index(plaintext, old_key), blind_index(plaintext)
                        if getattr(row, field.attname) not in (old, new):
                            wrong += 1
                        mapping[field.kind][old] = new
                progress.update(len(batch))
            progress.close()
        if wrong:
            raise CommandError(
                f"{wrong} stored blind indexes match neither the old nor the current key; "
                "check PII_OLD_BLIND_INDEX_KEY. Nothing was changed."
            )
        return mapping

    def _rewrite(self, model, *, reindex: bool) -> None:
        """Re-encrypt with the primary key; with `reindex`, recompute indexes from plaintext."""
        encrypted = [f.attname for f in encrypted_fields(model)]
        sourced = [f for f in blind_index_fields(model) if f.source] if reindex else []
        names = encrypted + [f.attname for f in sourced]
        total = model._base_manager.count()
        progress = self._progress(None, model._meta.label, total)
        for batch in self._rows(model, names):
            for row in batch:
                for field in sourced:
                    plaintext = getattr(row, field.source)
                    if plaintext:  # rows without one are mapped like index-only columns
                        setattr(row, field.attname, blind_index(plaintext))
            with transaction.atomic():
                # Saving encrypts every field again with the current primary key.
                model._base_manager.bulk_update(batch, names)
            progress.update(len(batch))
        progress.close()
        if not self.quiet:
            self.stdout.write(f"{model._meta.label}: {total} rows rewritten")

    def _apply(self, model, field: BlindIndexField, pairs: dict[str, str]) -> None:
        """Rewrite old indexes to new ones in `field`, a batch of pairs per UPDATE. Rows already
        on the new key match no old index, so a second run changes nothing."""
        pairs = {old: new for old, new in pairs.items() if old != new}
        items = list(pairs.items())
        changed = 0
        desc = f"{model._meta.label}.{field.name}"
        progress = self._progress(None, desc, len(items))
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            new_value = Case(
                *[When(**{field.attname: old}, then=Value(new)) for old, new in chunk],
                default=F(field.attname),
                output_field=CharField(),
            )
            with transaction.atomic():
                changed += model._base_manager.filter(
                    **{f"{field.attname}__in": [o for o, _n in chunk]}
                ).update(**{field.attname: new_value})
            progress.update(len(chunk))
        progress.close()
        if not self.quiet:
            self.stdout.write(f"{desc}: {changed} rows re-indexed")
