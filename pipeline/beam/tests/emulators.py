"""The real local stand-ins the end-to-end tests run against, each on free ports of 127.0.0.1 in a
process group of its own: the Pub/Sub emulator (gcloud), fake-gcs-server (.tools/bin/gcs-emulator,
built by npm install) and the BigQuery emulator (bqemulator, .venv/bqemulator from
infra/local/setup.sh bqemulator)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "tideline-local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return 200 <= r.status < 300
    except OSError:
        return False


@dataclass
class Emulator:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _start(
    name: str, argv: list[str], ready: Callable[[], bool], log: Path, env: dict[str, str] | None = None, timeout_s: float = 90
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"the {name} did not start (log {log}):\n{tail}")
        time.sleep(0.3)
    return proc


def start_pubsub(tmp: Path) -> Emulator:
    if shutil.which("gcloud") is None:
        pytest.fail("the Pub/Sub emulator needs the Google Cloud SDK (gcloud with the beta and pubsub-emulator components)")
    port = free_port()
    (tmp / "pubsub").mkdir(exist_ok=True)
    argv = [
        "gcloud",
        "beta",
        "emulators",
        "pubsub",
        "start",
        f"--host-port=127.0.0.1:{port}",
        f"--data-dir={tmp / 'pubsub'}",
        f"--project={PROJECT}",
        "--quiet",
    ]
    proc = _start("Pub/Sub emulator", argv, lambda: _answers(f"http://127.0.0.1:{port}/"), tmp / "pubsub.log")
    return Emulator("pubsub", proc, tmp / "pubsub.log", {"PUBSUB_EMULATOR_HOST": f"127.0.0.1:{port}"})


def start_gcs(tmp: Path, buckets: list[str]) -> Emulator:
    binary = ROOT / ".tools" / "bin" / "gcs-emulator"
    if not binary.exists():
        pytest.fail("fake-gcs-server is missing (.tools/bin/gcs-emulator): run npm install")
    port = free_port()
    argv = [str(binary), "-root", str(tmp / "gcs"), "-host", "127.0.0.1", "-port", str(port), *(a for b in buckets for a in ("-bucket", b))]
    (tmp / "gcs").mkdir(exist_ok=True)
    proc = _start("Cloud Storage emulator", argv, lambda: _answers(f"http://127.0.0.1:{port}/_internal/healthcheck"), tmp / "gcs.log")
    return Emulator("gcs", proc, tmp / "gcs.log", {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"})


def start_bigquery(tmp: Path) -> tuple[Emulator, str, str]:
    """The emulator and its REST URL and gRPC address."""
    venv = ROOT / ".venv" / "bqemulator"
    if not (venv / "bin" / "bqemulator").exists():
        pytest.fail("the BigQuery emulator is missing (.venv/bqemulator): run bash infra/local/setup.sh bqemulator")
    rest, grpc = free_port(), free_port()
    argv = [str(venv / "bin" / "bqemulator"), "start", "--rest-port", str(rest), "--grpc-port", str(grpc), "--project", PROJECT, "--log-level", "warning"]
    url = f"http://127.0.0.1:{rest}"
    # HOME: the venv's DuckDB home, where setup.sh installed the spatial extension the emulator loads.
    proc = _start(
        "BigQuery emulator", argv, lambda: _answers(f"{url}/bigquery/v2/projects/{PROJECT}/datasets"), tmp / "bigquery.log", {"HOME": str(venv / "home")}
    )
    return Emulator("bigquery", proc, tmp / "bigquery.log"), url, f"127.0.0.1:{grpc}"
