"""`npm run bench:beam-freshness`: streaming freshness of the Beam pipeline on the local
DirectRunner: an event published to the Pub/Sub emulator → its row visible in raw.events of the
BigQuery emulator (bqemulator), written by `python -m tideline_beam --source pubsub` through the
production BigQuery sink. After one warm-up event (the pipeline's start), BENCH_EVENTS events
(default 50) are published one every BENCH_INTERVAL_MS (default 500), each with its event time at
publish; a poller reads the event ids every POLL_S and the latency of an event is the first poll that
sees it minus its publish time (so each figure is late by up to POLL_S). Printed, not asserted.

Runs with the Beam venv (`bash infra/local/setup.sh beam`) and needs gcloud's Pub/Sub emulator and
bqemulator (`bash infra/local/setup.sh bqemulator`), as the end-to-end tests do."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

BEAM = Path(__file__).resolve().parents[1] / "pipeline" / "beam"
sys.path.insert(0, str(BEAM))

# The end-to-end tests' helpers: the same emulators, publisher and queries.
from tests.emulators import PROJECT, start_bigquery, start_pubsub  # noqa: E402
from tests.records import event_record  # noqa: E402
from tests.test_e2e_emulators import bigquery, create_subscriptions, env_of, publish, warehouse_args  # noqa: E402
from tideline_beam.jsvalues import iso_from_ms  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "50"))
INTERVAL_S = int(os.environ.get("BENCH_INTERVAL_MS", "500")) / 1000
POLL_S = 0.25
FLUSH_S = 1


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-beam-freshness-"))
    started = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        pubsub = start_pubsub(tmp)
        started.append(pubsub)
        bq, rest, grpc = start_bigquery(tmp)
        started.append(bq)
        stack = {**pubsub.env, "STORAGE_EMULATOR_HOST": "", "rest": rest, "grpc": grpc}  # no Cloud Storage in a Pub/Sub run
        create_subscriptions(stack, ["events"])
        client = bigquery(stack)
        since = datetime.now(UTC).date().isoformat()
        log = tmp / "pipeline.log"
        argv = [sys.executable, "-m", "tideline_beam", "--project", PROJECT, "--source", "pubsub", "--streams", "events", "--runner", "DirectRunner"]
        argv += [*warehouse_args(stack, ""), "--flush_interval_s", str(FLUSH_S)]
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, cwd=BEAM, env=env_of(stack), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

        seen: dict[str, float] = {}
        stop = threading.Event()

        def poll() -> None:
            sql = f"SELECT event_id FROM `{PROJECT}.raw.events` WHERE event_date >= DATE '{since}'"
            while not stop.is_set():
                try:
                    ids = [r[0] for r in client.query(sql).result()]
                except Exception:  # the table appears with the pipeline's first write
                    ids = []
                at = time.monotonic()
                for i in ids:
                    seen.setdefault(i, at)
                time.sleep(POLL_S)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()

        def now_iso() -> str:
            return iso_from_ms(int(time.time() * 1000))

        warm = event_record(0, now_iso())
        t0 = time.monotonic()
        publish(stack, "events", [warm])
        while warm["event_id"] not in seen:
            if proc.poll() is not None or time.monotonic() - t0 > 300:
                raise SystemExit(f"the pipeline did not land the warm-up event:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(POLL_S)
        print(f"warm-up (pipeline start → first row): {time.monotonic() - t0:.1f} s")

        published: dict[str, float] = {}
        for i in range(1, EVENTS + 1):
            r = event_record(i, now_iso())
            published[r["event_id"]] = time.monotonic()
            publish(stack, "events", [r])
            time.sleep(INTERVAL_S)
        deadline = time.monotonic() + 120
        while not all(k in seen for k in published) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        stop.set()
        poller.join()

        latencies = [seen[k] - t for k, t in published.items() if k in seen]
        missing = len(published) - len(latencies)
        print(f"events: {EVENTS}, one every {INTERVAL_S * 1000:.0f} ms; pipeline --flush_interval_s {FLUSH_S}; poll every {POLL_S * 1000:.0f} ms")
        if missing:
            print(f"{missing} of {EVENTS} events not visible within 120 s of the last publish: the figures below leave them out")
        if latencies:
            print(
                f"publish → row in bqemulator: p50 {percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
                f"max {max(latencies):.2f} s (target p95 ≤ 10 s)"
            )
            # A write path slower than the arrivals shows as latencies growing through the run.
            tenth = max(1, len(latencies) // 10)
            print(f"first {tenth} events: mean {statistics.mean(latencies[:tenth]):.2f} s; last {tenth}: mean {statistics.mean(latencies[-tenth:]):.2f} s")
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for e in reversed(started):
            e.stop()


if __name__ == "__main__":
    main()
