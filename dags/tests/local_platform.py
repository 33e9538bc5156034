"""The local platform for end-to-end DAG tests: `npx tideline start` on free loopback ports with a
private data folder, the models schedule off (the DAGs run the models), and helpers to send data
the way users do."""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import REPO_ROOT

WRITE_KEY = "local_dev_write_key"
# Bulk uploads take a server-side token (BULK_TOKENS in wrangler.toml's dev vars), never the write key.
BULK_TOKEN = "local_bulk_token"
READY_TIMEOUT_S = 240
# The edge flags other user agents (urllib's, for one) as bots, which the models leave out.
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Platform:
    env: dict[str, str]
    edge_url: str
    api_url: str
    proc: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def query(self, sql: str) -> list[dict[str, Any]]:
        token = (Path(self.env["TIDELINE_DATA_DIR"]) / "operator-api.token").read_text().strip()
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        req = urllib.request.Request(f"{self.api_url}/api/query", data=json.dumps({"sql": sql}).encode(), headers=headers)
        with urllib.request.urlopen(req, timeout=60) as res:
            rows: list[dict[str, Any]] = json.loads(res.read())["rows"]
            return rows

    def count(self, sql: str) -> int:
        return int(self.query(sql)[0]["n"])

    def wait_for(self, what: str, check: Any, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; platform log tail:\n" + "\n".join(self.log[-30:]))
            time.sleep(0.5)

    def send_events(self, anonymous_ids: list[str]) -> None:
        """Track calls through the edge, one visitor each."""
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        batch = [
            {"type": "track", "event": "Product Viewed", "anonymousId": a, "messageId": f"m-{uuid.uuid4()}", "timestamp": now, "properties": {"sku": "SKU-1"}}
            for a in anonymous_ids
        ]
        self._post("/v1/batch", json.dumps({"batch": batch}).encode(), {"content-type": "application/json", "user-agent": BROWSER, **basic_auth()})

    def upload_bulk(self, stream: str, lines: list[str]) -> dict[str, Any]:
        """A bulk file upload (POST /v1/bulk/{stream}) with the local bulk token."""
        body = gzip.compress(("\n".join(lines) + "\n").encode())
        headers = {"content-type": "application/x-ndjson", "content-encoding": "gzip", "authorization": f"Bearer {BULK_TOKEN}"}
        return self._post(f"/v1/bulk/{stream}", body, headers)

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.edge_url}{path}", data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=60) as res:
            answer: dict[str, Any] = json.loads(res.read() or b"{}")
            return answer

    def dags_test(self, dag_id: str, date: str, conf: dict[str, Any] | None = None) -> tuple[int, str]:
        """`npx tideline dags test`: Airflow from .venv/airflow, metadata under the data folder."""
        cmd = ["node", str(REPO_ROOT / "bin/tideline.js"), "dags", "test", dag_id, "--date", date]
        if conf is not None:
            cmd += ["--conf", json.dumps(conf)]
        p = subprocess.run(cmd, cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=900)
        return p.returncode, p.stdout + p.stderr

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def basic_auth() -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


def event_records(anonymous_ids: list[str], event_ts: str) -> list[str]:
    """Segment track calls as a bulk file's lines (the edge enriches them as live requests), one per visitor."""
    return [
        json.dumps(
            {
                "type": "track",
                "event": "Product Viewed",
                "anonymousId": a,
                "messageId": f"m-{uuid.uuid4()}",
                "timestamp": event_ts,
                "context": {"userAgent": BROWSER},
                "properties": {"sku": "SKU-1"},
            }
        )
        for a in anonymous_ids
    ]


def start_platform() -> Platform:
    data_dir = Path(tempfile.mkdtemp(prefix="tideline-dags-e2e-"))
    names = ("TIDELINE_EDGE_PORT", "TIDELINE_EDGE_INSPECTOR_PORT", "TIDELINE_PUBSUB_PORT", "TIDELINE_GCS_PORT", "TIDELINE_DASHBOARD_PORT")
    ports = {k: free_port() for k in names}
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "TIDELINE_DATA_DIR": str(data_dir),
        "TIDELINE_MODELS_INTERVAL": "0",
        "CI": "true",
    }
    # The pytest process's own Airflow settings (conftest) are not the CLI's.
    for k in [k for k in env if k.startswith("AIRFLOW") or k in ("PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "TIDELINE_ENV")]:
        env.pop(k)
    proc = subprocess.Popen(
        ["node", str(REPO_ROOT / "bin/tideline.js"), "start"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    p = Platform(env=env, edge_url=f"http://127.0.0.1:{ports['TIDELINE_EDGE_PORT']}", api_url=f"http://127.0.0.1:{ports['TIDELINE_DASHBOARD_PORT']}", proc=proc)
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            p.log.append(line.rstrip())
            if "ready. Listening" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.wait(0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            p.stop()
            raise RuntimeError("the local platform did not start:\n" + "\n".join(p.log[-40:]))
    return p
