"""The Airflow DAG tideline_backfill, built from dags/schedule.json (docs/orchestration.md)."""

from tideline_dags.build import build_dag

dag = build_dag("tideline_backfill")
