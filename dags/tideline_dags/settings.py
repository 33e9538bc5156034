"""What a DAG run needs before it starts: Airflow Variables and the Google Connection in
production, a reachable local platform locally. `check_config` is the first task of every DAG:
it fails (without retries) naming everything missing, and returns the resolved settings that the
production operators read from XCom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODELS = "tideline_models"
LANDING = "tideline_landing"
BACKFILL = "tideline_backfill"
QUALITY = "tideline_quality"
MAINTENANCE = "tideline_maintenance"
ALL = (MODELS, LANDING, BACKFILL, QUALITY, MAINTENANCE)
DATAFORM = (MODELS, LANDING, BACKFILL)
DATAFLOW = (LANDING, BACKFILL, MAINTENANCE)


@dataclass(frozen=True)
class Setting:
    name: str
    what: str
    dags: tuple[str, ...]
    required: bool = True
    example: str = ""


VARIABLES = (
    Setting("tideline_project", "the Google Cloud project of the warehouse, buckets and jobs", ALL, example="my-shop-prod"),
    Setting("tideline_region", "the region of Dataform and Dataflow", ALL, example="europe-west1"),
    Setting("tideline_dataform_repository", "the Dataform repository holding warehouse/dataform", DATAFORM, example="tideline"),
    Setting(
        "tideline_dataform_workspace",
        "a Dataform workspace to compile from instead of a git commitish",
        DATAFORM,
        required=False,
    ),
    Setting("tideline_dataform_git_commitish", "the branch, tag or commit Dataform compiles (default main)", DATAFORM, required=False),
    Setting(
        "tideline_flex_template_path",
        "the gs:// path of the pipeline's Dataflow Flex Template spec",
        DATAFLOW,
        example="gs://my-shop-prod-dataflow/templates/tideline-pipeline.json",
    ),
    Setting(
        "tideline_dataflow_temp_location",
        "a gs:// path for Dataflow's temporary files",
        DATAFLOW,
        example="gs://my-shop-prod-dataflow/tmp",
    ),
    Setting("tideline_dataflow_service_account", "the Dataflow workers' service account", DATAFLOW, required=False),
    Setting("tideline_dataset_prefix", "prefix of the raw/core/ops/marts datasets (default none)", ALL, required=False),
    Setting("tideline_raw_bucket", "the archive bucket (default <project>-raw)", ALL, required=False),
    Setting("tideline_landing_bucket", "the landing bucket (default <project>-landing)", ALL, required=False),
)


def missing_production_settings(dag_id: str, variables: dict[str, str | None], has_connection: bool, conn_id: str) -> list[str]:
    """Lines naming each missing Variable (what it is, an example) and the Connection; empty when complete."""
    lines = [
        f"  Airflow Variable {s.name}: {s.what}" + (f" (e.g. {s.example})" if s.example else "")
        for s in VARIABLES
        if dag_id in s.dags and s.required and not (variables.get(s.name) or "").strip()
    ]
    if not has_connection:
        lines.append(f"  Airflow Connection {conn_id}: Google Cloud credentials (type google_cloud_platform; Composer creates it)")
    return lines


def resolve_production(dag_id: str, variables: dict[str, str | None]) -> dict[str, Any]:
    """The settings the production operators use, defaults filled in."""
    v = {k: (val or "").strip() for k, val in variables.items()}
    project, region = v["tideline_project"], v["tideline_region"]
    out: dict[str, Any] = {
        "project": project,
        "region": region,
        "dataset_prefix": v.get("tideline_dataset_prefix", ""),
        "raw_bucket": v.get("tideline_raw_bucket") or f"{project}-raw",
        "landing_bucket": v.get("tideline_landing_bucket") or f"{project}-landing",
    }
    if dag_id in DATAFORM:
        repo = v["tideline_dataform_repository"]
        out["dataform_repository"] = repo
        source: dict[str, str]
        if v.get("tideline_dataform_workspace"):
            source = {"workspace": f"projects/{project}/locations/{region}/repositories/{repo}/workspaces/{v['tideline_dataform_workspace']}"}
        else:
            source = {"git_commitish": v.get("tideline_dataform_git_commitish") or "main"}
        out["dataform_compilation"] = {
            **source,
            "code_compilation_config": {"default_database": project, "vars": {"dialect": "bigquery"}},
        }
    if dag_id in DATAFLOW:
        environment: dict[str, Any] = {"tempLocation": v["tideline_dataflow_temp_location"]}
        if v.get("tideline_dataflow_service_account"):
            environment["serviceAccountEmail"] = v["tideline_dataflow_service_account"]
        out["flex_template_path"] = v["tideline_flex_template_path"]
        out["dataflow_environment"] = environment
    return out


def variable_names(dag_id: str) -> list[str]:
    return [s.name for s in VARIABLES if dag_id in s.dags]


def how_to_set(lines: list[str], dag_id: str) -> str:
    return (
        f"{dag_id} cannot start in the production profile; set:\n"
        + "\n".join(lines)
        + "\nWith the Airflow CLI: airflow variables set tideline_project my-shop-prod"
        " (in Composer: gcloud composer environments run ENV --location REGION variables -- set NAME VALUE)."
        " On a laptop, run the DAGs with TIDELINE_ENV=local (npx tideline dags test does)."
    )
