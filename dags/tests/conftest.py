"""Airflow's settings must be in the environment before airflow is first imported: a private
AIRFLOW_HOME with a SQLite database, this folder as the DAGs folder and on sys.path (as in Composer)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DAGS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = DAGS_DIR.parent
_home = Path(tempfile.mkdtemp(prefix="tideline-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
)
sys.path.insert(0, str(DAGS_DIR))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated metadata database (once per session, about half a minute)."""
    from airflow.utils import db

    db.resetdb(skip_init=False)
    return _home
