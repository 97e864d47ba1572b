"""The ingest command: JSON Lines, CSV and Parquet, resumable."""

import csv
import json
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from redwheel.exchange import services
from redwheel.exchange.management.commands import ingest as command
from redwheel.exchange.models import IngestBatch, Trip
from redwheel.exchange.tests.examples import example

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def state_file(tmp_path, monkeypatch):
    path = tmp_path / "var" / "ingest-state.json"
    monkeypatch.setattr(command, "state_path", lambda: path)
    return path


def orders(company, n):
    return [example("orderCreate", company, order_id=f"F{i}") for i in range(n)]


def run(*args):
    out = StringIO()
    call_command("ingest", *map(str, args), stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def test_jsonl_csv_and_parquet(city, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    company = city.platform_a.company_id
    records = orders(company, 7)
    jsonl = tmp_path / "orders.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:3]) + "\n")
    csv_path = tmp_path / "orders.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records[3:5])
    parquet = tmp_path / "orders.parquet"
    pq.write_table(
        pa.Table.from_pylist([{k: str(v) for k, v in r.items()} for r in records[5:]]), parquet
    )
    out = run(
        jsonl, csv_path, parquet, "--type", "orderCreate", "--platform", company, "--chunk", "2"
    )
    assert "accepted 7" in out and "rejected 0" in out
    assert Trip.objects.count() == 7
    assert set(IngestBatch.objects.values_list("source", flat=True)) == {"file"}


def test_resume_continues_after_the_last_committed_chunk(city, tmp_path, state_file):
    company = city.platform_a.company_id
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in orders(company, 5)))
    real = services.ingest
    calls = []

    def failing(**kwargs):
        calls.append(len(kwargs["records"]))
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real(**kwargs)

    with mock.patch.object(services, "ingest", failing), pytest.raises(RuntimeError):
        run(path, "--type", "orderCreate", "--platform", company, "--chunk", "2")
    assert Trip.objects.count() == 2
    assert next(iter(json.loads(state_file.read_text()).values()))["offset"] == 2
    out = run(path, "--type", "orderCreate", "--platform", company, "--chunk", "2")
    assert "received 3" in out and Trip.objects.count() == 5
    out = run(path, "--type", "orderCreate", "--platform", company, "--restart")
    assert "received 5, accepted 0, unchanged 5" in out


def test_unknown_platform(city, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n")
    with pytest.raises(CommandError):
        run(path, "--type", "orderCreate", "--platform", "NOPE")
