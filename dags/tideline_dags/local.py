"""The local profile: each task drives the local platform of `npm start` through the `tideline`
CLI (models run, backfill), its operator API (POST /api/query, read-only SQL) and the emulators
(Pub/Sub, Cloud Storage). Imported only by tasks, never at DAG-parse time."""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import logging
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException, AirflowFailException

log = logging.getLogger(__name__)

RAW_TABLES = {"events": "raw.events", "webhooks": "raw.webhooks", "cdc": "raw.cdc_changes"}
QUERY_TIMEOUT_S = 60
ERROR_TAIL_LINES = 15
ID_CHUNK = 500


def repo_root() -> Path:
    return Path(os.environ.get("TIDELINE_ROOT") or Path(__file__).resolve().parents[2])


@functools.cache
def defaults() -> dict[str, Any]:
    """contracts/defaults.ts as `npm run generate` writes it for Python: project, ports, names."""
    path = repo_root() / "contracts" / "generated" / "defaults.json"
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def port(name: str) -> int:
    spec = defaults()["ports"][name]
    return int(os.environ.get(spec["env"]) or spec["port"])


def dashboard_port() -> int:
    return port("dashboard")


def data_dir() -> Path:
    return Path(os.environ.get("TIDELINE_DATA_DIR") or repo_root() / ".data")


def api_request(path: str, body: Any = None) -> urllib.request.Request:
    """A request to the running platform's operator API with this run's token (docs/operator-api.md)."""
    token_file = data_dir() / "operator-api.token"
    try:
        token = token_file.read_text().strip()
    except FileNotFoundError:
        raise AirflowException(
            f"no operator API token at {token_file}: the local platform is not running; start it with `npm start`"
            " (or point TIDELINE_DATA_DIR at its data folder)"
        ) from None
    headers = {"authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body).encode()
    return urllib.request.Request(f"http://127.0.0.1:{dashboard_port()}{path}", data=data, headers=headers, method="POST" if data else "GET")


def pubsub_host() -> str:
    return os.environ.get("PUBSUB_EMULATOR_HOST") or f"{defaults()['host']}:{port('pubsub')}"


def storage_host() -> str:
    return os.environ.get("STORAGE_EMULATOR_HOST") or f"http://{defaults()['host']}:{port('gcs')}"


def project() -> str:
    return os.environ.get("TIDELINE_PROJECT") or str(defaults()["project"])


class QueryFailed(AirflowException):
    pass


def query(sql: str) -> list[dict[str, Any]]:
    """Read-only SQL on the local warehouse through the running platform's operator API."""
    req = api_request("/api/query", {"sql": sql})
    try:
        with urllib.request.urlopen(req, timeout=QUERY_TIMEOUT_S) as res:
            body = json.loads(res.read())
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]["message"]
        raise QueryFailed(f"the local warehouse rejected the query ({e.code}): {detail}\n  SQL: {sql}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        raise AirflowException(
            f"the local platform does not answer on 127.0.0.1:{dashboard_port()} ({e}): start it with `npm start`"
            " (or point TIDELINE_DASHBOARD_PORT at its operator API)"
        ) from None
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def check_platform() -> dict[str, Any]:
    """Fails the run's first task when the local platform or the CLI is not there."""
    root = repo_root()
    problems = []
    if not (root / "bin" / "tideline.js").exists():
        problems.append(f"  no tideline checkout at {root}: set TIDELINE_ROOT to the project folder")
    elif not (root / "node_modules").is_dir():
        problems.append(f"  {root}/node_modules is missing: run `npm install` there")
    if shutil.which(os.environ.get("TIDELINE_NODE", "node")) is None:
        problems.append("  node is not on PATH: install Node 20 (or set TIDELINE_NODE)")
    try:
        query("SELECT 1 AS ok")
    except AirflowException as e:
        problems.append(f"  {e}")
    if problems:
        raise AirflowFailException("the local profile cannot run:\n" + "\n".join(problems))
    return {"root": str(root), "dashboard_port": dashboard_port(), "pubsub": pubsub_host(), "storage": storage_host()}


def run_cli(*args: str) -> str:
    """`npx tideline <args>` in the project folder, its output streamed to the task log; the error
    names the command and ends with its last lines (a failing model and assertion, for instance)."""
    root = repo_root()
    cmd = [os.environ.get("TIDELINE_NODE", "node"), str(root / "bin" / "tideline.js"), *args]
    shown = "npx tideline " + " ".join(args)
    log.info("running %s", shown)
    tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
    out: list[str] = []
    with subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()) as p:
        assert p.stdout is not None
        for line in p.stdout:
            line = line.rstrip("\n")
            log.info("%s", line)
            tail.append(line)
            out.append(line)
    if p.returncode != 0:
        raise AirflowException(f"`{shown}` failed (exit {p.returncode}):\n" + "\n".join(tail))
    return "\n".join(out)


def pull_landing_objects(subscription: str, max_messages: int = 100) -> list[str]:
    """Object names of new bulk uploads announced on the emulator's subscription (acknowledged)."""
    from google.cloud import pubsub_v1

    os.environ.setdefault("PUBSUB_EMULATOR_HOST", pubsub_host())
    client = pubsub_v1.SubscriberClient()
    path = client.subscription_path(project(), subscription)
    try:
        resp = client.pull(request={"subscription": path, "max_messages": max_messages}, timeout=10)
        messages = list(resp.received_messages)
        if messages:
            client.acknowledge(request={"subscription": path, "ack_ids": [m.ack_id for m in messages]})
    finally:
        client.close()
    return landing_objects([dict(m.message.attributes) for m in messages])


def landing_objects(attributes: list[dict[str, str]]) -> list[str]:
    """The landing objects named by OBJECT_FINALIZE notifications, in order, each once."""
    seen: dict[str, None] = {}
    for a in attributes:
        name = a.get("objectId", "")
        if a.get("eventType") == "OBJECT_FINALIZE" and name.startswith("landing/"):
            seen[name] = None
    return list(seen)


def read_landing_object(bucket: str, name: str) -> bytes:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    os.environ.setdefault("STORAGE_EMULATOR_HOST", storage_host())
    client = storage.Client(project=project(), credentials=AnonymousCredentials())
    data: bytes = client.bucket(bucket).blob(name).download_as_bytes(raw_download=True)
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def stream_of(name: str) -> str:
    parts = name.split("/")
    if len(parts) < 3 or parts[0] != "landing" or parts[1] not in RAW_TABLES:
        raise AirflowFailException(f"{name} is not a landing upload (landing/<events|webhooks|cdc>/…)")
    return parts[1]


def event_ids(ndjson: bytes) -> list[str]:
    ids: dict[str, None] = {}
    for line in ndjson.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("event_id"), str):
            ids[rec["event_id"]] = None
    return list(ids)


def _sql_list(ids: list[str]) -> str:
    return ", ".join("'" + i.replace("'", "''") + "'" for i in ids)


def count_loaded(table: str, ids: list[str]) -> int:
    """How many of the ids are in the table or were dead-lettered (both mean: the upload was processed)."""
    n = 0
    for i in range(0, len(ids), ID_CHUNK):
        chunk = _sql_list(ids[i : i + ID_CHUNK])
        rows = query(
            f"SELECT COUNT(DISTINCT event_id) AS n FROM (SELECT event_id FROM {table} WHERE event_id IN ({chunk})"
            f" UNION ALL SELECT event_id FROM ops.dead_letters WHERE event_id IN ({chunk})) AS t"
        )
        n += int(rows[0]["n"])
    return n


def wait_until_loaded(bucket: str, objects: list[str], timeout_s: float, poll_s: float = 2.0) -> dict[str, int]:
    """Waits for the platform's landing loader (the batch pipeline on the local runner, fed by the
    landing bucket's notifications) to have processed every record of the objects."""
    done: dict[str, int] = {}
    for name in objects:
        table = RAW_TABLES[stream_of(name)]
        ids = event_ids(read_landing_object(bucket, name))
        deadline = time.monotonic() + timeout_s
        while True:
            found = count_loaded(table, ids)
            if found >= len(ids):
                log.info("%s: all %d records loaded into %s (or dead-lettered with the reason)", name, len(ids), table)
                done[name] = len(ids)
                break
            if time.monotonic() > deadline:
                raise AirflowException(
                    f"{name}: {len(ids) - found} of {len(ids)} records are not in {table} after {timeout_s:.0f} s;"
                    " is the platform's landing loader running (npm start), and did the upload reach it?"
                )
            time.sleep(poll_s)
    return done
