"""The soak run's report: figures per stream, the exactly-once tallies and the verdict, printed
and written to bench/results/soak.json."""

from __future__ import annotations

import json
import os
import platform as py_platform
import re
from pathlib import Path

TARGET_LOOKUP_P99_MS = 25.0


def _pct(values, q):
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if values else 0


def tracebacks(path: Path) -> list[str]:
    text = path.read_text(errors="replace") if path.exists() else ""
    blocks = re.findall(r"Traceback \(most recent call last\):.*?(?=\n\S[^\n]*\n\S|\Z)", text, re.S)
    return [b[-1500:] for b in blocks[:5]] + ([f"... {len(blocks)} in all"] if blocks else [])


def summarise(load: dict) -> dict:
    """Per stream and request name: count, statuses, p50/p99 from due time and from send."""
    out = {}
    for key, stream in load["streams"].items():
        rows, every = {}, []
        for name, row in stream["by_name"].items():
            every += row["scheduled"]
            rows[name] = {
                "requests": len(row["scheduled"]),
                "statuses": row["statuses"],
                "p50_ms": _pct(row["scheduled"], 0.5),
                "p99_ms": _pct(row["scheduled"], 0.99),
                "p99_from_send_ms": _pct(row["service"], 0.99),
                "max_ms": _pct(row["scheduled"], 1.0),
            }
        rate = stream["done"] / load["elapsed_s"]
        out[key] = {
            "target_per_s": round(stream["target_rate"], 2),
            "achieved_per_s": round(rate, 2),
            "scheduled": stream["scheduled"],
            "requests": stream["done"],
            "errors": stream["errors"],
            "error_samples": stream["error_samples"],
            "stale_connections_reopened": stream.get("stale_connections_reopened", 0),
            "p50_ms": _pct(every, 0.5),
            "p99_ms": _pct(every, 0.99),
            "by_name": rows,
        }
    return out


def report(args, load, drained, checks, cpu, loads, paths) -> None:
    (cpu_before, cpu_after), (load_before, load_after), (logs, results, root) = cpu, loads, paths
    streams = summarise(load)
    elapsed = load["elapsed_s"]
    cpu = {k: round(cpu_after[k] - cpu_before.get(k, 0.0), 1) for k in cpu_after}
    cpu["load_generator"] = round(load["client_cpu_s"], 1)
    records_ok = sum(args.batch_size for v in load["ledger"]["batches"].values() if v == "ok")
    errors = sum(s["errors"] for s in streams.values())
    lost = dup = 0
    for c in checks["exchange"].values():
        lost += (
            c.get("missing", 0) + c.get("never_sent", 0) + c.get("partly_stored_failed_batches", 0)
        )
        dup += c.get("duplicated", 0)
    for name, c in checks["drivers"].items():
        if name == "webhooks":
            lost += c["not_sent"] + c["never_received"] + abs(c["badge_rows_vs_events"])
            continue
        lost += c["missing"] + c.get("wrong_case", 0) + c.get("wrong_final_state", 0)
        dup += c["duplicated"] + c.get("forked_answers", 0)
    lost += checks["badge_lookup_after_switches"]["stale"]
    lookup_p99 = streams["lookup"]["p99_ms"]
    verdict = {
        "errors": errors,
        "lost": lost,
        "duplicated": dup,
        "lookup_p99_ms": lookup_p99,
        "lookup_p99_target_ms": TARGET_LOOKUP_P99_MS,
        "drained": drained["drained"],
        "exactly_once": lost == 0 and dup == 0 and drained["drained"],
        # The target: no error, nothing lost or stored twice. The look-up p99 is shown
        # beside the design target of look-ups alone (bench/lookup.py); here they share two
        # cores with 5,000 ingested records a second, so it is reported, not judged.
        "pass": errors == 0 and lost == 0 and dup == 0 and drained["drained"],
    }
    result = {
        "benchmark": "soak run with exactly-once check",
        "minutes": args.minutes,
        "stack": {
            "server": f"gunicorn gthread, {args.workers} workers x {args.threads} threads",
            "task_workers": 1,
            "database": "postgresql",
            "cache": "redis",
        },
        "drivers": args.drivers,
        "driver_sessions": args.accounts,
        "ingested_records_ok": records_ok,
        "ingest_records_per_s": round(records_ok / elapsed, 1),
        "streams": streams,
        "drain": drained,
        "checks": checks,
        "cpu_seconds": cpu,
        "cpu_cores_busy": {k: round(v / elapsed, 2) for k, v in cpu.items()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "server_tracebacks": tracebacks(logs / "gunicorn.log"),
        "worker_tracebacks": tracebacks(logs / "worker.log"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": py_platform.python_version(),
            "note": "shared machine: other processes' load is included in the figures",
        },
        "verdict": verdict,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nsoak {args.minutes:g} min, {elapsed:.0f} s of load:")
    for key, s in streams.items():
        unit = " records" if key == "ingest" else ""
        factor = args.batch_size if key == "ingest" else 1
        print(
            f"  {key:7s} {s['achieved_per_s'] * factor:8,.1f}{unit}/s "
            f"of {s['target_per_s'] * factor:,.1f}"
            f"  p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:8.1f} ms  errors {s['errors']}"
            f"  (stale keep-alive connections re-opened: {s['stale_connections_reopened']})"
        )
        for name, row in s["by_name"].items():
            print(
                f"      {name:20s} {row['requests']:7d}  p50 {row['p50_ms']:7.1f}  "
                f"p99 {row['p99_ms']:8.1f} ms  {row['statuses']}"
            )
    print("  cpu cores busy: " + ", ".join(f"{k} {v}" for k, v in result["cpu_cores_busy"].items()))
    print(f"  load average {load_before[0]:.1f} -> {load_after[0]:.1f}; drain {drained}")
    for table, c in checks["exchange"].items():
        print(f"  exchange {table:15s} {c}")
    for action, c in checks["drivers"].items():
        print(f"  driver {action:17s} {c}")
    print(f"  badge look-up after switches {checks['badge_lookup_after_switches']}")
    if result["server_tracebacks"] or result["worker_tracebacks"]:
        print(f"  tracebacks in {logs.relative_to(root)}/ (see soak.json)")
    print(
        f"VERDICT {'PASS' if verdict['pass'] else 'FAIL'}: errors {errors} (target 0), lost {lost}"
        f" (target 0), duplicated {dup} (target 0), worker drained: {drained['drained']}; "
        f"look-up p99 {lookup_p99} ms under the mixed load (look-ups alone: <= "
        f"{TARGET_LOOKUP_P99_MS:g} ms, bench/lookup.py)"
    )
    print(f"wrote {results.relative_to(root)}")
