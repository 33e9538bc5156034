"""The DAGs run by Airflow (`npx tideline dags test`) in the local profile against a local platform
started here on free ports: models, a landing upload, the SLOs (a breach fails the run with the
figure and the threshold), re-runs of the same interval change nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from local_platform import Platform, event_records, start_platform

DATE = time.strftime("%Y-%m-%d", time.gmtime())
MARTS = "SELECT COUNT(*) AS n, COUNT(DISTINCT session_id) AS distinct_ids FROM marts.sessions"


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    p = start_platform()
    try:
        yield p
    finally:
        p.stop()


def visitors(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:8]
    return [f"dagtest-{tag}-{i}" for i in range(n)]


def in_clause(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def ok(platform: Platform, dag_id: str, conf: dict | None = None) -> str:
    code, out = platform.dags_test(dag_id, DATE, conf)
    assert code == 0, out[-4000:]
    assert "state=success" in out or "DagRun Finished" in out
    return out


def test_models_rebuild_the_marts_after_new_events_and_a_rerun_changes_nothing(platform: Platform) -> None:
    first = visitors(3)
    platform.send_events(first)
    platform.wait_for(
        "the events in raw.events", lambda: platform.count(f"SELECT COUNT(*) AS n FROM raw.events WHERE anonymous_id IN ({in_clause(first)})") == 3
    )
    ok(platform, "tideline_models")
    assert platform.count(f"SELECT COUNT(*) AS n FROM marts.sessions WHERE visitor_id IN ({in_clause(first)})") == 3

    second = visitors(2)
    platform.send_events(second)
    platform.wait_for(
        "more events in raw.events", lambda: platform.count(f"SELECT COUNT(*) AS n FROM raw.events WHERE anonymous_id IN ({in_clause(second)})") == 2
    )
    assert platform.count(f"SELECT COUNT(*) AS n FROM marts.sessions WHERE visitor_id IN ({in_clause(second)})") == 0
    ok(platform, "tideline_models")
    assert platform.count(f"SELECT COUNT(*) AS n FROM marts.sessions WHERE visitor_id IN ({in_clause(second)})") == 2

    before = platform.query(MARTS)[0]
    ok(platform, "tideline_models")
    after = platform.query(MARTS)[0]
    assert after == before and after["n"] == after["distinct_ids"]


def test_a_bulk_upload_reaches_raw_events_and_the_marts_and_a_rerun_is_idempotent(platform: Platform) -> None:
    ids = visitors(4)
    lines = event_records(ids, "2026-11-02T10:00:00.000Z")
    answer = platform.upload_bulk("events", lines)
    assert answer.get("accepted") in (None, 4) or answer.get("lines") == 4, answer
    out = ok(platform, "tideline_landing")
    assert "landing objects to load: landing/events/" in out
    assert platform.count(f"SELECT COUNT(*) AS n FROM raw.events WHERE anonymous_id IN ({in_clause(ids)})") == 4
    assert platform.count(f"SELECT COUNT(*) AS n FROM marts.sessions WHERE visitor_id IN ({in_clause(ids)})") == 4

    obj = out.split("landing objects to load: ")[1].split()[0].rstrip(",")
    raw_before = platform.count("SELECT COUNT(*) AS n FROM raw.events")
    marts_before = platform.query(MARTS)[0]
    ok(platform, "tideline_landing", {"objects": [obj]})
    assert platform.count("SELECT COUNT(*) AS n FROM raw.events") == raw_before
    assert platform.query(MARTS)[0] == marts_before


def test_quality_passes_on_a_healthy_platform_and_a_breached_slo_fails_naming_figure_and_threshold(platform: Platform) -> None:
    fresh = visitors(5)
    platform.send_events(fresh)
    platform.wait_for("the events", lambda: platform.count(f"SELECT COUNT(*) AS n FROM raw.events WHERE anonymous_id IN ({in_clause(fresh)})") == 5)
    ok(platform, "tideline_models")
    out = ok(platform, "tideline_quality")
    assert "SLO dead_letter_rate:" in out and "within the threshold 0.01" in out

    dead_before = platform.count("SELECT COUNT(*) AS n FROM ops.dead_letters")
    # A file with no valid line is refused whole, so one valid line carries the six the edge dead-letters.
    invalid = [f'{{"type": "track", "event": "no user or anonymous id", "n": {i}}}' for i in range(6)]
    answer = platform.upload_bulk("events", event_records(visitors(1), time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())) + invalid)
    assert answer.get("rejected_count") == 6, answer
    platform.wait_for("the dead letters", lambda: platform.count("SELECT COUNT(*) AS n FROM ops.dead_letters") >= dead_before + 6)
    code, out = platform.dags_test("tideline_quality", DATE)
    assert code != 0
    line = next(x for x in out.splitlines() if "SLO dead_letter_rate:" in x)
    assert "breaches the threshold 0.01 (deadLetterRate in dags/schedule.json)" in line
    assert "dead letters" in line and "records loaded since" in line
