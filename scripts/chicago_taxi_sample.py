"""Rebuild docs/examples/chicago-taxi/ from the Chicago taxi trips shipped inside the `tfx` wheel.

The TFX project (Apache-2.0) ships 15,002 trips taken from the City of Chicago's public "Taxi
Trips" dataset as example data; 14,519 of them have pickup and drop-off points. This script
downloads the wheel from PyPI (no other network access is needed), and writes:

- ``orders.csv`` in the dispatch engine's CSV format, every trip folded into one day by its
  time of day. The source rounds start times to 15 minutes, so each trip gets a seeded uniform
  offset within its quarter hour (otherwise 150 orders would arrive in the same second);
- ``speed-profile.json``: 24 hourly speeds (km/h) from the trips' own miles and seconds.

Run: ``.venv/bin/python scripts/chicago_taxi_sample.py`` (same output every time).
"""

import csv
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redwheel.dispatch.engine.environment import speed_profile_from_trips  # noqa: E402

WHEEL = "tfx==1.21.0"
MEMBER = "tfx/examples/chicago_taxi_pipeline/data/simple/data.csv"
OUT = ROOT / "docs" / "examples" / "chicago-taxi"
SEED = 20140315
KM_PER_MILE = 1.609344


def source_rows() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-q", "-d", tmp],
            check=True,
        )
        wheel = next(Path(tmp).glob("tfx-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            text = archive.read(MEMBER).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def main() -> None:
    rows = [r for r in source_rows() if r["pickup_latitude"] and r["dropoff_latitude"]]
    rows.sort(key=lambda r: (int(r["trip_start_timestamp"]), r["pickup_latitude"]))
    rng = np.random.default_rng(SEED)
    quarter_start = np.array([int(r["trip_start_timestamp"]) % 86_400 for r in rows], float)
    # The source's timestamps are local wall-clock times stored as if UTC, rounded to 15 min.
    times = np.minimum(quarter_start + rng.uniform(0.0, 900.0, len(rows)), 86_399.0)
    order = np.argsort(times, kind="stable")
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "orders.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["order_id", "time", "origin_lng", "origin_lat", "dest_lng", "dest_lat"])
        for n, i in enumerate(order, start=1):
            r = rows[i]
            writer.writerow(
                [
                    f"CHI{n:05d}",
                    f"{times[i]:.0f}",
                    r["pickup_longitude"],
                    r["pickup_latitude"],
                    r["dropoff_longitude"],
                    r["dropoff_latitude"],
                ]
            )
    hours = np.array([int(r["trip_start_hour"]) for r in rows])
    km = np.array([float(r["trip_miles"] or 0) * KM_PER_MILE for r in rows])
    seconds = np.array([float(r["trip_seconds"] or 0) for r in rows])
    profile = speed_profile_from_trips(hours, km * 1000.0, seconds)
    (OUT / "speed-profile.json").write_text(
        json.dumps([round(v, 1) for v in profile], indent=None) + "\n"
    )
    print(f"{len(rows)} trips → {OUT / 'orders.csv'}; speed profile → speed-profile.json")


if __name__ == "__main__":
    main()
