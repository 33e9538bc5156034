"""Every DAG file imports in both profiles, without cycles, and agrees with the schedule spec both ways."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import jsonschema
import pytest
from airflow.models.dagbag import DagBag
from airflow.utils.dag_cycle_tester import check_cycle
from conftest import DAGS_DIR, REPO_ROOT

from tideline_dags.spec import DAG_IDS, SPEC_PATH, dag_spec, load_spec

PROFILES = ("production", "local")


@pytest.fixture(scope="module", params=PROFILES)
def bag(request: pytest.FixtureRequest) -> tuple[str, DagBag]:
    mp = pytest.MonkeyPatch()
    mp.setenv("TIDELINE_ENV", request.param)
    try:
        yield request.param, DagBag(dag_folder=str(DAGS_DIR), include_examples=False)
    finally:
        mp.undo()


def test_spec_matches_its_generated_json_schema() -> None:
    schema = json.loads((REPO_ROOT / "contracts/generated/jsonschema/Schedule.json").read_text())
    jsonschema.validate(json.loads(SPEC_PATH.read_text()), schema)
    broken = json.loads(SPEC_PATH.read_text())
    broken["dags"]["tideline_models"]["retries"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_no_import_errors_and_the_spec_and_the_dags_agree_both_ways(bag: tuple[str, DagBag]) -> None:
    profile, dagbag = bag
    assert dagbag.import_errors == {}, f"{profile}: {dagbag.import_errors}"
    assert set(dagbag.dag_ids) == set(DAG_IDS) == set(load_spec()["dags"])


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_each_dag_has_what_the_spec_says(bag: tuple[str, DagBag], dag_id: str) -> None:
    profile, dagbag = bag
    dag = dagbag.dags[dag_id]
    spec = dag_spec(dag_id)
    check_cycle(dag)
    assert dag.tags == list(spec.tags)
    assert dag.dagrun_timeout == spec.run_timeout
    assert dag.max_active_runs == spec.max_active_runs
    assert not dag.catchup
    trigger = spec.trigger
    if trigger["kind"] == "cron":
        assert dag.timetable.summary == trigger["cron"]
    elif trigger["kind"] == "pubsub":
        assert dag.timetable.summary == "@continuous"
    else:
        assert dag.timetable.summary == "None"
    assert dag.tasks[0].task_id == "check_config" and not dag.get_task("check_config").upstream_task_ids
    for task in dag.tasks:
        assert task.owner == spec.owner
        assert task.execution_timeout is not None and task.execution_timeout <= spec.task_timeout
        # check_config fails without retries (what it finds missing stays missing); a breached SLO
        # or a missing Variable raise AirflowFailException, which skips the retries too.
        if task.task_id != "check_config":
            assert task.retries == spec.retries, task.task_id
            assert task.retry_delay == spec.retry_delay
        if spec.sla:
            assert task.sla == spec.sla
        assert task.task_id == "check_config" or "check_config" in {t.task_id for t in task.get_flat_relatives(upstream=True)}, (
            f"{task.task_id} does not wait for check_config"
        )
    assert spec.retries >= 1 and spec.retry_delay >= timedelta(seconds=1)


def test_both_profiles_have_the_same_task_ids_where_they_run_the_same_step(bag: tuple[str, DagBag]) -> None:
    profile, dagbag = bag
    ids = {d: set(dagbag.dags[d].task_ids) for d in DAG_IDS}
    models = {"models.run"} if profile == "local" else {"models.compile", "models.invoke", "models.wait"}
    assert ids["tideline_models"] == {"check_config", "plan", *models}
    assert ids["tideline_landing"] == {"check_config", "wait_for_upload", "load_upload", *models}
    assert ids["tideline_backfill"] == {"check_config", "backfill", *models}
    assert ids["tideline_quality"] == {"check_config", "slo_raw_lag", "slo_marts_lag", "slo_dead_letter_rate", "slo_duplicate_rate", "slo_late_rate"}
    assert ids["tideline_maintenance"] == {"check_config", "replay_dead_letters", "expire_partitions", "check_archive_lifecycle", "check_streaming_job"}


def test_dag_files_are_cheap_to_parse_and_load_no_provider_in_the_local_profile() -> None:
    code = (
        "import sys, time;"
        "from airflow.models.dagbag import DagBag; t = time.perf_counter();"
        f"b = DagBag(dag_folder={str(DAGS_DIR)!r}, include_examples=False);"
        "print('RESULT', round(time.perf_counter() - t, 2), len(b.dags), 'airflow.providers.google.cloud.hooks.dataflow' in sys.modules)"
    )
    import os

    out = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "TIDELINE_ENV": "local"}, check=True)
        .stdout.split("RESULT")[-1]
        .split()
    )
    print(f"local profile: DagBag of {out[1]} DAGs in {out[0]} s (after importing airflow)")
    assert out[1] == "5" and out[2] == "False"


def test_an_unknown_profile_is_named() -> None:
    import os

    env = {**os.environ, "TIDELINE_ENV": "staging"}
    code = (
        f"from airflow.models.dagbag import DagBag; b = DagBag(dag_folder={str(DAGS_DIR)!r}, include_examples=False); print(list(b.import_errors.values())[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert "TIDELINE_ENV='staging' is not a profile; use one of production, local" in out
