"""The schedule spec (dags/schedule.json), shared with the local platform (contracts/schedule.ts).

Read at DAG-parse time, so it stays a plain JSON read: the full validation against the generated
JSON Schema runs in the tests, and the TypeScript reader validates with Zod.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent.parent / "schedule.json"

DAG_IDS = (
    "tideline_models",
    "tideline_landing",
    "tideline_backfill",
    "tideline_quality",
    "tideline_maintenance",
)


@dataclass(frozen=True)
class DagSpec:
    dag_id: str
    description: str
    trigger: dict[str, Any]
    owner: str
    retries: int
    retry_delay: timedelta
    task_timeout: timedelta
    run_timeout: timedelta
    sla: timedelta | None
    max_active_runs: int
    tags: tuple[str, ...]
    start_date: str
    gcp_conn_id: str
    extra: dict[str, Any]

    @property
    def schedule(self) -> str | None:
        """Airflow's schedule argument: a cron, "@continuous" for Pub/Sub-fed DAGs, None for manual."""
        kind = self.trigger["kind"]
        if kind == "cron":
            return str(self.trigger["cron"])
        if kind == "pubsub":
            return "@continuous"
        return None


_COMMON = {
    "description",
    "trigger",
    "owner",
    "retries",
    "retryDelaySeconds",
    "taskTimeoutSeconds",
    "runTimeoutSeconds",
    "slaSeconds",
    "maxActiveRuns",
    "tags",
}


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        spec: dict[str, Any] = json.load(f)
    return spec


def dag_spec(dag_id: str, path: Path = SPEC_PATH) -> DagSpec:
    spec = load_spec(path)
    defaults = spec["defaults"]
    try:
        d = spec["dags"][dag_id]
    except KeyError:
        raise KeyError(f"{dag_id} is not in {path}; the DAG ids there are {', '.join(spec['dags'])}") from None
    sla = d.get("slaSeconds")
    return DagSpec(
        dag_id=dag_id,
        description=d["description"],
        trigger=d["trigger"],
        owner=d.get("owner", defaults["owner"]),
        retries=d.get("retries", defaults["retries"]),
        retry_delay=timedelta(seconds=d.get("retryDelaySeconds", defaults["retryDelaySeconds"])),
        task_timeout=timedelta(seconds=d["taskTimeoutSeconds"]),
        run_timeout=timedelta(seconds=d["runTimeoutSeconds"]),
        sla=timedelta(seconds=sla) if sla else None,
        max_active_runs=d["maxActiveRuns"],
        tags=tuple(d["tags"]),
        start_date=defaults["startDate"],
        gcp_conn_id=defaults["gcpConnectionId"],
        extra={k: v for k, v in d.items() if k not in _COMMON},
    )
