"""`manage.py ingest FILE... --type recordType --platform CompanyId`: load exchange exports.

Reads JSON Lines (.jsonl/.ndjson/.json with one object per line), CSV (.csv, header row with
the format's field names) and Parquet (.parquet, via pyarrow) in chunks of EXCHANGE_MAX_BATCH
records, each chunk through the same service as the HTTP API. After every committed chunk the
offset is saved in var/ingest-state.json, so re-running the command continues where it
stopped (use --restart to start over); re-sent records are counted unchanged.
"""

import csv
import json
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from redwheel.core.permissions import SystemActor
from redwheel.exchange import services
from redwheel.exchange.models import Source
from redwheel.exchange.records import RECORD_TYPES
from redwheel.orgs.models import Platform


def state_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "ingest-state.json"


def read_records(path: Path):
    """Yield dicts from a JSONL, CSV or Parquet file; empty cells are left out."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=5000):
            for row in batch.to_pylist():
                yield {k: v for k, v in row.items() if v is not None}
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                yield {k: v for k, v in row.items() if k and v not in (None, "")}
    else:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except ValueError:
                    yield {"__line__": number, "__error__": "invalid JSON"}


def count_records(path: Path) -> int | None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines - 1 if suffix == ".csv" else lines


class Command(BaseCommand):
    help = "Ingest exchange-format exports (JSON Lines, CSV or Parquet) for one platform."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--type", required=True, choices=RECORD_TYPES, dest="record_type")
        parser.add_argument("--platform", required=True, help="the platform's CompanyId")
        parser.add_argument("--restart", action="store_true", help="ignore saved offsets")
        parser.add_argument(
            "--chunk", type=int, default=0, help="records per batch (default EXCHANGE_MAX_BATCH)"
        )

    def handle(self, *args, files, record_type, platform, restart, chunk, **options):
        company = Platform.objects.filter(company_id=platform).first()
        if company is None:
            raise CommandError(f"No platform with CompanyId {platform}.")
        chunk = max(1, min(chunk or settings.EXCHANGE_MAX_BATCH, settings.EXCHANGE_MAX_BATCH))
        state = self._load_state()
        totals = {"received": 0, "accepted": 0, "unchanged": 0, "rejected": 0}
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            key = f"{path.resolve()}|{record_type}|{platform}"
            stat = path.stat()
            saved = state.get(key, {})
            same_file = saved.get("size") == stat.st_size and saved.get("mtime") == stat.st_mtime
            offset = 0 if restart or not same_file else saved.get("offset", 0)
            records = read_records(path)
            for _ in islice(records, offset):
                pass
            bar = tqdm(
                total=count_records(path),
                initial=offset,
                unit="rec",
                desc=path.name,
                disable=options["verbosity"] == 0,
                file=self.stderr,
            )
            while batch := list(islice(records, chunk)):
                result = services.ingest(
                    actor=SystemActor.for_platform(company.pk, f"manage.py ingest {path.name}"),
                    platform=company,
                    record_type=record_type,
                    records=batch,
                    source=Source.FILE,
                    source_name=path.name,
                )
                offset += len(batch)
                state[key] = {"offset": offset, "size": stat.st_size, "mtime": stat.st_mtime}
                self._save_state(state)
                for name in totals:
                    totals[name] += getattr(result, name)
                bar.update(len(batch))
            bar.close()
        self.stdout.write(
            "received {received}, accepted {accepted}, unchanged {unchanged}, "
            "rejected {rejected}".format(**totals)
        )

    def _load_state(self) -> dict:
        try:
            return json.loads(state_path().read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save_state(self, state: dict) -> None:
        path = state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(path)
