"""tideline_landing: see dags/schedule.json and docs/orchestration.md."""

from tideline_dags.build import build_dag

dag = build_dag("tideline_landing")
