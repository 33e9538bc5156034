"""The production profile's operators (apache-airflow-providers-google), parameterised by the
settings `check_config` resolved from Airflow Variables (XCom `settings`), never by hard-coded
projects. Provider modules are imported inside the factories: the local profile never loads them,
and the DAG files stay cheap to parse."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from airflow.models.baseoperator import BaseOperator

SETTINGS = "ti.xcom_pull(task_ids='check_config')"
LANDING_SUBSCRIPTION_DEFAULT = "airflow-landing"


def setting(key: str) -> str:
    return "{{ " + SETTINGS + "['" + key + "'] }}"


def labels(dag_id: str, task: str) -> dict[str, str]:
    """Labels on every Google job a DAG starts (BigQuery, Dataflow), for cost reports and tracing."""
    return {"tideline-dag": dag_id.replace("_", "-"), "tideline-task": re.sub(r"[^a-z0-9-]", "-", task.lower())}


def dataform_models(dag_id: str, gcp_conn_id: str, full_refresh: str | bool) -> tuple[BaseOperator, BaseOperator]:
    """Dataform: compile the repository, invoke the workflow (incremental, or a full refresh when
    `full_refresh` renders true), wait for it; a failure names the failed actions (models, assertions)."""
    from airflow.providers.google.cloud.operators.dataform import (
        DataformCreateCompilationResultOperator,
        DataformCreateWorkflowInvocationOperator,
    )
    from google.cloud.dataform_v1beta1 import WorkflowInvocation

    common: dict[str, Any] = {
        "project_id": setting("project"),
        "region": setting("region"),
        "repository_id": setting("dataform_repository"),
        "gcp_conn_id": gcp_conn_id,
    }
    compile_ = DataformCreateCompilationResultOperator(
        task_id="compile",
        compilation_result="{{ " + SETTINGS + "['dataform_compilation'] }}",
        **common,
    )
    invoke = DataformCreateWorkflowInvocationOperator(
        task_id="invoke",
        asynchronous=True,
        workflow_invocation={
            "compilation_result": "{{ ti.xcom_pull(task_ids='models.compile')['name'] }}",
            "invocation_config": {"fully_refresh_incremental_tables_enabled": full_refresh},
        },
        **common,
    )
    wait = DataformInvocationSensor(
        task_id="wait",
        workflow_invocation_id="{{ ti.xcom_pull(task_ids='models.invoke')['name'].split('/')[-1] }}",
        expected_statuses={WorkflowInvocation.State.SUCCEEDED},
        failure_statuses={WorkflowInvocation.State.FAILED, WorkflowInvocation.State.CANCELLED},
        poke_interval=30,
        **common,
    )
    compile_ >> invoke >> wait
    return compile_, wait


@cache
def _invocation_sensor_class() -> type[BaseOperator]:
    from airflow.exceptions import AirflowException
    from airflow.providers.google.cloud.hooks.dataform import DataformHook
    from airflow.providers.google.cloud.sensors.dataform import DataformWorkflowInvocationStateSensor

    class TidelineDataformStateSensor(DataformWorkflowInvocationStateSensor):  # type: ignore[misc]
        """The provider's state sensor, whose failure names the failed actions and why; its
        project, region and repository are templated too (they come from check_config)."""

        template_fields = (*DataformWorkflowInvocationStateSensor.template_fields, "project_id", "region", "repository_id")

        def poke(self, context: Any) -> bool:
            try:
                return bool(super().poke(context))
            except AirflowException as e:
                hook = DataformHook(gcp_conn_id=self.gcp_conn_id, impersonation_chain=self.impersonation_chain)
                actions = hook.query_workflow_invocation_actions(
                    project_id=self.project_id,
                    region=self.region,
                    repository_id=self.repository_id,
                    workflow_invocation_id=self.workflow_invocation_id,
                )
                failed = [f"  {a.target.schema}.{a.target.name}: {a.failure_reason or a.state.name}" for a in actions if a.state.name == "FAILED"]
                raise AirflowException(f"{e}; failed models and assertions:\n" + "\n".join(failed or ["  (none reported)"])) from e

    return TidelineDataformStateSensor


def DataformInvocationSensor(**kwargs: Any) -> BaseOperator:  # noqa: N802 - an operator factory reads like a class
    cls = _invocation_sensor_class()
    return cls(**kwargs)


def flex_template(dag_id: str, task_id: str, gcp_conn_id: str, job: str, parameters: dict[str, str]) -> BaseOperator:
    """A batch run of the pipeline's Dataflow Flex Template. The job name is deterministic per run
    (a retry or a re-run of the interval reuses it) and every job carries the DAG's labels."""
    from airflow.providers.google.cloud.operators.dataflow import DataflowStartFlexTemplateOperator

    return DataflowStartFlexTemplateOperator(
        task_id=task_id,
        project_id=setting("project"),
        location=setting("region"),
        gcp_conn_id=gcp_conn_id,
        append_job_name=False,
        wait_until_finished=True,
        body={
            "launchParameter": {
                "jobName": job,
                "containerSpecGcsPath": setting("flex_template_path"),
                "parameters": {
                    "project": setting("project"),
                    "datasetPrefix": setting("dataset_prefix"),
                    **parameters,
                },
                "environment": "{{ tideline_dataflow_environment(" + SETTINGS + ", '" + dag_id + "', '" + task_id + "') }}",
            }
        },
    )


def dataflow_environment(settings: dict[str, Any], dag_id: str, task_id: str) -> dict[str, Any]:
    """A Flex Template job's runtime environment: the resolved settings (the service account only
    when one is set) and the DAG's labels. A DAG macro, so it renders to a dict."""
    return {**settings["dataflow_environment"], "additionalUserLabels": labels(dag_id, task_id)}


MACROS = {"tideline_dataflow_environment": dataflow_environment}


def landing_sensor(gcp_conn_id: str, subscription: str, timeout_s: float) -> BaseOperator:
    """Waits (deferred, on the triggerer) for OBJECT_FINALIZE notifications of the landing bucket."""
    from airflow.providers.google.cloud.sensors.pubsub import PubSubPullSensor

    return PubSubPullSensor(
        task_id="wait_for_upload",
        project_id=setting("project"),
        subscription=subscription,
        gcp_conn_id=gcp_conn_id,
        max_messages=100,
        ack_messages=True,
        messages_callback=objects_from_messages,
        deferrable=True,
        poke_interval=30,
        timeout=timeout_s,
        soft_fail=True,
    )


def objects_from_messages(messages: Sequence[Any], context: Any) -> list[str]:
    from tideline_dags.local import landing_objects

    return landing_objects([dict(m.message.attributes) for m in messages])


def bigquery_job(dag_id: str, task_id: str, gcp_conn_id: str, sql: str) -> BaseOperator:
    from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator

    return BigQueryInsertJobOperator(
        task_id=task_id,
        project_id=setting("project"),
        gcp_conn_id=gcp_conn_id,
        configuration={"query": {"query": sql, "useLegacySql": False}, "labels": labels(dag_id, task_id)},
    )


def bigquery_rows(gcp_conn_id: str, settings: dict[str, Any], sql: str) -> list[dict[str, Any]]:
    from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook

    client = BigQueryHook(gcp_conn_id=gcp_conn_id, use_legacy_sql=False).get_client(project_id=settings["project"])
    return [dict(r.items()) for r in client.query(sql).result()]
