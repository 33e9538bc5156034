"""The production profile: what the Google provider operators would send, rendered from a DAG run
with the Airflow Variables set (nothing reaches Google here), and a run without them failing at its
start with what to set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
from airflow.exceptions import AirflowFailException
from airflow.models.dag import DAG
from airflow.models.taskinstance import TaskInstance
from airflow.utils.state import DagRunState, State
from airflow.utils.types import DagRunType

VARIABLES = {
    "TIDELINE_PROJECT": "shop-prod",
    "TIDELINE_REGION": "europe-west1",
    "TIDELINE_DATAFORM_REPOSITORY": "tideline-models",
    "TIDELINE_DATAFORM_WORKSPACE": "release",
    "TIDELINE_FLEX_TEMPLATE_PATH": "gs://shop-prod-dataflow/templates/tideline-pipeline.json",
    "TIDELINE_DATAFLOW_TEMP_LOCATION": "gs://shop-prod-dataflow/tmp",
    "TIDELINE_DATAFLOW_SERVICE_ACCOUNT": "dataflow@shop-prod.iam.gserviceaccount.com",
    "TIDELINE_DATASET_PREFIX": "prod_",
}
LOGICAL = pendulum.datetime(2026, 11, 29, 3, 0, tz="UTC")


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, airflow_db: Any) -> Iterator[None]:
    monkeypatch.setenv("TIDELINE_ENV", "production")
    for k, v in VARIABLES.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_{k}", v)
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", "google-cloud-platform://")
    yield


def run_of(dag: DAG, conf: dict[str, Any] | None = None) -> Any:
    from airflow.utils.session import create_session

    dag.sync_to_db()
    with create_session() as session:
        from airflow.models.dagrun import DagRun

        session.query(DagRun).filter(DagRun.dag_id == dag.dag_id).delete()
    interval = dag.timetable.infer_manual_data_interval(run_after=LOGICAL)
    return dag.create_dagrun(
        run_id=f"test_{dag.dag_id}",
        run_type=DagRunType.MANUAL,
        execution_date=LOGICAL,
        data_interval=interval,
        state=DagRunState.RUNNING,
        conf=conf or {},
        external_trigger=True,
    )


def ti_of(dag: DAG, dr: Any, task_id: str) -> TaskInstance:
    ti = dr.get_task_instance(task_id)
    ti.task = dag.get_task(task_id)
    return ti


def run_task(dag: DAG, dr: Any, task_id: str) -> TaskInstance:
    ti = ti_of(dag, dr, task_id)
    ti.run(ignore_all_deps=True, ignore_ti_state=True, test_mode=True)
    return ti


def rendered(dag: DAG, dr: Any, task_id: str) -> Any:
    ti = ti_of(dag, dr, task_id)
    ti.render_templates()
    return ti.task


def build(dag_id: str) -> DAG:
    from tideline_dags.build import build_dag

    return build_dag(dag_id, "production")


LABELS = {"tideline-dag": "tideline-landing", "tideline-task": "load-upload"}


def test_models_compile_from_the_workspace_and_invoke_incrementally_or_weekly_in_full(production: None) -> None:
    dag = build("tideline_models")
    dr = run_of(dag)
    assert run_task(dag, dr, "check_config").state == State.SUCCESS
    compile_ = rendered(dag, dr, "models.compile")
    assert (compile_.project_id, compile_.region, compile_.repository_id) == ("shop-prod", "europe-west1", "tideline-models")
    assert compile_.compilation_result == {
        "workspace": "projects/shop-prod/locations/europe-west1/repositories/tideline-models/workspaces/release",
        "code_compilation_config": {"default_database": "shop-prod", "vars": {"dialect": "bigquery"}},
    }
    # 2026-11-29 is a Sunday: the run at 03:00 (interval 02:45-03:00) is the weekly full refresh.
    assert run_task(dag, dr, "plan").xcom_pull(task_ids="plan")["full_refresh"] is True
    ti_of(dag, dr, "models.compile").xcom_push(
        "return_value", {"name": "projects/shop-prod/locations/europe-west1/repositories/tideline-models/compilationResults/c-1"}
    )
    invoke = rendered(dag, dr, "models.invoke")
    assert invoke.asynchronous is True
    assert invoke.workflow_invocation == {
        "compilation_result": "projects/shop-prod/locations/europe-west1/repositories/tideline-models/compilationResults/c-1",
        "invocation_config": {"fully_refresh_incremental_tables_enabled": True},
    }
    ti_of(dag, dr, "models.invoke").xcom_push(
        "return_value", {"name": "projects/shop-prod/locations/europe-west1/repositories/tideline-models/workflowInvocations/w-7"}
    )
    wait = rendered(dag, dr, "models.wait")
    assert wait.workflow_invocation_id == "w-7"
    assert (wait.repository_id, wait.project_id) == ("tideline-models", "shop-prod")


def test_models_plan_is_incremental_outside_the_weekly_slot(production: None) -> None:
    from tideline_dags.build import plan_models

    def plan(start: str, params: dict[str, Any]) -> bool:
        s = pendulum.parse(start)
        return plan_models("0 3 * * 0", data_interval_start=s, data_interval_end=s.add(minutes=15), params=params)["full_refresh"]

    assert plan("2026-11-29T02:45:00Z", {}) is True
    assert plan("2026-11-29T03:00:00Z", {}) is False
    assert plan("2026-11-28T03:00:00Z", {}) is False
    assert plan("2026-11-28T03:00:00Z", {"full_refresh": True}) is True


def test_landing_starts_the_flex_template_over_the_announced_objects(production: None) -> None:
    dag = build("tideline_landing")
    sensor = dag.get_task("wait_for_upload")
    assert (sensor.subscription, sensor.ack_messages, sensor.deferrable) == ("airflow-landing", True, True)
    dr = run_of(dag)
    run_task(dag, dr, "check_config")
    assert rendered(dag, dr, "wait_for_upload").project_id == "shop-prod"
    ti_of(dag, dr, "wait_for_upload").xcom_push("return_value", ["landing/events/dt=2026-11-29/a.ndjson.gz", "landing/cdc/dt=2026-11-29/b.ndjson"])
    op = rendered(dag, dr, "load_upload")
    assert (op.project_id, op.location, op.append_job_name, op.wait_until_finished) == ("shop-prod", "europe-west1", False, True)
    launch = op.body["launchParameter"]
    assert launch["jobName"] == "tideline-landing-20261129t030000"
    assert launch["containerSpecGcsPath"] == "gs://shop-prod-dataflow/templates/tideline-pipeline.json"
    assert launch["parameters"] == {
        "project": "shop-prod",
        "datasetPrefix": "prod_",
        "mode": "batch",
        "bucket": "shop-prod-landing",
        "objects": "landing/events/dt=2026-11-29/a.ndjson.gz,landing/cdc/dt=2026-11-29/b.ndjson",
    }
    assert launch["environment"] == {
        "tempLocation": "gs://shop-prod-dataflow/tmp",
        "serviceAccountEmail": "dataflow@shop-prod.iam.gserviceaccount.com",
        "additionalUserLabels": LABELS,
    }
    assert {"models.compile", "models.invoke", "models.wait"} <= dag.task_ids_set if hasattr(dag, "task_ids_set") else set(dag.task_ids)


def test_backfill_job_name_and_parameters_come_from_the_run_params(production: None) -> None:
    dag = build("tideline_backfill")
    dr = run_of(dag, {"from": "2026-10-01", "to": "2026-10-31", "streams": ["events", "cdc"]})
    run_task(dag, dr, "check_config")
    launch = rendered(dag, dr, "backfill").body["launchParameter"]
    assert launch["jobName"] == "tideline-backfill-20261001-20261031-20261129t030000"
    assert launch["parameters"] | {} == {
        "project": "shop-prod",
        "datasetPrefix": "prod_",
        "mode": "backfill",
        "bucket": "shop-prod-raw",
        "from": "2026-10-01",
        "to": "2026-10-31",
        "streams": "events,cdc",
    }
    assert launch["environment"]["additionalUserLabels"] == {"tideline-dag": "tideline-backfill", "tideline-task": "backfill"}


def test_the_dataflow_environment_has_a_service_account_only_when_one_is_set() -> None:
    from tideline_dags.production import dataflow_environment

    env = dataflow_environment({"dataflow_environment": {"tempLocation": "gs://b/tmp"}}, "tideline_backfill", "backfill")
    assert env == {"tempLocation": "gs://b/tmp", "additionalUserLabels": {"tideline-dag": "tideline-backfill", "tideline-task": "backfill"}}


def test_backfill_without_dates_fails_at_its_start(production: None) -> None:
    from tideline_dags.build import check_config

    with pytest.raises(AirflowFailException, match=r"tideline_backfill needs from and to: from=None is not a date"):
        check_config("tideline_backfill", "production", "google_cloud_default", params={"to": "2026-01-01"})
    with pytest.raises(AirflowFailException, match=r"from 2026-02-01 is after to 2026-01-01"):
        check_config("tideline_backfill", "production", "google_cloud_default", params={"from": "2026-02-01", "to": "2026-01-01"})


def test_maintenance_sets_partition_expiry_with_a_labelled_bigquery_job_and_replays_dead_letters(production: None) -> None:
    dag = build("tideline_maintenance")
    dr = run_of(dag)
    run_task(dag, dr, "check_config")
    job = rendered(dag, dr, "expire_partitions")
    assert job.project_id == "shop-prod"
    assert job.configuration["labels"] == {"tideline-dag": "tideline-maintenance", "tideline-task": "expire-partitions"}
    query = job.configuration["query"]
    assert query["useLegacySql"] is False
    assert "ALTER TABLE `shop-prod.prod_raw.events` SET OPTIONS (partition_expiration_days = 730);" in query["query"]
    assert "ALTER TABLE `shop-prod.prod_ops.dead_letters` SET OPTIONS (partition_expiration_days = 90);" in query["query"]
    replay = rendered(dag, dr, "replay_dead_letters").body["launchParameter"]
    assert replay["jobName"] == "tideline-replay-20261129t030000"
    assert (replay["parameters"]["from"], replay["parameters"]["to"], replay["parameters"]["streams"]) == ("2026-11-22", "2026-11-29", "dead-letters")


def test_a_run_without_variables_fails_at_its_start_naming_what_to_set(monkeypatch: pytest.MonkeyPatch, airflow_db: Any) -> None:
    monkeypatch.setenv("TIDELINE_ENV", "production")
    monkeypatch.setenv("AIRFLOW_VAR_TIDELINE_PROJECT", "shop-prod")
    dag = build("tideline_landing")
    dr = run_of(dag)
    ti = ti_of(dag, dr, "check_config")
    with pytest.raises(AirflowFailException) as e:
        ti.run(ignore_all_deps=True, ignore_ti_state=True, test_mode=True, raise_on_defer=True)
    msg = str(e.value)
    assert "tideline_landing cannot start in the production profile" in msg
    for name in (
        "tideline_region",
        "tideline_dataform_repository",
        "tideline_flex_template_path",
        "tideline_dataflow_temp_location",
        "Connection google_cloud_default",
    ):
        assert name in msg
    assert "Variable tideline_project" not in msg
    assert "TIDELINE_ENV=local" in msg


def test_a_failed_dataform_invocation_names_the_failed_models_and_assertions(production: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.exceptions import AirflowException
    from airflow.providers.google.cloud.hooks.dataform import DataformHook
    from google.cloud.dataform_v1beta1 import Target, WorkflowInvocation, WorkflowInvocationAction

    invocation = WorkflowInvocation(state=WorkflowInvocation.State.FAILED)
    actions = [
        WorkflowInvocationAction(target=Target(schema="marts", name="sessions"), state=WorkflowInvocationAction.State.SUCCEEDED),
        WorkflowInvocationAction(
            target=Target(schema="assertions", name="marts_sessions_assertions_uniqueKey_0"),
            state=WorkflowInvocationAction.State.FAILED,
            failure_reason="Assertion failed: query returned 3 row(s).",
        ),
    ]
    monkeypatch.setattr(DataformHook, "get_workflow_invocation", lambda self, **kw: invocation)
    monkeypatch.setattr(DataformHook, "query_workflow_invocation_actions", lambda self, **kw: actions)
    sensor = build("tideline_models").get_task("models.wait")
    sensor.project_id, sensor.region, sensor.repository_id, sensor.workflow_invocation_id = "shop-prod", "europe-west1", "tideline-models", "w-7"
    with pytest.raises(
        AirflowException,
        match=r"failed models and assertions:\n  assertions\.marts_sessions_assertions_uniqueKey_0: Assertion failed: query returned 3 row\(s\)\.$",
    ):
        sensor.poke({})
