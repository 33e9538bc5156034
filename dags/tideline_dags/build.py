"""DAG builders: one per DAG id of the schedule spec, for the production or the local profile.
The task ids are the same in both profiles; only what a task runs differs."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models.param import Param
from airflow.operators.python import PythonOperator
from airflow.sensors.base import PokeReturnValue
from airflow.sensors.python import PythonSensor
from airflow.utils.task_group import TaskGroup

from tideline_dags import settings as cfg
from tideline_dags.profile import current_profile
from tideline_dags.spec import DagSpec, dag_spec

log = logging.getLogger(__name__)

STREAMS = ["events", "webhooks", "cdc"]
LOCAL_UPLOAD_WAIT_S = 300
SETTINGS = "ti.xcom_pull(task_ids='check_config')"


def build_dag(dag_id: str, profile: str | None = None) -> DAG:
    spec = dag_spec(dag_id)
    profile = profile or current_profile()
    default_args: dict[str, Any] = {
        "owner": spec.owner,
        "retries": spec.retries,
        "retry_delay": spec.retry_delay,
        "execution_timeout": spec.task_timeout,
    }
    if spec.sla:
        default_args["sla"] = spec.sla
    dag = DAG(
        dag_id=dag_id,
        description=spec.description,
        doc_md=f"{spec.description}\n\nProfile: **{profile}**. Spec: `dags/schedule.json`; guide: `docs/orchestration.md`.",
        schedule=spec.schedule,
        start_date=pendulum.parse(spec.start_date, tz="UTC"),
        catchup=False,
        max_active_runs=spec.max_active_runs,
        dagrun_timeout=spec.run_timeout,
        tags=list(spec.tags),
        default_args=default_args,
        params=_params(dag_id),
        render_template_as_native_obj=True,
        user_defined_macros=_macros(profile),
    )
    with dag:
        check = PythonOperator(
            task_id="check_config",
            python_callable=check_config,
            op_kwargs={"dag_id": dag_id, "profile": profile, "gcp_conn_id": spec.gcp_conn_id},
            retries=0,
            execution_timeout=timedelta(minutes=2),
        )
        BUILDERS[dag_id](spec, profile, check)
    return dag


def _macros(profile: str) -> dict[str, Any]:
    if profile == "local":
        return {}
    from tideline_dags.production import MACROS

    return MACROS


def _params(dag_id: str) -> dict[str, Param]:
    if dag_id == cfg.MODELS:
        return {"full_refresh": Param(False, type="boolean", description="rebuild every incremental model from scratch")}
    if dag_id == cfg.LANDING:
        return {"objects": Param([], type="array", description="landing objects to load instead of waiting for notifications (re-runs)")}
    if dag_id == cfg.BACKFILL:
        return {
            "from": Param(type="string", format="date", description="first UTC date, YYYY-MM-DD"),
            "to": Param(type="string", format="date", description="last UTC date, YYYY-MM-DD (inclusive)"),
            "streams": Param(STREAMS, type="array", items={"enum": [*STREAMS, "dead-letters"]}),
        }
    if dag_id == cfg.QUALITY:
        return {"thresholds": Param({}, type="object", description='thresholds overriding the spec\'s for this run, e.g. {"lateRate": 0.1}')}
    return {}


# check_config ---------------------------------------------------------------------------------


def check_config(dag_id: str, profile: str, gcp_conn_id: str, **context: Any) -> dict[str, Any]:
    if dag_id == cfg.BACKFILL:
        _check_backfill_params(context["params"])
    if profile == "local":
        from tideline_dags import local

        return local.check_platform()
    from airflow.exceptions import AirflowNotFoundException
    from airflow.hooks.base import BaseHook
    from airflow.models import Variable

    variables = {n: Variable.get(n, default_var=None) for n in cfg.variable_names(dag_id)}
    try:
        BaseHook.get_connection(gcp_conn_id)
        has_connection = True
    except AirflowNotFoundException:
        has_connection = False
    missing = cfg.missing_production_settings(dag_id, variables, has_connection, gcp_conn_id)
    if missing:
        raise AirflowFailException(cfg.how_to_set(missing, dag_id))
    return cfg.resolve_production(dag_id, variables)


def _check_backfill_params(params: dict[str, Any]) -> None:
    problems = []
    dates: dict[str, date] = {}
    for key in ("from", "to"):
        raw = params.get(key)
        try:
            dates[key] = date.fromisoformat(str(raw))
        except ValueError:
            problems.append(f"{key}={raw!r} is not a date (YYYY-MM-DD)")
    if not problems and dates["from"] > dates["to"]:
        problems.append(f"from {dates['from']} is after to {dates['to']}")
    if problems:
        raise AirflowFailException(
            "tideline_backfill needs from and to: " + "; ".join(problems) + ". Trigger it with"
            ' conf {"from": "2026-01-01", "to": "2026-01-31"} (npx tideline dags test tideline_backfill --conf …).'
        )


# tideline_models ------------------------------------------------------------------------------


def plan_models(full_refresh_cron: str, **context: Any) -> dict[str, Any]:
    """Incremental, unless the run asks for a full refresh or the weekly full-refresh time falls in its interval."""
    from croniter import croniter

    start, end = context["data_interval_start"], context["data_interval_end"]
    # The run whose interval ends at (or after) the weekly time is the one Airflow starts then.
    weekly = start < end and croniter(full_refresh_cron, start).get_next(datetime) <= end
    forced = bool(context["params"].get("full_refresh"))
    reason = "asked for" if forced else (f"weekly ({full_refresh_cron})" if weekly else "")
    plan = {"full_refresh": forced or weekly, "reason": reason or "incremental: the partitions touched since the last run"}
    log.info("models plan: %s", plan)
    return plan


def models_group(dag_id: str, spec: DagSpec, profile: str, full_refresh: str | bool) -> TaskGroup:
    with TaskGroup("models") as group:
        if profile == "local":
            PythonOperator(task_id="run", python_callable=run_local_models, op_kwargs={"full_refresh": full_refresh})
        else:
            from tideline_dags import production

            production.dataform_models(dag_id, spec.gcp_conn_id, full_refresh)
    return group


def run_local_models(full_refresh: bool) -> None:
    from tideline_dags import local

    local.run_cli("models", "run", *(["--full-refresh"] if full_refresh is True else []))


def _models(spec: DagSpec, profile: str, check: Any) -> None:
    plan = PythonOperator(task_id="plan", python_callable=plan_models, op_kwargs={"full_refresh_cron": spec.extra["fullRefreshCron"]})
    check >> plan >> models_group(spec.dag_id, spec, profile, "{{ ti.xcom_pull(task_ids='plan')['full_refresh'] }}")


# tideline_landing -----------------------------------------------------------------------------


def wait_for_local_upload(subscription: str, **context: Any) -> PokeReturnValue | bool:
    from tideline_dags import local

    given = list(context["params"].get("objects") or [])
    objects = given or local.pull_landing_objects(subscription)
    if objects:
        log.info("landing objects to load: %s", ", ".join(objects))
        return PokeReturnValue(is_done=True, xcom_value=objects)
    return False


def load_local_upload(objects: list[str], timeout_s: float) -> dict[str, int]:
    from tideline_dags import local

    return local.wait_until_loaded(f"{local.project()}-landing", objects, timeout_s)


def _landing(spec: DagSpec, profile: str, check: Any) -> None:
    subscription = spec.trigger["subscription"]
    timeout_s = spec.task_timeout.total_seconds()
    objects = "{{ ti.xcom_pull(task_ids='wait_for_upload') }}"
    if profile == "local":
        wait = PythonSensor(
            task_id="wait_for_upload",
            python_callable=wait_for_local_upload,
            op_kwargs={"subscription": subscription},
            poke_interval=2,
            # A laptop run is started by hand after an upload: it should not sit for an hour when there is none.
            timeout=min(timeout_s, LOCAL_UPLOAD_WAIT_S),
            mode="poke",
            soft_fail=True,
        )
        load = PythonOperator(task_id="load_upload", python_callable=load_local_upload, op_kwargs={"objects": objects, "timeout_s": timeout_s})
    else:
        from tideline_dags import production

        wait = production.landing_sensor(spec.gcp_conn_id, subscription, timeout_s)
        load = production.flex_template(
            spec.dag_id,
            "load_upload",
            spec.gcp_conn_id,
            job="tideline-landing-{{ ts_nodash | lower }}",
            parameters={
                "mode": "batch",
                "bucket": "{{ " + SETTINGS + "['landing_bucket'] }}",
                "objects": "{{ ti.xcom_pull(task_ids='wait_for_upload') | join(',') }}",
            },
        )
    check >> wait >> load >> models_group(spec.dag_id, spec, profile, False)


# tideline_backfill ----------------------------------------------------------------------------


def run_local_backfill(start: str, end: str, streams: list[str]) -> None:
    from tideline_dags import local

    local.run_cli("backfill", "--from", start, "--to", end, "--streams", ",".join(streams), "--no-progress")


def _backfill(spec: DagSpec, profile: str, check: Any) -> None:
    if profile == "local":
        run = PythonOperator(
            task_id="backfill",
            python_callable=run_local_backfill,
            op_kwargs={"start": "{{ params['from'] }}", "end": "{{ params['to'] }}", "streams": "{{ params['streams'] }}"},
        )
    else:
        from tideline_dags import production

        run = production.flex_template(
            spec.dag_id,
            "backfill",
            spec.gcp_conn_id,
            job="tideline-backfill-{{ params['from'] | replace('-', '') }}-{{ params['to'] | replace('-', '') }}-{{ ts_nodash | lower }}",
            parameters={
                "mode": "backfill",
                "bucket": "{{ " + SETTINGS + "['raw_bucket'] }}",
                "from": "{{ params['from'] }}",
                "to": "{{ params['to'] }}",
                "streams": "{{ params['streams'] | join(',') }}",
            },
        )
    check >> run >> models_group(spec.dag_id, spec, profile, False)


# tideline_quality -----------------------------------------------------------------------------


def check_slo(slo_name: str, slos: dict[str, Any], profile: str, gcp_conn_id: str, **context: Any) -> dict[str, Any]:
    from tideline_dags.slo import SLOS, Tables, Window, verdict

    slo = next(s for s in SLOS if s.name == slo_name)
    thresholds = {**slos, **(context["params"].get("thresholds") or {})}
    now = datetime.now(UTC)
    window = Window(start=now - timedelta(hours=float(thresholds["windowHours"])), now=now)
    if profile == "local":
        from tideline_dags import local

        rows = local.query(slo.sql(Tables("duckdb"), window))
    else:
        from tideline_dags import production

        settings = context["ti"].xcom_pull(task_ids="check_config")
        tables = Tables("bigquery", settings["project"], settings["dataset_prefix"])
        rows = production.bigquery_rows(gcp_conn_id, settings, slo.sql(tables, window))
    measure = slo.measure(rows[0], window)
    threshold = float(thresholds[slo.threshold_key])
    ok, message = verdict(slo, measure, threshold)
    if not ok:
        raise AirflowFailException(message)
    log.info("%s", message)
    return {"slo": slo.name, "figure": measure.figure, "threshold": threshold}


def _quality(spec: DagSpec, profile: str, check: Any) -> None:
    from tideline_dags.slo import SLOS

    for slo in SLOS:
        check >> PythonOperator(
            task_id=f"slo_{slo.name}",
            python_callable=check_slo,
            op_kwargs={"slo_name": slo.name, "slos": spec.extra["slos"], "profile": profile, "gcp_conn_id": spec.gcp_conn_id},
        )


# tideline_maintenance -------------------------------------------------------------------------


def replay_local_dead_letters(days: int, **context: Any) -> None:
    from tideline_dags import local

    end = context["data_interval_end"].date()
    local.run_cli("backfill", "--from", (end - timedelta(days=days)).isoformat(), "--to", end.isoformat(), "--streams", "dead-letters", "--no-progress")


def report_local_expiry(policy: dict[str, int], **context: Any) -> dict[str, int]:
    """DuckDB has no partition expiry and the local warehouse is read-only from here: say what
    BigQuery's partition_expiration_days would remove, table by table."""
    import json

    from tideline_dags import local

    today = context["data_interval_end"].date()
    out: dict[str, int] = {}
    for table, days in policy.items():
        schema = Path(local.repo_root(), "contracts", "generated", "bigquery", f"{table}.json")
        column = json.loads(schema.read_text())["timePartitioning"]["field"]
        cutoff = (today - timedelta(days=days)).isoformat()
        try:
            rows = local.query(f"SELECT COUNT(*) AS n FROM {table} WHERE CAST({column} AS DATE) < DATE '{cutoff}'")
        except local.QueryFailed as e:
            log.info("%s: not checked (%s)", table, e)
            continue
        out[table] = int(rows[0]["n"])
        log.info("%s: %d rows older than %s (%d days) would expire in BigQuery", table, out[table], cutoff, days)
    return out


def expiry_sql(policy: dict[str, int]) -> str:
    statements = []
    for table, days in policy.items():
        dataset, name = table.split(".")
        target = "`{{ " + SETTINGS + "['project'] }}.{{ " + SETTINGS + "['dataset_prefix'] }}" + dataset + "." + name + "`"
        statements.append(f"ALTER TABLE {target} SET OPTIONS (partition_expiration_days = {days})")
    return ";\n".join(statements) + ";"


def lifecycle_problems(rules: list[tuple[int, str]], wanted: list[dict[str, Any]]) -> list[str]:
    have = set(rules)
    return [f"no rule moving objects to {w['storageClass']} after {w['ageDays']} days" for w in wanted if (w["ageDays"], w["storageClass"]) not in have]


def terraform_lifecycle(main_tf: str) -> list[tuple[int, str]]:
    """The SetStorageClass rules of the raw bucket in infra/terraform/main.tf."""
    block = re.search(r'resource "google_storage_bucket" "raw" \{(.*?)\n\}', main_tf, re.S)
    if not block:
        return []
    return [(int(a), c) for a, c in re.findall(r'age = (\d+) \}\s*action \{\s*type\s*= "SetStorageClass"\s*storage_class = "(\w+)"', block.group(1))]


def check_archive_lifecycle(wanted: list[dict[str, Any]], profile: str, gcp_conn_id: str, **context: Any) -> list[tuple[int, str]]:
    if profile == "local":
        from tideline_dags import local

        # The local store keeps no lifecycle: check the Terraform that sets the production bucket's.
        where = "infra/terraform/main.tf (raw bucket)"
        rules = terraform_lifecycle(Path(local.repo_root(), "infra", "terraform", "main.tf").read_text())
    else:
        from airflow.providers.google.cloud.hooks.gcs import GCSHook

        bucket = context["ti"].xcom_pull(task_ids="check_config")["raw_bucket"]
        where = f"gs://{bucket}"
        got = GCSHook(gcp_conn_id=gcp_conn_id).get_conn().get_bucket(bucket).lifecycle_rules
        rules = [
            (int(r["condition"]["age"]), r["action"]["storageClass"])
            for r in got
            if r.get("action", {}).get("type") == "SetStorageClass" and "age" in r.get("condition", {})
        ]
    problems = lifecycle_problems(rules, wanted)
    if problems:
        raise AirflowFailException(f"the archive lifecycle of {where} differs from the policy: " + "; ".join(problems))
    log.info("archive lifecycle of %s matches the policy: %s", where, rules)
    return rules


def check_streaming_job(job_name: str, lag_budget_s: float, profile: str, gcp_conn_id: str, **context: Any) -> dict[str, Any]:
    from tideline_dags.slo import SLOS, Tables, Window

    raw_lag = next(s for s in SLOS if s.name == "raw_lag")
    now = datetime.now(UTC)
    window = Window(start=now - timedelta(days=1), now=now)
    if profile == "local":
        import json
        import urllib.request

        from tideline_dags import local

        with urllib.request.urlopen(local.api_request("/api/pipeline"), timeout=30) as res:
            status = json.loads(res.read()).get("status")
        if not status:
            raise AirflowException("the local platform answers but its streaming pipeline is not running; see the npm start output")
        lag = raw_lag.measure(local.query(raw_lag.sql(Tables("duckdb"), window))[0], window)
        # A laptop has no steady traffic: the lag is reported, not judged.
        log.info("local streaming pipeline: %s; raw lag %s", status, lag.detail)
        return {"running": True, "lag_seconds": None if lag.figure == float("inf") else lag.figure}
    from airflow.providers.google.cloud.hooks.dataflow import DataflowHook

    from tideline_dags import production

    settings = context["ti"].xcom_pull(task_ids="check_config")
    if not DataflowHook(gcp_conn_id=gcp_conn_id).is_job_dataflow_running(name=job_name, project_id=settings["project"], location=settings["region"]):
        raise AirflowFailException(
            f"the streaming Dataflow job {job_name} is not running in {settings['project']}/{settings['region']}: relaunch it (docs/pipeline.md)"
        )
    tables = Tables("bigquery", settings["project"], settings["dataset_prefix"])
    lag = raw_lag.measure(production.bigquery_rows(gcp_conn_id, settings, raw_lag.sql(tables, window))[0], window)
    if lag.figure > lag_budget_s:
        raise AirflowFailException(
            f"the streaming job {job_name} runs but lags: raw lag {lag.figure:.0f} s exceeds its budget {lag_budget_s:.0f} s ({lag.detail})"
        )
    return {"running": True, "lag_seconds": lag.figure}


def _maintenance(spec: DagSpec, profile: str, check: Any) -> None:
    m = spec.extra["maintenance"]
    common = {"profile": profile, "gcp_conn_id": spec.gcp_conn_id}
    if profile == "local":
        replay = PythonOperator(task_id="replay_dead_letters", python_callable=replay_local_dead_letters, op_kwargs={"days": m["deadLetterReplayDays"]})
        expire = PythonOperator(task_id="expire_partitions", python_callable=report_local_expiry, op_kwargs={"policy": m["partitionExpiryDays"]})
    else:
        from tideline_dags import production

        replay = production.flex_template(
            spec.dag_id,
            "replay_dead_letters",
            spec.gcp_conn_id,
            job="tideline-replay-{{ ts_nodash | lower }}",
            parameters={
                "mode": "backfill",
                "bucket": "{{ " + SETTINGS + "['raw_bucket'] }}",
                "from": "{{ macros.ds_add(ds, -" + str(m["deadLetterReplayDays"]) + ") }}",
                "to": "{{ ds }}",
                "streams": "dead-letters",
            },
        )
        expire = production.bigquery_job(spec.dag_id, "expire_partitions", spec.gcp_conn_id, expiry_sql(m["partitionExpiryDays"]))
    lifecycle = PythonOperator(
        task_id="check_archive_lifecycle", python_callable=check_archive_lifecycle, op_kwargs={"wanted": m["archiveLifecycle"], **common}
    )
    streaming = PythonOperator(
        task_id="check_streaming_job",
        python_callable=check_streaming_job,
        op_kwargs={"job_name": m["streamingJobName"], "lag_budget_s": m["streamingLagBudgetSeconds"], **common},
    )
    check >> [replay, expire, lifecycle, streaming]


BUILDERS = {
    cfg.MODELS: _models,
    cfg.LANDING: _landing,
    cfg.BACKFILL: _backfill,
    cfg.QUALITY: _quality,
    cfg.MAINTENANCE: _maintenance,
}
