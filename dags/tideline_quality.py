"""The Airflow DAG tideline_quality, built from dags/schedule.json (docs/orchestration.md)."""

from tideline_dags.build import build_dag

dag = build_dag("tideline_quality")
