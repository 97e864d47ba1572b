"""The soak run's load generator: one process, one asyncio thread, four open-loop streams.

Run by bench/soak.py as `python bench/soak_load.py SPEC.json`; writes the outcome (latencies,
statuses, and the ledger of what was sent for the exactly-once check) to spec["out"].

Each stream's request i is due at start + i / rate whatever happened to earlier ones, and its
latency runs from that due time (no coordinated omission). A stream keeps at most `inflight`
requests open; past that, due requests wait for a slot (and that wait counts). Writes that end
in a timeout, a connection error or a 5xx are sent again, unchanged, up to RETRIES times, as a
platform or a phone would: each failed try is reported as an error, and the check at the end
proves the retries stored nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak_feed

RETRIES = 3
ERRORS = (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError)


class Http:
    """Keep-alive HTTP/1.1 connections to the server, reused across requests of a stream."""

    def __init__(self, port: int):
        self.port = port
        self.idle: list = []
        # Kept-alive connections the server had closed by the time they were reused: the
        # request is sent again on a new connection, as HTTP clients do (RFC 9112, 9.3.1: no
        # byte of a response had arrived). Reported, not counted as errors.
        self.stale_reused = 0

    async def request(self, method, path, headers="", body=b"", timeout=10.0):
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        conn = self.idle.pop() if self.idle else None
        reused = conn is not None
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", self.port)
            status, response_headers, content = await asyncio.wait_for(
                self._exchange(conn, head + body), timeout
            )
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            conn[1].close()
            nothing_read = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
            if not (reused and nothing_read):
                raise
            self.stale_reused += 1
            conn = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                status, response_headers, content = await asyncio.wait_for(
                    self._exchange(conn, head + body), timeout
                )
            except BaseException:
                conn[1].close()
                raise
        except BaseException:
            if conn is not None:
                conn[1].close()
            raise
        if response_headers.get("connection", "").lower() == "close":
            conn[1].close()
        else:
            self.idle.append(conn)
        return status, response_headers, content

    @staticmethod
    async def _exchange(conn, raw: bytes):
        reader, writer = conn
        writer.write(raw)
        await writer.drain()
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            content = b""
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                content += await reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            length = int(headers.get("content-length", "0"))
            content = await reader.readexactly(length) if length else b""
        return status, headers, content


class Stream:
    """Figures of one stream: per request name, latency from due time and from send."""

    def __init__(self, name: str, rate: float, inflight: int):
        self.name, self.rate = name, rate
        self.slots = asyncio.Semaphore(inflight)
        self.by_name: dict[str, dict] = {}
        self.window: list[float] = []
        self.done = self.errors = self.scheduled_total = 0
        self.error_samples: list[str] = []

    def note(self, name, due, sent, status, ok: bool, loop, error: str = ""):
        now = loop.time()
        row = self.by_name.setdefault(name, {"scheduled": [], "service": [], "statuses": {}})
        row["scheduled"].append(round(now - due, 5))
        row["service"].append(round(now - sent, 5))
        key = str(status)
        row["statuses"][key] = row["statuses"].get(key, 0) + 1
        self.window.append(now - due)
        self.done += 1
        if not ok:
            self.errors += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{name}: {status} {error}"[:400])


async def _try(http, stream, name, due, loop, method, path, headers, body, timeout, expect):
    """One request, retried while it fails in a way a client would retry. Returns the last
    (status, headers, content) or None if every try failed."""
    for attempt in range(RETRIES + 1):
        sent = loop.time()
        try:
            status, h, content = await http.request(method, path, headers, body, timeout)
        except ERRORS as exc:
            stream.note(name, due, sent, "error", False, loop, f"{type(exc).__name__} {exc}")
        else:
            ok = expect(status, h, content)
            stream.note(name, due, sent, status, ok, loop, content[:200].decode("utf-8", "replace"))
            if ok or status < 500:
                return status, h, content
        if attempt < RETRIES:
            await asyncio.sleep(1.0)
    return None


async def run_stream(stream, deadline_count, make_one, loop, start):
    tasks = []
    for i in range(deadline_count):
        due = start + i / stream.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await stream.slots.acquire()
        stream.scheduled_total += 1

        async def one(i=i, due=due):
            try:
                await make_one(i, due)
            finally:
                stream.slots.release()

        tasks.append(asyncio.ensure_future(one()))
        if len(tasks) > 2000:
            tasks = [t for t in tasks if not t.done()]
    await asyncio.gather(*tasks)


def _p(values, q):
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if values else 0


async def main(spec: dict) -> dict:
    loop = asyncio.get_running_loop()
    port, seconds = spec["port"], spec["seconds"]
    start = loop.time() + 0.5
    rng = random.Random(18)
    streams, makers = {}, {}

    # Look-ups: badges and scores alternately, 100 LicenseIds each (10% unknown).
    lk = spec["lookup"]
    streams["lookup"] = Stream("lookup", lk["rate"], 256)
    lookup_http = Http(port)
    bodies = []
    for n in range(2000):
        ids = [
            rng.choice(lk["licenses"]) if rng.random() > 0.1 else f"X{n}{k}"
            for k in range(lk["batch"])
        ]
        bodies.append(json.dumps({"license_ids": ids}).encode())
    lookup_headers = f"Authorization: Bearer {lk['token']}\r\nContent-Type: application/json\r\n"

    async def lookup(i, due):
        name = "badges" if i % 2 == 0 else "scores"
        await _try(
            lookup_http,
            streams["lookup"],
            name,
            due,
            loop,
            "POST",
            f"/api/v1/{name}:lookup",
            lookup_headers,
            bodies[i % len(bodies)],
            10.0,
            lambda s, h, c: s == 200,
        )

    makers["lookup"] = lookup

    # Exchange ingestion: batch n of the feed; the ledger keeps each batch's outcome.
    ing = spec["ingest"]
    streams["ingest"] = Stream("ingest", ing["rate"] / ing["size"], 32)
    ingest_http = Http(port)
    ingest_headers = f"Authorization: Bearer {ing['token']}\r\nContent-Type: application/json\r\n"
    ledger_batches: dict[int, str] = {}

    def batch_ok(status, headers, content):
        if status != 200:
            return False
        data = json.loads(content)
        return data["rejected"] == 0 and data["accepted"] + data["unchanged"] == data["received"]

    async def ingest(i, due):
        record_type, records = soak_feed.batch(i, ing["size"], ing["licenses"], ing["base"])
        ledger_batches[i] = "sent"
        result = await _try(
            ingest_http,
            streams["ingest"],
            record_type,
            due,
            loop,
            "POST",
            f"/api/v1/exchange/{record_type}",
            ingest_headers,
            json.dumps(records).encode(),
            60.0,
            batch_ok,
        )
        ledger_batches[i] = "ok" if result and batch_ok(*result) else "failed"

    makers["ingest"] = ingest

    # Drivers on their phones: file an appeal (every fifth one double-submitted at once),
    # switch the badge, withdraw one of their own cases with a reason of their own.
    drv = spec["driver"]
    streams["driver"] = Stream("driver", drv["rate"], 32)
    driver_http = Http(port)
    people = drv["drivers"]
    members = [p for p in people if p["member"]]
    consent = {p["driver_id"]: p["consented"] for p in members}
    filed: list[tuple[dict, int]] = []  # (person, case pk) not withdrawn yet
    ledger_files, ledger_toggles, ledger_withdraws = [], [], []
    toggles_sent = [0]  # round-robin over the members: one driver's switches never overlap

    def form_headers(person):
        return (
            f"Cookie: sessionid={person['session']}; csrftoken={person['csrf']}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
        )

    def redirect_to(prefix):
        return lambda s, h, c: s == 302 and h.get("location", "").startswith(prefix)

    async def driver_action(i, due):
        kind = ("file", "file", "toggle", "file", "withdraw", "file", "toggle", "withdraw")[i % 8]
        if kind == "withdraw" and not filed:
            kind = "file"
        if kind == "file":
            person = people[i % len(people)]
            key = f"soak-{i}"
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": person["csrf"],
                    "idempotency_key": key,
                    "category": "income",
                    "title": f"抽成问题 {key}",
                    "description": f"压力测试申诉 {key}：平台抽成比例不透明。",
                }
            ).encode()
            copies = 2 if i % 5 == 0 else 1
            results = await asyncio.gather(
                *[
                    _try(
                        driver_http,
                        streams["driver"],
                        "appeal_file",
                        due,
                        loop,
                        "POST",
                        "/me/appeals/new/",
                        form_headers(person),
                        body,
                        30.0,
                        redirect_to("/appeals/"),
                    )
                    for _ in range(copies)
                ]
            )
            pks = {
                int(r[1]["location"].strip("/").split("/")[-1])
                for r in results
                if r and r[0] == 302 and r[1].get("location", "").startswith("/appeals/")
            }
            ledger_files.append(
                {"key": key, "user_id": person["user_id"], "copies": copies, "pks": sorted(pks)}
            )
            if len(pks) == 1:
                filed.append((person, pks.pop()))
        elif kind == "toggle":
            person = members[toggles_sent[0] % len(members)]
            toggles_sent[0] += 1
            wanted = not consent[person["driver_id"]]
            consent[person["driver_id"]] = wanted
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": person["csrf"], "consented": "1" if wanted else "0"}
            ).encode()
            result = await _try(
                driver_http,
                streams["driver"],
                "badge_switch",
                due,
                loop,
                "POST",
                "/me/badge/",
                form_headers(person),
                body,
                30.0,
                redirect_to("/me/badge/"),
            )
            ok = bool(result and result[0] == 302)
            ledger_toggles.append({"driver_id": person["driver_id"], "consented": wanted, "ok": ok})
        else:
            person, pk = filed.pop(rng.randrange(len(filed)))
            text = f"问题已自行解决 soak-w{i}"
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": person["csrf"], "text": text}
            ).encode()
            result = await _try(
                driver_http,
                streams["driver"],
                "appeal_withdraw",
                due,
                loop,
                "POST",
                f"/appeals/{pk}/do/withdraw/",
                form_headers(person),
                body,
                30.0,
                redirect_to(f"/appeals/{pk}/"),
            )
            ledger_withdraws.append({"case": pk, "text": text, "ok": bool(result)})

    makers["driver"] = driver_action

    # Staff pages: the committee's staff and a platform's secretary, signed in by the form.
    st = spec["staff"]
    streams["staff"] = Stream("staff", st["rate"], 16)
    staff_http = Http(port)

    async def staff_page(i, due):
        session = st["sessions"][i % len(st["sessions"])]
        name, path = st["pages"][i % len(st["pages"])]
        if name == "case_detail":
            if not filed:
                name, path = st["pages"][0]
            else:
                path = f"/appeals/{filed[-1][1]}/"
        elif name == "driver_detail":
            path = path.format(pk=rng.choice(st["driver_ids"]))
        await _try(
            staff_http,
            streams["staff"],
            name,
            due,
            loop,
            "GET",
            path,
            f"Cookie: sessionid={session}\r\n",
            b"",
            30.0,
            lambda s, h, c: s == 200,
        )

    makers["staff"] = staff_page

    async def progress():
        last = {k: 0 for k in streams}
        while True:
            await asyncio.sleep(spec["progress_s"])
            elapsed = loop.time() - start
            parts = []
            for key, s in streams.items():
                window, s.window = s.window, []
                rate = (s.done - last[key]) / spec["progress_s"]
                last[key] = s.done
                unit = rate * ing["size"] if key == "ingest" else rate
                parts.append(f"{key} {unit:,.0f}/s p99 {_p(window, 0.99):,.0f} ms err {s.errors}")
            load = os.getloadavg()[0]
            print(f"[{elapsed:5.0f} s] " + "; ".join(parts) + f"; load {load:.1f}", flush=True)

    ticker = asyncio.ensure_future(progress())
    cpu = time.process_time()
    await asyncio.gather(
        *[
            run_stream(s, int(s.rate * seconds), makers[key], loop, start)
            for key, s in streams.items()
        ]
    )
    elapsed = loop.time() - start
    ticker.cancel()
    clients = {
        "lookup": lookup_http,
        "ingest": ingest_http,
        "driver": driver_http,
        "staff": staff_http,
    }
    return {
        "elapsed_s": elapsed,
        "client_cpu_s": time.process_time() - cpu,
        "streams": {
            key: {
                "target_rate": s.rate,
                "scheduled": s.scheduled_total,
                "done": s.done,
                "errors": s.errors,
                "error_samples": s.error_samples,
                "by_name": s.by_name,
                "stale_connections_reopened": clients[key].stale_reused,
            }
            for key, s in streams.items()
        },
        "ledger": {
            "batches": ledger_batches,
            "files": ledger_files,
            "toggles": ledger_toggles,
            "withdraws": ledger_withdraws,
        },
    }


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    out = asyncio.run(main(spec))
    Path(spec["out"]).write_text(json.dumps(out))
