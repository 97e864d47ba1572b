"""Roster import benchmark: check and commit a large drivers roster through the real services.

Usage: .venv/bin/python bench/import_roster.py [--rows 50000] [--no-tracemalloc]

Builds a fresh SQLite database in a temporary directory (migrations applied), a small city,
and a valid drivers CSV of N rows (ID numbers, mobiles and plates from redwheel.testing),
then runs `import_validate` and `import_commit` exactly as the background tasks do. Reports
rows/s for each step and overall, peak Python allocations (tracemalloc) and peak resident
memory (ru_maxrss), next to the targets, and writes bench/results/import_roster.json.
Targets (docs/roster-import.md): >= 1,000 rows/s overall, peak < 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "import_roster.json"
TARGET_ROWS_PER_S = 1000.0
TARGET_PEAK_MB = 300.0


def setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def write_roster(path: Path, rows: int, company_id: str, unit: str, first_seq: int = 0) -> None:
    from redwheel.drivers.imports.parsing import DRIVER_COLUMNS
    from redwheel.testing import id_number, mobile, plate

    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.header for c in DRIVER_COLUMNS])
        for seq in range(first_seq, first_seq + rows):
            writer.writerow(
                [
                    f"司机{seq}",
                    id_number(seq),
                    mobile(seq),
                    company_id,
                    plate(seq, new_energy=seq % 3 == 0) if seq < 100_000 else "",
                    unit,
                    "",
                ]
            )


def rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def run_import(staff, unit, source: Path, rows: int) -> tuple[float, float, float, float]:
    """Check and commit one file through the services; return wall and CPU seconds of each."""
    from django.core.files import File

    from redwheel.drivers.imports import services
    from redwheel.drivers.models import ImportJob

    started, cpu_started = time.perf_counter(), time.process_time()
    with open(source, "rb") as handle:
        job = services.import_upload(
            actor=staff,
            kind="drivers",
            unit=unit,
            uploaded_file=File(handle, name=source.name),
            enqueue=False,
        )
    job = services.import_validate(job_id=job.pk)
    validate = (time.perf_counter() - started, time.process_time() - cpu_started)
    if job.status != ImportJob.Status.PREVIEWED or job.error_count:
        raise SystemExit(f"check failed: {job.status} {job.message} errors={job.error_count}")
    services.import_commit_request(actor=staff, job=job, enqueue=False)
    started, cpu_started = time.perf_counter(), time.process_time()
    job = services.import_commit(job_id=job.pk, actor_id=staff.pk)
    commit = (time.perf_counter() - started, time.process_time() - cpu_started)
    if job.status != ImportJob.Status.COMMITTED or job.created_count != rows:
        raise SystemExit(f"commit failed: {job.status} {job.message} created={job.created_count}")
    return (*validate, *commit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="skip the second, untimed pass that measures peak allocations with tracemalloc",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="redwheel-bench-import-"))
    setup_django(workdir)
    from redwheel import testing
    from redwheel.drivers.models import Driver

    city = testing.city()
    staff = testing.staff(city.root, "staff")
    source = workdir / "drivers.csv"
    started = time.perf_counter()
    write_roster(source, args.rows, city.platform_a.company_id, city.branch_a.name)
    generate_s = time.perf_counter() - started
    rss_before = rss_mb()

    # Pass 1, timed: tracemalloc off, because it slows Python down several times.
    validate_s, validate_cpu_s, commit_s, commit_cpu_s = run_import(
        staff, city.root, source, args.rows
    )
    assert Driver.objects.count() == args.rows
    peak_rss = rss_mb()

    # Pass 2, untimed: another N new drivers under tracemalloc, for the peak allocations.
    traced_peak_mb = None
    if not args.no_tracemalloc:
        second = workdir / "drivers-2.csv"
        write_roster(
            second, args.rows, city.platform_a.company_id, city.branch_a.name, first_seq=args.rows
        )
        tracemalloc.start()
        run_import(staff, city.root, second, args.rows)
        traced_peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        peak_rss = rss_mb()

    rows = args.rows
    overall = rows / (validate_s + commit_s)
    result = {
        "benchmark": "import_roster",
        "rows": rows,
        "database": "sqlite",
        "generate_s": round(generate_s, 2),
        "validate_s": round(validate_s, 2),
        "commit_s": round(commit_s, 2),
        "validate_cpu_s": round(validate_cpu_s, 2),
        "commit_cpu_s": round(commit_cpu_s, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "validate_rows_per_s": round(rows / validate_s, 1),
        "commit_rows_per_s": round(rows / commit_s, 1),
        "overall_rows_per_s": round(overall, 1),
        "tracemalloc_peak_mb": round(traced_peak_mb, 1) if traced_peak_mb is not None else None,
        "ru_maxrss_mb_before": round(rss_before, 1),
        "ru_maxrss_mb": round(peak_rss, 1),
        "target_overall_rows_per_s": TARGET_ROWS_PER_S,
        "target_peak_mb": TARGET_PEAK_MB,
        "cpu_rows_per_s": round(rows / (validate_cpu_s + commit_cpu_s), 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    peak_ok = peak_rss < TARGET_PEAK_MB and (traced_peak_mb or 0) < TARGET_PEAK_MB
    result["meets_targets"] = overall >= TARGET_ROWS_PER_S and peak_ok

    def line(label, value, target):
        print(f"{label:<28} {value:>12}   {target}")

    print(f"roster import, {rows:,} driver rows, fresh SQLite database")
    line(
        "check",
        f"{rows / validate_s:,.0f} rows/s",
        f"({validate_s:.1f} s wall, {validate_cpu_s:.1f} s CPU)",
    )
    line(
        "commit",
        f"{rows / commit_s:,.0f} rows/s",
        f"({commit_s:.1f} s wall, {commit_cpu_s:.1f} s CPU)",
    )
    line("overall", f"{overall:,.0f} rows/s", f"target >= {TARGET_ROWS_PER_S:,.0f} rows/s")
    line(
        "overall per CPU second",
        f"{result['cpu_rows_per_s']:,.0f} rows/s",
        "(what an idle core would reach)",
    )
    if traced_peak_mb is not None:
        line(
            "peak Python allocations",
            f"{traced_peak_mb:,.1f} MB",
            f"target < {TARGET_PEAK_MB:.0f} MB (tracemalloc)",
        )
    line(
        "peak resident memory",
        f"{peak_rss:,.1f} MB",
        f"target < {TARGET_PEAK_MB:.0f} MB (ru_maxrss; {rss_before:.0f} MB before import)",
    )
    print(
        f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(a busy machine lowers the wall-clock figures)"
    )
    print("meets targets" if result["meets_targets"] else "MISSES TARGETS")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if result["meets_targets"] else 2


if __name__ == "__main__":
    sys.exit(main())
